"""Embeddings and nearest papers: offline, deterministic, exact, and incremental equal to full."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from pipelines.core.build import read_curated
from pipelines.core.curate import similarity
from pipelines.core.curate.similarity import (
    DIMENSIONS,
    MODEL,
    NEIGHBOURS,
    embed_papers,
    embed_texts,
    neighbour_tables,
    paper_text,
    similar_papers,
    update_similar_papers,
)
from pipelines.core.ops.settings import Paths
from tests.conftest import REPO


@pytest.fixture(scope="module")
def papers(built_sample: Paths) -> pl.DataFrame:
    return read_curated(built_sample)["papers"].select("paper_id", "title", "abstract")


@pytest.fixture(scope="module")
def embeddings(papers: pl.DataFrame) -> pl.DataFrame:
    return embed_papers(papers)


def test_the_model_ships_in_its_package_and_needs_no_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import requests

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model tried to download something")

    monkeypatch.setattr(requests, "get", refuse)
    similarity.embedding_model.cache_clear()
    vectors = embed_texts(["Speculative decoding", "Video diffusion"])
    assert vectors.shape == (2, DIMENSIONS)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert f"wordllama-{importlib.metadata.version('wordllama')}/l2_supercat_256" == MODEL


def test_loading_the_model_leaves_the_logging_of_the_program_alone() -> None:
    # importing the wordllama package configures the root logger at INFO: every library's
    # chatter would reach the build's screen
    code = (
        "import logging, sys\n"
        "from pipelines.core.curate.similarity import embed_texts\n"
        "embed_texts(['Speculative decoding'])\n"
        "print(logging.root.handlers, logging.root.level, 'wordllama' in sys.modules)\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert shown.stdout.strip() == "[] 30 False"


def test_a_text_gets_the_same_bytes_alone_and_in_any_batch(papers: pl.DataFrame) -> None:
    texts = papers.select(paper_text()).to_series().to_list()
    together = embed_texts(texts[:130])
    for position in (0, 63, 64, 129):
        assert together[position].tobytes() == embed_texts([texts[position]])[0].tobytes()
    assert embed_texts(texts[:130][::-1])[::-1].tobytes() == together.tobytes()


def test_a_text_without_a_known_word_has_no_vector() -> None:
    frame = embed_papers(
        pl.DataFrame({"paper_id": ["a", "b"], "title": ["", "Diffusion"], "abstract": [None, None]})
    )
    assert frame["vector"].is_null().to_list() == [True, False]
    # and it has no neighbours, nor is anyone's
    assert similar_papers(frame).is_empty()


def test_each_paper_lists_its_ten_nearest_exactly(embeddings: pl.DataFrame) -> None:
    found = similar_papers(embeddings)
    assert found.height == embeddings.height * NEIGHBOURS
    # every pair compared in float64: the published lists are the true top ten
    ids = embeddings["paper_id"].to_numpy()
    vectors = embeddings["vector"].to_numpy().astype(np.float64)
    scores = vectors @ vectors.T
    np.fill_diagonal(scores, -np.inf)
    for row in (0, 17, 200, len(ids) - 1):
        order = sorted(range(len(ids)), key=lambda column: (-scores[row, column], ids[column]))
        listed = found.filter(pl.col("paper_id") == ids[row])
        assert listed["similar_paper_id"].to_list() == [ids[column] for column in order[:10]]
        assert listed["rank"].to_list() == list(range(1, 11))
        np.testing.assert_allclose(
            listed["score"].to_numpy(), scores[row, order[:10]], rtol=0, atol=1e-6
        )
    # the first sample paper's nearest, by name: AutoCoder (a code LLM) is nearest to a paper
    # evaluating code LLMs
    first = found.filter(pl.col("paper_id") == "2405.14906", pl.col("rank") == 1)
    assert first["similar_paper_id"].item() == "2412.05210"


def test_an_update_equals_a_rebuild_when_papers_come_change_and_go(
    papers: pl.DataFrame, embeddings: pl.DataFrame
) -> None:
    rng = np.random.default_rng(7)
    ids = papers["paper_id"]
    late = pl.Series(rng.choice(ids.to_numpy(), 40, replace=False))
    # 40 papers arrive after the others
    earlier = similar_papers(embeddings.filter(~pl.col("paper_id").is_in(late.implode())))
    full = similar_papers(embeddings)
    no_one = pl.Series([], dtype=pl.String())
    assert update_similar_papers(embeddings, earlier, late, no_one).equals(full)
    # then 10 papers change their text and 15 go away
    changed = pl.Series(rng.choice(ids.to_numpy(), 10, replace=False))
    gone = pl.Series(ids.filter(~ids.is_in(changed.implode())).sample(15, seed=3))
    revised = papers.filter(~pl.col("paper_id").is_in(gone.implode())).with_columns(
        pl.when(pl.col("paper_id").is_in(changed.implode()))
        .then(pl.lit("Revised: speculative decoding of ") + pl.col("title"))
        .otherwise(pl.col("title"))
        .alias("title")
    )
    revised_embeddings = embed_papers(revised)
    assert update_similar_papers(revised_embeddings, full, changed, gone).equals(
        similar_papers(revised_embeddings)
    )


def test_a_paper_alone_gets_a_list_once_others_arrive(embeddings: pl.DataFrame) -> None:
    first = embeddings.head(1)
    assert similar_papers(first).is_empty()
    three = embeddings.head(3)
    updated = update_similar_papers(
        three, similar_papers(first), three["paper_id"][1:], pl.Series([], dtype=pl.String())
    )
    assert updated.equals(similar_papers(three))
    assert updated.height == 6


def test_neighbour_tables_embed_only_the_papers_whose_text_changed(
    papers: pl.DataFrame, embeddings: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = neighbour_tables(papers)
    assert full.embedded == papers.height and full.changed is None
    touched = papers["paper_id"].head(5)
    now = papers.with_columns(
        pl.when(pl.col("paper_id") == touched[0])
        .then(pl.lit("A new abstract about protein folding."))
        .otherwise(pl.col("abstract"))
        .alias("abstract")
    ).filter(pl.col("paper_id") != touched[1])
    embedded: list[int] = []
    real_embed = similarity.embed_texts
    monkeypatch.setattr(
        similarity, "embed_texts", lambda texts: embedded.append(len(texts)) or real_embed(texts)
    )
    update = neighbour_tables(now, (papers, full.embeddings), (full.similar, touched))
    # one text changed, one paper gone, three touched but the same: one paper embedded
    assert embedded == [1] and update.embedded == 1
    rebuilt = neighbour_tables(now)
    assert update.embeddings.equals(rebuilt.embeddings)
    assert update.similar.equals(rebuilt.similar)
    assert update.changed is not None
    relisted = set(update.changed.to_list())
    assert {touched[0], touched[1]} <= relisted
    # every paper whose list differs is named, and no other
    differs = pl.concat(
        [
            rebuilt.similar.join(full.similar, on=rebuilt.similar.columns, how="anti"),
            full.similar.join(rebuilt.similar, on=rebuilt.similar.columns, how="anti"),
        ]
    )["paper_id"]
    assert relisted == set(differs.to_list()) | {touched[0], touched[1]}
    # a full build keeps the vectors of unchanged texts too, and lists from scratch
    embedded.clear()
    again = neighbour_tables(now, (papers, full.embeddings))
    assert embedded == [1] and again.embedded == 1 and again.changed is None
    assert again.embeddings.equals(rebuilt.embeddings)
    assert again.similar.equals(rebuilt.similar)


def test_two_builds_publish_byte_identical_vectors(built_sample: Paths, tmp_path: Path) -> None:
    tables = read_curated(built_sample)
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    embed_papers(tables["papers"].select("paper_id", "title", "abstract")).write_parquet(first)
    tables["paper_embeddings"].sort("paper_id").write_parquet(second)
    assert first.read_bytes() == second.read_bytes()


def test_a_graph_finds_the_exact_lists_of_the_samples(embeddings: pl.DataFrame) -> None:
    exact = similar_papers(embeddings, exact=True)
    graph = similar_papers(embeddings, exact=False)
    # the same schema, ranks and exact scores; on 380 papers the graph misses nothing
    assert graph.equals(exact)
    assert similar_papers(embeddings, exact=False).equals(graph)
