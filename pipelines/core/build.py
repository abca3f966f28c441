"""The steps of a build, as plain functions: ingest files, curate, publish, load the warehouse.

The Dagster assets call these one stage each; ``build_everything`` chains them without Dagster,
which is the pure-library path the benchmarks measure against the full orchestrated build.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from pipelines.core.curate.incremental import (
    FILE_VERSION_COLUMNS,
    STATE_ENTRY_COLUMNS,
    CurationState,
    Increment,
    changed_files,
    plan_increment,
    splice,
    state_from_full,
    summarise,
)
from pipelines.core.curate.model import (
    CURATED_ORDER,
    ENTRY_KEY,
    NEIGHBOUR_ORDER,
    PAPER_TABLE_ORDER,
    PreviousBuild,
    curate,
    resolve_paper_ids,
)
from pipelines.core.curate.similarity import MODEL, NeighbourTables, neighbour_tables
from pipelines.core.curate.stored import (
    read_parts,
    read_state,
    read_table,
    read_table_parts,
    store_tables,
    written_by,
)
from pipelines.core.ingest.batches import ingest_batches, parse_batches
from pipelines.core.ingest.breaker import RunVerdict, run_verdict
from pipelines.core.ingest.entries import IngestOptions, ParsedBatch, ParsedFile
from pipelines.core.ingest.landing import LandedFile, scan_landing
from pipelines.core.ingest.store import (
    QUARANTINED,
    FileRecord,
    RawRecord,
    listing_files_table,
    load_file_records,
    next_ingest_sequence,
    pending_files,
    prune_batches,
    rejects_table,
    remove_leftovers,
    repairs_table,
    scan_entries,
    snapshot_landed,
    store_batch,
    with_duplicates_marked,
    write_ingest_records,
)
from pipelines.core.ops.locking import exclusive_build
from pipelines.core.ops.resolve import ledger_ids, ledger_sources
from pipelines.core.ops.settings import Paths, build_date
from pipelines.core.publish.catalog import RELEASE_DIFF, TABLES
from pipelines.core.publish.licences import source_licences
from pipelines.core.publish.parts import (
    changed_part_files,
    in_part_order,
    labels_of,
    manifest_parts,
    paper_parts,
)
from pipelines.core.publish.release import (
    DIFF_FILE,
    PublishedRelease,
    open_release,
    publish_release,
)
from pipelines.core.publish.warehouse import (
    WarehouseLoad,
    build_warehouse,
    held_release,
    layout_fingerprint,
    update_warehouse,
    warehouse_counts,
)

progress = logging.getLogger("trending_papers.progress")
# how many files make one progress line
PROGRESS_BATCH = 50
DEFAULT_RELEASES_KEPT = 10
# the suites' results of the last validated build, published with the release
VALIDATION_FILE = "validation.json"

# the scope of a validation of every row of a table
ALL_ROWS = "all rows"
# every table of the data dictionary is published, in its order
PUBLISHED_TABLES = tuple(TABLES)


@dataclass(frozen=True)
class BuildSummary:
    files_read: int
    files_quarantined: int
    entries_kept: int
    entries_rejected: int
    tables: dict[str, int]
    release: PublishedRelease | None
    warehouse: Path | None
    # how the tables were curated: everything, or which part again (describe_curation)
    curation: str = ""
    # how the warehouse was brought to the release: rebuilt, updated or unchanged
    warehouse_load: str = ""


def snapshot_files(paths: Paths, landed: Sequence[LandedFile]) -> list[RawRecord]:
    """Snapshot each landed file's bytes; report progress per batch of files."""
    records = []
    for done, item in enumerate(landed, start=1):
        records.append(snapshot_landed(paths, item))
        if done % PROGRESS_BATCH == 0 or done == len(landed):
            progress.info("snapshot: %d/%d files read", done, len(landed))
    return records


def store_files(
    paths: Paths, parsed: ParsedBatch, first_sequence: int | None = None
) -> list[FileRecord]:
    """Store a batch of parsed files, numbered in ingest order from ``first_sequence``; they
    count as ingested once :func:`finish_ingest` records them.

    A build storing several batches passes the running number: finding the next one reads every
    ingest record, which costs once per build, not once per batch.
    """
    remove_leftovers(paths.ingest_dir)
    remove_leftovers(paths.snapshots_dir)
    first = next_ingest_sequence(paths) if first_sequence is None else first_sequence
    return store_batch(paths, parsed, first) if parsed.files else []


class BuildBlocked(RuntimeError):
    """The rejects of a run passed the run's threshold (see breaker.py): nothing is recorded."""

    def __init__(self, verdict: RunVerdict) -> None:
        self.verdict = verdict
        super().__init__(verdict.describe())


def judge_run(parsed: Sequence[ParsedFile]) -> RunVerdict:
    """What the rejects of a run's files say (``parsed`` may have released its entries:
    ``ParsedFile.without_entries``; only counts and rejects are read)."""
    verdict = run_verdict([item.rejects for item in parsed], sum(p.entries_read for p in parsed))
    progress.info("ingest: %s", verdict.describe())
    return verdict


def finish_ingest(paths: Paths, verdict: RunVerdict, records: Sequence[FileRecord]) -> None:
    """Record a run's files as ingested, unless its verdict blocks it."""
    if not verdict.blocked:
        before = load_file_records(paths)
        write_ingest_records(paths, records)
        prune_batches(paths, before, records)


@dataclass(frozen=True)
class Curation:
    """The curated tables of a build, the state the next build curates from, and, for an
    incremental build, what it curated again (None: everything was curated)."""

    tables: dict[str, pl.DataFrame]
    state: CurationState
    increment: Increment | None
    # per paper table, the parts whose rows may have changed (None: all of them may have)
    changed_parts: dict[str, set[str]] | None = None
    # the papers whose embedding or neighbour list changed (None: any may have)
    relisted: pl.Series | None = None


def curate_store(paths: Paths, *, full: bool = False) -> Curation:
    """Build every published table from all ingested files.

    Incrementally when the previous build of the same code left its state: only the papers
    that the changed files touch are curated again (``curate/incremental.py``). ``full`` (or
    ``PAPERS_FULL_BUILD=1``) curates everything, as does a build after a change of code.
    """
    records = with_duplicates_marked(load_file_records(paths))
    files_now = pl.DataFrame(
        [{name: getattr(record, name) for name in FILE_VERSION_COLUMNS} for record in records],
        schema={"file_key": pl.String(), "ingest_sequence": pl.Int64(), "status": pl.String()},
    ).sort("file_key")
    previous = None if full or full_build_requested() else _previous_curation(paths)
    # the arXiv ids the title look-ups found or an operator pinned (landing/resolutions/)
    looked_up = ledger_ids(paths.landing_dir)
    changed_parts = None
    if previous is None:
        earlier = _previous_build(paths)
        tables, state, increment = _curate_everything(paths, records, files_now, looked_up, earlier)
        # a vector depends on its text alone: those of unchanged texts are kept
        known = None
        if earlier is not None:
            texts = earlier.papers.select("paper_id", "title", "abstract").collect()
            known = (texts, earlier.tables["paper_embeddings"])
        neighbours = neighbour_tables(tables["papers"], known)
    else:
        tables, state, increment, labels = _curate_increment(
            paths, records, files_now, looked_up, *previous
        )
        neighbours, neighbour_labels = _update_neighbours(tables["papers"], increment, previous[1])
        changed_parts = {name: labels for name in CURATED_ORDER}
        changed_parts |= {name: labels | neighbour_labels[name] for name in NEIGHBOUR_ORDER}
    tables |= {"paper_embeddings": neighbours.embeddings, "similar_papers": neighbours.similar}
    # the published order: by part, then by key within a part (an increment's spliced tables
    # are in it already)
    parts = paper_parts(tables["papers"])
    for name in tables if previous is None else NEIGHBOUR_ORDER:
        tables[name] = in_part_order(name, tables[name], parts)
    # the licence of each file: declared by a sidecar, else the default of its kind of source
    files = listing_files_table(records)
    tables["listing_files"] = files.with_columns(source_licences(files)["licence"])
    tables["rejects"] = rejects_table(paths, records)
    tables["repairs"] = repairs_table(paths, records)
    curation = Curation(tables, state, increment, changed_parts, neighbours.changed)
    progress.info("curate: %s", describe_curation(curation))
    progress.info(
        "curate: %s papers embedded (%s), their 10 nearest papers listed",
        f"{neighbours.embedded:,}",
        MODEL,
    )
    progress.info(
        "curate: %s", ", ".join(f"{name} {frame.height:,} rows" for name, frame in tables.items())
    )
    return curation


def rows_to_validate(curation: Curation, table: str) -> tuple[pl.DataFrame, str]:
    """The rows of ``table`` a build validates, and what they are.

    After an incremental build, the rows of the papers it curated again: every other row is
    the row the previous build validated. Each key of a paper table holds its paper's id, and
    each row refers only to its own paper (foreign keys, claim spans, repository counts), so
    no unchanged row can newly repeat a key or lose its paper; the suites still read the whole
    tables they refer to. The file tables are small and validated whole, as is everything after
    a full build.
    """
    frame = curation.tables[table]
    if curation.increment is None:
        return frame, ALL_ROWS
    if table in NEIGHBOUR_ORDER and curation.relisted is not None:
        # a list that held a paper now changed or gone was listed again, so the others still
        # point at papers that exist
        relisted = curation.relisted.to_frame("paper_id")
        changed = frame.join(relisted, on="paper_id", how="semi", maintain_order="left")
        return changed, f"the {relisted.height:,} papers listed again, of {frame.height:,} rows"
    if table not in CURATED_ORDER:
        return frame, ALL_ROWS
    papers = curation.increment.papers
    changed = frame.join(papers, on="paper_id", how="semi", maintain_order="left")
    return changed, f"the {papers.height:,} papers curated again, of {frame.height:,} rows"


def describe_curation(curation: Curation) -> str:
    """How a build curated: everything, or which part of the history again."""
    if curation.increment is None:
        return "full: every paper curated from the whole history"
    return summarise(
        curation.increment, curation.state.files.height, curation.tables["papers"].height
    )


def _curate_everything(
    paths: Paths,
    records: Sequence[FileRecord],
    files_now: pl.DataFrame,
    looked_up: pl.DataFrame,
    earlier: PreviousBuild | None,
) -> tuple[dict[str, pl.DataFrame], CurationState, None]:
    entries = scan_entries(paths, records)
    narrow = entries.select(STATE_ENTRY_COLUMNS)
    resolved = resolve_paper_ids(narrow, looked_up).collect(engine="streaming")
    tables = curate(
        entries,
        earlier,
        resolution=resolved.select(*ENTRY_KEY, "paper_id", "resolved_arxiv_id", "id_found_by"),
    ).as_dict()
    return tables, state_from_full(resolved, files_now), None


def _curate_increment(
    paths: Paths,
    records: Sequence[FileRecord],
    files_now: pl.DataFrame,
    looked_up: pl.DataFrame,
    state: CurationState,
    previous_parts: dict[str, dict[str, pl.DataFrame]],
) -> tuple[dict[str, pl.DataFrame], CurationState, Increment, set[str]]:
    """The tables with the papers the changed files touch curated again, and the labels of the
    parts that hold them, before the change and after it (a paper's rows lie in its part in
    every table)."""
    by_key = {record.file_key: record for record in records}
    changed = changed_files(state.files, files_now)
    changed_entries = (
        scan_entries(paths, [by_key[key] for key in changed if key in by_key])
        .select(STATE_ENTRY_COLUMNS)
        .collect()
    )
    increment = plan_increment(state, files_now, changed, changed_entries, looked_up)
    entries = scan_entries(paths, [by_key[key] for key in increment.files_to_read])
    fresh = curate(entries, resolution=increment.resolution)
    before = pl.concat(list(previous_parts["papers"].values()))
    labels = labels_of(before, increment.papers) | labels_of(fresh.papers, increment.papers)
    tables = splice(previous_parts, fresh, increment.papers, labels)
    return tables, increment.state, increment, labels


def _update_neighbours(
    papers: pl.DataFrame,
    increment: Increment,
    previous_parts: dict[str, dict[str, pl.DataFrame]],
) -> tuple[NeighbourTables, dict[str, set[str]]]:
    """The embeddings and neighbour lists after an increment, and per table the labels of the
    parts whose rows changed: a vector only where its text changed, but a list wherever a new
    paper entered it, in any part."""
    before = pl.concat(list(previous_parts["papers"].values()), rechunk=False)
    embeddings, similar = (
        pl.concat(list(previous_parts[name].values())) for name in NEIGHBOUR_ORDER
    )
    neighbours = neighbour_tables(
        papers, (before, embeddings), (similar, increment.papers["paper_id"])
    )

    def labels(paper_ids: pl.Series | None) -> set[str]:
        # None: vectors of another model, every paper was embedded again
        ids = papers.select("paper_id") if paper_ids is None else paper_ids.to_frame("paper_id")
        return labels_of(before, ids) | labels_of(papers, ids)

    return neighbours, {
        "paper_embeddings": labels(neighbours.revectored),
        "similar_papers": labels(neighbours.changed),
    }


def full_build_requested() -> bool:
    """Whether ``PAPERS_FULL_BUILD`` asks every table to be curated from the whole history."""
    return os.environ.get("PAPERS_FULL_BUILD", "").strip().lower() in {"1", "true", "yes"}


def _previous_curation(
    paths: Paths,
) -> tuple[CurationState, dict[str, dict[str, pl.DataFrame]]] | None:
    """The state and the paper tables (by part) the previous build of the same code left, or
    None (then everything is curated): none yet, another code version, or a file unreadable."""
    if not written_by(paths.curated_dir, code_version()):
        return None
    try:
        state = read_state(paths.curated_dir)
        parts = {name: read_table_parts(paths.curated_dir, name) for name in PAPER_TABLE_ORDER}
    except (OSError, KeyError, ValueError, pl.exceptions.PolarsError):
        return None
    return state, parts


def _previous_build(paths: Paths) -> PreviousBuild | None:
    """The previous build's curated tables, when the same code made them (a change of code may
    change what is derived, so everything is derived again then): what a full build may reuse
    (claims and topics of unchanged abstracts, vectors of unchanged texts)."""
    if not written_by(paths.curated_dir, code_version()):
        return None
    try:
        return PreviousBuild(
            papers=read_table(paths.curated_dir, "papers").lazy(),
            tables={
                name: read_table(paths.curated_dir, name)
                for name in ("claims", "paper_topics", "paper_embeddings")
            },
        )
    except (OSError, KeyError, ValueError, pl.exceptions.PolarsError):
        return None


def write_curated(paths: Paths, curation: Curation) -> None:
    """Write the curated tables (the parts that may have changed) and the curation state."""
    remove_leftovers(paths.curated_dir)
    # results of an earlier validation do not describe these tables
    (paths.curated_dir / VALIDATION_FILE).unlink(missing_ok=True)
    store_tables(
        paths.curated_dir,
        curation.tables,
        curation.state,
        code_version(),
        curation.changed_parts,
    )


def write_validation(paths: Paths, outcomes: Sequence[dict[str, object]]) -> None:
    """Keep the validation results of the curated tables for the release that publishes them."""
    temporary = paths.curated_dir / f".{VALIDATION_FILE}.tmp"
    temporary.write_text(json.dumps(list(outcomes), indent=2, sort_keys=True, default=str))
    os.replace(temporary, paths.curated_dir / VALIDATION_FILE)


def read_curated(paths: Paths) -> dict[str, pl.DataFrame]:
    return {name: read_table(paths.curated_dir, name) for name in PUBLISHED_TABLES}


def publish(paths: Paths, tables: dict[str, pl.DataFrame]) -> PublishedRelease:
    """Publish the tables as a release (a no-op when the latest release holds the same data).

    ``tables`` are the curated tables as :func:`write_curated` wrote them (or read back by
    :func:`read_curated`): their files are copied into the release, not encoded again.
    """
    # the file ledger is one of the tables: the sources need not be read from disk again
    sources = tables["listing_files"].select("file_key", "sha256", "size", "status").to_dicts()
    # and the title look-ups' ledger files, which gave some papers their ids
    sources += ledger_sources(paths.landing_dir)
    validation_file = paths.curated_dir / VALIDATION_FILE
    validation = json.loads(validation_file.read_text()) if validation_file.exists() else []
    release = publish_release(
        tables,
        paths.releases_dir,
        sources=sources,
        code_version=code_version(),
        build_date=build_date(),
        created_at=build_time(),
        validation=validation,
        retention=releases_to_keep(),
        parts={
            name: list(parts.values())
            for name, parts in read_parts(paths.curated_dir).items()
            if name in tables
        },
    )
    progress.info(
        "release: %s %s", release.release_id, "published" if release.created else "unchanged"
    )
    return release


def load_warehouse(paths: Paths, release: PublishedRelease, *, full: bool = False) -> WarehouseLoad:
    """Bring the DuckDB file to ``release``: updated with the release diff when it holds the
    release the diff is against, in the same layout; rebuilt otherwise or when ``full`` or
    ``PAPERS_FULL_BUILD`` asks; left as it is when it already holds ``release``."""
    manifest = release.manifest
    table_files = {
        name: [part["file"] for part in manifest_parts(info)]
        for name, info in manifest["tables"].items()
    }
    has_diff = DIFF_FILE in manifest.get("documents", {})
    if has_diff:
        table_files[RELEASE_DIFF.name] = [DIFF_FILE]
    docs = {**TABLES, RELEASE_DIFF.name: RELEASE_DIFF}
    comments = {
        name: (doc.description, doc.columns) for name, doc in docs.items() if name in table_files
    }
    schemas = {name: info["schema"] for name, info in manifest["tables"].items()}
    stamp = (release.release_id, layout_fingerprint(schemas, comments))
    held = None if full or full_build_requested() else held_release(paths.warehouse_path)
    base = manifest.get("diff_base")
    if held == stamp:
        load = WarehouseLoad("unchanged", warehouse_counts(paths.warehouse_path, list(table_files)))
    elif has_diff and base is not None and held == (base, stamp[1]):
        before = open_release(paths.releases_dir / base).manifest["tables"]
        changed = changed_part_files(before, manifest["tables"])
        load = update_warehouse(
            release.path,
            paths.warehouse_path,
            {name: changed[name][1] for name in manifest["tables"]},
            {name: TABLES[name].key for name in manifest["tables"]},
            DIFF_FILE,
            stamp,
        )
    else:
        counts = build_warehouse(release.path, paths.warehouse_path, table_files, comments, stamp)
        load = WarehouseLoad("rebuilt", counts)
    progress.info("warehouse: %s %s", load.mode, paths.warehouse_path)
    return load


def releases_to_keep() -> int:
    """How many releases to keep: ``PAPERS_KEEP_RELEASES``, by default the last 10."""
    return int(os.environ.get("PAPERS_KEEP_RELEASES") or DEFAULT_RELEASES_KEPT)


def build_time() -> datetime:
    """The creation time written in a manifest: now, or ``SOURCE_DATE_EPOCH`` when set, so a
    rebuild of the same inputs can give the same manifest."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)


def code_version() -> str:
    """The package version and, in a git checkout, the commit the code was built from."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        package = version("trending-papers")
    except PackageNotFoundError:
        package = "unknown"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{package}+{commit}" if commit else package


def build_everything(paths: Paths, options: IngestOptions | None = None) -> BuildSummary:
    """The whole build without Dagster (and without its validation): for benchmarks and scripts."""
    options = options or IngestOptions()
    with exclusive_build(paths.data_dir):
        return _build_everything(paths, options)


def _build_everything(paths: Paths, options: IngestOptions) -> BuildSummary:
    landed, _refused = scan_landing(paths.landing_dir)
    # like the orchestrated build: only new or changed files are read
    raw = snapshot_files(paths, [item for item, _digest in pending_files(paths, landed)])
    sequence = next_ingest_sequence(paths)
    parsed: list[ParsedFile] = []
    stored: list[FileRecord] = []
    # a batch at a time, so memory does not grow with the number of files
    for batch in parse_batches(paths, ingest_batches(raw), options):
        stored += store_files(paths, batch, sequence)
        sequence += len(batch.files)
        parsed += batch.files
    verdict = judge_run(parsed)
    finish_ingest(paths, verdict, stored)
    if verdict.blocked:
        raise BuildBlocked(verdict)
    curation = curate_store(paths)
    write_curated(paths, curation)
    tables = curation.tables
    release = publish(paths, tables)
    load = load_warehouse(paths, release)
    files = tables["listing_files"]
    return BuildSummary(
        files_read=files.height,
        files_quarantined=files.filter(pl.col("status") == QUARANTINED).height,
        entries_kept=int(files["entries_kept"].sum()),
        entries_rejected=int(files["entries_rejected"].sum()),
        tables={name: frame.height for name, frame in tables.items()},
        release=release,
        warehouse=paths.warehouse_path,
        curation=describe_curation(curation),
        warehouse_load=load.mode,
    )
