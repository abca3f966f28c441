"""Immutable, dated releases of the curated tables: Parquet files, a manifest, a ``latest`` pointer.

A release is written into a hidden temporary folder, checked, then renamed to
``releases/<release id>/`` in one step, and only then is ``releases/latest`` switched to it, also
in one step: a reader sees the previous release or the new one, never a half-written one.
Rows are sorted by key and files are written with fixed settings, so the same inputs give
byte-identical Parquet files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from pipelines.core.locking import crash_point

LATEST = "latest"
MANIFEST = "manifest.json"
# ~64k rows per row group keeps a range read of one group small while staying efficient to scan
ROW_GROUP_ROWS = 65_536
ZSTD_LEVEL = 9


@dataclass(frozen=True)
class PublishedRelease:
    """Where a release is and what it holds."""

    release_id: str
    path: Path
    manifest: dict[str, Any]
    created: bool

    @property
    def row_counts(self) -> dict[str, int]:
        return {name: info["rows"] for name, info in self.manifest["tables"].items()}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_table(frame: pl.DataFrame, path: Path) -> None:
    """Write one table as zstd Parquet with settings that make the bytes reproducible."""
    frame.write_parquet(
        path,
        compression="zstd",
        compression_level=ZSTD_LEVEL,
        row_group_size=ROW_GROUP_ROWS,
        statistics=True,
    )
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def schema_of(path: Path) -> list[dict[str, str]]:
    schema = pq.read_schema(path)
    return [{"name": field.name, "type": str(field.type)} for field in schema]


def latest_release(releases_dir: Path) -> Path | None:
    pointer = releases_dir / LATEST
    if not pointer.exists():
        return None
    return pointer.resolve()


def open_release(release_dir: Path) -> PublishedRelease:
    """The release in ``release_dir`` (e.g. the target of ``latest``), per its manifest."""
    manifest = json.loads((release_dir / MANIFEST).read_text(encoding="utf-8"))
    return PublishedRelease(release_dir.name, release_dir, manifest, created=False)


def next_release_id(releases_dir: Path, build_date: date) -> str:
    """``YYYY-MM-DD`` of the build date; ``YYYY-MM-DD.2``, ``.3``... for later releases that day."""
    base = build_date.isoformat()
    if not (releases_dir / base).exists():
        return base
    suffix = 2
    while (releases_dir / f"{base}.{suffix}").exists():
        suffix += 1
    return f"{base}.{suffix}"


def publish_release(
    tables: Mapping[str, pl.DataFrame],
    releases_dir: Path,
    *,
    sources: Sequence[Mapping[str, Any]],
    code_version: str,
    build_date: date,
    created_at: datetime | None = None,
) -> PublishedRelease:
    """Publish ``tables`` as a new release, unless the latest release already holds the same data.

    Returns the new release, or the latest one (``created=False``) when nothing changed.
    """
    releases_dir.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(releases_dir)
    staging = releases_dir / f".staging-{os.getpid()}"
    staging.mkdir()
    try:
        table_entries: dict[str, dict[str, Any]] = {}
        for name in sorted(tables):
            file_name = f"{name}.parquet"
            path = staging / file_name
            write_table(tables[name], path)
            table_entries[name] = {
                "file": file_name,
                "rows": tables[name].height,
                "bytes": path.stat().st_size,
                "sha256": sha256_file(path),
                "schema": schema_of(path),
            }
            crash_point("release:table-written")
        previous = latest_release(releases_dir)
        if previous is not None and _same_tables(previous / MANIFEST, table_entries):
            shutil.rmtree(staging)
            manifest = json.loads((previous / MANIFEST).read_text())
            return PublishedRelease(previous.name, previous, manifest, created=False)

        release_id = next_release_id(releases_dir, build_date)
        manifest = {
            "release_id": release_id,
            "created_at": (created_at or datetime.now(UTC)).isoformat(timespec="seconds"),
            "code_version": code_version,
            "previous_release": previous.name if previous is not None else None,
            "sources": [dict(source) for source in sources],
            "tables": table_entries,
        }
        _write_json(staging / MANIFEST, manifest)
        crash_point("release:manifest-written")
        problems = verify_release(staging)
        if problems:
            raise RuntimeError(f"release {release_id} failed verification: {'; '.join(problems)}")
        final = releases_dir / release_id
        os.rename(staging, final)
        _fsync_dir(releases_dir)
        crash_point("release:renamed")
        switch_latest(releases_dir, release_id)
        return PublishedRelease(release_id, final, manifest, created=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def switch_latest(releases_dir: Path, release_id: str) -> None:
    """Point ``latest`` at ``release_id`` atomically (a new link renamed over the old one)."""
    temporary = releases_dir / f".{LATEST}-{os.getpid()}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(release_id, target_is_directory=True)
    crash_point("release:latest-link-made")
    os.replace(temporary, releases_dir / LATEST)
    _fsync_dir(releases_dir)
    crash_point("release:latest-switched")


def verify_release(release_dir: Path) -> list[str]:
    """Recheck every file of a release against its manifest; return the problems found."""
    manifest_path = release_dir / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as error:
        return [f"{manifest_path}: unreadable manifest ({error})"]
    problems: list[str] = []
    for name, info in manifest.get("tables", {}).items():
        path = release_dir / info["file"]
        if not path.is_file():
            problems.append(f"{info['file']}: missing")
            continue
        if sha256_file(path) != info["sha256"]:
            problems.append(f"{info['file']}: sha256 does not match the manifest")
            continue
        try:
            rows = pq.ParquetFile(path).metadata.num_rows
        except Exception as error:  # a corrupt file is reported, whatever pyarrow raises
            problems.append(f"{info['file']}: unreadable Parquet ({error})")
            continue
        if rows != info["rows"]:
            problems.append(f"{info['file']}: {rows} rows, manifest says {info['rows']} for {name}")
    return problems


def _same_tables(manifest_path: Path, tables: Mapping[str, Mapping[str, Any]]) -> bool:
    try:
        previous = json.loads(manifest_path.read_text())["tables"]
    except (OSError, ValueError, KeyError):
        return False
    return {k: v["sha256"] for k, v in previous.items()} == {
        k: v["sha256"] for k, v in tables.items()
    }


def _remove_leftovers(releases_dir: Path) -> None:
    # a build killed mid-publish leaves only hidden staging folders; they are never a release
    for leftover in releases_dir.glob(".staging-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in releases_dir.glob(f".{LATEST}-*"):
        leftover.unlink(missing_ok=True)


def _write_json(path: Path, document: Mapping[str, Any]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, sort_keys=True, ensure_ascii=False)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
