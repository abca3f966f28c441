"""Ingest assets: each landed file tracked on its own, then parsed into normalised entries.

Both are partitioned by file (one dynamic partition per file key) with a single-run backfill
policy, so hundreds of new files are processed together in one run, not one run each. Dagster
stores a run's metadata once per file it materialised, so it is kept short here: run totals and
previews of a few rows. Each file's own counts are in the ``listing_files`` table.
"""

from collections.abc import Iterator
from dataclasses import asdict

import dagster as dg
import polars as pl

from assets.metadata import column_schema, counts_markdown, markdown_preview
from expectations import suites
from expectations.checks import check_result, check_spec, run_suite_check
from expectations.validation import SuiteOutcome
from pipelines.core.build import finish_ingest, judge_run, snapshot_files, store_files
from pipelines.core.ingest.batches import ingest_batches, parse_batches
from pipelines.core.ingest.breaker import (
    RuleCount,
    RunVerdict,
    count_by_rule,
    merge_counts,
    repair_counts,
)
from pipelines.core.ingest.entries import ParsedFile
from pipelines.core.ingest.landing import scan_landing
from pipelines.core.ingest.store import (
    FileRecord,
    find_raw_record,
    forget_raw_record,
    is_current,
    load_file_records,
    next_ingest_sequence,
)
from pipelines.core.ops.locking import exclusive_build
from pipelines.core.schema import ENTRY_SCHEMA, REJECT_SCHEMA
from pipelines.partitions import listing_files_partitions
from pipelines.resources import PipelineSettings

OWNERS = ["team:data-platform"]
PREVIEW_ROWS = 5
# files listed in metadata (missing, refused, quarantined); the log and listing_files have all
LISTED_IN_METADATA = 20
PREVIEW_COLUMNS = ["rank", "listed_on", "arxiv_id", "title", "upvotes"]
# what is recorded of each file's snapshot
SNAPSHOT_SCHEMA: dict[str, pl.DataType] = {
    "file_key": pl.String(),
    "sha256": pl.String(),
    "size": pl.Int64(),
    "captured_on": pl.String(),
}


@dg.asset(
    partitions_def=listing_files_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="ingest",
    kinds={"python", "file"},
    owners=OWNERS,
    metadata={"dagster/column_schema": column_schema(SNAPSHOT_SCHEMA)},
)
def raw_listing_files(
    context: dg.AssetExecutionContext, settings: PipelineSettings
) -> dg.MaterializeResult:
    """Raw listing files as landed: for each file key, a snapshot of its bytes with their sha256,
    size and capture date. Everything downstream reads the snapshot, never the landing folder,
    so a file rewritten while the pipeline runs cannot be half read."""
    paths = settings.paths
    landed, refused = scan_landing(paths.landing_dir)
    by_key = {item.file_key: item for item in landed}
    wanted = context.partition_keys
    missing = [key for key in wanted if key not in by_key]
    for key in missing:
        # its ingested entries stay (history is kept); it is just not read again
        forget_raw_record(paths, key)
        context.log.warning(f"{key}: no longer in the landing folder; not read in this run")
    records = snapshot_files(paths, [by_key[key] for key in wanted if key in by_key])
    preview = pl.DataFrame(
        [
            {name: getattr(record, name) for name in SNAPSHOT_SCHEMA}
            for record in records[:PREVIEW_ROWS]
        ],
        schema=SNAPSHOT_SCHEMA,
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": dg.MetadataValue.int(len(records)),
            "preview": dg.MetadataValue.md(markdown_preview(preview, rows=PREVIEW_ROWS)),
            "missing_files": dg.MetadataValue.json(missing[:LISTED_IN_METADATA]),
            "refused_paths": dg.MetadataValue.json(
                [{"file_key": r.file_key, "reason": r.reason} for r in refused][:LISTED_IN_METADATA]
            ),
        }
    )


# the run-level circuit breaker as a check: it blocks publishing only on drift (breaker.py)
REJECT_SHARE_CHECK = dg.AssetCheckSpec(
    name="reject_share",
    asset="listing_entries",
    blocking=True,
    description="The share of entries this run rejected, across all its files. Over the "
    "threshold (a change upstream, not dirt) it fails as an ERROR and blocks publishing; under "
    "it, rejects are reported as a WARN.",
)


def reject_share_result(verdict: RunVerdict) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=REJECT_SHARE_CHECK.name,
        asset_key="listing_entries",
        passed=verdict.entries_rejected == 0,
        severity=dg.AssetCheckSeverity.ERROR if verdict.blocked else dg.AssetCheckSeverity.WARN,
        description=verdict.describe(),
        metadata={
            "entries_read": verdict.entries_read,
            "entries_rejected": verdict.entries_rejected,
            "share": dg.MetadataValue.float(round(verdict.share, 4)),
            "threshold": dg.MetadataValue.float(verdict.limit),
            "blocked": verdict.blocked,
            "by_rule": dg.MetadataValue.md(counts_markdown(verdict.by_rule)),
            # the same counts for programs (the CLI's summary of a blocked build)
            "rules": dg.MetadataValue.json([asdict(count) for count in verdict.by_rule]),
        },
    )


@dg.asset(
    partitions_def=listing_files_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[raw_listing_files],
    group_name="ingest",
    kinds={"polars", "parquet"},
    owners=OWNERS,
    metadata={"dagster/column_schema": column_schema(ENTRY_SCHEMA)},
    check_specs=[
        check_spec(suites.LISTING_ENTRIES),
        check_spec(suites.LISTING_ENTRIES_WARN),
        REJECT_SHARE_CHECK,
    ],
)
def listing_entries(
    context: dg.AssetExecutionContext, settings: PipelineSettings
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Normalised listing entries, one row per paper listed in a raw file, with the file, the
    position, the listing date, the arXiv id, title and abstract (cleaned, originals kept) and the
    counts the source shows. Entries that cannot be used are rejected with a reason; a file that
    cannot be read at all is quarantined. A file whose bytes were already ingested is skipped."""
    paths = settings.paths
    records = load_file_records(paths)
    ingested = {record.file_key: record for record in records}
    sequence = next_ingest_sequence(paths, records)
    raw = [record for key in context.partition_keys if (record := find_raw_record(paths, key))]
    changed = [
        record
        for record in raw
        if record.file_key not in ingested
        or not is_current(ingested[record.file_key], record.sha256)
    ]
    skipped = len(context.partition_keys) - len(changed)
    # files are parsed, validated and stored a batch at a time, so memory does not grow with
    # the number of files; a batch is stored only once its entries passed the suite
    outcomes: list[SuiteOutcome] = []
    warnings: list[SuiteOutcome] = []
    parsed: list[ParsedFile] = []
    stored: list[FileRecord] = []
    preview = pl.DataFrame(schema={name: ENTRY_SCHEMA[name] for name in PREVIEW_COLUMNS})
    entries_kept = 0
    repairs_by_rule: tuple[RuleCount, ...] = ()
    # a run with nothing new still validates (an empty batch), so its check has a result
    batches = ingest_batches(changed) or [[]]
    for batch in parse_batches(paths, batches, settings.ingest_options):
        entries = batch.entries
        _, outcome = run_suite_check(entries, suites.LISTING_ENTRIES)
        outcomes.append(outcome)
        warnings.append(run_suite_check(entries, suites.LISTING_ENTRIES_WARN)[1])
        if not outcome.success:
            context.log.error(f"entries not stored, validation failed: {outcome.describe()}")
            break
        with exclusive_build(paths.data_dir, wait_seconds=settings.writer_wait_seconds):
            stored += store_files(paths, batch, sequence)
        sequence += len(batch.files)
        entries_kept += entries.height
        if preview.height < PREVIEW_ROWS:
            preview = pl.concat([preview, entries.head(PREVIEW_ROWS).select(PREVIEW_COLUMNS)])
        repairs_by_rule = merge_counts(repairs_by_rule, repair_counts(batch.repairs))
        parsed.extend(batch.files)
    verdict = judge_run(parsed)
    # a batch that failed its suite was not stored: nothing of the run is recorded then
    if all(outcome.success for outcome in outcomes):
        with exclusive_build(paths.data_dir, wait_seconds=settings.writer_wait_seconds):
            finish_ingest(paths, verdict, stored)
    all_rejects = pl.concat([pl.DataFrame(schema=REJECT_SCHEMA), *(p.rejects for p in parsed)])
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": dg.MetadataValue.int(entries_kept),
            "preview": dg.MetadataValue.md(markdown_preview(preview, rows=PREVIEW_ROWS)),
            "rejects_by_rule": dg.MetadataValue.md(
                counts_markdown(count_by_rule(all_rejects, "reason"))
            ),
            "repairs_by_rule": dg.MetadataValue.md(counts_markdown(repairs_by_rule)),
            "quarantined": dg.MetadataValue.json(
                [
                    {"file_key": p.file_key, "reason": p.file_error}
                    for p in parsed
                    if p.file_error is not None
                ][:LISTED_IN_METADATA]
            ),
            "files_parsed": len(parsed),
            "files_skipped_unchanged": skipped,
            "files_quarantined": sum(p.file_error is not None for p in parsed),
            "entries_kept": entries_kept,
            "entries_rejected": sum(p.entry_rejects for p in parsed),
            "entries_repaired": sum(count.count for count in repairs_by_rule),
        }
    )
    yield check_result(suites.LISTING_ENTRIES, outcomes)
    yield check_result(suites.LISTING_ENTRIES_WARN, warnings)
    yield reject_share_result(verdict)
