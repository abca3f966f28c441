"""The row-level diff of a release against the previous one (``diff.parquet``): which rows of
each table were added, removed or changed, and which source files are new. Deterministic: the
same tables give the same diff, row for row."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl
from polars.datatypes import DataTypeClass

ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"
DIFF_SCHEMA: dict[str, pl.DataType] = {
    "table": pl.String(),
    "key": pl.String(),
    "change": pl.String(),
    "changed_columns": pl.List(pl.String()),
}
# a dtype as Polars hands it out: an instance (pl.Int64()) or, for an inner type, the class
_PolarsType = pl.DataType | DataTypeClass
# internal column names, chosen so they cannot collide with a published column
_KEY = "__diff_key"
_PREVIOUS = "__diff_previous"
_HASH = "__diff_hash"


def diff_tables(
    previous_dir: Path | Mapping[str, Sequence[Path]] | None,
    tables: Mapping[str, pl.DataFrame],
    keys: Mapping[str, tuple[str, ...]],
) -> pl.DataFrame:
    """The row-level changes of ``tables`` against the previous release in ``previous_dir``.

    A row is identified by its table's key columns (``keys[table]``). A key only in the new table
    is ``added``, only in the previous one ``removed``, in both with a different value in at least
    one other column ``changed`` (``changed_columns`` names them, in the table's column order).
    Values are compared null-safely (null equals null, null differs from a value, an empty list
    differs from a null list), list and struct columns included. A table whose Parquet file is
    missing from the previous release, or ``previous_dir=None`` (the first release), has every
    row added; a table of ``keys`` that the previous release has but ``tables`` lacks has every
    row removed. A column added or dropped between releases compares as null on the side that lacks
    it; a column whose type changed is compared after casting the previous values to the new type,
    or, when they cannot be cast, reported changed wherever either side has a value.

    ``key`` is the key columns' values as a compact JSON array in key-column order, e.g.
    ``["2405.14906"]`` or ``["2405.14906","hf-daily-api/2024-05-27.json","2024-05-27"]``: strings
    and dates as JSON strings (dates in ISO 8601), numbers as numbers, null as ``null``. Unlike a
    separator-joined string it is unambiguous for any key value, null included; decode it with
    :func:`key_values`.

    Args:
        previous_dir: The previous release's folder (a folder of parts per table, or
            ``<table>.parquet`` files), or the previous Parquet files to compare of each table,
            or None.
        tables: The new release's tables by name.
        keys: The key columns of each table (e.g. from ``catalog.TABLES``); every table of
            ``tables`` needs one.

    Returns:
        Columns ``table``, ``key``, ``change`` (``added``/``removed``/``changed``) and
        ``changed_columns`` (list of str, empty unless changed), sorted by table, change, key.

    Raises:
        ValueError: When a table has no key, a key column is missing, or a key is not unique
            (the diff of such a table would pair rows arbitrarily).
    """
    parts = [
        _diff_table(name, previous_dir, tables[name], _key_of(keys, name))
        for name in sorted(tables)
    ]
    # a table the previous release had and this one no longer publishes: all its rows removed
    for name in sorted(set(keys) - set(tables)):
        paths = _previous_files(previous_dir, name)
        if paths:
            dropped = _with_key(pl.read_parquet(paths), _key_of(keys, name), name, "previous")
            parts.append(_rows(name, dropped, REMOVED))
    return pl.concat([_empty_diff(), *parts], how="vertical").sort(["table", "change", "key"])


def key_values(key: str) -> list[Any]:
    """The key column values of a diff row's ``key`` (dates stay ISO strings)."""
    return json.loads(key)


def rows_with_keys(frame: pl.DataFrame, key: Sequence[str], wanted: pl.Series) -> pl.DataFrame:
    """The rows of ``frame`` whose diff ``key`` (over the columns ``key``) is in ``wanted``."""
    return frame.filter(_json_key(tuple(key)).is_in(wanted.implode()))


def _key_of(keys: Mapping[str, tuple[str, ...]], name: str) -> tuple[str, ...]:
    key = tuple(keys.get(name, ()))
    if not key:
        raise ValueError(f"table {name}: no key columns given, cannot diff it")
    return key


def _previous_files(previous: Path | Mapping[str, Sequence[Path]] | None, name: str) -> list[Path]:
    if previous is None:
        return []
    if isinstance(previous, Path):
        # a release: the table's folder of parts, or its one file (before parts)
        path = previous / f"{name}.parquet"
        return sorted((previous / name).glob("*.parquet")) or ([path] if path.is_file() else [])
    return list(previous.get(name, ()))


def _diff_table(
    name: str,
    previous: Path | Mapping[str, Sequence[Path]] | None,
    new: pl.DataFrame,
    key: tuple[str, ...],
) -> pl.DataFrame:
    new = _with_key(new, key, name, "new")
    paths = _previous_files(previous, name)
    if not paths:
        return _rows(name, new, ADDED)
    if dict(pl.read_parquet_schema(paths[0])) == dict(new.drop(_KEY).schema):
        return _diff_same_columns(name, paths, new, key)
    return _diff_loaded(name, pl.read_parquet(paths), new, key)


def _diff_loaded(
    name: str, previous: pl.DataFrame, new: pl.DataFrame, key: tuple[str, ...]
) -> pl.DataFrame:
    """The diff of a table against its previous version held in memory (``new`` has its key)."""
    previous = _with_key(previous, key, name, "previous")
    added = new.join(previous.select(_KEY), on=_KEY, how="anti")
    removed = previous.join(new.select(_KEY), on=_KEY, how="anti")
    changed = _changed(name, new, previous, key)
    return pl.concat([_rows(name, added, ADDED), _rows(name, removed, REMOVED), changed])


def _diff_same_columns(
    name: str, paths: Sequence[Path], new: pl.DataFrame, key: tuple[str, ...]
) -> pl.DataFrame:
    """The diff of a table whose columns did not change, without holding the previous version:
    it is streamed to one hash per row, and only rows whose hashes differ are read and compared
    column by column (as :func:`_changed` does for any table). Equal hashes are taken as equal
    rows: a 64-bit hash collision could hide one change among billions of rows."""
    columns = [c for c in new.columns if c not in key and c != _KEY]
    row_hash = pl.struct(columns).hash(seed=0) if columns else pl.lit(0, pl.UInt64)
    previous_hashes = (
        pl.scan_parquet(list(paths))
        .select(_json_key(key).alias(_KEY), row_hash.alias(_HASH))
        .collect(engine="streaming")
    )
    duplicates = previous_hashes.height - previous_hashes.get_column(_KEY).n_unique()
    if duplicates:
        raise ValueError(f"table {name} (previous): {duplicates} row(s) repeat a key {list(key)}")
    new_hashes = new.select(_KEY, row_hash.alias(_HASH))
    added = new_hashes.join(previous_hashes, on=_KEY, how="anti")
    removed = previous_hashes.join(new_hashes, on=_KEY, how="anti")
    differing = (
        new_hashes.join(previous_hashes, on=_KEY, how="inner", suffix=_PREVIOUS)
        .filter(pl.col(_HASH) != pl.col(f"{_HASH}{_PREVIOUS}"))
        .select(_KEY)
    )
    previous_rows = (
        pl.scan_parquet(list(paths))
        .with_columns(_json_key(key).alias(_KEY))
        .join(differing.lazy(), on=_KEY, how="semi")
        .collect(engine="streaming")
    )
    changed = _changed(name, new.join(differing, on=_KEY, how="semi"), previous_rows, key)
    return pl.concat([_rows(name, added, ADDED), _rows(name, removed, REMOVED), changed])


def _with_key(frame: pl.DataFrame, key: tuple[str, ...], name: str, side: str) -> pl.DataFrame:
    missing = [column for column in key if column not in frame.columns]
    if missing:
        raise ValueError(f"table {name} ({side}): key column(s) {missing} missing")
    keyed = frame.with_columns(_json_key(key).alias(_KEY))
    duplicates = keyed.height - keyed.get_column(_KEY).n_unique()
    if duplicates:
        raise ValueError(f"table {name} ({side}): {duplicates} row(s) repeat a key {list(key)}")
    return keyed


def _json_key(key: tuple[str, ...]) -> pl.Expr:
    # each value is JSON-encoded on its own (a one-field struct, whose '{"v":' and '}' are cut),
    # which escapes quotes and control characters and writes null as null, all column-wise
    values = [
        pl.struct(pl.col(column).alias("v"))
        .struct.json_encode()
        .str.strip_prefix('{"v":')
        .str.strip_suffix("}")
        for column in key
    ]
    return pl.concat_str([pl.lit("["), pl.concat_str(values, separator=","), pl.lit("]")])


def _rows(name: str, frame: pl.DataFrame, change: str) -> pl.DataFrame:
    return frame.select(
        pl.lit(name, pl.String()).alias("table"),
        pl.col(_KEY).alias("key"),
        pl.lit(change, pl.String()).alias("change"),
        pl.lit([], pl.List(pl.String())).alias("changed_columns"),
    )


def _changed(
    name: str, new: pl.DataFrame, previous: pl.DataFrame, key: tuple[str, ...]
) -> pl.DataFrame:
    columns = [c for c in new.columns if c not in key and c != _KEY]
    columns += [c for c in previous.columns if c not in key and c != _KEY and c not in columns]
    aligned, incomparable = _aligned(previous, new, columns)
    both = new.join(aligned, on=_KEY, how="inner", suffix=_PREVIOUS)
    differs = [
        _differs(column, column in incomparable, column in new.columns) for column in columns
    ]
    flagged = [
        pl.when(test).then(pl.lit(column)) for column, test in zip(columns, differs, strict=True)
    ]
    if not flagged:
        return _empty_diff()
    return (
        both.select(
            pl.lit(name, pl.String()).alias("table"),
            pl.col(_KEY).alias("key"),
            pl.lit(CHANGED, pl.String()).alias("change"),
            pl.concat_list(flagged).list.drop_nulls().alias("changed_columns"),
        )
        .filter(pl.col("changed_columns").list.len() > 0)
        .with_columns(pl.col("changed_columns").cast(pl.List(pl.String())))
    )


def _aligned(
    previous: pl.DataFrame, new: pl.DataFrame, columns: Sequence[str]
) -> tuple[pl.DataFrame, set[str]]:
    """The previous frame's compared columns, each renamed ``<column><_PREVIOUS>``, with the new
    frame's types where they can be cast; also the columns that could not be."""
    incomparable: set[str] = set()
    selected: list[pl.Series | pl.Expr] = [pl.col(_KEY)]
    for column in columns:
        target = f"{column}{_PREVIOUS}"
        if column not in previous.columns:
            selected.append(pl.lit(None, new.schema[column]).alias(target))
            continue
        values = previous.get_column(column)
        if column in new.columns and values.dtype != new.schema[column]:
            if _castable(values.dtype, new.schema[column]):
                values = values.cast(new.schema[column], strict=False)
            else:
                incomparable.add(column)
        selected.append(values.alias(target))
    return previous.select(selected), incomparable


def _castable(before: _PolarsType, after: _PolarsType) -> bool:
    # only a change of width or precision keeps values comparable (int32 -> int64, a list of
    # them); a cast across kinds (text -> struct) would invent values, not compare them
    if isinstance(before, pl.List) and isinstance(after, pl.List):
        return _castable(before.inner, after.inner)
    return (
        (before.is_numeric() and after.is_numeric())
        or (before.is_temporal() and after.is_temporal())
        or (before == pl.String() and after == pl.Categorical())
        or (before == pl.Categorical() and after == pl.String())
    )


def _differs(column: str, incomparable: bool, in_new: bool) -> pl.Expr:
    before = pl.col(f"{column}{_PREVIOUS}")
    if not in_new:
        # a dropped column: the row changed where the previous release had a value
        return before.is_not_null()
    after = pl.col(column)
    if incomparable:
        return after.is_not_null() | before.is_not_null()
    return ~after.eq_missing(before)


def _empty_diff() -> pl.DataFrame:
    return pl.DataFrame(schema=DIFF_SCHEMA)


def new_source_files(
    previous_sources: Iterable[Mapping[str, Any]], sources: Iterable[Mapping[str, Any]]
) -> list[str]:
    """File keys of ``sources`` whose bytes (``file_key`` and ``sha256``) the previous release
    did not have: new files and files whose content changed. Both arguments are manifest
    ``sources`` lists; pass ``[]`` as ``previous_sources`` for the first release."""
    known = {(item["file_key"], item.get("sha256")) for item in previous_sources}
    return sorted(
        {
            item["file_key"]
            for item in sources
            if (item["file_key"], item.get("sha256")) not in known
        }
    )
