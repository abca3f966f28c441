"""The floor: the fastest honest way to turn a landing folder into one flat Parquet file.

Every file is read and parsed (orjson for the API responses, ``ast.literal_eval`` for their
Python-repr items, the wrapped response unwrapped; a capture split on blank lines after its date
line), and the fields every consumer wants (id, title, abstract, authors, published_at, upvotes,
comments, listing date, source file) are written to ONE zstd Parquet file with Polars. No
validation, no normalisation, no dedup, no history, no release: any real pipeline does at least this
much work, so the build is compared with it.

Runs in the main environment (polars, orjson):
``python bench/floor.py --landing DIR --out FILE.parquet``.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import polars as pl

# rows kept as Python objects before they are moved into an Arrow chunk: bounds the memory held in
# Python strings, which cost several times their Arrow size
CHUNK_ROWS = 50_000
_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")
_DATE_LINE = re.compile(r"[A-Z][a-z]{2,8}\.? \d{1,2}(, \d{4})?")
COLUMNS = (
    "id",
    "title",
    "abstract",
    "authors",
    "published_at",
    "upvotes",
    "comments",
    "listed_on",
    "source_file",
)
SCHEMA: dict[str, Any] = {
    "id": pl.String,
    "title": pl.String,
    "abstract": pl.String,
    "authors": pl.List(pl.String),
    "published_at": pl.String,
    "upvotes": pl.Int64,
    "comments": pl.Int64,
    "listed_on": pl.String,
    "source_file": pl.String,
}


def listing_files(landing: Path) -> list[Path]:
    """Every listing file under the landing folder (hidden files and folders skipped)."""
    return sorted(
        path
        for path in landing.rglob("*")
        if path.is_file()
        and path.suffix in (".json", ".txt")
        and not any(part.startswith(".") for part in path.relative_to(landing).parts)
    )


def api_rows(data: bytes, columns: dict[str, list[Any]], key: str, listed_on: str | None) -> None:
    document = orjson.loads(data)
    items = document["data"] if isinstance(document, dict) else document
    for item in items:
        record = ast.literal_eval(item) if isinstance(item, str) else item
        paper = record["paper"]
        columns["id"].append(paper.get("id"))
        columns["title"].append(paper.get("title") or record.get("title"))
        columns["abstract"].append(paper.get("summary") or record.get("summary"))
        columns["authors"].append([a.get("name") for a in paper.get("authors") or ()])
        columns["published_at"].append(paper.get("publishedAt") or record.get("publishedAt"))
        columns["upvotes"].append(paper.get("upvotes"))
        columns["comments"].append(record.get("numComments"))
        columns["listed_on"].append(listed_on)
        columns["source_file"].append(key)


def capture_rows(text: str, columns: dict[str, list[Any]], key: str, listed_on: str | None) -> None:
    paragraphs = text.split("\n\n")
    # the entries start after the date line; the few lines before it are the site's header
    start = next(
        (i + 1 for i, p in enumerate(paragraphs[:12]) if _DATE_LINE.fullmatch(p.strip())), 0
    )
    body = paragraphs[start:]
    for title, abstract in zip(body[0::2], body[1::2], strict=False):
        columns["id"].append(None)
        columns["title"].append(title.strip())
        columns["abstract"].append(abstract.strip())
        columns["authors"].append(None)
        columns["published_at"].append(None)
        columns["upvotes"].append(None)
        columns["comments"].append(None)
        columns["listed_on"].append(listed_on)
        columns["source_file"].append(key)


def build(landing: Path, out: Path) -> int:
    """Read every file under ``landing`` into one Parquet file at ``out``; return the rows."""
    chunks: list[pl.DataFrame] = []
    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    for path in listing_files(landing):
        key = path.relative_to(landing).as_posix()
        match = _DATE_IN_NAME.search(path.name)
        listed_on = match[1] if match else None
        data = path.read_bytes()
        if path.suffix == ".json":
            api_rows(data, columns, key, listed_on)
        else:
            capture_rows(data.decode("utf-8"), columns, key, listed_on)
        if len(columns["id"]) >= CHUNK_ROWS:
            chunks.append(pl.DataFrame(columns, schema=SCHEMA))
            columns = {name: [] for name in COLUMNS}
    chunks.append(pl.DataFrame(columns, schema=SCHEMA))
    frame = pl.concat(chunks, rechunk=False).with_columns(
        pl.col("published_at").str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_zone="UTC"),
        pl.col("listed_on").str.to_date("%Y-%m-%d"),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(out, compression="zstd")
    return frame.height


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = build(args.landing, args.out)
    print(f"floor: {rows:,} rows -> {args.out} in {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    sys.exit(main())
