"""The curated folder: the tables of the last build as parts, and what the next build reuses.

``curated/<table>/<part>.parquet`` holds each table in parts (``publish/parts.py``), and
``curated/parts.json`` the rows, bytes and sha256 of every part, so that publishing knows which
parts a release can share with the previous one without reading them. Beside them lie the
curation state (``_state_entries.parquet``, ``_state_files.parquet``) and ``CODE_VERSION``, the
code that wrote them: written last, so a folder without it (a build killed while writing, or
another code version) is never reused, and the next build curates and writes everything.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from pipelines.core.curate.incremental import CurationState
from pipelines.core.ops.locking import crash_point
from pipelines.core.publish.parts import (
    WHOLE,
    Part,
    paper_parts,
    part_file,
    split,
)
from pipelines.core.publish.release import write_part

CODE_VERSION_FILE = "CODE_VERSION"
PARTS_FILE = "parts.json"
# the curation state (curate/incremental.py), kept beside the curated tables, never published
STATE_ENTRIES = "_state_entries"
STATE_FILES = "_state_files"


def store_tables(
    folder: Path,
    tables: Mapping[str, pl.DataFrame],
    state: CurationState,
    code_version: str,
    changed_parts: Mapping[str, set[str]] | None = None,
) -> dict[str, list[Part]]:
    """Write the tables as parts and the state, then mark the folder as written by this code.

    ``changed_parts`` names, per table, the only parts whose rows may differ from the parts
    already in the folder (an incremental build knows them); the others are kept as they are.
    None, or a table it does not name, writes every part. Parts no longer in a table are
    removed. Returns every part of every table.
    """
    folder.mkdir(parents=True, exist_ok=True)
    # until everything is written the folder must not be reused as the previous build
    (folder / CODE_VERSION_FILE).unlink(missing_ok=True)
    known = read_parts(folder) if changed_parts is not None else {}
    labels_of_papers = paper_parts(tables["papers"]) if "papers" in tables else None
    written: dict[str, list[Part]] = {}
    for name, frame in tables.items():
        # a table of the layout before parts
        (folder / f"{name}.parquet").unlink(missing_ok=True)
        wanted = (changed_parts or {}).get(name)
        # the parts that stay as they are (an empty table's one empty part never does)
        kept = [
            part
            for label, part in known.get(name, {}).items()
            if wanted is not None and label not in wanted and part.rows
        ]
        if labels_of_papers is None:
            pieces = {WHOLE: frame}
        else:
            pieces = split(name, frame, labels_of_papers, only=wanted if kept else None)
        parts = list(kept)
        for label, rows in sorted(pieces.items()):
            parts.append(write_part(name, label, rows, folder))
            crash_point("curate:table-written")
        _remove_parts_except(folder / name, {part.label for part in parts})
        written[name] = sorted(parts, key=lambda part: part.label)
    for name, frame in ((STATE_ENTRIES, state.entries), (STATE_FILES, state.files)):
        temporary = folder / f".{name}.parquet.tmp"
        # read back by the next build only: the fastest zstd level (a million entries on stress)
        frame.write_parquet(temporary, compression="zstd", compression_level=1)
        os.replace(temporary, folder / f"{name}.parquet")
    _write_parts(folder, written)
    (folder / CODE_VERSION_FILE).write_text(code_version, encoding="utf-8")
    return written


def read_parts(folder: Path) -> dict[str, dict[str, Part]]:
    """Every part of every table, by table and label, as ``parts.json`` records them."""
    path = folder / PARTS_FILE
    if not path.exists():
        return {}
    recorded = json.loads(path.read_text(encoding="utf-8"))
    return {
        table: {
            label: Part(table, label, folder / part_file(table, label), **info)
            for label, info in parts.items()
        }
        for table, parts in recorded.items()
    }


def read_table(folder: Path, name: str) -> pl.DataFrame:
    """A curated table: its parts in order."""
    parts = read_parts(folder)[name]
    return pl.read_parquet([parts[label].path for label in sorted(parts)])


def read_table_parts(folder: Path, name: str) -> dict[str, pl.DataFrame]:
    """A curated table's parts, by label."""
    return {label: pl.read_parquet(part.path) for label, part in read_parts(folder)[name].items()}


def read_state(folder: Path) -> CurationState:
    return CurationState(
        entries=pl.read_parquet(folder / f"{STATE_ENTRIES}.parquet"),
        files=pl.read_parquet(folder / f"{STATE_FILES}.parquet"),
    )


def written_by(folder: Path, code_version: str) -> bool:
    """Whether the folder was completely written by ``code_version``."""
    marker = folder / CODE_VERSION_FILE
    return marker.exists() and marker.read_text(encoding="utf-8").strip() == code_version


def _write_parts(folder: Path, parts: Mapping[str, list[Part]]) -> None:
    recorded = {
        table: {
            part.label: {"rows": part.rows, "bytes": part.bytes, "sha256": part.sha256}
            for part in table_parts
        }
        for table, table_parts in parts.items()
    }
    temporary = folder / f".{PARTS_FILE}.tmp"
    temporary.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, folder / PARTS_FILE)


def _remove_parts_except(table_folder: Path, labels: set[str]) -> None:
    for path in table_folder.glob("*.parquet"):
        if path.stem not in labels:
            path.unlink()
