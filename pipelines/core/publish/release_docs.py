"""The documents that travel with a release: what changed, what it is, how to load and check it.

Pure functions over the tables, the manifest and the data dictionary (no Dagster, no file writes):

- :func:`diff_tables`: which rows were added, removed or changed since the previous release;
- :func:`changelog_markdown`: that diff summarised for people (``CHANGELOG.md``);
- :func:`croissant_metadata` and :func:`validate_croissant`: MLCommons Croissant 1.0 metadata
  (``croissant.json``), so dataset search engines and ML loaders understand the files;
- :func:`dataset_card`: a ``README.md`` the Hugging Face Hub reads as is (one configuration per
  table), with the data dictionary, provenance, validation results and how to load and verify;
- :func:`source_licences`: the licence of each source file, so data under different licences can
  be told apart.

Everything here is deterministic: the same inputs give the same frames and byte-identical text,
so republishing the same data gives the same documents.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
from polars.datatypes import DataTypeClass

from pipelines.core.publish.catalog import TableDoc

# --- row-level diff ------------------------------------------------------------------------------

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
_KEY = "__release_docs_key"
_PREVIOUS = "__release_docs_previous"
_HASH = "__release_docs_hash"


def diff_tables(
    previous_dir: Path | None,
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
        previous_dir: The previous release's folder (``<table>.parquet`` files), or None.
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
    if previous_dir is not None:
        # a table the previous release had and this one no longer publishes: all its rows removed
        for name in sorted(set(keys) - set(tables)):
            path = previous_dir / f"{name}.parquet"
            if path.is_file():
                dropped = _with_key(pl.read_parquet(path), _key_of(keys, name), name, "previous")
                parts.append(_rows(name, dropped, REMOVED))
    return pl.concat([_empty_diff(), *parts], how="vertical").sort(["table", "change", "key"])


def key_values(key: str) -> list[Any]:
    """The key column values of a diff row's ``key`` (dates stay ISO strings)."""
    return json.loads(key)


def _key_of(keys: Mapping[str, tuple[str, ...]], name: str) -> tuple[str, ...]:
    key = tuple(keys.get(name, ()))
    if not key:
        raise ValueError(f"table {name}: no key columns given, cannot diff it")
    return key


def _diff_table(
    name: str, previous_dir: Path | None, new: pl.DataFrame, key: tuple[str, ...]
) -> pl.DataFrame:
    new = _with_key(new, key, name, "new")
    path = previous_dir / f"{name}.parquet" if previous_dir is not None else None
    if path is None or not path.is_file():
        return _rows(name, new, ADDED)
    if dict(pl.read_parquet_schema(path)) == dict(new.drop(_KEY).schema):
        return _diff_same_columns(name, path, new, key)
    return _diff_loaded(name, pl.read_parquet(path), new, key)


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
    name: str, path: Path, new: pl.DataFrame, key: tuple[str, ...]
) -> pl.DataFrame:
    """The diff of a table whose columns did not change, without holding the previous version:
    it is streamed to one hash per row, and only rows whose hashes differ are read and compared
    column by column (as :func:`_changed` does for any table). Equal hashes are taken as equal
    rows: a 64-bit hash collision could hide one change among billions of rows."""
    columns = [c for c in new.columns if c not in key and c != _KEY]
    row_hash = pl.struct(columns).hash(seed=0) if columns else pl.lit(0, pl.UInt64)
    previous_hashes = (
        pl.scan_parquet(path)
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
        pl.scan_parquet(path)
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


# --- changelog -----------------------------------------------------------------------------------

# how many new papers the changelog lists by name before "... and N more"
NEW_PAPERS_LIMIT = 50
# how many (table, column) pairs the "most often changed columns" section shows
CHANGED_COLUMNS_LIMIT = 10
UNKNOWN_TITLE = "(title unknown)"


def paper_titles(papers: pl.DataFrame) -> dict[str, str]:
    """``paper_id`` -> title of a ``papers`` frame, for :func:`changelog_markdown`."""
    return dict(papers.select("paper_id", pl.col("title").fill_null(UNKNOWN_TITLE)).iter_rows())


def changelog_markdown(
    release_id: str,
    previous_id: str | None,
    diff: pl.DataFrame,
    row_counts: Mapping[str, int],
    sources_added: Sequence[str],
    *,
    titles: Mapping[str, str] | None = None,
    new_papers_limit: int = NEW_PAPERS_LIMIT,
) -> str:
    """``CHANGELOG.md`` of a release: what a reader of the previous release finds different.

    Per table the rows now published and how many were added, removed and changed; the columns
    that changed most often; the new papers (rows added to ``papers``) by id and title, at most
    ``new_papers_limit`` of them then "... and N more"; the source files new in this release.

    Args:
        release_id: The new release.
        previous_id: The release compared against; None for the first release.
        diff: The output of :func:`diff_tables`.
        row_counts: Rows per table in the new release (``PublishedRelease.row_counts``).
        sources_added: Source file keys new in this release (see :func:`new_source_files`).
        titles: ``paper_id`` -> title for the new papers (see :func:`paper_titles`); a paper
            missing from it is listed as "(title unknown)".
        new_papers_limit: How many new papers are listed by name.
    """
    titles = titles or {}
    lines = [f"# Release {release_id}", ""]
    if previous_id is None:
        lines += ["First release: every row is new.", ""]
    else:
        lines += [f"Changes since release {previous_id}.", ""]

    counts = (
        diff.group_by("table", "change").len().pivot("change", index="table", values="len")
        if diff.height
        else pl.DataFrame(schema={"table": pl.String()})
    )
    by_table = {row["table"]: row for row in counts.iter_rows(named=True)}
    lines += [
        "## Tables",
        "",
        "| table | rows | added | removed | changed |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for table in sorted(set(row_counts) | set(by_table)):
        row = by_table.get(table, {})
        cells = [str(row.get(change) or 0) for change in (ADDED, REMOVED, CHANGED)]
        rows = row_counts.get(table)
        lines.append(f"| {table} | {'' if rows is None else rows} | {' | '.join(cells)} |")
    lines.append("")

    lines += _changed_columns_section(diff)
    lines += _new_papers_section(diff, titles, new_papers_limit)

    lines += [f"## New source files ({len(sources_added)})", ""]
    lines += [f"- `{key}`" for key in sorted(sources_added)] or ["None."]
    lines.append("")
    return "\n".join(lines)


def _changed_columns_section(diff: pl.DataFrame) -> list[str]:
    changed = (
        diff.filter(pl.col("change") == CHANGED)
        .select("table", pl.col("changed_columns").alias("column"))
        .explode("column")
        .group_by("table", "column")
        .len()
        .sort(["len", "table", "column"], descending=[True, False, False])
    )
    lines = ["## Most often changed columns", ""]
    if not changed.height:
        return [*lines, "No row changed.", ""]
    lines += ["| table | column | rows changed |", "| --- | --- | ---: |"]
    lines += [
        f"| {table} | {column} | {count} |"
        for table, column, count in changed.head(CHANGED_COLUMNS_LIMIT).iter_rows()
    ]
    if changed.height > CHANGED_COLUMNS_LIMIT:
        lines.append(f"| ... and {changed.height - CHANGED_COLUMNS_LIMIT} more columns | | |")
    return [*lines, ""]


def _new_papers_section(diff: pl.DataFrame, titles: Mapping[str, str], limit: int) -> list[str]:
    added = diff.filter((pl.col("table") == "papers") & (pl.col("change") == ADDED))
    lines = [f"## New papers ({added.height})", ""]
    if not added.height:
        return [*lines, "None.", ""]
    # only the listed keys are decoded one by one: at most `limit` of them
    for key in added.get_column("key").head(limit).to_list():
        paper_id = str(key_values(key)[0])
        title = titles.get(paper_id) or UNKNOWN_TITLE
        lines.append(f"- `{paper_id}` {_escape_markdown(title)}")
    if added.height > limit:
        lines.append(f"- ... and {added.height - limit} more")
    return [*lines, ""]


def _escape_markdown(text: str) -> str:
    # a title is text, not markup: keep *, _, [, <, ` and | from being read as formatting
    return re.sub(r"([\\`*_\[\]<>|#])", r"\\\1", " ".join(text.split()))


# --- licences ------------------------------------------------------------------------------------

# Licence of a source file's content, by the kind of source. The bundled daily-API responses
# come from a public archive distributed under the Apache License 2.0 (data/NOTICE.md), so they
# carry its licence. Captures of the papers page are Hugging Face's own pages: no licence is
# granted, their reuse is governed by the Hugging Face terms of service. A daily-API response
# fetched live (not from the archive) is not covered by the archive's licence either: give such
# files a `licence` value in the listing_files frame, which overrides this mapping.
SOURCE_LICENCES: dict[str, str] = {
    "hf_daily_api": "Apache-2.0",
    "hf_papers_page": "unknown (Hugging Face terms of service)",
}
# an unreadable file (no source_format) or a kind of source this mapping does not know yet
UNKNOWN_LICENCE = "unknown"
LICENCE_OVERRIDE_COLUMN = "licence"


def source_licences(listing_files: pl.DataFrame) -> pl.DataFrame:
    """The ``sources`` table: the licence of each landed source file.

    Joined to ``observations.source_file`` (or ``rejects.source_file``) on ``file_key``, it tells
    which rows come from which licence, so data under different licences can be separated.

    Args:
        listing_files: The ``listing_files`` table (``file_key``, ``source_format``); an optional
            ``licence`` column overrides :data:`SOURCE_LICENCES` where it is not null.

    Returns:
        Columns ``file_key``, ``source_format``, ``licence``, one row per file, sorted by key.
    """
    by_format = (
        pl.col("source_format")
        .replace_strict(SOURCE_LICENCES, default=None, return_dtype=pl.String())
        .fill_null(UNKNOWN_LICENCE)
    )
    licence = (
        pl.coalesce(pl.col(LICENCE_OVERRIDE_COLUMN).cast(pl.String()), by_format)
        if LICENCE_OVERRIDE_COLUMN in listing_files.columns
        else by_format
    )
    return listing_files.select(
        pl.col("file_key").cast(pl.String()),
        pl.col("source_format").cast(pl.String()),
        licence.alias("licence"),
    ).sort("file_key")


# Hugging Face licence ids (the `license:` of a dataset card) and the URL Croissant records
LICENCE_URLS: dict[str, str] = {
    "apache-2.0": "https://www.apache.org/licenses/LICENSE-2.0",
    "mit": "https://opensource.org/license/mit",
    "cc-by-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "cc-by-sa-4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
    "cc-by-nc-4.0": "https://creativecommons.org/licenses/by-nc/4.0/",
    "cc0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "odc-by": "https://opendatacommons.org/licenses/by/1-0/",
    "odbl": "https://opendatacommons.org/licenses/odbl/1-0/",
    "pddl": "https://opendatacommons.org/licenses/pddl/1-0/",
}


def _licence_url(licence: str) -> str:
    if re.match(r"^https?://", licence):
        return licence
    return LICENCE_URLS.get(licence.lower(), licence)


# --- Croissant -----------------------------------------------------------------------------------

DATASET_NAME = "trending-papers"
PRETTY_NAME = "Trending papers on Hugging Face"
DATASET_DESCRIPTION = (
    "The machine-learning papers that trend on Hugging Face: one row per paper, every appearance "
    "of a paper in a listing (date, rank, upvotes), the code and project links of each paper, "
    "and every raw listing file read with what became of it. Built from responses of the Hugging "
    "Face daily papers API and captures of the Hugging Face papers pages."
)
CROISSANT_1_0 = "http://mlcommons.org/croissant/1.0"
PARQUET_MIME = "application/x-parquet"
# the JSON-LD context of Croissant 1.0, as mlcroissant 1.x writes it (the spec's Appendix 1 plus
# the aliases its examples use: conformsTo, key, fileObject, fileSet, citeAs, md5...)
CROISSANT_CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "samplingRate": "cr:samplingRate",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}
# Arrow type (as pyarrow prints it in the manifest) -> Croissant atomic dataType
_ARROW_TYPES: dict[str, str] = {
    "string": "sc:Text",
    "large_string": "sc:Text",
    "string_view": "sc:Text",
    "bool": "sc:Boolean",
    **{f"{sign}int{bits}": "sc:Integer" for sign in ("", "u") for bits in (8, 16, 32, 64)},
    "halffloat": "sc:Float",
    "float": "sc:Float",
    "double": "sc:Float",
    "date32[day]": "sc:Date",
    "date64[ms]": "sc:Date",
}
CROISSANT_DATA_TYPES = frozenset(
    {*_ARROW_TYPES.values(), "sc:DateTime", "sc:Number", "sc:URL", "sc:ImageObject"}
)
_LIST_TYPE = re.compile(r"^(?:large_)?list(?:_view)?<[^:<>]+: (?P<item>.+)>$")
# a field's values are taken from another table's key: Croissant's foreign key (`references`)
REFERENCES: dict[tuple[str, str], tuple[str, str]] = {
    ("observations", "paper_id"): ("papers", "paper_id"),
    ("observations", "source_file"): ("listing_files", "file_key"),
    ("code_links", "paper_id"): ("papers", "paper_id"),
    ("paper_aliases", "paper_id"): ("papers", "paper_id"),
    ("rejects", "source_file"): ("listing_files", "file_key"),
    ("repairs", "source_file"): ("listing_files", "file_key"),
}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def croissant_data_type(arrow_type: str) -> tuple[str, bool]:
    """The Croissant ``dataType`` of an Arrow type and whether the field is ``repeated``.

    A list becomes its item type with ``repeated: true`` (Croissant 1.0's way to say "a list of
    values of dataType"); a list of lists or a struct has no flat equivalent and is refused.

    Raises:
        ValueError: For a type with no Croissant equivalent here (add it to the mapping).
    """
    match = _LIST_TYPE.match(arrow_type)
    if match is not None:
        item, repeated = _atomic_type(match.group("item")), True
    else:
        item, repeated = _atomic_type(arrow_type), False
    if item is None:
        raise ValueError(f"no Croissant dataType for the Arrow type {arrow_type!r}")
    return item, repeated


def _atomic_type(arrow_type: str) -> str | None:
    if arrow_type.startswith("timestamp["):
        return "sc:DateTime"
    if arrow_type.startswith("decimal"):
        return "sc:Number"
    return _ARROW_TYPES.get(arrow_type)


def croissant_metadata(
    release_id: str,
    manifest: Mapping[str, Any],
    table_docs: Mapping[str, TableDoc],
    *,
    license: str,
    url: str | None,
) -> dict[str, Any]:
    """The release described in MLCommons Croissant 1.0 JSON-LD (``croissant.json``).

    One ``cr:FileObject`` per Parquet file (relative ``contentUrl``, size and sha256 from the
    manifest) and one ``cr:RecordSet`` per table, a ``cr:Field`` per column typed from the
    Parquet schema recorded in the manifest, its key and its foreign keys (``references``).

    Args:
        release_id: The release, recorded as ``version`` (not semver: mlcroissant warns).
        manifest: The release's manifest (``created_at``, ``tables`` with file, bytes, sha256,
            schema).
        table_docs: The data dictionary (``catalog.TABLES``); an undocumented table or column
            gets an empty description rather than none.
        license: A Hugging Face licence id (``apache-2.0``), a URL, or free text; known ids are
            written as the licence's URL, as Croissant recommends.
        url: The dataset's web page; omitted when None.

    Raises:
        ValueError: When a column's Arrow type has no Croissant dataType.
    """
    tables: Mapping[str, Mapping[str, Any]] = manifest["tables"]
    names = _table_order(tables, table_docs)
    document: dict[str, Any] = {
        "@context": json.loads(json.dumps(CROISSANT_CONTEXT)),
        "@type": "sc:Dataset",
        "name": DATASET_NAME,
        "description": DATASET_DESCRIPTION,
        "conformsTo": CROISSANT_1_0,
        "license": _licence_url(license),
        "version": release_id,
        "datePublished": manifest["created_at"],
        "citeAs": _citation(release_id, str(manifest["created_at"])[:4], url),
        "keywords": ["machine learning", "papers", "arXiv", "Hugging Face", "trending"],
    }
    if url is not None:
        document["url"] = url
    document["distribution"] = [_file_object(tables[name]) for name in names]
    document["recordSet"] = [
        _record_set(name, tables[name], table_docs.get(name), tables) for name in names
    ]
    return document


def _citation(release_id: str, year: str, url: str | None) -> str:
    # BibTeX, as Croissant recommends; no author is named because the dataset is built, not written
    key = re.sub(r"[^0-9A-Za-z]+", "_", f"{DATASET_NAME}_{release_id}")
    entries = [f"title = {{{PRETTY_NAME}}}", f"version = {{{release_id}}}", f"year = {{{year}}}"]
    if url is not None:
        entries.append(f"howpublished = {{\\url{{{url}}}}}")
    return f"@misc{{{key}, " + ", ".join(entries) + "}"


def _table_order(tables: Mapping[str, Any], table_docs: Mapping[str, TableDoc]) -> list[str]:
    # the data dictionary's order (papers first), then any table it does not document yet
    documented = [name for name in table_docs if name in tables]
    return documented + sorted(name for name in tables if name not in table_docs)


def _file_object(info: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "@type": "cr:FileObject",
        "@id": info["file"],
        "name": info["file"],
        "contentUrl": info["file"],
        "contentSize": f"{info['bytes']} B",
        "encodingFormat": PARQUET_MIME,
        "sha256": info["sha256"],
    }


def _record_set(
    name: str,
    info: Mapping[str, Any],
    doc: TableDoc | None,
    tables: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    columns = doc.columns if doc is not None else {}
    fields = []
    for column in info["schema"]:
        data_type, repeated = croissant_data_type(column["type"])
        field: dict[str, Any] = {
            "@type": "cr:Field",
            "@id": f"{name}/{column['name']}",
            "name": column["name"],
            "description": columns.get(column["name"], ""),
            "dataType": data_type,
        }
        if repeated:
            field["repeated"] = True
        field["source"] = {
            "fileObject": {"@id": info["file"]},
            "extract": {"column": column["name"]},
        }
        target = REFERENCES.get((name, column["name"]))
        if target is not None and target[0] in tables:
            # the DataSource form ({"field": {"@id"}}) that mlcroissant reads; it rejects the
            # bare {"@id"} shown in the spec's prose
            field["references"] = {"field": {"@id": f"{target[0]}/{target[1]}"}}
        fields.append(field)
    record_set: dict[str, Any] = {
        "@type": "cr:RecordSet",
        "@id": name,
        "name": name,
        "description": doc.description if doc is not None else "",
    }
    if doc is not None and doc.key:
        record_set["key"] = [{"@id": f"{name}/{column}"} for column in doc.key]
    record_set["field"] = fields
    return record_set


def validate_croissant(doc: Mapping[str, Any]) -> list[str]:
    """Structural problems of a Croissant 1.0 document, per the spec; empty when none.

    Checks the dataset's required properties, that every FileObject has a unique id, a
    contentUrl, an encoding format and a sha256, that every RecordSet and Field has a unique id
    and every Field an allowed atomic ``dataType``, a source naming an existing FileObject and a
    column, that key fields belong to their RecordSet and that references name existing fields.
    It checks structure, not the data: mlcroissant does that when it loads the files.
    """
    problems: list[str] = []
    context = doc.get("@context")
    if not isinstance(context, Mapping) or context.get("cr") != CROISSANT_CONTEXT["cr"]:
        problems.append("@context: missing or without the cr namespace")
    if doc.get("@type") != "sc:Dataset":
        problems.append(f"@type: expected sc:Dataset, got {doc.get('@type')!r}")
    if doc.get("conformsTo") != CROISSANT_1_0:
        problems.append(f"conformsTo: expected {CROISSANT_1_0}, got {doc.get('conformsTo')!r}")
    for prop in ("name", "description", "license", "datePublished", "version"):
        if not doc.get(prop):
            problems.append(f"{prop}: missing")
    if doc.get("datePublished") and not _is_iso_date(str(doc["datePublished"])):
        problems.append(f"datePublished: not an ISO 8601 date: {doc['datePublished']!r}")

    ids: Counter[str] = Counter()
    files = _as_list(doc.get("distribution"))
    if not files:
        problems.append("distribution: no FileObject")
    file_ids: set[str] = set()
    for position, item in enumerate(files):
        where = f"distribution[{position}]"
        if not isinstance(item, Mapping) or item.get("@type") != "cr:FileObject":
            problems.append(f"{where}: not a cr:FileObject")
            continue
        file_id = item.get("@id")
        if not file_id:
            problems.append(f"{where}: no @id")
            continue
        ids[file_id] += 1
        file_ids.add(file_id)
        for prop in ("contentUrl", "encodingFormat"):
            if not item.get(prop):
                problems.append(f"{file_id}: {prop} missing")
        if not _SHA256.match(str(item.get("sha256", ""))):
            problems.append(f"{file_id}: sha256 missing or not 64 hex digits")

    record_sets = _as_list(doc.get("recordSet"))
    if not record_sets:
        problems.append("recordSet: none")
    field_ids: set[str] = set()
    references: list[tuple[str, str]] = []
    for position, record_set in enumerate(record_sets):
        if not isinstance(record_set, Mapping) or record_set.get("@type") != "cr:RecordSet":
            problems.append(f"recordSet[{position}]: not a cr:RecordSet")
            continue
        set_id = str(record_set.get("@id") or f"recordSet[{position}]")
        if not record_set.get("@id"):
            problems.append(f"{set_id}: no @id")
        ids[set_id] += 1
        own: set[str] = set()
        fields = _as_list(record_set.get("field"))
        if not fields:
            problems.append(f"{set_id}: no field")
        for field in fields:
            problems += _field_problems(set_id, field, file_ids)
            field_id = field.get("@id") if isinstance(field, Mapping) else None
            if field_id:
                ids[field_id] += 1
                own.add(field_id)
                reference = _reference(field.get("references"))
                if field.get("references") is not None:
                    references.append((field_id, reference or ""))
        field_ids |= own
        for key in _as_list(record_set.get("key")):
            key_id = _ref(key)
            if key_id not in own:
                problems.append(f"{set_id}: key {key_id!r} is not one of its fields")
    for field_id, target in references:
        if target not in field_ids:
            problems.append(f"{field_id}: references {target!r}, which is no field")
    problems += [f"@id {item!r} is used {count} times" for item, count in ids.items() if count > 1]
    return problems


def _field_problems(set_id: str, field: Any, file_ids: set[str]) -> list[str]:
    if not isinstance(field, Mapping) or field.get("@type") != "cr:Field":
        return [f"{set_id}: a field is not a cr:Field"]
    field_id = field.get("@id")
    if not field_id:
        return [f"{set_id}: a field has no @id"]
    problems = []
    if not str(field_id).startswith(f"{set_id}/"):
        problems.append(f"{field_id}: @id does not start with its RecordSet's ({set_id}/)")
    data_types = _as_list(field.get("dataType"))
    if not data_types:
        problems.append(f"{field_id}: no dataType")
    elif not any(data_type in CROISSANT_DATA_TYPES for data_type in data_types):
        problems.append(f"{field_id}: dataType {data_types} has no atomic type")
    if "repeated" in field and not isinstance(field["repeated"], bool):
        problems.append(f"{field_id}: repeated is not a boolean")
    source = field.get("source")
    if not isinstance(source, Mapping):
        return [*problems, f"{field_id}: no source"]
    file_id = _ref(source.get("fileObject"))
    if file_id not in file_ids:
        problems.append(f"{field_id}: source.fileObject {file_id!r} is no FileObject")
    extract = source.get("extract")
    if not isinstance(extract, Mapping) or not extract.get("column"):
        problems.append(f"{field_id}: source.extract.column missing")
    return problems


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _ref(value: Any) -> str | None:
    return value.get("@id") if isinstance(value, Mapping) else None


def _reference(value: Any) -> str | None:
    # a DataSource naming a field ({"field": {"@id": ...}}) or, per the spec's prose, {"@id": ...}
    if isinstance(value, Mapping) and "field" in value:
        return _ref(value["field"])
    return _ref(value)


def _is_iso_date(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        try:
            date.fromisoformat(text)
        except ValueError:
            return False
    return True


# --- dataset card --------------------------------------------------------------------------------

CARD_TAGS = ("arxiv", "papers", "machine-learning", "hugging-face", "trending", "parquet")
# the Hub's size_categories buckets, by the number of rows of the largest table
_SIZE_CATEGORIES = (
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
)


@dataclass(frozen=True)
class _SuiteSummary:
    suite: str
    severity: str
    success: bool
    evaluated: int
    failed: int
    rows: int | None


def dataset_card(
    release_id: str,
    manifest: Mapping[str, Any],
    table_docs: Mapping[str, TableDoc],
    validation: Sequence[Mapping[str, Any]],
    *,
    license: str,
    sources: Sequence[Mapping[str, Any]],
    cleaning: Sequence[tuple[str, str, int]] = (),
) -> str:
    """``README.md`` of a release, usable as the dataset card on the Hugging Face Hub as is.

    YAML front matter (licence, pretty name, language, tags, size category and one configuration
    per table whose single ``train`` split is the table's Parquet file, ``papers`` the default),
    then what the dataset is, rows per table, the data dictionary (one line per column, typed
    from the Parquet schema), provenance (source files per format and licence), the validation
    results, how to load the files (Polars, DuckDB, ``datasets``) and how to check their sha256.

    Args:
        release_id: The release.
        manifest: The release's manifest.
        table_docs: The data dictionary (``catalog.TABLES``).
        validation: One mapping per suite run on the release: ``dataclasses.asdict`` of an
            ``expectations.validation.SuiteOutcome`` (``suite``, ``severity``, ``success``,
            ``evaluated``, ``rows``, ``failures``) or the raw GX result (``SuiteOutcome.raw``:
            ``suite_name``, ``success``, ``statistics``, ``results``). Listed by suite name.
        license: A Hugging Face licence id (``apache-2.0``, ``cc-by-4.0``...); anything else is
            written as ``license: other`` with ``license_name`` derived from it.
        sources: One mapping per source file with ``file_key``, ``source_format`` and ``licence``
            (e.g. ``source_licences(listing_files).to_dicts()``); an optional ``status`` counts
            the files ingested.
        cleaning: ``(what, rule, count)`` of the repairs and rejects (``cleaning_counts``).
    """
    tables: Mapping[str, Mapping[str, Any]] = manifest["tables"]
    names = _table_order(tables, table_docs)
    lines = [*_front_matter(names, tables, license), ""]
    lines += [
        f"# {PRETTY_NAME}",
        "",
        f"Release `{release_id}`, published {manifest.get('created_at', '')}"
        + (
            f" (previous release: `{manifest['previous_release']}`)."
            if manifest.get("previous_release")
            else "."
        ),
        "",
        DATASET_DESCRIPTION,
        "",
        "Each table is one zstd-compressed Parquet file, sorted by its key. Releases are "
        "immutable: a new build that changes data makes a new release (see `CHANGELOG.md`); "
        "`manifest.json` lists every file with its sha256 and schema, `croissant.json` describes "
        "the dataset in MLCommons Croissant 1.0.",
        "",
        "## Tables",
        "",
        "| table | rows | key | file | bytes |",
        "| --- | ---: | --- | --- | ---: |",
    ]
    for name in names:
        info = tables[name]
        doc = table_docs.get(name)
        key = ", ".join(doc.key) if doc is not None else ""
        lines.append(f"| {name} | {info['rows']} | {key} | `{info['file']}` | {info['bytes']} |")
    lines += ["", "## Data dictionary", ""]
    for name in names:
        lines += _dictionary_section(name, tables[name], table_docs.get(name))
    lines += _provenance_section(sources)
    lines += _cleaning_section(cleaning)
    lines += _validation_section(validation)
    lines += _loading_section(names, tables)
    lines += _verify_section(release_id, names, tables)
    return "\n".join(lines)


def _front_matter(
    names: Sequence[str], tables: Mapping[str, Mapping[str, Any]], license: str
) -> list[str]:
    lines = ["---"]
    licence_id = license.strip().lower()
    if licence_id in LICENCE_URLS:
        lines.append(f"license: {licence_id}")
    else:
        # the Hub accepts only its own ids in `license`; any other licence is `other` + a name
        slug = re.sub(r"[^a-z0-9.]+", "-", licence_id).strip("-") or "other"
        lines += ["license: other", f"license_name: {slug}"]
    largest = max((int(info["rows"]) for info in tables.values()), default=0)
    size = next((label for limit, label in _SIZE_CATEGORIES if largest < limit), "n>1T")
    lines += [
        f"pretty_name: {_yaml_string(PRETTY_NAME)}",
        "language:",
        "- en",
        "tags:",
        *[f"- {tag}" for tag in CARD_TAGS],
        "size_categories:",
        f"- {_yaml_string(size)}",
        "configs:",
    ]
    for position, name in enumerate(names):
        lines += [
            f"- config_name: {_yaml_string(name)}",
            "  data_files:",
            "  - split: train",
            f"    path: {_yaml_string(tables[name]['file'])}",
        ]
        if position == 0:
            lines.append("  default: true")
    return [*lines, "---"]


def _yaml_string(text: str) -> str:
    # a JSON string is a valid YAML double-quoted scalar, whatever characters it holds
    return json.dumps(text)


def _dictionary_section(name: str, info: Mapping[str, Any], doc: TableDoc | None) -> list[str]:
    lines = [f"### {name}", ""]
    if doc is not None:
        lines += [doc.description, "", f"Key: {', '.join(f'`{c}`' for c in doc.key)}.", ""]
    lines += ["| column | type | description |", "| --- | --- | --- |"]
    columns = doc.columns if doc is not None else {}
    for column in info["schema"]:
        description = columns.get(column["name"], "(undocumented)")
        kind = readable_type(column["type"])
        lines.append(f"| `{column['name']}` | {_cell(kind)} | {_cell(description)} |")
    return [*lines, ""]


def _cell(text: str) -> str:
    # a table cell: | would end it, and <...> would be read as an HTML tag and vanish
    return re.sub(r"([|<>])", r"\\\1", " ".join(text.split()))


_READABLE_TYPES = {
    "string": "string",
    "large_string": "string",
    "string_view": "string",
    "bool": "boolean",
    "double": "float64",
    "float": "float32",
    "date32[day]": "date",
}
_TIMESTAMP = re.compile(r"^timestamp\[[a-z]+(?:, tz=(?P<zone>[^\]]+))?\]$")


def readable_type(arrow_type: str) -> str:
    """An Arrow type as a reader of the card says it: ``list of string``, ``timestamp (UTC)``."""
    match = _LIST_TYPE.match(arrow_type)
    if match is not None:
        return f"list of {readable_type(match.group('item'))}"
    timestamp = _TIMESTAMP.match(arrow_type)
    if timestamp is not None:
        zone = timestamp.group("zone")
        return f"timestamp ({zone})" if zone else "timestamp"
    return _READABLE_TYPES.get(arrow_type, arrow_type)


def _provenance_section(sources: Sequence[Mapping[str, Any]]) -> list[str]:
    groups: Counter[tuple[str, str]] = Counter()
    ingested: Counter[tuple[str, str]] = Counter()
    for source in sources:
        group = (
            str(source.get("source_format") or "unreadable"),
            str(source.get("licence") or UNKNOWN_LICENCE),
        )
        groups[group] += 1
        if source.get("status") == "ingested":
            ingested[group] += 1
    with_status = any("status" in source for source in sources)
    lines = [
        "## Provenance and licences",
        "",
        "Every row comes from raw listing files: responses of the Hugging Face daily papers API "
        "(`hf_daily_api`) and captures of the Hugging Face papers pages (`hf_papers_page`). "
        "Their content is under the licence of the file it came from, below. To keep only data "
        "under a given licence, join `observations.source_file` (or `rejects.source_file`) to "
        "`listing_files.file_key` and filter on the source's licence; `papers.source_formats` "
        "tells which kinds of source listed each paper.",
        "",
        "| source format | licence | files |" + (" ingested |" if with_status else ""),
        "| --- | --- | ---: |" + (" ---: |" if with_status else ""),
    ]
    for (source_format, licence), count in sorted(groups.items()):
        extra = f" {ingested[(source_format, licence)]} |" if with_status else ""
        lines.append(f"| {source_format} | {_cell(licence)} | {count} |{extra}")
    if not groups:
        lines.append("| (none) | | 0 |" + (" 0 |" if with_status else ""))
    return [*lines, ""]


def cleaning_counts(tables: Mapping[str, pl.DataFrame]) -> list[tuple[str, str, int]]:
    """What the pipeline did to upstream data, by rule: ``(what, rule, count)`` with ``what``
    one of repaired, dropped (from ``repairs``) or rejected (entries and files, ``rejects``)."""
    counted: list[tuple[str, str, int]] = []
    if "repairs" in tables:
        by_rule = tables["repairs"].group_by("action", "rule").len()
        counted += [(str(a), str(r), int(n)) for a, r, n in by_rule.iter_rows()]
    if "rejects" in tables and "rule" in tables["rejects"].columns:
        by_rule = tables["rejects"].group_by(pl.col("rule").fill_null("unrecorded")).len()
        counted += [("rejected", str(r), int(n)) for r, n in by_rule.iter_rows()]
    return sorted(counted, key=lambda item: (item[0], -item[2], item[1]))


def _cleaning_section(cleaning: Sequence[tuple[str, str, int]]) -> list[str]:
    lines = [
        "## Repairs and rejects",
        "",
        "Dirt from upstream is repaired or rejected where it is, and recorded: every value the "
        "pipeline repaired or dropped is a row of `repairs` (value before and after, rule), every "
        "entry or file it did not keep a row of `rejects` (reason, rule). The rules are the "
        "field contracts of the pipeline (`docs/reliability.md` in its repository).",
        "",
    ]
    if not cleaning:
        return [*lines, "Nothing was repaired, dropped or rejected in this release.", ""]
    lines += ["| what | rule | count |", "| --- | --- | ---: |"]
    lines += [f"| {what} | `{rule}` | {count} |" for what, rule, count in cleaning]
    return [*lines, ""]


def _suite_summary(item: Mapping[str, Any]) -> _SuiteSummary:
    if "suite" in item:
        return _SuiteSummary(
            suite=str(item["suite"]),
            severity=str(item.get("severity") or ""),
            success=bool(item.get("success")),
            evaluated=int(item.get("evaluated") or 0),
            failed=len(item.get("failures") or []),
            rows=None if item.get("rows") is None else int(item["rows"]),
        )
    # a raw Great Expectations validation result (SuiteOutcome.raw)
    statistics = item.get("statistics") or {}
    counts = [
        int(result["result"]["element_count"])
        for result in item.get("results") or []
        if isinstance(result.get("result"), Mapping) and "element_count" in result["result"]
    ]
    return _SuiteSummary(
        suite=str(item.get("suite_name") or "(unnamed suite)"),
        severity="",
        success=bool(item.get("success")),
        evaluated=int(statistics.get("evaluated_expectations") or 0),
        failed=int(statistics.get("unsuccessful_expectations") or 0),
        rows=max(counts) if counts else None,
    )


def _validation_section(validation: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = ["## Validation", ""]
    summaries = sorted((_suite_summary(item) for item in validation), key=lambda s: s.suite)
    if not summaries:
        return [*lines, "No validation results were recorded for this release.", ""]
    lines += [
        "Great Expectations suites run on the tables before publication:",
        "",
        "| suite | severity | result | expectations met | failed | rows |",
        "| --- | --- | --- | ---: | ---: | ---: |",
    ]
    for summary in summaries:
        result = "passed" if summary.success else "failed"
        rows = "" if summary.rows is None else str(summary.rows)
        lines.append(
            f"| {summary.suite} | {summary.severity} | {result} | "
            f"{summary.evaluated - summary.failed} | "
            f"{summary.failed} | {rows} |"
        )
    return [*lines, ""]


def _loading_section(names: Sequence[str], tables: Mapping[str, Mapping[str, Any]]) -> list[str]:
    first = names[0] if names else "papers"
    file = tables[first]["file"] if first in tables else f"{first}.parquet"
    other = next((name for name in names if name != first), first)
    other_file = tables[other]["file"] if other in tables else f"{other}.parquet"
    return [
        "## Loading",
        "",
        "Polars:",
        "",
        "```python",
        "import polars as pl",
        "",
        f'{first} = pl.read_parquet("{file}")',
        "```",
        "",
        "DuckDB:",
        "",
        "```sql",
        f"SELECT count(*) FROM '{other_file}';",
        "```",
        "",
        "Hugging Face `datasets` (local files, or on the Hub one configuration per table):",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'{first} = load_dataset("parquet", data_files={{"train": "{file}"}}, split="train")',
        f'{other} = load_dataset("<namespace>/<dataset>", "{other}", split="train")',
        "```",
        "",
    ]


def _verify_section(
    release_id: str, names: Sequence[str], tables: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    return [
        "## Verifying the files",
        "",
        "With the pipeline installed, recheck every file's sha256 and row count against the "
        "manifest:",
        "",
        "```bash",
        f"trending-papers verify {release_id}      # a release under $PAPERS_DATA_DIR/releases",
        "trending-papers verify path/to/release  # a downloaded copy of this folder",
        "```",
        "",
        "Or, in the release folder, with coreutils:",
        "",
        "```bash",
        "sha256sum -c <<'EOF'",
        *[f"{tables[name]['sha256']}  {tables[name]['file']}" for name in names],
        "EOF",
        "```",
        "",
    ]
