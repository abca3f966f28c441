"""The download page of the releases: a static site of plain HTML and CSS, made with every release.

Two kinds of page, written at two moments:

- Each release's own page, ``releases/<id>/index.html``, with its charts (``charts/*.svg`` and
  the data of each as ``charts/*.csv``) and its citation (``CITATION.cff``), is written into the
  release's staging folder with the release's other documents (:func:`write_release_page`, called
  by ``release.write_documents``). It is part of the immutable release: listed in the manifest's
  ``documents`` with its sha256, so ``trending-papers verify`` checks it, renamed into place with
  the rest, and never written again. It links only inside its own folder and to the list of
  releases beside it (``../index.html``), never to another release, which retention may delete.
- The list of every release, ``releases/index.html``, and the same for programs,
  ``releases/index.json``, describe what ``releases/`` holds now, so they are written again
  after every publication and after retention (:func:`write_site_index`), each to a hidden
  temporary file renamed over the old one: a reader gets the old list or the new one.

Every link is relative, so the folder works as it is from ``file://``, from
``trending-papers serve``, from ``python -m http.server`` or from any static host (an S3
website, GitHub Pages). The pages use no script, font or style from elsewhere; the CSS is in
the page, so a release folder downloaded alone keeps its look. Pages are rendered from Jinja2
templates (``templates/``) with autoescaping on: titles, descriptions and URLs from the data are
text, never markup. The same release gives byte-identical files: nothing depends on the clock,
and the list carries no time but the releases' own ``created_at``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import polars as pl

from pipelines.core.ingest.landing import sha256_file
from pipelines.core.publish.card import readable_type, suite_summaries
from pipelines.core.publish.catalog import TableDoc
from pipelines.core.publish.charts import Chart, release_charts
from pipelines.core.publish.croissant import DATASET_DESCRIPTION, PRETTY_NAME, table_order
from pipelines.core.publish.diff import ADDED, CHANGED, REMOVED
from pipelines.core.publish.licences import LICENCE_URLS, UNKNOWN_LICENCE, licence_url
from pipelines.core.publish.parts import manifest_parts, table_glob

PAGE_FILE = "index.html"
CHARTS_DIR = "charts"
CITATION_FILE = "CITATION.cff"
INDEX_HTML = "index.html"
INDEX_JSON = "index.json"
# what index.json's layout is; raised when a field changes meaning or goes away
INDEX_FORMAT = 1
# the port `trending-papers serve` listens on unless told otherwise; the snippets' base URL
DEFAULT_PORT = 8000
# who the citation names: the dataset is made by this project, not by the papers' authors
CITATION_AUTHOR = "The trending-papers maintainers"
# the table the snippets load: the one most readers want
SNIPPET_TABLE = "papers"
# the documents of a release as the page describes them, in the order it lists them
DOCUMENT_DESCRIPTIONS = {
    "README.md": "Dataset card: tables, data dictionary, provenance, validation (Markdown; the "
    "Hugging Face Hub reads it as is).",
    "CHANGELOG.md": "What changed since the previous release (Markdown).",
    "diff.parquet": "Every row added, removed or changed since the previous release.",
    "manifest.json": "Every file of the release with its size, rows and sha256; each table's "
    "schema.",
    "croissant.json": "MLCommons Croissant 1.0 metadata.",
    "validation.json": "Full results of the Great Expectations suites.",
    CITATION_FILE: "How to cite this release (Citation File Format).",
}
MANIFEST_FILE = "manifest.json"
DIFF_FILE = "diff.parquet"
CHANGELOG_FILE = "CHANGELOG.md"
CARD_FILE = "README.md"
VALIDATION_FILE = "validation.json"


@dataclass(frozen=True)
class ValidationStatus:
    """What a release's validation results add up to.

    Attributes:
        status: ``passed`` (every suite passed), ``failed`` (some suite did not) or
            ``not recorded`` (no results were published with the release).
        suites: Suites run.
        suites_passed: Suites whose every expectation was met.
        expectations: Expectations evaluated, over all suites.
        failed: Expectations not met, over all suites.
        rows: Per suite (by name, sorted): severity, result, expectations met and failed, rows.
    """

    status: str
    suites: int
    suites_passed: int
    expectations: int
    failed: int
    rows: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "suites": self.suites,
            "suites_passed": self.suites_passed,
            "expectations": self.expectations,
            "failed": self.failed,
        }


def validation_status(validation: Sequence[Mapping[str, Any]]) -> ValidationStatus:
    """The summary of a release's ``validation.json``, built on the dataset card's reading of it
    (``card.suite_summaries``), so the page and the card never disagree."""
    summaries = suite_summaries(validation)
    rows = [
        {
            "suite": summary.suite,
            "severity": summary.severity,
            "result": "passed" if summary.success else "failed",
            "met": summary.evaluated - summary.failed,
            "failed": summary.failed,
            "rows": summary.rows,
        }
        for summary in summaries
    ]
    if not summaries:
        status = "not recorded"
    else:
        status = "passed" if all(summary.success for summary in summaries) else "failed"
    return ValidationStatus(
        status=status,
        suites=len(summaries),
        suites_passed=sum(summary.success for summary in summaries),
        expectations=sum(summary.evaluated for summary in summaries),
        failed=sum(summary.failed for summary in summaries),
        rows=rows,
    )


CHANGE_KINDS = (ADDED, REMOVED, CHANGED)


def change_counts(diff: pl.DataFrame) -> dict[str, dict[str, int]]:
    """Per table of a release diff (``diff.parquet``): rows added, removed and changed."""
    counted = diff.group_by("table", "change").len().sort("table", "change")
    changes: dict[str, dict[str, int]] = {}
    for table, change, count in counted.iter_rows():
        changes.setdefault(table, dict.fromkeys(CHANGE_KINDS, 0))[change] = int(count)
    return changes


# --- one release's page --------------------------------------------------------------------------


def write_release_page(
    folder: Path,
    manifest: Mapping[str, Any],
    table_docs: Mapping[str, TableDoc],
    *,
    tables: Mapping[str, pl.DataFrame],
    diff: pl.DataFrame,
    validation: Sequence[Mapping[str, Any]],
    documents: Mapping[str, Mapping[str, Any]],
    licence: str,
    sources: Sequence[Mapping[str, Any]],
) -> dict[str, dict[str, Any]]:
    """Write a release's page, charts and citation into its (staging) ``folder``.

    Args:
        folder: The release's folder, its parts and other documents already written.
        manifest: The release's manifest, without its ``documents`` (not written yet).
        table_docs: The data dictionary (``catalog.TABLES``).
        tables: The release's tables, which the charts are computed from.
        diff: The release's diff against the previous release.
        validation: The validation results published with the release.
        documents: The documents already written (file -> ``bytes``, ``sha256``), listed on
            the page with their digests.
        licence: The dataset's licence (``release.dataset_licence``).
        sources: One mapping per source file with ``source_format`` and ``licence``.

    Returns:
        The files written (relative to ``folder``), for the manifest's ``documents``.
    """
    release_id = str(manifest["release_id"])
    written: list[str] = []
    charts = release_charts(tables)
    if charts:
        (folder / CHARTS_DIR).mkdir(exist_ok=True)
    for chart in charts:
        files = {chart_file(chart, "svg"): chart.svg, chart_file(chart, "csv"): chart.csv()}
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
            written.append(name)
    citation = citation_cff(release_id, manifest, licence)
    (folder / CITATION_FILE).write_text(citation, encoding="utf-8")
    written.append(CITATION_FILE)
    entries = {name: _entry(folder / name) for name in written}
    page = render_release_page(
        release_id,
        manifest,
        table_docs,
        charts=charts,
        changes=change_counts(diff),
        validation=validation,
        documents={**documents, **entries},
        licence=licence,
        sources=sources,
        citation=citation,
    )
    (folder / PAGE_FILE).write_text(page, encoding="utf-8")
    entries[PAGE_FILE] = _entry(folder / PAGE_FILE)
    return entries


def chart_file(chart: Chart, extension: str) -> str:
    """Where a chart's picture (``svg``) or data (``csv``) lies in its release."""
    return f"{CHARTS_DIR}/{chart.slug}.{extension}"


def svg_size(svg: str) -> dict[str, int]:
    """The ``width`` and ``height`` of an SVG's view box, rounded: the picture's size on the
    page before CSS scales it, so the page does not move while it loads."""
    match = re.search(r'viewBox="0 0 ([0-9.]+) ([0-9.]+)"', svg)
    if match is None:
        return {"width": 0, "height": 0}
    return {"width": round(float(match.group(1))), "height": round(float(match.group(2)))}


def _entry(path: Path) -> dict[str, Any]:
    return {"bytes": path.stat().st_size, "sha256": sha256_file(path)}


def render_release_page(
    release_id: str,
    manifest: Mapping[str, Any],
    table_docs: Mapping[str, TableDoc],
    *,
    charts: Sequence[Chart],
    changes: Mapping[str, Mapping[str, int]],
    validation: Sequence[Mapping[str, Any]],
    documents: Mapping[str, Mapping[str, Any]],
    licence: str,
    sources: Sequence[Mapping[str, Any]],
    citation: str,
) -> str:
    """The HTML of a release's page (see :func:`write_release_page` for the arguments)."""
    tables: Mapping[str, Mapping[str, Any]] = manifest["tables"]
    names = table_order(tables, table_docs)
    snippet_table = SNIPPET_TABLE if SNIPPET_TABLE in tables else (names[0] if names else "")
    parts = [part["file"] for part in manifest_parts(tables.get(snippet_table, {}))]
    listed_documents = [
        {"file": name, "description": description, **documents.get(name, {})}
        for name, description in DOCUMENT_DESCRIPTIONS.items()
        if name in documents or name == MANIFEST_FILE
    ]
    context = {
        "title": f"{PRETTY_NAME}: release {release_id}",
        "pretty_name": PRETTY_NAME,
        "description": DATASET_DESCRIPTION,
        "release_id": release_id,
        "created_at": manifest.get("created_at", ""),
        "previous_release": manifest.get("previous_release"),
        "code_version": manifest.get("code_version", ""),
        "totals": _totals(tables),
        "tables": [_table_context(name, tables[name], table_docs.get(name)) for name in names],
        "changes": _changes_context(names, tables, changes),
        "has_changelog": CHANGELOG_FILE in documents,
        "validation": validation_status(validation),
        "charts": [
            {
                "title": chart.title,
                "caption": chart.caption,
                "alt": chart.alt,
                "svg": chart_file(chart, "svg"),
                "csv": chart_file(chart, "csv"),
                "slug": chart.slug,
                **svg_size(chart.svg),
            }
            for chart in charts
        ],
        "documents": listed_documents,
        "licence": {"id": licence, "url": _known_licence_url(licence)},
        "sources": source_groups(sources),
        "citation": citation,
        "bibtex": citation_bibtex(release_id, manifest, licence),
        "snippet_table": snippet_table,
        "snippets": loading_snippets(release_id, snippet_table, parts),
        "base_url": default_base_url(release_id),
    }
    return _environment().get_template("release.html.j2").render(context)


def _totals(tables: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    return {
        "tables": len(tables),
        "rows": sum(int(info["rows"]) for info in tables.values()),
        "bytes": sum(int(info.get("bytes") or 0) for info in tables.values()),
        "parts": sum(len(manifest_parts(info)) for info in tables.values()),
    }


def _table_context(name: str, info: Mapping[str, Any], doc: TableDoc | None) -> dict[str, Any]:
    columns = doc.columns if doc is not None else {}
    return {
        "name": name,
        "description": doc.description if doc is not None else "",
        "key": list(doc.key) if doc is not None else [],
        "rows": int(info["rows"]),
        "bytes": int(info.get("bytes") or 0),
        "files": info.get("files") or table_glob(name),
        "parts": manifest_parts(info),
        "columns": [
            {
                "name": column["name"],
                "type": readable_type(column["type"]),
                "description": columns.get(column["name"], ""),
            }
            for column in info.get("schema", [])
        ],
    }


def _changes_context(
    names: Sequence[str],
    tables: Mapping[str, Mapping[str, Any]],
    changes: Mapping[str, Mapping[str, int]],
) -> list[dict[str, Any]]:
    # every table of the release, and a table no longer published (all its rows removed)
    listed = [*names, *sorted(name for name in changes if name not in tables)]
    return [
        {
            "table": name,
            "rows": tables[name]["rows"] if name in tables else 0,
            **{change: changes.get(name, {}).get(change, 0) for change in CHANGE_KINDS},
        }
        for name in listed
    ]


def _known_licence_url(licence: str) -> str | None:
    url = licence_url(licence)
    return url if url.startswith(("https://", "http://")) else None


def source_groups(sources: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The source files by kind of source and licence: ``source_format``, ``licence``, its
    ``url`` when it is a known licence, and the number of ``files``."""
    if not sources:
        return []
    frame = pl.DataFrame(
        [{"source_format": s.get("source_format"), "licence": s.get("licence")} for s in sources],
        schema={"source_format": pl.String(), "licence": pl.String()},
    )
    grouped = (
        frame.select(
            pl.col("source_format").fill_null("unreadable"),
            pl.col("licence").fill_null(UNKNOWN_LICENCE),
        )
        .group_by("source_format", "licence")
        .agg(pl.len().alias("files"))
        .sort("source_format", "licence")
    )
    urls = {name.lower(): url for name, url in LICENCE_URLS.items()}
    return [
        {**row, "url": urls.get(str(row["licence"]).lower())}
        for row in grouped.iter_rows(named=True)
    ]


def default_base_url(release_id: str) -> str:
    """Where a release is found when ``trending-papers serve`` serves the data folder."""
    return f"http://127.0.0.1:{DEFAULT_PORT}/releases/{release_id}"


def loading_snippets(release_id: str, table: str, parts: Sequence[str]) -> dict[str, str]:
    """Code that loads ``table`` of the release from wherever its folder is served.

    Each snippet starts by setting ``BASE``, the URL of the release's folder (by default where
    ``trending-papers serve`` puts it; a local folder works too for all but pyarrow's), then
    reads every part of the table: HTTP has no listing, so the parts are named one by one.
    """
    base = default_base_url(release_id)
    python_parts = "\n".join(f'    "{part}",' for part in parts)
    sql_parts = ",\n".join(f"    getvariable('base') || '/{part}'" for part in parts)
    return {
        "polars": (
            "import polars as pl\n\n"
            f'BASE = "{base}"  # the URL of this folder\n'
            f"PARTS = [\n{python_parts}\n]\n"
            f'{table} = pl.read_parquet([f"{{BASE}}/{{part}}" for part in PARTS])\n'
        ),
        "pyarrow": (
            "import io\n"
            "import urllib.request\n\n"
            "import pyarrow as pa\n"
            "import pyarrow.parquet as pq\n\n"
            f'BASE = "{base}"  # the URL of this folder\n'
            f"PARTS = [\n{python_parts}\n]\n\n\n"
            "def read_part(url: str) -> pa.Table:\n"
            "    with urllib.request.urlopen(url) as response:\n"
            "        return pq.read_table(io.BytesIO(response.read()))\n\n\n"
            f'{table} = pa.concat_tables(read_part(f"{{BASE}}/{{part}}") for part in PARTS)\n'
        ),
        "duckdb": (
            "-- over http(s):// DuckDB needs its httpfs extension: INSTALL httpfs; LOAD httpfs;\n"
            f"SET VARIABLE base = '{base}';  -- the URL of this folder\n"
            f"CREATE VIEW {table} AS SELECT * FROM read_parquet([\n{sql_parts}\n]);\n"
            f"SELECT count(*) FROM {table};\n"
        ),
        "datasets": (
            "from datasets import load_dataset\n\n"
            f'BASE = "{base}"  # the URL of this folder\n'
            f"PARTS = [\n{python_parts}\n]\n"
            f"{table} = load_dataset(\n"
            '    "parquet", data_files={"train": [f"{BASE}/{part}" for part in PARTS]}, '
            'split="train"\n'
            ")\n"
        ),
    }


def citation_cff(release_id: str, manifest: Mapping[str, Any], licence: str) -> str:
    """``CITATION.cff`` of a release: the dataset, this release as its version."""
    released = str(manifest.get("created_at") or "")[:10] or release_id[:10]
    lines = [
        "cff-version: 1.2.0",
        'message: "If you use this dataset, please cite it as below."',
        "type: dataset",
        f"title: {json.dumps(PRETTY_NAME)}",
        f"abstract: {json.dumps(DATASET_DESCRIPTION)}",
        "authors:",
        f"  - name: {json.dumps(CITATION_AUTHOR)}",
        f"version: {json.dumps(release_id)}",
        f"date-released: {json.dumps(released)}",
    ]
    if licence.lower() in LICENCE_URLS:
        lines.append(f"license: {json.dumps(_spdx(licence))}")
    # else CFF has no way to say "per source": the page and the card list each source's licence
    lines += ["keywords:", *[f"  - {word}" for word in ("machine learning", "papers", "arXiv")]]
    return "\n".join(lines) + "\n"


_SPDX = {
    "apache-2.0": "Apache-2.0",
    "mit": "MIT",
    "cc-by-4.0": "CC-BY-4.0",
    "cc-by-sa-4.0": "CC-BY-SA-4.0",
    "cc-by-nc-4.0": "CC-BY-NC-4.0",
    "cc0-1.0": "CC0-1.0",
    "odc-by": "ODC-By-1.0",
    "odbl": "ODbL-1.0",
    "pddl": "PDDL-1.0",
}


def _spdx(licence: str) -> str:
    return _SPDX.get(licence.lower(), licence)


def citation_bibtex(release_id: str, manifest: Mapping[str, Any], licence: str) -> str:
    """A BibTeX entry for the release (``@misc``: BibTeX has no dataset type)."""
    released = str(manifest.get("created_at") or "")[:10] or release_id[:10]
    key = "trending_papers_" + release_id.replace("-", "_").replace(".", "_")
    note = f"Release {release_id}, licence {_spdx(licence)}"
    return (
        f"@misc{{{key},\n"
        f"  title = {{{{{PRETTY_NAME}}}}},\n"
        f"  author = {{{{{CITATION_AUTHOR}}}}},\n"
        f"  year = {{{released[:4]}}},\n"
        f"  version = {{{release_id}}},\n"
        f"  note = {{{note}}}\n"
        "}\n"
    )


# --- the list of releases ------------------------------------------------------------------------


def write_site_index(releases_dir: Path, latest: str | None) -> None:
    """Write ``index.html`` and ``index.json`` of ``releases_dir``: every release it holds now
    (a folder with a manifest), newest first, ``latest`` marked as such.

    Each file is written under a hidden name, synced, then renamed over the old one."""
    releases = [_release_summary(folder) for folder in release_folders(releases_dir)]
    index = {
        "format": INDEX_FORMAT,
        "dataset": PRETTY_NAME,
        "latest": latest,
        "releases": releases,
    }
    document = json.dumps(index, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    page = (
        _environment()
        .get_template("index.html.j2")
        .render(
            {
                "title": f"{PRETTY_NAME}: releases",
                "pretty_name": PRETTY_NAME,
                "description": DATASET_DESCRIPTION,
                "latest": latest,
                "releases": releases,
                "index_json": INDEX_JSON,
                "port": DEFAULT_PORT,
            }
        )
    )
    _replace(releases_dir / INDEX_JSON, document)
    _replace(releases_dir / INDEX_HTML, page)


def release_folders(releases_dir: Path) -> list[Path]:
    """The releases ``releases_dir`` holds (folders with a manifest), newest first."""
    found = [
        folder
        for folder in releases_dir.iterdir()
        if folder.is_dir()
        and not folder.is_symlink()
        and not folder.name.startswith(".")
        and (folder / MANIFEST_FILE).is_file()
    ]
    return sorted(found, key=lambda folder: release_order(folder.name), reverse=True)


def release_order(release_id: str) -> tuple[str, int]:
    """What sorts release ids in publication order: the day, then the ``.2``, ``.3``... of
    later releases the same day."""
    day, _, suffix = release_id.partition(".")
    return day, int(suffix) if suffix.isdigit() else 1


def _release_summary(folder: Path) -> dict[str, Any]:
    """A release as the list shows it: links relative to ``releases/``."""
    manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    release_id = folder.name
    documents: Mapping[str, Any] = manifest.get("documents", {})
    tables: Mapping[str, Mapping[str, Any]] = manifest.get("tables", {})
    validation: list[Mapping[str, Any]] = []
    if VALIDATION_FILE in documents and (folder / VALIDATION_FILE).is_file():
        validation = json.loads((folder / VALIDATION_FILE).read_text(encoding="utf-8"))
    changes: dict[str, dict[str, int]] | None = None
    if DIFF_FILE in documents and (folder / DIFF_FILE).is_file():
        changes = change_counts(pl.read_parquet(folder / DIFF_FILE, columns=["table", "change"]))

    def link(name: str) -> str | None:
        return f"{release_id}/{name}" if name in documents else None

    return {
        "release_id": release_id,
        "created_at": manifest.get("created_at"),
        "previous_release": manifest.get("previous_release"),
        "code_version": manifest.get("code_version"),
        # a release made before the pages existed has its dataset card as its page
        "page": link(PAGE_FILE) or link(CARD_FILE),
        "manifest": f"{release_id}/{MANIFEST_FILE}",
        "changelog": link(CHANGELOG_FILE),
        "card": link(CARD_FILE),
        "validation": validation_status(validation).as_json(),
        "changes": changes,
        "rows": sum(int(info["rows"]) for info in tables.values()),
        "bytes": sum(int(info.get("bytes") or 0) for info in tables.values()),
        "tables": {
            name: {
                "rows": int(info["rows"]),
                "bytes": int(info.get("bytes") or 0),
                "parts": [
                    {**part, "url": f"{release_id}/{part['file']}"} for part in manifest_parts(info)
                ],
            }
            for name, info in sorted(tables.items())
        },
    }


def _replace(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


# --- templates -----------------------------------------------------------------------------------


def human_bytes(size: int | float) -> str:
    """``1.2 MB``: decimal units, as file browsers show sizes."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("pipelines.core.publish", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["bytes"] = human_bytes
    environment.filters["thousands"] = lambda number: f"{int(number):,}"
    return environment
