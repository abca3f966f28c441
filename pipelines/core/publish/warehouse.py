"""The analysts' DuckDB file: the tables of the latest release, with comments on every column.

The file is built under a temporary name beside the final one and renamed over it in one step,
so a connection opened before a rebuild keeps reading the old file and one opened after sees the
new one. It is written in a storage format that DuckDB 1.x can still open.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import duckdb

from pipelines.core.ops.locking import crash_point
from pipelines.core.publish.warehouse_views import VIEWS, View, create_statement

# DuckDB 2 writes a newer storage format by default, which DuckDB 1.x cannot open
STORAGE_VERSION = "v1.0.0"


def build_warehouse(
    release_dir: Path,
    warehouse_path: Path,
    table_files: Mapping[str, str],
    comments: Mapping[str, tuple[str, Mapping[str, str]]],
) -> dict[str, int]:
    """Load each table of a release into a fresh DuckDB file and move it into place.

    Args:
        release_dir: the release folder holding the Parquet files.
        warehouse_path: the final path of the DuckDB file.
        table_files: table name -> Parquet file name inside the release.
        comments: table name -> (table comment, column name -> column comment).

    Returns:
        The row count of every table, read back from the new file.
    """
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    # a build killed while loading leaves its temporary file; the writer lock makes it stale
    for leftover in warehouse_path.parent.glob(f".{warehouse_path.name}.*.tmp*"):
        leftover.unlink(missing_ok=True)
    temporary = warehouse_path.with_name(f".{warehouse_path.name}.{os.getpid()}.tmp")
    counts: dict[str, int] = {}
    try:
        connection = duckdb.connect()
        try:
            connection.execute(
                f"ATTACH {_literal(str(temporary))} AS warehouse "
                f"(STORAGE_VERSION '{STORAGE_VERSION}')"
            )
            for table, file_name in sorted(table_files.items()):
                source = str(release_dir / file_name)
                connection.execute(
                    f"CREATE TABLE warehouse.{_identifier(table)} AS SELECT * FROM read_parquet(?)",
                    [source],
                )
                table_comment, column_comments = comments.get(table, ("", {}))
                if table_comment:
                    connection.execute(
                        f"COMMENT ON TABLE warehouse.{_identifier(table)} "
                        f"IS {_literal(table_comment)}"
                    )
                for column, text in column_comments.items():
                    connection.execute(
                        f"COMMENT ON COLUMN warehouse.{_identifier(table)}.{_identifier(column)} "
                        f"IS {_literal(text)}"
                    )
                row = connection.execute(
                    f"SELECT count(*) FROM warehouse.{_identifier(table)}"
                ).fetchone()
                counts[table] = int(row[0]) if row else 0
                crash_point("warehouse:table-loaded")
            # a view column shown from a table keeps that table column's comment
            column_docs = {
                column: text
                for _description, columns in reversed(list(comments.values()))
                for column, text in columns.items()
            }
            _create_views(connection, set(table_files), column_docs)
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
    return counts


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
