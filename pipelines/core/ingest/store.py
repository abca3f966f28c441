"""What the pipeline keeps about each landed file between runs.

For every file key the data folder holds a content-addressed snapshot of the bytes that were read,
a raw record (sha256, size, capture date), and, once parsed, its kept entries, its rejected
entries and an ingest record with the counts. A file whose sha256 equals its ingest record's is
not parsed again. A file that cannot be read at all is copied to the quarantine folder with a
reason file beside it; landing a fixed version of it later ingests it like any new file.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.core.ingest.api_json import listing_date_from_name
from pipelines.core.ingest.entries import PARSER_VERSION, ParsedFile
from pipelines.core.ingest.landing import LandedFile, sha256_hex, sidecar_for, storage_stem
from pipelines.core.ops.locking import crash_point
from pipelines.core.ops.settings import Paths
from pipelines.core.publish.release import as_os_error
from pipelines.core.schema import ENTRY_SCHEMA, REJECT_SCHEMA, REPAIR_SCHEMA

INGESTED = "ingested"
QUARANTINED = "quarantined"
DUPLICATE = "duplicate"


@dataclass(frozen=True)
class RawRecord:
    """A landed file as read: which bytes, from where, and the date it was captured if known."""

    file_key: str
    sha256: str
    size: int
    landed_path: str
    snapshot: str
    captured_on: str | None
    # the licence a sidecar declares for this file (e.g. a live fetch), overriding the default
    licence: str | None = None
    # the landed file's stat signature when it was listed before this read (LandedFile)
    stat_signature: str | None = None


@dataclass(frozen=True)
class FileRecord:
    """The outcome of ingesting one landed file; a row of the ``listing_files`` table."""

    file_key: str
    sha256: str
    size: int
    source_format: str | None
    page_kind: str | None
    status: str
    reason: str | None
    entries_read: int
    entries_kept: int
    entries_rejected: int
    licence: str | None = None
    # order in which files were ingested, across runs: of two files with the same bytes, the one
    # ingested later is the duplicate
    ingest_sequence: int = 0
    # the parsing rules the file was read with (entries.PARSER_VERSION); a file read with older
    # rules is read again when it is still landed. Records of earlier versions have none: 0
    parser_version: int = 0
    # the landed file's stat signature when it was read: a build plans without reading a file
    # whose signature is unchanged
    stat_signature: str | None = None

    @property
    def accounted(self) -> bool:
        return self.entries_read == self.entries_kept + self.entries_rejected


def snapshot_landed(paths: Paths, landed: LandedFile) -> RawRecord:
    """Copy a landed file's bytes into the snapshot store and record what was read."""
    data = landed.path.read_bytes()
    sha256 = sha256_hex(data)
    snapshot = paths.snapshots_dir / sha256[:2] / sha256
    if not snapshot.exists():
        _write_bytes_atomically(snapshot, data)
    record = RawRecord(
        file_key=landed.file_key,
        sha256=sha256,
        size=len(data),
        landed_path=str(landed.path),
        snapshot=str(snapshot.relative_to(paths.data_dir)),
        captured_on=_captured_on(landed),
        licence=_sidecar(landed).get("licence"),
        stat_signature=landed.stat_signature or None,
    )
    _write_json_atomically(_raw_record_path(paths, landed.file_key), asdict(record))
    return record


def load_raw_record(paths: Paths, file_key: str) -> RawRecord:
    path = _raw_record_path(paths, file_key)
    if not path.exists():
        raise FileNotFoundError(f"{file_key}: no raw snapshot; materialise raw_listing_files first")
    return RawRecord(**json.loads(path.read_text(encoding="utf-8")))


def find_raw_record(paths: Paths, file_key: str) -> RawRecord | None:
    """The raw record of a file key, or None when the file is not (or no longer) landed."""
    path = _raw_record_path(paths, file_key)
    if not path.exists():
        return None
    return RawRecord(**json.loads(path.read_text(encoding="utf-8")))


def forget_raw_record(paths: Paths, file_key: str) -> None:
    """Forget the raw record of a file that left the landing folder; its ingest record stays."""
    _raw_record_path(paths, file_key).unlink(missing_ok=True)


def read_snapshot(paths: Paths, record: RawRecord) -> bytes:
    return (paths.data_dir / record.snapshot).read_bytes()


def store_parsed(paths: Paths, parsed: ParsedFile, ingest_sequence: int = 0) -> FileRecord:
    """Persist a parsed file's entries, rejects and repairs; quarantine an unreadable file.

    The file counts as ingested only once its record is written (:func:`write_ingest_records`),
    which a run does when every file of it is stored and its rejects did not block it.
    """
    stem = storage_stem(parsed.file_key)
    paths.ingest_dir.mkdir(parents=True, exist_ok=True)
    _write_parquet_atomically(parsed.entries, paths.ingest_dir / f"{stem}.entries.parquet")
    # most files reject and repair nothing: no file is written then (a write less per landed
    # file), and those of an earlier version of the same file are gone
    for suffix, frame in (("rejects", parsed.rejects), ("repairs", parsed.repairs)):
        path = paths.ingest_dir / f"{stem}.{suffix}.parquet"
        if frame.height:
            _write_parquet_atomically(frame, path)
        else:
            path.unlink(missing_ok=True)
    crash_point("ingest:entries-written")
    status = INGESTED if parsed.file_error is None else QUARANTINED
    if parsed.file_error is not None:
        _quarantine(paths, parsed)
    else:
        # a file that was quarantined before and now reads well leaves the quarantine
        shutil.rmtree(paths.quarantine_dir / stem, ignore_errors=True)
    record = FileRecord(
        file_key=parsed.file_key,
        sha256=parsed.sha256,
        size=parsed.size,
        source_format=parsed.source_format,
        page_kind=parsed.page_kind,
        status=status,
        reason=parsed.file_error,
        entries_read=parsed.entries_read,
        entries_kept=parsed.entries.height,
        entries_rejected=parsed.entry_rejects,
        licence=parsed.licence,
        ingest_sequence=ingest_sequence,
        parser_version=PARSER_VERSION,
        stat_signature=parsed.stat_signature,
    )
    return record


def write_ingest_records(paths: Paths, records: Iterable[FileRecord]) -> None:
    """Record files as ingested: from now on builds read their stored entries."""
    for record in records:
        path = paths.ingest_dir / f"{storage_stem(record.file_key)}.record.json"
        _write_json_atomically(path, asdict(record))


def load_file_records(paths: Paths) -> list[FileRecord]:
    """Every ingest record, sorted by file key."""
    if not paths.ingest_dir.exists():
        return []
    records = [
        FileRecord(**json.loads(path.read_text(encoding="utf-8")))
        for path in paths.ingest_dir.glob("*.record.json")
    ]
    return sorted(records, key=lambda record: record.file_key)


def pending_files(paths: Paths, landed: Sequence[LandedFile]) -> list[tuple[LandedFile, str]]:
    """The landed files that are new, or whose bytes changed since they were last ingested.

    Each comes with what identifies the version planned: the sha256 of its bytes, or the stat
    signature of a file never ingested (it is read once, by the snapshot, not here too). A file
    whose stat signature is the one recorded when it was ingested is not read at all: a write
    changes the signature, so on a history of thousands of files a build reads the new ones only.
    """
    records = {record.file_key: record for record in load_file_records(paths)}
    pending = []
    for item in landed:
        record = records.get(item.file_key)
        if record is None or record.parser_version != PARSER_VERSION:
            pending.append((item, f"stat:{item.stat_signature}"))
            continue
        if item.stat_signature and record.stat_signature == item.stat_signature:
            continue
        digest = sha256_hex(item.path.read_bytes())
        if digest != record.sha256:
            pending.append((item, digest))
    return pending


def is_current(record: FileRecord, sha256: str) -> bool:
    """Whether ``record`` says these bytes were ingested with the current parsing rules."""
    return (
        record.status == INGESTED
        and record.sha256 == sha256
        and record.parser_version == PARSER_VERSION
    )


def next_ingest_sequence(paths: Paths, records: Sequence[FileRecord] | None = None) -> int:
    """The ingest number of the next file stored; ``records`` when the caller has them."""
    known = load_file_records(paths) if records is None else records
    return max((record.ingest_sequence for record in known), default=0) + 1


def with_duplicates_marked(records: Iterable[FileRecord]) -> list[FileRecord]:
    """Mark as duplicates the files whose bytes equal those of a file ingested before them.

    Within one batch, files are ingested in the order of their keys.
    """
    first_key_of: dict[str, str] = {}
    marked = []
    for record in sorted(records, key=lambda r: (r.ingest_sequence, r.file_key)):
        original = first_key_of.setdefault(record.sha256, record.file_key)
        if original != record.file_key and record.status == INGESTED:
            record = FileRecord(
                **{
                    **asdict(record),
                    "status": DUPLICATE,
                    "reason": f"same content as {original}",
                    "entries_kept": 0,
                    "entries_rejected": record.entries_read,
                }
            )
        marked.append(record)
    return sorted(marked, key=lambda r: r.file_key)


def listing_files_table(records: Sequence[FileRecord]) -> pl.DataFrame:
    """The ``listing_files`` table: every landed file and what became of it."""
    return pl.DataFrame(
        [asdict(record) for record in records],
        schema={
            "file_key": pl.String(),
            "sha256": pl.String(),
            "size": pl.Int64(),
            "source_format": pl.String(),
            "page_kind": pl.String(),
            "status": pl.String(),
            "reason": pl.String(),
            "entries_read": pl.Int64(),
            "entries_kept": pl.Int64(),
            "entries_rejected": pl.Int64(),
            "licence": pl.String(),
        },
    ).sort("file_key")


def scan_entries(paths: Paths, records: Sequence[FileRecord]) -> pl.LazyFrame:
    """All kept entries of the files that were ingested (not quarantined, not duplicates)."""
    files = [
        paths.ingest_dir / f"{storage_stem(record.file_key)}.entries.parquet"
        for record in records
        if record.status == INGESTED
    ]
    if not files:
        return pl.LazyFrame(schema=ENTRY_SCHEMA)
    return pl.scan_parquet(files)


def rejects_table(paths: Paths, records: Sequence[FileRecord]) -> pl.DataFrame:
    """The ``rejects`` table: every rejected entry and every file not ingested, with the reason."""
    frames = _stored_frames(paths, records, "rejects", REJECT_SCHEMA, skip=DUPLICATE)
    duplicates = pl.DataFrame(
        [
            {
                "source_file": r.file_key,
                "source_sha256": r.sha256,
                "position": None,
                "field": None,
                "rule": "file.duplicate",
                "reason": r.reason,
                "raw_excerpt": "",
            }
            for r in records
            if r.status == DUPLICATE
        ],
        schema=REJECT_SCHEMA,
    )
    return pl.concat([pl.DataFrame(schema=REJECT_SCHEMA), *frames, duplicates]).sort(
        "source_file", "position", nulls_last=False, maintain_order=True
    )


def repairs_table(paths: Paths, records: Sequence[FileRecord]) -> pl.DataFrame:
    """The ``repairs`` table: what the field contracts changed in the published entries."""
    frames = _stored_frames(paths, records, "repairs", REPAIR_SCHEMA, only=INGESTED)
    return pl.concat([pl.DataFrame(schema=REPAIR_SCHEMA), *frames]).sort(
        "source_file", "position", maintain_order=True
    )


def _stored_frames(
    paths: Paths,
    records: Sequence[FileRecord],
    suffix: str,
    schema: dict[str, pl.DataType],
    *,
    only: str | None = None,
    skip: str | None = None,
) -> list[pl.DataFrame]:
    """The ``<file>.<suffix>.parquet`` frames of ``records``, in the current ``schema``: a frame
    stored by an earlier version gets the columns it lacks, as nulls."""
    frames = []
    for record in records:
        if (only is not None and record.status != only) or record.status == skip:
            continue
        path = paths.ingest_dir / f"{storage_stem(record.file_key)}.{suffix}.parquet"
        if path.exists():
            frame = pl.read_parquet(path)
            frames.append(
                frame.select(
                    pl.col(name) if name in frame.columns else pl.lit(None, dtype).alias(name)
                    for name, dtype in schema.items()
                )
            )
    return frames


def remove_leftovers(folder: Path) -> None:
    """Remove the hidden temporary files a killed build left under ``folder``.

    Every file is written as ``.<name>.<pid>.tmp`` and renamed into place, so such a file is
    never data; callers hold the writer lock, so none belongs to a live build.
    """
    if folder.is_dir():
        for leftover in folder.rglob(".*.tmp"):
            leftover.unlink(missing_ok=True)


def _sidecar(landed: LandedFile) -> dict[str, Any]:
    """What ``<file>.meta.json`` says about a landed file (nothing when absent or unreadable)."""
    sidecar = sidecar_for(landed.path)
    if not sidecar.is_file():
        return {}
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _captured_on(landed: LandedFile) -> str | None:
    try:
        return date.fromisoformat(str(_sidecar(landed)["captured_on"])).isoformat()
    except (ValueError, KeyError, TypeError):
        pass
    from_name = listing_date_from_name(landed.file_key)
    return from_name.isoformat() if from_name else None


def _quarantine(paths: Paths, parsed: ParsedFile) -> None:
    folder = paths.quarantine_dir / storage_stem(parsed.file_key)
    folder.mkdir(parents=True, exist_ok=True)
    raw = paths.snapshots_dir / parsed.sha256[:2] / parsed.sha256
    if raw.exists():
        shutil.copyfile(raw, folder / "content")
    (folder / "reason.txt").write_text(
        f"file: {parsed.file_key}\nsha256: {parsed.sha256}\nreason: {parsed.file_error}\n"
        "to re-ingest: fix the file and land it again under the same name\n",
        encoding="utf-8",
    )


def _raw_record_path(paths: Paths, file_key: str) -> Path:
    return paths.ingest_dir / f"{storage_stem(file_key)}.raw.json"


def _write_bytes_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _write_json_atomically(path: Path, document: dict[str, Any]) -> None:
    _write_bytes_atomically(path, (json.dumps(document, indent=2, sort_keys=True) + "\n").encode())


def _write_parquet_atomically(frame: pl.DataFrame, path: Path) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with as_os_error(temporary):
            # the ingest store is read back by every build: the fastest zstd level, a tenth larger
            frame.write_parquet(temporary, compression="zstd", compression_level=1)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, path)
