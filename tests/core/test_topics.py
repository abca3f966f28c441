"""Topic tags: the curated taxonomy on real titles and abstracts, and API keywords as they come."""

from __future__ import annotations

import json
import random
from pathlib import Path

import polars as pl
import pytest

from pipelines.core.curate.topics import (
    TAXONOMY_PATH,
    TOPIC_KINDS,
    TOPIC_SCHEMA,
    load_taxonomy,
    tag_topics,
)
from pipelines.core.ingest.entries import parse_file
from pipelines.core.ingest.landing import sha256_hex

# real papers (title and abstract exactly as the pipeline stores them) from the claims fixture
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "claims_labelled.json"
PAPERS_SCHEMA = {
    "paper_id": pl.String,
    "title": pl.String,
    "abstract": pl.String,
    "ai_keywords": pl.List(pl.String),
}


def _real_papers(*paper_ids: str) -> pl.DataFrame:
    records = {r["paper_id"]: r for r in json.loads(FIXTURE.read_text(encoding="utf-8"))}
    rows = [
        {"paper_id": i, "title": records[i]["title"], "abstract": records[i]["abstract"]}
        for i in paper_ids
    ]
    return pl.DataFrame([{**row, "ai_keywords": None} for row in rows], schema=PAPERS_SCHEMA)


def _tags(frame: pl.DataFrame, paper_id: str, source: str) -> list[str]:
    return frame.filter((pl.col("paper_id") == paper_id) & (pl.col("source") == source))[
        "topic"
    ].to_list()


def test_taxonomy_is_small_and_well_formed() -> None:
    topics = load_taxonomy()
    assert 20 <= len(topics) <= 30
    assert len({t.slug for t in topics}) == len(topics)
    assert {t.kind for t in topics} == set(TOPIC_KINDS)
    assert TAXONOMY_PATH.name == "taxonomy.toml" and TAXONOMY_PATH.parent.name == "curate"
    for topic in topics:
        assert topic.slug == topic.slug.lower().strip() and " " not in topic.slug
        assert topic.name and topic.patterns


@pytest.mark.parametrize(
    ("paper_id", "title_topics", "abstract_topics"),
    [
        # "Denoising LM ... for Speech Recognition": the abstract uses TTS systems as a tool
        (
            "2405.15216",
            ["speech-audio", "speech-recognition"],
            ["speech-audio", "speech-recognition", "speech-synthesis"],
        ),
        # "BPO: Supercharging Online Preference Learning ... Behavior LLM"
        ("2406.12168", ["large-language-models"], ["alignment-safety", "large-language-models"]),
        # "CLEAR: Conv-Like Linearization Revs Pre-Trained Diffusion Transformers Up"
        ("2412.16112", ["image-generation"], ["efficient-inference", "image-generation"]),
        # "ReLiK: Retrieve and LinK ...": a retriever-reader, "Retrieve" is no topic pattern
        ("2408.00103", [], ["retrieval"]),
        # VOLO, from the trending-page capture: classification is no topic, segmentation is
        ("title:volo vision outlooker for visual recognition", [], ["segmentation"]),
    ],
)
def test_exact_tags_of_real_papers(
    paper_id: str, title_topics: list[str], abstract_topics: list[str]
) -> None:
    tags = tag_topics(_real_papers(paper_id))
    assert _tags(tags, paper_id, "taxonomy_title") == title_topics
    assert _tags(tags, paper_id, "taxonomy_abstract") == abstract_topics
    names = {t.slug: t for t in load_taxonomy()}
    for row in tags.iter_rows(named=True):
        assert row["topic_name"] == names[row["topic"]].name
        assert row["kind"] == names[row["topic"]].kind


def test_patterns_are_whole_words_and_case_insensitive() -> None:
    papers = pl.DataFrame(
        [
            {"paper_id": "a", "title": "A worldwide crawl of ASRS forms", "abstract": None},
            {"paper_id": "b", "title": "rlhf for stable DIFFUSION MODELS", "abstract": ""},
        ],
        schema={k: v for k, v in PAPERS_SCHEMA.items() if k != "ai_keywords"},
    ).with_columns(pl.lit(None, dtype=pl.List(pl.String)).alias("ai_keywords"))
    tags = tag_topics(papers)
    assert _tags(tags, "a", "taxonomy_title") == []
    assert _tags(tags, "b", "taxonomy_title") == ["image-generation", "reinforcement-learning"]


def test_api_keywords_pass_through_lower_cased_and_trimmed() -> None:
    papers = pl.DataFrame(
        [
            {
                "paper_id": "p",
                "title": "",
                "abstract": "",
                "ai_keywords": ["  Diffusion  Models ", "diffusion models", "LoRA", "", None],
            },
            {"paper_id": "q", "title": "", "abstract": "", "ai_keywords": None},
            {"paper_id": "r", "title": "", "abstract": "", "ai_keywords": []},
        ],
        schema=PAPERS_SCHEMA,
    )
    tags = tag_topics(papers)
    assert tags.rows() == [
        ("p", "diffusion models", "Diffusion Models", "keyword", "api_ai_keywords"),
        ("p", "lora", "LoRA", "keyword", "api_ai_keywords"),
    ]


def test_real_api_keywords(shared_data: Path) -> None:
    source = "hf-daily-api/2025-03-11.json"
    data = (shared_data / source).read_bytes()
    entries = parse_file(data, source, sha256_hex(data)).entries.filter(
        pl.col("arxiv_id") == "2503.07365"
    )
    papers = entries.select(
        pl.col("arxiv_id").alias("paper_id"), "title", "abstract", "ai_keywords"
    )
    tags = tag_topics(papers)
    keywords = tags.filter(pl.col("source") == "api_ai_keywords")
    expected = sorted({k.strip().lower() for k in entries["ai_keywords"][0]})
    assert keywords["topic"].to_list() == expected
    assert "rule-based reinforcement learning (rl)" in expected
    # "MM-Eureka: Exploring Visual Aha Moment with Rule-based Large-scale Reinforcement Learning"
    assert _tags(tags, "2503.07365", "taxonomy_title") == ["reinforcement-learning"]


def test_unique_sorted_and_deterministic() -> None:
    records = json.loads(FIXTURE.read_text(encoding="utf-8"))
    papers = _real_papers(*[r["paper_id"] for r in records])
    # every paper twice, in a shuffled order
    doubled = pl.concat([papers, papers])
    order = list(range(doubled.height))
    random.Random(3).shuffle(order)
    shuffled = doubled[order]
    first = tag_topics(papers)
    again = tag_topics(shuffled.lazy())
    assert first.equals(again)
    assert first.schema == pl.Schema(TOPIC_SCHEMA)
    assert first.height > 100
    assert first.select("paper_id", "topic", "source").is_duplicated().sum() == 0
    assert first.equals(first.sort("paper_id", "topic", "source"))
    assert set(first["source"].unique()) == {"taxonomy_title", "taxonomy_abstract"}


def test_a_bad_taxonomy_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "taxonomy.toml"
    bad.write_text('[[topic]]\nslug = "x"\nname = "X"\nkind = "genre"\npatterns = ["x"]\n')
    with pytest.raises(ValueError, match="kind"):
        load_taxonomy(bad)
    bad.write_text('[[topic]]\nslug = "x"\nname = "X"\nkind = "task"\npatterns = ["(x"]\n')
    with pytest.raises(ValueError, match="'x'"):
        load_taxonomy(bad)
