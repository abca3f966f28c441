"""Topic tags of papers: a small curated taxonomy matched on titles and abstracts, plus the
keywords the Hugging Face API gives some papers, as whole-column Polars expressions.

A tag says that a paper is about a topic and where that was read: in the title
(``taxonomy_title``), in the abstract (``taxonomy_abstract``), or in the API's ``ai_keywords``
(``api_ai_keywords``). The taxonomy (``taxonomy.toml`` beside this module) is curated by hand:
about 25 topics, each a task or a modality, each with word-bounded, case-insensitive patterns.
API keywords are kept as they come, lower-cased and trimmed, so that they add the long tail the
taxonomy does not name.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl

TAXONOMY_PATH = Path(__file__).resolve().parent / "taxonomy.toml"

TOPIC_KINDS = ("task", "modality")
SOURCE_TITLE = "taxonomy_title"
SOURCE_ABSTRACT = "taxonomy_abstract"
SOURCE_KEYWORDS = "api_ai_keywords"
KEYWORD_KIND = "keyword"

TOPIC_SCHEMA: dict[str, pl.DataType] = {
    "paper_id": pl.String(),
    "topic": pl.String(),
    "topic_name": pl.String(),
    "kind": pl.String(),
    "source": pl.String(),
}


@dataclass(frozen=True)
class Topic:
    """One topic of the taxonomy."""

    slug: str
    name: str
    kind: str
    patterns: tuple[str, ...]

    @property
    def regex(self) -> str:
        """All the topic's patterns as one case-insensitive, word-bounded regular expression."""
        return r"(?i)\b(?:" + "|".join(f"(?:{p})" for p in self.patterns) + r")\b"


@cache
def load_taxonomy(path: Path = TAXONOMY_PATH) -> tuple[Topic, ...]:
    """The topics of a taxonomy file, in file order.

    Raises:
        ValueError: when a topic lacks a field, repeats a slug, has an unknown kind or a pattern
            that is not a valid regular expression.
    """
    with path.open("rb") as handle:
        document = tomllib.load(handle)
    topics: list[Topic] = []
    for entry in document.get("topic", []):
        missing = {"slug", "name", "kind", "patterns"} - set(entry)
        if missing:
            raise ValueError(f"{path.name}: topic {entry!r} lacks {sorted(missing)}")
        topic = Topic(entry["slug"], entry["name"], entry["kind"], tuple(entry["patterns"]))
        if topic.kind not in TOPIC_KINDS:
            raise ValueError(f"{path.name}: topic {topic.slug!r} has kind {topic.kind!r}")
        if not topic.patterns:
            raise ValueError(f"{path.name}: topic {topic.slug!r} has no patterns")
        if topic.slug in {t.slug for t in topics}:
            raise ValueError(f"{path.name}: topic {topic.slug!r} appears twice")
        topics.append(topic)
    # Polars compiles the patterns with Rust's regex: check them with the engine that runs them
    probe = pl.DataFrame({"text": [""]})
    for topic in topics:
        try:
            probe.select(pl.col("text").str.contains(topic.regex))
        except pl.exceptions.ComputeError as error:
            raise ValueError(f"{path.name}: topic {topic.slug!r}: {error}") from None
    return tuple(topics)


def _taxonomy_tags(
    papers: pl.LazyFrame, column: str, source: str, topics: tuple[Topic, ...]
) -> pl.LazyFrame:
    """One row per (paper, topic) whose patterns occur in ``column``: one regex per topic, each
    run once over the whole column."""
    matched = pl.concat_list(
        [
            pl.when(pl.col(column).str.contains(topic.regex)).then(pl.lit(topic.slug))
            for topic in topics
        ]
    ).list.drop_nulls()
    return (
        papers.select("paper_id", matched.alias("topic"))
        .explode("topic")
        .filter(pl.col("topic").is_not_null())
        .with_columns(pl.lit(source).alias("source"))
    )


def _keyword_tags(papers: pl.LazyFrame) -> pl.LazyFrame:
    """One row per (paper, API keyword): the keyword lower-cased and trimmed, with white space
    inside it collapsed; its display name is its first spelling in alphabetical order."""
    keywords = (
        papers.select("paper_id", pl.col("ai_keywords").alias("keyword"))
        .explode("keyword")
        .with_columns(pl.col("keyword").str.replace_all(r"\s+", " ").str.strip_chars())
        .filter(pl.col("keyword").is_not_null() & (pl.col("keyword") != ""))
    )
    return (
        keywords.with_columns(pl.col("keyword").str.to_lowercase().alias("topic"))
        .group_by("paper_id", "topic")
        .agg(pl.col("keyword").min().alias("topic_name"))
        .with_columns(pl.lit(KEYWORD_KIND).alias("kind"), pl.lit(SOURCE_KEYWORDS).alias("source"))
    )


def tag_topics(
    papers: pl.DataFrame | pl.LazyFrame, topics: tuple[Topic, ...] | None = None
) -> pl.DataFrame:
    """The topics of each paper, from the taxonomy and from the API's keywords.

    Args:
        papers: one row per paper with ``paper_id``, ``title``, ``abstract`` and ``ai_keywords``
            (a list of strings, or null when the API gave none). A paper given twice counts once.
        topics: the taxonomy; the one in ``taxonomy.toml`` by default.

    Returns:
        A frame with ``TOPIC_SCHEMA``: ``topic`` is a taxonomy slug or a lower-cased API keyword,
        ``topic_name`` its display name, ``kind`` is "task", "modality" or "keyword", ``source``
        says where the topic was read. One row per (paper_id, topic, source), sorted by them.
    """
    topics = load_taxonomy() if topics is None else topics
    frame = (
        papers.lazy()
        .select(
            pl.col("paper_id").cast(pl.String),
            pl.col("title").cast(pl.String),
            pl.col("abstract").cast(pl.String),
            pl.col("ai_keywords").cast(pl.List(pl.String)),
        )
        .filter(pl.col("paper_id").is_not_null())
    )
    catalogue = pl.LazyFrame(
        {
            "topic": [t.slug for t in topics],
            "topic_name": [t.name for t in topics],
            "kind": [t.kind for t in topics],
        },
        schema={"topic": pl.String, "topic_name": pl.String, "kind": pl.String},
    )
    from_taxonomy = pl.concat(
        [
            _taxonomy_tags(frame, "title", SOURCE_TITLE, topics),
            _taxonomy_tags(frame, "abstract", SOURCE_ABSTRACT, topics),
        ]
    ).join(catalogue, on="topic", how="left")
    tags = pl.concat([from_taxonomy, _keyword_tags(frame)], how="diagonal")
    return (
        tags.select([pl.col(name).cast(dtype) for name, dtype in TOPIC_SCHEMA.items()])
        # a paper listed twice, or a keyword the API repeats, gives one tag
        .unique(["paper_id", "topic", "source"], keep="first")
        .sort("paper_id", "topic", "source")
        .collect()
    )
