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
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.core.ingest.api_json import listing_date_from_name
from pipelines.core.ingest.entries import PARSER_VERSION, ParsedBatch, ParsedFile
from pipelines.core.ingest.landing import LandedFile, sha256_hex, sidecar_for, storage_stem
from pipelines.core.ops.locking import crash_point
from pipelines.core.ops.settings import Paths
from pipelines.core.publish.release import as_os_error
from pipelines.core.schema import ENTRY_SCHEMA, REJECT_SCHEMA, REPAIR_SCHEMA

INGESTED = "ingested"
QUARANTINED = "quarantined"
DUPLICATE = "duplicate"
# the folder of the ingest store that holds one set of Parquet files per ingest batch
BATCH_FOLDER = "batches"
# how long a batch that no record names is kept (see prune_batches)
ORPHAN_BATCH_HOURS = 24


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
    # the ingest batch that holds the file's entries, rejects and repairs (store_batch); None:
    # stored before batches, in files of its own (``<storage stem>.entries.parquet``)
    stored_in: str | None = None

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


def store_batch(paths: Paths, parsed: ParsedBatch, first_sequence: int) -> list[FileRecord]:
    """Persist a batch of parsed files, numbered in ingest order from ``first_sequence``.

    The batch's entries, rejects and repairs go to one Parquet file each
    (``ingest/batches/<first_sequence>.entries.parquet``): a write per batch, not per file, which
    on a history of small daily files was most of the cost of storing them. Each file's record
    names its batch. Unreadable files are quarantined. The files count as ingested only once their
    records are written (:func:`write_ingest_records`), which a run does when every file of it is
    stored and its rejects did not block it.
    """
    # named by its first ingest number (batches list in the order they were stored) and by what
    # it holds: two runs ingesting at once (a backfill beside the daily run) never write the same
    # batch, unless they read the same bytes, which then give the same batch
    held = [f"{PARSER_VERSION}", *(f"{item.file_key}\t{item.sha256}" for item in parsed.files)]
    batch = f"{first_sequence:09d}-" + sha256_hex("\n".join(held).encode())[:16]
    folder = paths.ingest_dir / BATCH_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    stored = {"entries": parsed.entries, "rejects": parsed.rejects, "repairs": parsed.repairs}
    for suffix, frame in stored.items():
        path = folder / f"{batch}.{suffix}.parquet"
        # the entries file is always written (an ingested file may list nothing); most batches
        # reject and repair nothing, and no file is written for that
        if frame.height or suffix == "entries":
            _write_parquet_atomically(frame, path)
        else:
            path.unlink(missing_ok=True)
    crash_point("ingest:entries-written")
    records = []
    for offset, item in enumerate(parsed.files):
        status = INGESTED if item.file_error is None else QUARANTINED
        if item.file_error is not None:
            _quarantine(paths, item)
        else:
            # a file that was quarantined before and now reads well leaves the quarantine
            shutil.rmtree(paths.quarantine_dir / storage_stem(item.file_key), ignore_errors=True)
        records.append(
            FileRecord(
                file_key=item.file_key,
                sha256=item.sha256,
                size=item.size,
                source_format=item.source_format,
                page_kind=item.page_kind,
                status=status,
                reason=item.file_error,
                entries_read=item.entries_read,
                entries_kept=item.entries_kept,
                entries_rejected=item.entry_rejects,
                licence=item.licence,
                ingest_sequence=first_sequence + offset,
                parser_version=PARSER_VERSION,
                stat_signature=item.stat_signature,
                stored_in=batch,
            )
        )
    return records


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
    scans = _stored_scans(paths, [r for r in records if r.status == INGESTED], "entries")
    return pl.concat(scans) if scans else pl.LazyFrame(schema=ENTRY_SCHEMA)


def _stored_scans(
    paths: Paths, records: Sequence[FileRecord], suffix: str, *, missing_ok: bool = False
) -> list[pl.LazyFrame]:
    """The stored ``suffix`` rows (entries, rejects or repairs) of ``records``, a scan per
    batch, in the order the batches were stored.

    A batch may still hold rows of files that were stored again in a later batch (or of a run
    that stopped before recording them): only the rows of the files whose record names the batch
    are read from it. ``missing_ok`` skips a file that is not there (a batch rejected nothing).
    """
    keys_in: dict[str, list[str]] = {}
    own_files = []
    for record in records:
        if record.stored_in is None:
            own_files.append(paths.ingest_dir / f"{storage_stem(record.file_key)}.{suffix}.parquet")
        else:
            keys_in.setdefault(record.stored_in, []).append(record.file_key)
    batches = [
        (paths.ingest_dir / BATCH_FOLDER / f"{batch}.{suffix}.parquet", keys)
        for batch, keys in sorted(keys_in.items())
    ]
    if missing_ok:
        own_files = [path for path in own_files if path.exists()]
        batches = [(path, keys) for path, keys in batches if path.exists()]
    # files of their own may come from earlier versions of the store, each with its schema
    scans = [pl.scan_parquet(path) for path in own_files]
    scans += [
        pl.scan_parquet(path).filter(pl.col("source_file").is_in(pl.Series(keys, dtype=pl.String)))
        for path, keys in batches
    ]
    return scans


def prune_batches(
    paths: Paths, before: Sequence[FileRecord], recorded: Sequence[FileRecord]
) -> None:
    """Remove what no record reads any more, once ``recorded`` replaced records of ``before``.

    A batch goes when none of its files' records names it any more: at once when this run
    stored its files again, after ``ORPHAN_BATCH_HOURS`` when no record ever named it (its run
    was blocked or stopped; meanwhile ``inspect`` shows its rejects, and a run still ingesting
    beside this one has time to record its batches). A file stored before batches loses its files
    of its own once it is stored in a batch.
    """
    latest = {record.file_key: record for record in before}
    latest.update((record.file_key, record) for record in recorded)
    referenced = {record.stored_in for record in latest.values()}
    stored_again = {record.file_key for record in recorded}
    replaced = {r.stored_in for r in before if r.file_key in stored_again} - referenced
    folder = paths.ingest_dir / BATCH_FOLDER
    oldest_kept = time.time() - ORPHAN_BATCH_HOURS * 3600
    for path in folder.glob("*.parquet") if folder.is_dir() else ():
        batch = path.name.split(".", 1)[0]
        if batch in replaced or (batch not in referenced and path.stat().st_mtime < oldest_kept):
            path.unlink(missing_ok=True)
    for record in recorded:
        for suffix in ("entries", "rejects", "repairs"):
            own = paths.ingest_dir / f"{storage_stem(record.file_key)}.{suffix}.parquet"
            own.unlink(missing_ok=True)


def stored_rows(
    paths: Paths, file_key: str, record: FileRecord | None, suffix: str
) -> pl.DataFrame:
    """The stored ``suffix`` rows (entries, rejects or repairs) of one file, as its last read
    left them: the batch its ``record`` names, or, for a file read by a run that did not record
    it (blocked or stopped), the latest batch holding rows of it."""
    if record is not None:
        scans = _stored_scans(paths, [record], suffix, missing_ok=True)
        return pl.concat(scans).collect() if scans else pl.DataFrame()
    folder = paths.ingest_dir / BATCH_FOLDER
    for path in sorted(folder.glob(f"*.{suffix}.parquet"), reverse=True):
        rows = pl.scan_parquet(path).filter(pl.col("source_file") == file_key).collect()
        if rows.height:
            return rows
    return pl.DataFrame()


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
    """The stored ``suffix`` frames of ``records``, in the current ``schema``: a frame stored by
    an earlier version gets the columns it lacks, as nulls."""
    chosen = [
        record
        for record in records
        if (only is None or record.status == only) and record.status != skip
    ]
    frames = []
    for scan in _stored_scans(paths, chosen, suffix, missing_ok=True):
        frame = scan.collect()
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
