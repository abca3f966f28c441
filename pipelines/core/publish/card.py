"""``README.md`` of a release: a dataset card the Hugging Face Hub reads as is (one
configuration per table), with the data dictionary, provenance, repairs and rejects, validation
results and how to load and verify the files. Deterministic: the same inputs give the same text."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from pipelines.core.publish.catalog import TableDoc
from pipelines.core.publish.croissant import (
    ARROW_LIST_TYPE,
    DATASET_DESCRIPTION,
    PRETTY_NAME,
    table_order,
)
from pipelines.core.publish.licences import LICENCE_URLS, UNKNOWN_LICENCE
from pipelines.core.publish.parts import manifest_parts, table_glob

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
    names = table_order(tables, table_docs)
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
        "Each table is a folder of zstd-compressed Parquet parts: the paper tables one part per "
        "month in which their papers were first listed (`papers/2024-05.parquet`; `undated` for "
        "papers listed without a date), the file tables one part (`all.parquet`). Read a table "
        "as all its parts (`papers/*.parquet`): rows come by part, then in key order. A part "
        "equal to the previous release's is the same file, shared. Releases are immutable: a "
        "new build that changes data makes a new release (see `CHANGELOG.md`); `manifest.json` "
        "lists every part with its sha256 and each table's schema, `croissant.json` describes "
        "the dataset in MLCommons Croissant 1.0.",
        "",
        "## Tables",
        "",
        "| table | rows | key | files | parts | bytes |",
        "| --- | ---: | --- | --- | ---: | ---: |",
    ]
    for name in names:
        info = tables[name]
        doc = table_docs.get(name)
        key = ", ".join(doc.key) if doc is not None else ""
        lines.append(
            f"| {name} | {info['rows']} | {key} | `{_files(name, info)}` | "
            f"{len(manifest_parts(info))} | {info['bytes']} |"
        )
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
            f"    path: {_yaml_string(_files(name, tables[name]))}",
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
    match = ARROW_LIST_TYPE.match(arrow_type)
    if match is not None and match.group("size"):
        return f"array of {match.group('size')} {readable_type(match.group('item'))}"
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


def suite_summaries(validation: Sequence[Mapping[str, Any]]) -> list[_SuiteSummary]:
    """One summary per suite of a release's ``validation.json`` (either form described in
    :func:`dataset_card`), by suite name: what the card and the download page both show."""
    return sorted((_suite_summary(item) for item in validation), key=lambda s: s.suite)


def _validation_section(validation: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = ["## Validation", ""]
    summaries = suite_summaries(validation)
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
    file = _files(first, tables.get(first, {}))
    other = next((name for name in names if name != first), first)
    other_file = _files(other, tables.get(other, {}))
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


def _files(name: str, info: Mapping[str, Any]) -> str:
    """What names every file of a table: the glob of its parts (a release before parts: its
    one file)."""
    return info.get("files") or info.get("file") or table_glob(name)


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
        *[
            f"{part['sha256']}  {part['file']}"
            for name in names
            for part in manifest_parts(tables[name])
        ],
        "EOF",
        "```",
        "",
    ]
