"""What embedding the papers and listing their ten nearest costs, at the sizes of the big shapes.

The stress corpus holds about 359,000 papers, whose texts are real titles with words swapped and
real abstracts with their sentences shuffled (``corpus.py``). This bench makes ``--papers`` texts
the same way from a release's papers (the whole archive's, say) and measures, in this process:

- ``embed``: :func:`embed_texts` of every text;
- ``exact_full``: :func:`similar_papers` comparing every pair (up to ``--exact-up-to`` papers);
- ``graph_full``: :func:`similar_papers` with its candidates from the HNSW graph, and its
  recall@10: the share of the exact lists' pairs it finds;
- ``update``: :func:`update_similar_papers` after ``--new`` papers arrive, from the lists of
  the others (what a daily incremental build does);

each ``--reps`` times, reporting the median, and the process's peak RSS. Run with the project's
environment: ``.venv/bin/python -m bench.neighbours --release data/build/releases/latest
--papers 50000 100000``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from pipelines.core.curate.similarity import (
    EXACT_LIMIT,
    MODEL,
    VECTOR_TYPE,
    embed_texts,
    similar_papers,
    update_similar_papers,
)

SEED = 20261208


def synthetic_texts(papers: pl.DataFrame, count: int, seed: int = SEED) -> list[str]:
    """``count`` texts like the stress corpus's: a real title with two words swapped for words of
    other titles, then a real abstract's sentences in another order."""
    rng = np.random.default_rng(seed)
    titles = papers["title"].to_list()
    abstracts = [text.split(". ") for text in papers["abstract"].fill_null("").to_list()]
    words = [word for title in titles for word in title.split()]
    texts = []
    for _ in range(count):
        title = titles[rng.integers(len(titles))].split()
        for _swap in range(min(2, len(title))):
            title[rng.integers(len(title))] = words[rng.integers(len(words))]
        sentences = list(abstracts[rng.integers(len(abstracts))])
        rng.shuffle(sentences)
        texts.append(" ".join(title) + "\n\n" + ". ".join(sentences))
    return texts


def _timed(action: Callable[[], Any], reps: int) -> tuple[float, Any]:
    seconds, result = [], None
    for _ in range(reps):
        started = time.perf_counter()
        result = action()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def measure(
    papers: pl.DataFrame, count: int, new: int, reps: int, exact_up_to: int
) -> dict[str, Any]:
    texts = synthetic_texts(papers, count)
    embed_seconds, vectors = _timed(lambda: embed_texts(texts), reps)
    embeddings = pl.DataFrame(
        {
            "paper_id": [f"p{index:07d}" for index in range(count)],
            "model": [MODEL] * count,
            "vector": pl.Series(vectors, dtype=VECTOR_TYPE),
        }
    )
    result: dict[str, Any] = {
        "papers": count,
        "new_papers": new,
        "embed_s": round(embed_seconds, 2),
        "texts_per_s": round(count / embed_seconds),
    }
    graph_seconds, graph = _timed(lambda: similar_papers(embeddings, exact=False), reps)
    result["graph_full_s"] = round(graph_seconds, 2)
    exact = None
    if count <= exact_up_to:
        exact_seconds, exact = _timed(lambda: similar_papers(embeddings, exact=True), reps)
        result["exact_full_s"] = round(exact_seconds, 2)
        pairs = ["paper_id", "similar_paper_id"]
        found = exact.select(pairs).join(graph.select(pairs), on=pairs, how="semi").height
        result["graph_recall_at_10"] = round(found / exact.height, 5)
    # one new day on the lists a build of the others made (the graph's above the exact limit)
    arriving = embeddings["paper_id"].tail(new)
    previous = similar_papers(embeddings.head(count - new))
    nobody = pl.Series([], dtype=pl.String())
    update_seconds, updated = _timed(
        lambda: update_similar_papers(embeddings, previous, arriving, nobody), reps
    )
    result["update_s"] = round(update_seconds, 2)
    if exact is not None and count - new <= EXACT_LIMIT:
        assert updated.equals(exact), "the update differs from the rebuild"
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", type=Path, required=True, help="a release folder")
    parser.add_argument("--papers", type=int, nargs="+", default=[50_000])
    parser.add_argument("--new", type=int, default=800, help="papers of one new day")
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument(
        "--exact-up-to", type=int, default=100_000, help="compare every pair up to this many"
    )
    parser.add_argument("--output", type=Path, help="write the results as JSON here")
    arguments = parser.parse_args()
    papers = pl.read_parquet(arguments.release / "papers" / "*.parquet")
    results = []
    for count in arguments.papers:
        results.append(measure(papers, count, arguments.new, arguments.reps, arguments.exact_up_to))
        print(json.dumps(results[-1]), flush=True)
    if arguments.output is not None:
        arguments.output.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
