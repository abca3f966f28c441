"""Finding papers in the warehouse by what they are about.

Two rankings of the papers for a query, and their blend:

- **semantic**: the cosine similarity of the query's vector (the model of ``paper_embeddings``)
  with each paper's, computed by DuckDB (``array_cosine_similarity`` over ``FLOAT[256]``);
- **keyword**: BM25 over each paper's title and abstract (``bm25s``; English stop words, no
  stemming). DuckDB's own full-text extension is not used: the installed DuckDB 2 cannot load it
  without the extension server;
- **blend**: the two scores standardised over the papers searched (minus their mean, divided by
  their standard deviation: a cosine and a BM25 score have nothing else in common) and added,
  the cosine at half the weight. Measured against reciprocal rank fusion, which ignores by how
  much a paper leads, the sum of standardised scores found more papers (README).

Which one ``trending-papers search`` uses by default is decided by measurement
(``search_quality.py``; the figures are in the README).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import bm25s
import duckdb
import numpy as np
import polars as pl

from pipelines.core.curate.similarity import embed_texts, paper_text

# bm25s sets its own logger to DEBUG when imported: every index built would say so
logging.getLogger("bm25s").setLevel(logging.WARNING)

SEMANTIC = "semantic"
KEYWORD = "keyword"
BLEND = "blend"
METHODS = (BLEND, SEMANTIC, KEYWORD)
# the measured best of the three on the whole archive (README, "Search quality")
DEFAULT_METHOD = BLEND
# the weight of meaning against words in the blend: of 0.2, 0.35, 0.5 and 0.75, the best recall
# on the whole archive (README, "Search quality"); from 0.35 to 0.75 recall moves by 0.003
SEMANTIC_WEIGHT = 0.5


def ranks(scores: np.ndarray) -> np.ndarray:
    """Each column's rank (1 = best) within its row, best score first, ties by column; a NaN
    or an infinitely low score ranks nowhere (``inf``)."""
    order = np.argsort(-np.nan_to_num(scores, nan=-np.inf), axis=1, kind="stable")
    ranked = np.empty(scores.shape, dtype=np.float64)
    np.put_along_axis(ranked, order, np.arange(1, scores.shape[1] + 1, dtype=np.float64), axis=1)
    return np.where(np.isfinite(np.nan_to_num(scores, nan=-np.inf)), ranked, np.inf)


def standardised(scores: np.ndarray) -> np.ndarray:
    """Each row's scores as distances from the row's mean in standard deviations, so that two
    scores of unrelated scales can be added; a missing score counts as the row's lowest."""
    filled = np.where(np.isnan(scores), np.nanmin(scores, axis=1, keepdims=True), scores)
    spread = filled.std(axis=1, keepdims=True)
    return (filled - filled.mean(axis=1, keepdims=True)) / np.where(spread > 0, spread, 1.0)


def blended_scores(semantic: np.ndarray, keyword: np.ndarray) -> np.ndarray:
    """BM25 plus :data:`SEMANTIC_WEIGHT` times the cosine, both standardised per query (rows:
    queries, columns: papers)."""
    return standardised(keyword) + SEMANTIC_WEIGHT * standardised(semantic)


@dataclass(frozen=True)
class KeywordIndex:
    """BM25 over a list of texts."""

    retriever: bm25s.BM25
    size: int

    @classmethod
    def of(cls, texts: list[str]) -> KeywordIndex:
        retriever = bm25s.BM25()
        retriever.index(
            bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False
        )
        return cls(retriever, len(texts))

    def scores(self, queries: list[str]) -> np.ndarray:
        """BM25 score of every text for each query (rows: queries)."""
        tokenized = bm25s.tokenize(queries, stopwords="en", return_ids=False, show_progress=False)
        assert isinstance(tokenized, list)
        return np.vstack(
            [np.asarray(self.retriever.get_scores(words), dtype=np.float64) for words in tokenized]
        ).reshape(len(queries), self.size)


def scored(semantic: np.ndarray, keyword: np.ndarray, method: str) -> np.ndarray:
    """The score a method ranks by."""
    if method == SEMANTIC:
        return semantic
    if method == KEYWORD:
        # a paper with no word of the query is not a keyword match at all
        return np.where(keyword > 0, keyword, -np.inf)
    if method == BLEND:
        return blended_scores(semantic, keyword)
    raise _unknown(method)


def _unknown(method: str) -> ValueError:
    return ValueError(f"unknown search method {method!r}: one of {', '.join(METHODS)}")


_CANDIDATES = """
SELECT p.paper_id, p.arxiv_id, p.title, p.abstract, p.first_listed_on, c.code_url,
       array_cosine_similarity(e.vector, CAST($query AS FLOAT[256])) AS semantic
FROM papers AS p
LEFT JOIN paper_embeddings AS e USING (paper_id)
LEFT JOIN paper_code AS c USING (paper_id)
WHERE ($since IS NULL OR p.last_listed_on >= $since)
  AND ($topic IS NULL OR EXISTS (
        SELECT 1 FROM paper_topics AS t
        WHERE t.paper_id = p.paper_id
          AND (lower(t.topic) = lower($topic) OR lower(t.topic_name) = lower($topic))))
ORDER BY p.paper_id
"""


def search_papers(
    warehouse: Path,
    query: str,
    *,
    k: int = 10,
    since: date | None = None,
    topic: str | None = None,
    method: str = DEFAULT_METHOD,
) -> pl.DataFrame:
    """The ``k`` papers of the warehouse that best match ``query``: listed on or after ``since``,
    of ``topic`` (a topic id or name, any case), ranked by ``method``.

    Columns: ``rank``, ``paper_id``, ``arxiv_id``, ``title``, ``first_listed_on``, ``score`` (the
    method's own: a cosine, a BM25 score or the blended score), ``semantic``, ``keyword`` and
    ``code_url``.
    """
    if method not in METHODS:
        raise _unknown(method)
    vector = embed_texts([query])[0]
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        found = pl.from_arrow(
            connection.sql(
                _CANDIDATES,
                params={"query": np.nan_to_num(vector).tolist(), "since": since, "topic": topic},
            ).to_arrow_table()
        )
    assert isinstance(found, pl.DataFrame)
    candidates = found
    if candidates.is_empty():
        return candidates.select("paper_id", "arxiv_id", "title", "first_listed_on", "code_url")
    semantic = candidates["semantic"].fill_null(float("nan")).to_numpy().reshape(1, -1)
    texts = candidates.select(paper_text()).to_series().to_list()
    keyword = KeywordIndex.of(texts).scores([query])
    score = scored(semantic.astype(np.float64), keyword, method)[0]
    return (
        candidates.with_columns(
            score=pl.Series(score).fill_nan(None),
            keyword=pl.Series(keyword[0]),
        )
        .filter(pl.col("score").is_not_null() & (pl.col("score") > float("-inf")))
        .sort(["score", "paper_id"], descending=[True, False])
        .head(k)
        .with_row_index("rank", offset=1)
        .select(
            "rank",
            "paper_id",
            "arxiv_id",
            "title",
            "first_listed_on",
            "score",
            "semantic",
            "keyword",
            "code_url",
        )
    )
