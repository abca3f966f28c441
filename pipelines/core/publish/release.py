"""Immutable, dated releases of the curated tables: Parquet files, a manifest, a ``latest`` pointer.

A release is written into a hidden temporary folder, checked, then renamed to
``releases/<release id>/`` in one step, and only then is ``releases/latest`` switched to it, also
in one step: a reader sees the previous release or the new one, never a half-written one.
Rows are sorted by key and files are written with fixed settings, so the same inputs give
byte-identical Parquet files.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from pipelines.core.ingest.landing import sha256_file
from pipelines.core.ops.locking import crash_point
from pipelines.core.publish.card import cleaning_counts, dataset_card
from pipelines.core.publish.catalog import TABLES
from pipelines.core.publish.changelog import changelog_markdown, paper_titles
from pipelines.core.publish.croissant import croissant_metadata
from pipelines.core.publish.diff import diff_tables, new_source_files
from pipelines.core.publish.licences import source_licences
from pipelines.core.publish.parts import (
    WHOLE,
    Part,
    changed_part_files,
    described,
    manifest_parts,
    paper_parts,
    part_file,
    share_or_copy,
    split,
    table_glob,
)
from pipelines.core.publish.site import release_order, write_release_page, write_site_index

LATEST = "latest"
# the ids of every release ever published, one per line, so none is ever reused
RELEASED = "RELEASED"
MANIFEST = "manifest.json"
DIFF_FILE = "diff.parquet"
CHANGELOG_FILE = "CHANGELOG.md"
CROISSANT_FILE = "croissant.json"
CARD_FILE = "README.md"
VALIDATION_FILE = "validation.json"
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


def write_table(frame: pl.DataFrame, path: Path) -> None:
    """Write one table as zstd Parquet with settings that make the bytes reproducible."""
    with as_os_error(path):
        frame.write_parquet(
            path,
            compression="zstd",
            compression_level=ZSTD_LEVEL,
            row_group_size=ROW_GROUP_ROWS,
            statistics=True,
        )
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


@contextmanager
def as_os_error(path: Path) -> Iterator[None]:
    """Polars reports a failed write (a full disk, say) as a ComputeError; callers and operators
    need the OSError it is, with its errno and the file it was writing."""
    try:
        yield
    except pl.exceptions.ComputeError as error:
        text = str(error)
        if "os error" not in text:
            raise
        code = int(text.rsplit("os error", 1)[1].strip(" )\n").split(")")[0] or errno.EIO)
        raise OSError(code, os.strerror(code), str(path)) from error


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
    """``YYYY-MM-DD`` of the build date; ``YYYY-MM-DD.2``, ``.3``... for later releases that day.

    An id is never given twice, even after retention deleted the release that had it: every id
    published is recorded in ``releases/RELEASED``.
    """
    base = build_date.isoformat()
    taken = {path.name for path in releases_dir.iterdir()} if releases_dir.exists() else set()
    taken |= released_ids(releases_dir)
    if base not in taken:
        return base
    suffix = 2
    while f"{base}.{suffix}" in taken:
        suffix += 1
    return f"{base}.{suffix}"


def newest_release(releases_dir: Path) -> Path | None:
    """The most recently published release that still exists (``latest`` may lag behind it
    when a build died between the two steps)."""
    record = releases_dir / RELEASED
    ids = record.read_text(encoding="utf-8").split() if record.exists() else []
    for release_id in reversed(ids):
        if (releases_dir / release_id / MANIFEST).is_file():
            return releases_dir / release_id
    return latest_release(releases_dir)


def released_ids(releases_dir: Path) -> set[str]:
    """Every release id ever published in ``releases_dir``."""
    record = releases_dir / RELEASED
    if not record.exists():
        return set()
    return {line.strip() for line in record.read_text(encoding="utf-8").splitlines() if line}


def _record_release(releases_dir: Path, release_id: str) -> None:
    with (releases_dir / RELEASED).open("a", encoding="utf-8") as handle:
        handle.write(release_id + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def publish_release(
    tables: Mapping[str, pl.DataFrame],
    releases_dir: Path,
    *,
    sources: Sequence[Mapping[str, Any]],
    code_version: str,
    build_date: date,
    created_at: datetime | None = None,
    validation: Sequence[Mapping[str, Any]] = (),
    retention: int | None = None,
    parts: Mapping[str, Sequence[Part]] | None = None,
) -> PublishedRelease:
    """Publish ``tables`` as a new release, unless the latest release already holds the same data.

    Each table is a folder of parts (``parts.py``). ``parts`` names, per table, the part files
    that ``write_table`` already wrote from exactly those rows (the curated folder): a part
    whose sha256 equals that of the same part in the previous release is shared with it (a hard
    link), any other is copied; nothing is encoded again. Without ``parts`` the tables are split
    and written here.

    Besides the parts and the manifest, a release holds its row-level diff against the previous
    release (``diff.parquet`` and ``CHANGELOG.md``, computed from the parts that differ), its
    Croissant metadata, its dataset card (``README.md``) and the validation results
    (``validation.json``). ``retention`` keeps only that many releases once the new one is
    published.

    Returns the new release, or the latest one (``created=False``) when nothing changed.
    """
    releases_dir.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(releases_dir)
    staging = releases_dir / f".staging-{os.getpid()}"
    staging.mkdir()
    try:
        placed = parts is None
        if parts is None:
            parts = _write_parts(tables, staging)
        table_entries = {name: _table_entry(name, parts[name]) for name in sorted(tables)}
        previous = latest_release(releases_dir)
        newest = newest_release(releases_dir)
        if newest is not None and _same_tables(newest / MANIFEST, table_entries):
            shutil.rmtree(staging)
            if newest != previous and not verify_release(newest):
                # a build died between publishing this release and pointing latest at it
                switch_latest(releases_dir, newest.name)
            manifest = json.loads((newest / MANIFEST).read_text())
            # the list of releases is brought up to date even when nothing was published
            _write_site_index(releases_dir)
            return PublishedRelease(newest.name, newest, manifest, created=False)

        diff_base, base_problems = _diff_base(previous)
        if not placed:
            shareable = _parts_of(diff_base)
            for name in sorted(tables):
                for part in parts[name]:
                    same = shareable.get(part.file) == part.sha256 and diff_base is not None
                    shared = diff_base / part.file if same and diff_base is not None else None
                    share_or_copy(part.path, shared, staging / part.file)
                    crash_point("release:table-written")
        release_id = next_release_id(releases_dir, build_date)
        manifest: dict[str, Any] = {
            "release_id": release_id,
            "created_at": (created_at or datetime.now(UTC)).isoformat(timespec="seconds"),
            "code_version": code_version,
            "previous_release": previous.name if previous is not None else None,
            "diff_base": diff_base.name if diff_base is not None else None,
            "diff_base_problems": base_problems,
            "sources": [dict(source) for source in sources],
            "tables": table_entries,
        }
        manifest["documents"] = write_documents(staging, manifest, tables, diff_base, validation)
        _write_json(staging / MANIFEST, manifest)
        crash_point("release:manifest-written")
        problems = verify_release(staging)
        if problems:
            raise RuntimeError(f"release {release_id} failed verification: {'; '.join(problems)}")
        final = releases_dir / release_id
        _record_release(releases_dir, release_id)
        os.rename(staging, final)
        _fsync_dir(releases_dir)
        crash_point("release:renamed")
        switch_latest(releases_dir, release_id)
        if retention is not None:
            apply_retention(releases_dir, retention)
        # after retention: the list names only the releases still there
        _write_site_index(releases_dir)
        return PublishedRelease(release_id, final, manifest, created=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _write_parts(tables: Mapping[str, pl.DataFrame], folder: Path) -> dict[str, list[Part]]:
    """Split each table into its parts and write them under ``folder``."""
    labels = paper_parts(tables["papers"]) if "papers" in tables else None
    written: dict[str, list[Part]] = {}
    for name, frame in sorted(tables.items()):
        pieces = split(name, frame, labels) if labels is not None else {WHOLE: frame}
        written[name] = []
        for label, rows in sorted(pieces.items()):
            written[name].append(write_part(name, label, rows, folder))
            crash_point("release:table-written")
    return written


def write_part(table: str, label: str, rows: pl.DataFrame, folder: Path) -> Part:
    """Write one part of a table under ``folder`` (a hidden temporary name, then renamed, so a
    reader never sees half a part) and describe it for the manifest."""
    path = folder / part_file(table, label)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    write_table(rows, temporary)
    os.replace(temporary, path)
    return described(table, label, path)


def _table_entry(name: str, parts: Sequence[Part]) -> dict[str, Any]:
    """A table in the manifest: its rows and schema, and every part with its sha256."""
    ordered = sorted(parts, key=lambda part: part.label)
    return {
        "files": table_glob(name),
        "rows": sum(part.rows for part in ordered),
        "bytes": sum(part.bytes for part in ordered),
        "schema": schema_of(ordered[0].path),
        "parts": [part.entry() for part in ordered],
    }


def _parts_of(release: Path | None) -> dict[str, str]:
    """The sha256 of every part file of a release, by file."""
    if release is None:
        return {}
    manifest = json.loads((release / MANIFEST).read_text())
    return {
        part["file"]: part["sha256"]
        for info in manifest.get("tables", {}).values()
        for part in manifest_parts(info)
    }


def write_documents(
    staging: Path,
    manifest: Mapping[str, Any],
    tables: Mapping[str, pl.DataFrame],
    diff_base: Path | None,
    validation: Sequence[Mapping[str, Any]],
) -> dict[str, dict[str, Any]]:
    """Write the diff, changelog, Croissant metadata, dataset card and validation results of a
    release into ``staging``; return their sizes and sha256 for the manifest."""
    release_id = manifest["release_id"]
    keys = {name: TABLES[name].key for name in tables if name in TABLES}
    diff = diff_tables(*_changed_rows(staging, manifest, tables, diff_base), keys)
    write_table(diff, staging / DIFF_FILE)
    previous_sources: list[Mapping[str, Any]] = []
    if diff_base is not None:
        previous_sources = json.loads((diff_base / MANIFEST).read_text()).get("sources", [])
    changelog = changelog_markdown(
        release_id,
        diff_base.name if diff_base is not None else None,
        diff,
        {name: frame.height for name, frame in tables.items()},
        new_source_files(previous_sources, manifest["sources"]),
        titles=paper_titles(tables["papers"]) if "papers" in tables else None,
    )
    if manifest["diff_base_problems"]:
        changelog += (
            f"\n## Diff base\n\nThe previous release {manifest['previous_release']} failed "
            "verification, so this diff is not against it: "
            + "; ".join(manifest["diff_base_problems"])
            + "\n"
        )
    licences = source_licences(tables["listing_files"]) if "listing_files" in tables else None
    licence = dataset_licence(licences)
    documents = {
        CHANGELOG_FILE: changelog,
        CROISSANT_FILE: json.dumps(
            croissant_metadata(release_id, manifest, TABLES, license=licence, url=None),
            indent=2,
            sort_keys=True,
            ensure_ascii=False,
        )
        + "\n",
        CARD_FILE: dataset_card(
            release_id,
            manifest,
            TABLES,
            validation,
            license=licence,
            sources=licences.to_dicts() if licences is not None else [],
            cleaning=cleaning_counts(tables),
        ),
        VALIDATION_FILE: json.dumps(list(validation), indent=2, sort_keys=True, default=str) + "\n",
    }
    entries = {DIFF_FILE: _file_entry(staging / DIFF_FILE) | {"rows": diff.height}}
    for name, text in documents.items():
        path = staging / name
        path.write_text(text, encoding="utf-8")
        entries[name] = _file_entry(path)
    # the release's download page, written last: it lists the other documents' digests
    entries |= write_release_page(
        staging,
        manifest,
        TABLES,
        tables=tables,
        diff=diff,
        validation=validation,
        documents=entries,
        licence=licence,
        sources=licences.to_dicts() if licences is not None else [],
    )
    return entries


def _changed_rows(
    staging: Path,
    manifest: Mapping[str, Any],
    tables: Mapping[str, pl.DataFrame],
    diff_base: Path | None,
) -> tuple[dict[str, list[Path]] | None, dict[str, pl.DataFrame]]:
    """What a diff needs to read: the previous release's parts that differ from the new ones,
    and the rows of the new parts that differ from the previous ones (equal parts hold equal
    rows, so leaving both out changes no diff row)."""
    if diff_base is None:
        return None, dict(tables)
    before = json.loads((diff_base / MANIFEST).read_text()).get("tables", {})
    changed = changed_part_files(before, manifest["tables"])
    previous = {name: [diff_base / file for file in old] for name, (old, _new) in changed.items()}
    rows = {
        name: pl.read_parquet([staging / file for file in changed[name][1]])
        if changed[name][1]
        else frame.clear()
        for name, frame in tables.items()
    }
    return previous, rows


def dataset_licence(licences: pl.DataFrame | None) -> str:
    """The dataset card's licence: Apache-2.0 when every source is, else ``other`` (mixed)."""
    if licences is not None and licences.height and (licences["licence"] == "Apache-2.0").all():
        return "apache-2.0"
    return "per-source-licences"


def apply_retention(releases_dir: Path, keep: int) -> list[str]:
    """Delete all but the ``keep`` newest releases (never the one ``latest`` points at)."""
    latest = latest_release(releases_dir)
    releases = sorted(
        (p for p in releases_dir.iterdir() if p.is_dir() and not p.is_symlink()
         and not p.name.startswith(".")),
        key=lambda p: release_order(p.name),
    )  # fmt: skip
    removed = []
    for old in releases[: max(0, len(releases) - max(keep, 1))]:
        if latest is not None and old.resolve() == latest:
            continue
        shutil.rmtree(old)
        removed.append(old.name)
    return removed


def _diff_base(previous: Path | None) -> tuple[Path | None, list[str]]:
    """The previous release when it verifies; a corrupt one is not silently diffed against."""
    if previous is None:
        return None, []
    problems = verify_release(previous)
    return (previous, []) if not problems else (None, problems)


def _write_site_index(releases_dir: Path) -> None:
    """The download page's list of releases (``index.html``, ``index.json``) as ``releases_dir``
    holds them now (``site.py``)."""
    latest = latest_release(releases_dir)
    write_site_index(releases_dir, latest.name if latest is not None else None)


def _file_entry(path: Path) -> dict[str, Any]:
    return {"bytes": path.stat().st_size, "sha256": sha256_file(path)}


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
        rows = 0
        for part in manifest_parts(info):
            problem, part_rows = _verify_part(release_dir, part)
            if problem:
                problems.append(problem)
            rows += part_rows
        if not problems and rows != info["rows"]:
            problems.append(f"{name}: {rows} rows in its parts, manifest says {info['rows']}")
    for name, info in manifest.get("documents", {}).items():
        path = release_dir / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256_file(path) != info["sha256"]:
            problems.append(f"{name}: sha256 does not match the manifest")
    return problems


def _verify_part(release_dir: Path, part: Mapping[str, Any]) -> tuple[str | None, int]:
    """A part's problem (None when it matches the manifest) and its rows."""
    path = release_dir / part["file"]
    if not path.is_file():
        return f"{part['file']}: missing", 0
    if sha256_file(path) != part["sha256"]:
        return f"{part['file']}: sha256 does not match the manifest", 0
    try:
        rows = pq.ParquetFile(path).metadata.num_rows
    except Exception as error:  # a corrupt file is reported, whatever pyarrow raises
        return f"{part['file']}: unreadable Parquet ({error})", 0
    if rows != part["rows"]:
        return f"{part['file']}: {rows} rows, manifest says {part['rows']}", rows
    return None, rows


def _same_tables(manifest_path: Path, tables: Mapping[str, Mapping[str, Any]]) -> bool:
    try:
        previous = json.loads(manifest_path.read_text())["tables"]
    except (OSError, ValueError, KeyError):
        return False

    def digests(entries: Mapping[str, Mapping[str, Any]]) -> dict[str, list[tuple[str, str]]]:
        return {
            name: [(part["file"], part["sha256"]) for part in manifest_parts(info)]
            for name, info in entries.items()
        }

    return digests(previous) == digests(tables)


def _remove_leftovers(releases_dir: Path) -> None:
    # a build killed mid-publish leaves only hidden staging folders; they are never a release
    for leftover in releases_dir.glob(".staging-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in releases_dir.glob(f".{LATEST}-*"):
        leftover.unlink(missing_ok=True)
    for leftover in releases_dir.glob(".index.*.tmp"):
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
