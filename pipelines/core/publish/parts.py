"""Tables stored as parts, so that a new day rewrites and publishes only the parts it changed.

Every row of a paper table (papers, observations, code links, aliases, claims, topics) belongs
to the part of its paper's first listing month (``2024-05``; ``undated`` for a paper listed
without a date). A day's listings add papers to the current month and update papers first
listed in the last weeks, so it changes one or two parts of each paper table; the parts of
earlier months are byte for byte the same, and a release shares them with the previous release
(a hard link) instead of writing them again. The file tables (``listing_files``, ``rejects``,
``repairs``) are small and held in one part, ``all``.

A table is the concatenation of its parts in the order of their labels, each part in the
table's key order; every part file is written by ``release.write_part``, so the same rows give
the same bytes whichever build wrote them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from pipelines.core.curate.model import PAPER_TABLE_ORDER
from pipelines.core.ingest.landing import sha256_file

# the part of a table that is not split, and of papers listed without a date
WHOLE = "all"
UNDATED = "undated"
_PART = "__part"


@dataclass(frozen=True)
class Part:
    """One part file of a table: where it lies and what the manifest says of it."""

    table: str
    label: str
    path: Path
    rows: int
    bytes: int
    sha256: str

    @property
    def file(self) -> str:
        """The part's path inside a release or the curated folder."""
        return part_file(self.table, self.label)

    def entry(self) -> dict[str, Any]:
        return {"file": self.file, "rows": self.rows, "bytes": self.bytes, "sha256": self.sha256}


def part_file(table: str, label: str) -> str:
    return f"{table}/{label}.parquet"


def table_glob(table: str) -> str:
    """The pattern that names every part of ``table`` (what a downloader reads)."""
    return f"{table}/*.parquet"


def paper_parts(papers: pl.DataFrame) -> pl.DataFrame:
    """``paper_id`` and the label of its part: the month it was first listed."""
    return papers.select(
        "paper_id",
        pl.col("first_listed_on").dt.strftime("%Y-%m").fill_null(UNDATED).alias(_PART),
    )


def in_part_order(table: str, frame: pl.DataFrame, parts: pl.DataFrame) -> pl.DataFrame:
    """``frame`` in the published order: by part, then by the table's order within a part
    (tables that are not split keep their order)."""
    if table not in PAPER_TABLE_ORDER:
        return frame
    columns, nulls_last = PAPER_TABLE_ORDER[table]
    return (
        frame.join(parts, on="paper_id", how="left", maintain_order="left")
        .sort([_PART, *columns], nulls_last=nulls_last)
        .drop(_PART)
    )


def split(
    table: str, frame: pl.DataFrame, parts: pl.DataFrame, only: set[str] | None = None
) -> dict[str, pl.DataFrame]:
    """The rows of each part of ``table`` (``frame`` in :func:`in_part_order`), by label; with
    ``only``, of those parts alone (the rest of the table is not copied)."""
    if table not in PAPER_TABLE_ORDER or frame.is_empty():
        return {WHOLE: frame}
    if only is not None:
        parts = parts.filter(pl.col(_PART).is_in(sorted(only)))
    labelled = frame.join(
        parts, on="paper_id", how="left" if only is None else "inner", maintain_order="left"
    )
    return {
        str(label): rows.drop(_PART)
        for (label,), rows in labelled.partition_by(
            _PART, as_dict=True, maintain_order=True
        ).items()
    }


def labels_of(papers: pl.DataFrame, paper_ids: pl.DataFrame) -> set[str]:
    """The part labels of ``paper_ids`` (a ``paper_id`` column) among ``papers``."""
    found = paper_parts(papers.join(paper_ids, on="paper_id", how="semi"))
    return set(found[_PART].to_list())


def described(table: str, label: str, path: Path) -> Part:
    """A part file as the manifest describes it."""
    rows = pq.ParquetFile(path).metadata.num_rows
    return Part(table, label, path, rows, path.stat().st_size, sha256_file(path))


def manifest_parts(info: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The part entries of a table in a manifest; a release made before parts existed has one
    file per table, read as a single part."""
    if "parts" in info:
        return list(info["parts"])
    if "file" not in info:
        return []
    return [{key: info[key] for key in ("file", "rows", "bytes", "sha256") if key in info}]


def share_or_copy(source: Path, shared: Path | None, target: Path) -> None:
    """Put a part at ``target``: a hard link to ``shared`` (the same bytes in an earlier
    release) when given and possible, else a synced copy of ``source``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if shared is not None:
        try:
            os.link(shared, target)
            return
        except OSError:
            pass  # another file system, or links not allowed: copy
    shutil.copyfile(source, target)
    with target.open("rb") as handle:
        os.fsync(handle.fileno())


def changed_part_files(
    before: Mapping[str, Mapping[str, Any]] | None, after: Mapping[str, Mapping[str, Any]]
) -> dict[str, tuple[list[str], list[str]]]:
    """Per table of either manifest's ``tables``: the part files that differ between them (not
    in the other, or with another sha256), before and after. Equal parts hold equal rows, so a
    diff of two releases only needs to read these."""
    changed = {}
    earlier = before or {}
    for name in sorted({*earlier, *after}):
        old: dict[str, str] = {
            part["file"]: part["sha256"] for part in manifest_parts(earlier.get(name, {}))
        }
        new: dict[str, str] = {
            part["file"]: part["sha256"] for part in manifest_parts(after.get(name, {}))
        }
        changed[name] = (
            sorted(file for file, digest in old.items() if new.get(file) != digest),
            sorted(file for file, digest in new.items() if old.get(file) != digest),
        )
    return changed
