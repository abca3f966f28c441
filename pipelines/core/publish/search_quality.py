"""How well the embeddings, BM25 and their blend find papers, measured on a release.

Two measures, both printed as Markdown by ``python -m pipelines.core.publish.search_quality
<release folder>`` (the README quotes them for the whole archive):

- **Title to its own abstract.** Each paper's title is a query over all abstracts (embedded or
  indexed alone, without their titles); recall@k is the share of titles whose own abstract ranks
  in the top k. A paraphrase task with one right answer per query, so no judge is needed.
- **Papers that share code.** Two papers that link the same GitHub repository (or repositories
  of the same owner) are usually related work; how often is one among the other's ten nearest
  (``similar_papers``)? Compared with as many pairs of papers drawn at random.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.core.curate.similarity import embed_texts
from pipelines.core.publish.search import METHODS, KeywordIndex, ranks, scored

RECALL_AT = (1, 10)
RANDOM_SEED = 20261208


@dataclass(frozen=True)
class Quality:
    retrieval: pl.DataFrame
    neighbours: pl.DataFrame


def title_to_abstract_recall(papers: pl.DataFrame) -> pl.DataFrame:
    """Recall@1 and @10 of each method, finding each paper's abstract from its title."""
    with_abstract = papers.filter(pl.col("abstract").str.len_chars() > 0).sort("paper_id")
    titles = with_abstract["title"].to_list()
    abstracts = with_abstract["abstract"].to_list()
    semantic = (embed_texts(titles) @ embed_texts(abstracts).T).astype(np.float64)
    keyword = KeywordIndex.of(abstracts).scores(titles)
    rows = []
    for method in METHODS:
        own_rank = np.diagonal(ranks(scored(semantic, keyword, method)))
        rows.append(
            {"method": method, "queries": len(titles)}
            | {f"recall_at_{k}": float(np.mean(own_rank <= k)) for k in RECALL_AT}
        )
    return pl.DataFrame(rows)


def shared_code_agreement(similar: pl.DataFrame, code_links: pl.DataFrame) -> pl.DataFrame:
    """For pairs of papers sharing a repository, sharing only an owner, and drawn at random: how
    many pairs, and the share where one paper is among the other's ten nearest."""
    github = code_links.filter(
        (pl.col("kind") == "repository") & (pl.col("host") == "github.com")
    ).select("paper_id", "owner", "repo")
    listed = similar.select("paper_id").unique()
    github = github.join(listed, on="paper_id", how="semi").unique()

    def pairs_by(columns: list[str]) -> pl.DataFrame:
        left = github.select("paper_id", *columns).unique()
        return (
            left.join(left, on=columns, suffix="_other")
            .filter(pl.col("paper_id") < pl.col("paper_id_other"))
            .select("paper_id", "paper_id_other")
            .unique()
        )

    same_repository = pairs_by(["owner", "repo"])
    same_owner = pairs_by(["owner"]).join(
        same_repository, on=["paper_id", "paper_id_other"], how="anti"
    )
    ids = listed["paper_id"].sort().to_numpy()
    draws = np.random.default_rng(RANDOM_SEED).integers(0, ids.size, size=(10_000, 2))
    draws = draws[draws[:, 0] != draws[:, 1]]
    random_pairs = pl.DataFrame({"paper_id": ids[draws[:, 0]], "paper_id_other": ids[draws[:, 1]]})
    forward = similar.select("paper_id", pl.col("similar_paper_id").alias("paper_id_other"))
    backward = forward.select(
        pl.col("paper_id_other").alias("paper_id"), pl.col("paper_id").alias("paper_id_other")
    )
    near = pl.concat([forward, backward]).unique()
    rows = []
    for relation, pairs in (
        ("same repository", same_repository),
        ("same owner, other repository", same_owner),
        ("random pair", random_pairs),
    ):
        hits = pairs.join(near, on=["paper_id", "paper_id_other"], how="semi").height
        rows.append(
            {
                "pairs": relation,
                "count": pairs.height,
                "in_top_10": hits / pairs.height if pairs.height else float("nan"),
            }
        )
    return pl.DataFrame(rows)


def measure(release: Path) -> Quality:
    def table(name: str) -> pl.DataFrame:
        return pl.read_parquet(release / name / "*.parquet")

    return Quality(
        retrieval=title_to_abstract_recall(table("papers")),
        neighbours=shared_code_agreement(table("similar_papers"), table("code_links")),
    )


def markdown(quality: Quality) -> str:
    """Both measures as Markdown tables."""
    lines = ["| method | titles | recall@1 | recall@10 |", "| --- | ---: | ---: | ---: |"]
    for row in quality.retrieval.iter_rows(named=True):
        lines.append(
            f"| {row['method']} | {row['queries']:,} | {row['recall_at_1']:.3f} "
            f"| {row['recall_at_10']:.3f} |"
        )
    lines += [
        "",
        "| pairs of papers | pairs | one in the other's 10 nearest |",
        "| --- | ---: | ---: |",
    ]
    for row in quality.neighbours.iter_rows(named=True):
        lines.append(f"| {row['pairs']} | {row['count']:,} | {row['in_top_10']:.3f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown(measure(Path(sys.argv[1]))))
