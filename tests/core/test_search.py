"""Search over the warehouse of the samples: by meaning, by words, blended; the CLI; quality."""

from __future__ import annotations

import shlex
import shutil
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from pipelines.cli import main
from pipelines.core.ops.settings import Paths
from pipelines.core.publish.release import LATEST
from pipelines.core.publish.search import (
    BLEND,
    DEFAULT_METHOD,
    KEYWORD,
    SEMANTIC,
    blended_scores,
    ranks,
    search_papers,
    standardised,
)
from pipelines.core.publish.search_quality import markdown, measure
from tests.conftest import REPO

SPECULATIVE = "2405.19325"  # Nearest Neighbor Speculative Decoding for LLM Generation...


def test_the_warehouse_holds_vectors_as_fixed_size_arrays(built_sample: Paths) -> None:
    with duckdb.connect(str(built_sample.warehouse_path), read_only=True) as connection:
        types = dict(
            connection.sql(
                "SELECT column_name, data_type FROM duckdb_columns() "
                "WHERE table_name = 'paper_embeddings'"
            ).fetchall()
        )
        assert types == {"paper_id": "VARCHAR", "model": "VARCHAR", "vector": "FLOAT[256]"}
        rows = connection.sql(
            "SELECT rank, paper_id, score FROM similar_to('2405.14906')"
        ).fetchall()
    assert [row[0] for row in rows] == list(range(1, 11))
    assert rows[0][1] == "2412.05210"
    assert [row[2] for row in rows] == sorted((row[2] for row in rows), reverse=True)


@pytest.mark.parametrize("method", [BLEND, KEYWORD])
def test_words_of_a_title_find_its_paper_first(built_sample: Paths, method: str) -> None:
    found = search_papers(built_sample.warehouse_path, "speculative decoding", k=5, method=method)
    assert found["rank"].to_list() == [1, 2, 3, 4, 5]
    assert found["paper_id"][0] == SPECULATIVE
    assert found["score"].to_list() == sorted(found["score"].to_list(), reverse=True)


def test_meaning_alone_ranks_by_cosine(built_sample: Paths) -> None:
    found = search_papers(
        built_sample.warehouse_path, "protein structure prediction", k=10, method=SEMANTIC
    )
    assert found.height == 10
    assert found["score"].to_list() == found["semantic"].cast(pl.Float64).to_list()
    assert found["score"].to_list() == sorted(found["score"].to_list(), reverse=True)


def test_keyword_search_returns_only_papers_with_a_query_word(built_sample: Paths) -> None:
    found = search_papers(built_sample.warehouse_path, "speculative", k=50, method=KEYWORD)
    assert 0 < found.height < 50
    assert (found["keyword"] > 0).all()


def test_filters_by_date_and_topic(built_sample: Paths) -> None:
    since = search_papers(
        built_sample.warehouse_path, "video generation", k=100, since=date(2025, 1, 1)
    )
    with duckdb.connect(str(built_sample.warehouse_path), read_only=True) as connection:
        (listed_since,) = connection.sql(
            "SELECT count(*) FROM papers WHERE last_listed_on >= DATE '2025-01-01'"
        ).fetchall()
        (topical,) = connection.sql(
            "SELECT count(DISTINCT paper_id) FROM paper_topics "
            "WHERE topic = 'video generation' OR lower(topic_name) = 'video generation'"
        ).fetchall()
    assert since.height == min(100, listed_since[0])
    by_topic = search_papers(
        built_sample.warehouse_path, "video generation", k=500, topic="Video generation"
    )
    # the taxonomy's topic and the API's keyword of that name
    assert by_topic.height == topical[0] == 49
    assert search_papers(built_sample.warehouse_path, "x", topic="no such topic").is_empty()
    with pytest.raises(ValueError, match="unknown search method 'fuzzy': one of blend"):
        search_papers(built_sample.warehouse_path, "x", method="fuzzy")


def test_the_blend_adds_standardised_scores() -> None:
    semantic = np.array([[0.1, 0.5, np.nan]])
    keyword = np.array([[3.0, 0.0, 1.0]])
    z_keyword = (keyword - keyword.mean()) / keyword.std()
    filled = np.array([[0.1, 0.5, 0.1]])
    z_semantic = (filled - filled.mean()) / filled.std()
    np.testing.assert_allclose(blended_scores(semantic, keyword), z_keyword + 0.5 * z_semantic)
    assert standardised(np.array([[2.0, 2.0]])).tolist() == [[0.0, 0.0]]
    assert ranks(np.array([[0.2, 0.9, 0.2, np.nan]])).tolist() == [[2.0, 1.0, 3.0, np.inf]]


def test_the_cli_prints_a_table(built_sample: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERS_DATA_DIR", str(built_sample.data_dir))
    monkeypatch.setenv("PAPERS_LANDING_DIR", str(built_sample.landing_dir))
    result = CliRunner().invoke(main, ["search", "speculative decoding", "--k", "3"])
    assert result.exit_code == 0, result.output
    assert f"3 papers for 'speculative decoding' ({DEFAULT_METHOD})" in result.output
    assert "Nearest Neighbor Speculative" in result.output
    assert SPECULATIVE in result.output
    empty = CliRunner().invoke(main, ["search", "anything", "--topic", "no such topic"])
    assert empty.exit_code == 0 and "no paper matches" in empty.output


def test_the_quality_figures_of_the_samples(built_sample: Paths) -> None:
    quality = measure(built_sample.releases_dir / LATEST)
    recall = {row["method"]: row for row in quality.retrieval.iter_rows(named=True)}
    # every sample paper has an abstract
    assert {row["queries"] for row in recall.values()} == {380}
    assert {method: round(row["recall_at_1"], 3) for method, row in recall.items()} == {
        BLEND: 0.968,
        SEMANTIC: 0.837,
        KEYWORD: 0.950,
    }
    assert {method: round(row["recall_at_10"], 3) for method, row in recall.items()} == {
        BLEND: 0.992,
        SEMANTIC: 0.976,
        KEYWORD: 0.989,
    }
    shared = {
        row["pairs"]: (row["count"], row["in_top_10"])
        for row in quality.neighbours.iter_rows(named=True)
    }
    assert shared["same owner, other repository"] == (10, 0.2)
    text = markdown(quality)
    assert "| same owner, other repository |" in text and "| random pair |" in text


DOCUMENTED = sorted(
    {
        line.strip()
        for document in (REPO / "README.md", REPO / "docs" / "analysts.md")
        for line in document.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith(".venv/bin/trending-papers search ")
    }
)


def test_the_documented_searches_run(built_sample: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERS_DATA_DIR", str(built_sample.data_dir))
    monkeypatch.setenv("PAPERS_LANDING_DIR", str(built_sample.landing_dir))
    assert len(DOCUMENTED) >= 4
    for line in DOCUMENTED:
        result = CliRunner().invoke(main, shlex.split(line)[1:])
        assert result.exit_code == 0, (line, result.output)
        assert "papers for" in result.output, line


def test_a_warehouse_without_embeddings_gets_a_clear_error(
    built_sample: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    (data / "warehouse").mkdir(parents=True)
    old = data / "warehouse" / "papers.duckdb"
    shutil.copy(built_sample.warehouse_path, old)
    with duckdb.connect(str(old)) as connection:
        connection.execute("DROP TABLE paper_embeddings CASCADE")
    monkeypatch.setenv("PAPERS_DATA_DIR", str(data))
    result = CliRunner().invoke(main, ["search", "speculative decoding"])
    assert result.exit_code == 1
    assert "cannot be searched" in result.output and "paper_embeddings" in result.output
