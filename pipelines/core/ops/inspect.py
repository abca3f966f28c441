"""What became of one landed file, in words an operator reads: ``trending-papers inspect``.

It reads what the ingest store holds of the file (its record, rejects and repairs, and the bytes
that were read), so it works after a blocked run too, before anything was published.
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import polars as pl

from pipelines.core.ingest.store import (
    FileRecord,
    find_raw_record,
    load_file_records,
    stored_rows,
)
from pipelines.core.ops.settings import Paths

# rows of rejects and repairs shown for a whole file; an entry shows all of its own
ROWS_SHOWN = 20
# characters of an entry as written shown
ENTRY_CHARS = 4_000


def describe_file(paths: Paths, file_key: str, position: int | None = None) -> str:
    """A report on ``file_key``: status and counts, its rejects and repairs, and, with
    ``position``, that entry as written.

    Raises:
        LookupError: when the data folder knows no file with that key.
    """
    record = next((r for r in load_file_records(paths) if r.file_key == file_key), None)
    raw = find_raw_record(paths, file_key)
    if record is None and raw is None:
        known = [r.file_key for r in load_file_records(paths)][:3]
        raise LookupError(
            f"no landed file {file_key!r} in {paths.data_dir}; keys are paths relative to the "
            f"landing folder, e.g. {', '.join(known) or 'hf-daily-api/2025-01-10.json'}"
        )
    lines = [f"file:     {file_key}"]
    if record is None:
        lines.append("status:   read but not recorded (its run was blocked or stopped)")
    else:
        lines += [
            f"status:   {record.status}" + (f" ({record.reason})" if record.reason else ""),
            f"format:   {record.source_format or 'unreadable'}, {record.size:,} bytes, "
            f"sha256 {record.sha256}",
            f"entries:  {record.entries_read:,} read, {record.entries_kept:,} kept, "
            f"{record.entries_rejected:,} rejected",
        ]
    rejects = _stored(paths, file_key, record, "rejects", position)
    repairs = _stored(paths, file_key, record, "repairs", position)
    # one entry shows all its rows; a whole file the first few
    limit = 1_000_000 if position is not None else ROWS_SHOWN
    lines.append(f"rejects:  {rejects.height:,}")
    for row in rejects.head(limit).iter_rows(named=True):
        where = "file" if row["position"] is None else f"entry {row['position']}"
        lines.append(f"  {where}: [{row['rule']}] {row['reason']}")
    lines.append(f"repairs:  {repairs.height:,}")
    for row in repairs.head(limit).iter_rows(named=True):
        lines.append(
            f"  entry {row['position']}, {row['field']}: [{row['rule']}] {row['action']}: "
            f"{_quoted(row['value_before'])} -> {_quoted(row['value_after'])}"
        )
    if limit is not None and max(rejects.height, repairs.height) > limit:
        lines.append("  ... (--entry N shows all of one entry; the tables hold every row)")
    if position is not None:
        snapshot = paths.data_dir / raw.snapshot if raw is not None else None
        if snapshot is None and record is not None:
            snapshot = paths.snapshots_dir / record.sha256[:2] / record.sha256
        lines += [
            "",
            f"entry {position} as written:",
            _entry_as_written(paths, file_key, record, snapshot, position),
        ]
    return "\n".join(lines)


def _stored(
    paths: Paths, file_key: str, record: FileRecord | None, suffix: str, position: int | None
) -> pl.DataFrame:
    frame = stored_rows(paths, file_key, record, suffix)
    if frame.is_empty():
        return pl.DataFrame(schema={"position": pl.Int32()})
    return frame if position is None else frame.filter(pl.col("position") == position)


def _entry_as_written(
    paths: Paths, file_key: str, record: FileRecord | None, snapshot: Path | None, position: int
) -> str:
    """The entry's original text: a kept entry's ``raw_entry``, else the item of the JSON list
    read again from the snapshot, else the excerpt the reject kept."""
    kept = _stored(paths, file_key, record, "entries", position)
    if kept.height:
        return _pretty(kept["raw_entry"][0])
    if snapshot is not None and snapshot.exists():
        try:
            document = orjson.loads(snapshot.read_bytes())
        except orjson.JSONDecodeError:
            document = None
        items = document.get("data") if isinstance(document, dict) else document
        if isinstance(items, list) and 0 < position <= len(items):
            return _pretty(items[position - 1])
    rejects = _stored(paths, file_key, record, "rejects", position)
    if rejects.height and "raw_excerpt" in rejects.columns:
        return str(rejects["raw_excerpt"][0])
    return f"(no entry {position} in this file)"


def _pretty(value: object) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value[:ENTRY_CHARS]
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)[:ENTRY_CHARS]


def _quoted(value: str | None) -> str:
    return "null" if value is None else repr(value)
