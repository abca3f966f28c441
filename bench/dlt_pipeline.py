"""What a team would write with dlt instead: the API files loaded into a DuckDB file.

A natural dlt pipeline: one ``@dlt.resource`` that yields the records of each daily papers API
file (the Python-repr items decoded with ``ast.literal_eval``, the wrapped response unwrapped),
tagged with the listing date and source file, loaded into DuckDB with dlt's defaults otherwise
(schema inference, nested lists such as ``paper.authors`` as child tables). Only the API files:
dlt has no parser for the plain-text page captures, and writing one is outside "natural".

Runs in the bench environment (dlt[duckdb,parquet]):
``python bench/dlt_pipeline.py --landing DIR --db FILE.duckdb --work DIR [--format parquet]``.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# no usage telemetry from a benchmark (the machine has no network for it anyway)
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

import dlt  # after the telemetry switch, which dlt reads at import
import orjson

_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")


def api_files(landing: Path) -> list[Path]:
    return sorted(
        path
        for path in landing.rglob("*.json")
        if not any(part.startswith(".") for part in path.relative_to(landing).parts)
    )


@dlt.resource(name="daily_papers", write_disposition="append")
def daily_papers(landing: Path) -> Iterator[list[dict[str, Any]]]:
    """The records of every API file, one list per file (dlt batches lists cheaply)."""
    for path in api_files(landing):
        document = orjson.loads(path.read_bytes())
        items = document["data"] if isinstance(document, dict) else document
        match = _DATE_IN_NAME.search(path.name)
        source_file = path.relative_to(landing).as_posix()
        records = []
        for item in items:
            record = ast.literal_eval(item) if isinstance(item, str) else item
            record["listing_date"] = match[1] if match else None
            record["source_file"] = source_file
            records.append(record)
        yield records


def run(landing: Path, db: Path, work: Path, loader_file_format: str | None) -> Any:
    pipeline = dlt.pipeline(
        pipeline_name="bench_daily_papers",
        destination=dlt.destinations.duckdb(str(db)),
        dataset_name="papers",
        pipelines_dir=str(work),
    )
    return pipeline.run(daily_papers(landing), loader_file_format=loader_file_format)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True, help="dlt's pipelines folder")
    parser.add_argument(
        "--format", choices=["parquet", "jsonl", "default"], default="parquet", dest="file_format"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    info = run(
        args.landing,
        args.db,
        args.work,
        None if args.file_format == "default" else args.file_format,
    )
    import duckdb

    with duckdb.connect(str(args.db), read_only=True) as connection:
        rows = connection.execute("SELECT count(*) FROM papers.daily_papers").fetchone()
    print(
        f"dlt ({args.file_format}): {rows[0] if rows else 0:,} records -> {args.db} "
        f"in {time.perf_counter() - started:.2f} s; {info.has_failed_jobs=}"
    )


if __name__ == "__main__":
    sys.exit(main())
