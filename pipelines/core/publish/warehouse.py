"""The analysts' DuckDB file: the tables of the latest release, with comments on every column.

The file is written under a temporary name beside the final one and renamed over it in one step,
so a connection opened before a load keeps reading the old file and one opened after sees the
new one. It is written in a storage format that DuckDB 1.x can still open.

A load is an *update* when the file holds the release the new one was diffed against and was
laid out the same way (same table schemas, comments and views: its ``warehouse_release`` row
says which release and which layout): a copy of the file gets the release diff applied in one
transaction (the rows removed or changed are deleted, the rows added or changed inserted) and
replaces it. Otherwise, or when asked, it is *rebuilt* from the release's Parquet files. Both
give the same rows; only their physical order may differ, so queries order what they show.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.core.ops.locking import crash_point
from pipelines.core.publish.diff import ADDED, CHANGED, REMOVED, rows_with_keys
from pipelines.core.publish.warehouse_views import VIEWS, View, create_statement

# DuckDB 2 writes a newer storage format by default, which DuckDB 1.x cannot open
STORAGE_VERSION = "v1.0.0"
# the one-row table that says which release the file holds, in which layout
RELEASE_TABLE = "warehouse_release"
RELEASE_TABLE_COMMENT = (
    "The release this file holds (release_id) and a fingerprint of its layout: table schemas, "
    "comments, views and storage version. A later load updates the file in place only when "
    "the new release was diffed against this one and the layout is the same."
)
RELEASE_TABLE_COLUMNS = {
    "release_id": "The id of the release whose tables this file holds.",
    "layout": "sha256 of the file's layout: table schemas, comments, views, storage version.",
}
# the release diff's table in the warehouse: replaced whole at every load
DIFF_TABLE = "release_diff"


@dataclass(frozen=True)
class WarehouseLoad:
    """What a load did: ``rebuilt``, ``updated`` (the diff applied) or ``unchanged``."""

    mode: str
    counts: dict[str, int]
    rows_deleted: int = 0
    rows_inserted: int = 0


def layout_fingerprint(
    schemas: Mapping[str, object], comments: Mapping[str, tuple[str, Mapping[str, str]]]
) -> str:
    """A digest of everything that shapes the file besides its rows."""
    layout = {
        "storage": STORAGE_VERSION,
        "schemas": schemas,
        "comments": {name: [text, dict(columns)] for name, (text, columns) in comments.items()},
        "views": [[create_statement(view), view.comment, view.columns] for view in VIEWS],
    }
    encoded = json.dumps(layout, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


def held_release(warehouse_path: Path) -> tuple[str, str] | None:
    """The release id and layout fingerprint the file holds, or None (no file, an older file
    without the table, or an unreadable one)."""
    if not warehouse_path.is_file():
        return None
    try:
        with duckdb.connect(str(warehouse_path), read_only=True) as connection:
            row = connection.execute(
                f"SELECT release_id, layout FROM {_identifier(RELEASE_TABLE)}"
            ).fetchone()
    except duckdb.Error:
        return None
    return (str(row[0]), str(row[1])) if row else None


def build_warehouse(
    release_dir: Path,
    warehouse_path: Path,
    table_files: Mapping[str, Sequence[str]],
    comments: Mapping[str, tuple[str, Mapping[str, str]]],
    stamp: tuple[str, str] = ("", ""),
) -> dict[str, int]:
    """Load each table of a release into a fresh DuckDB file and move it into place.

    Args:
        release_dir: the release folder holding the Parquet files.
        warehouse_path: the final path of the DuckDB file.
        table_files: table name -> its Parquet files (parts) inside the release.
        comments: table name -> (table comment, column name -> column comment).
        stamp: the release id and :func:`layout_fingerprint` recorded in ``warehouse_release``.

    Returns:
        The row count of every table, read back from the new file.
    """
    counts: dict[str, int] = {}
    with _replacing(warehouse_path, fresh=True) as connection:
        for table, file_names in sorted(table_files.items()):
            sources = [str(release_dir / name) for name in file_names]
            connection.execute(
                f"CREATE TABLE warehouse.{_identifier(table)} AS "
                f"SELECT {_columns_typed(sources[0])} FROM read_parquet(?)",
                [sources],
            )
            table_comment, column_comments = comments.get(table, ("", {}))
            if table_comment:
                connection.execute(
                    f"COMMENT ON TABLE warehouse.{_identifier(table)} IS {_literal(table_comment)}"
                )
            for column, text in column_comments.items():
                connection.execute(
                    f"COMMENT ON COLUMN warehouse.{_identifier(table)}.{_identifier(column)} "
                    f"IS {_literal(text)}"
                )
            counts[table] = _count(connection, table)
            crash_point("warehouse:table-loaded")
        # a view column shown from a table keeps that table column's comment
        column_docs = {
            column: text
            for _description, columns in reversed(list(comments.values()))
            for column, text in columns.items()
        }
        _create_views(connection, set(table_files), column_docs)
        connection.execute(
            f"CREATE TABLE warehouse.{_identifier(RELEASE_TABLE)} "
            "(release_id VARCHAR, layout VARCHAR)"
        )
        connection.execute(
            f"COMMENT ON TABLE warehouse.{_identifier(RELEASE_TABLE)} "
            f"IS {_literal(RELEASE_TABLE_COMMENT)}"
        )
        for column, text in RELEASE_TABLE_COLUMNS.items():
            connection.execute(
                f"COMMENT ON COLUMN warehouse.{_identifier(RELEASE_TABLE)}.{column} "
                f"IS {_literal(text)}"
            )
        _stamp(connection, stamp)
    return counts


# DuckDB reads a Parquet fixed-size list as a variable list; the table keeps its fixed size
_ARRAY_ITEM_TYPES = {"float": "FLOAT", "double": "DOUBLE"}


def _columns_typed(parquet_file: str) -> str:
    """The select list of a table's Parquet files: every column as it is, but a fixed-size list
    of numbers (an embedding) as a DuckDB array (``FLOAT[256]``), which
    ``array_cosine_similarity`` needs."""
    casts = []
    for field in pq.read_schema(parquet_file):
        if pa.types.is_fixed_size_list(field.type):
            item = _ARRAY_ITEM_TYPES[str(field.type.value_type)]
            size = field.type.list_size
            casts.append(
                f"CAST({_identifier(field.name)} AS {item}[{size}]) AS {_identifier(field.name)}"
            )
    return f"* REPLACE ({', '.join(casts)})" if casts else "*"


def update_warehouse(
    release_dir: Path,
    warehouse_path: Path,
    changed_files: Mapping[str, Sequence[str]],
    keys: Mapping[str, tuple[str, ...]],
    diff_file: str,
    stamp: tuple[str, str],
) -> WarehouseLoad:
    """Apply a release's diff to the file holding the release it was diffed against.

    A copy of the file gets, in one transaction and per table of the diff, its removed and
    changed rows deleted (found by their diff key among the file's own rows) and the release's
    added and changed rows inserted, read from ``changed_files`` (per table, the parts that
    differ from the previous release: every added or changed row is in one of them); the diff
    table is replaced. The copy then replaces the file.
    """
    deleted = inserted = 0
    diff = pl.read_parquet(release_dir / diff_file)
    with _replacing(warehouse_path, fresh=False) as connection:
        connection.execute("BEGIN TRANSACTION")
        for (table,), changes in diff.partition_by(
            "table", as_dict=True, maintain_order=True
        ).items():
            target = f"warehouse.{_identifier(str(table))}"
            key = keys[str(table)]
            gone = changes.filter(pl.col("change").is_in([REMOVED, CHANGED]))["key"]
            if gone.len():
                held = pl.from_arrow(
                    connection.sql(
                        f"SELECT {', '.join(map(_identifier, key))} FROM {target}"
                    ).to_arrow_table()
                )
                assert isinstance(held, pl.DataFrame)
                doomed = rows_with_keys(held, key, gone).to_arrow()
                matches = " AND ".join(
                    f"{target}.{_identifier(column)} IS NOT DISTINCT FROM "
                    f"doomed.{_identifier(column)}"
                    for column in key
                )
                connection.execute(
                    f"DELETE FROM {target} WHERE EXISTS (SELECT 1 FROM doomed WHERE {matches})"
                )
                deleted += doomed.num_rows
            new = changes.filter(pl.col("change").is_in([ADDED, CHANGED]))["key"]
            if new.len():
                parts = [release_dir / name for name in changed_files[str(table)]]
                fresh = rows_with_keys(pl.read_parquet(parts), key, new).to_arrow()
                connection.execute(f"INSERT INTO {target} BY NAME SELECT * FROM fresh")
                inserted += fresh.num_rows
        connection.execute(f"DELETE FROM warehouse.{_identifier(DIFF_TABLE)}")
        connection.execute(
            f"INSERT INTO warehouse.{_identifier(DIFF_TABLE)} BY NAME "
            "SELECT * FROM read_parquet(?)",
            [str(release_dir / diff_file)],
        )
        _stamp(connection, stamp)
        connection.execute("COMMIT")
        crash_point("warehouse:diff-applied")
        counts = {table: _count(connection, table) for table in sorted([*keys, DIFF_TABLE])}
    return WarehouseLoad("updated", counts, deleted, inserted)


def warehouse_counts(warehouse_path: Path, tables: list[str]) -> dict[str, int]:
    """The row count of each of ``tables`` in the file."""
    with duckdb.connect(str(warehouse_path), read_only=True) as connection:
        return {table: _count(connection, table, database=None) for table in sorted(tables)}


def _count(
    connection: duckdb.DuckDBPyConnection, table: str, database: str | None = "warehouse"
) -> int:
    prefix = f"{database}." if database else ""
    row = connection.execute(f"SELECT count(*) FROM {prefix}{_identifier(table)}").fetchone()
    return int(row[0]) if row else 0


def _stamp(connection: duckdb.DuckDBPyConnection, stamp: tuple[str, str]) -> None:
    connection.execute(f"DELETE FROM warehouse.{_identifier(RELEASE_TABLE)}")
    connection.execute(
        f"INSERT INTO warehouse.{_identifier(RELEASE_TABLE)} VALUES (?, ?)", list(stamp)
    )


@contextmanager
def _replacing(warehouse_path: Path, *, fresh: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection with ``warehouse`` attached to a new file (``fresh``) or to a copy of the
    file, which replaces the file once the block is done; nothing is replaced on an error."""
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    # a build killed while loading leaves its temporary file; the writer lock makes it stale
    for leftover in warehouse_path.parent.glob(f".{warehouse_path.name}.*.tmp*"):
        leftover.unlink(missing_ok=True)
    temporary = warehouse_path.with_name(f".{warehouse_path.name}.{os.getpid()}.tmp")
    try:
        if fresh:
            options = f" (STORAGE_VERSION '{STORAGE_VERSION}')"
        else:
            shutil.copyfile(warehouse_path, temporary)
            options = ""
        connection = duckdb.connect()
        try:
            connection.execute(f"ATTACH {_literal(str(temporary))} AS warehouse{options}")
            yield connection
            connection.execute("CHECKPOINT warehouse")
            connection.execute("DETACH warehouse")
        finally:
            connection.close()
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        crash_point("warehouse:written")
        os.replace(temporary, warehouse_path)
        crash_point("warehouse:replaced")
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _create_views(
    connection: duckdb.DuckDBPyConnection, tables: set[str], column_docs: Mapping[str, str]
) -> None:
    # views are created inside the new file, so they refer to its tables, not the attach alias
    connection.execute("USE warehouse")
    for view in VIEWS:
        if not set(view.needs) <= tables:
            continue
        connection.execute(create_statement(view))
        if view.macro:
            connection.execute(
                f"COMMENT ON MACRO TABLE {_identifier(view.name)} IS {_literal(view.comment)}"
            )
            continue
        connection.execute(f"COMMENT ON VIEW {_identifier(view.name)} IS {_literal(view.comment)}")
        _comment_view_columns(connection, view, column_docs)
    connection.execute("USE memory")


def _comment_view_columns(
    connection: duckdb.DuckDBPyConnection, view: View, column_docs: Mapping[str, str]
) -> None:
    """Comment every column of a view: its own docs, else the docs of the table column it shows."""
    names = connection.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND database_name = ?",
        [view.name, "warehouse"],
    ).fetchall()
    for (column,) in names:
        text = view.columns.get(column) or column_docs.get(column)
        if text:
            connection.execute(
                f"COMMENT ON COLUMN {_identifier(view.name)}.{_identifier(column)} "
                f"IS {_literal(text)}"
            )


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    # DuckDB takes no parameters in ATTACH or COMMENT ON: such strings are quoted, never spliced
    return "'" + text.replace("'", "''") + "'"
