"""The curated tables, rebuilt from every ingested file, validated before anything is published."""

from collections.abc import Iterator

import dagster as dg

from assets.ingest import OWNERS, listing_entries
from assets.metadata import counts_markdown, embedding_coverage, table_metadata
from expectations import suites
from expectations.checks import check_spec, run_suite_check
from pipelines.core.build import (
    PUBLISHED_TABLES,
    curate_store,
    describe_curation,
    rows_to_validate,
    write_curated,
    write_validation,
)
from pipelines.core.ingest.breaker import count_by_rule, repair_counts
from pipelines.core.ops.locking import exclusive_build
from pipelines.core.publish.catalog import TABLES
from pipelines.jobs import FULL_BUILD_TAG
from pipelines.resources import PipelineSettings

CURATED = PUBLISHED_TABLES


def full_build_asked(context: dg.AssetExecutionContext) -> bool:
    """Whether the run asks for a full build (the weekly schedule, ``build --full``)."""
    return context.run.tags.get(FULL_BUILD_TAG) == "true"


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            name,
            description=TABLES[name].description,
            deps=[listing_entries],
            group_name="curated",
            kinds={"polars", "parquet"},
            owners=OWNERS,
            metadata={"key": ",".join(TABLES[name].key)},
        )
        for name in CURATED
    ],
    # the curated tables are rewritten in the data folder: one writer at a time, like publishing
    pool="warehouse_writer",
    # a failed ERROR suite blocks the release and the warehouse; WARN suites report
    check_specs=[check_spec(spec) for spec in suites.CURATED_SUITES],
)
def curated_tables(
    context: dg.AssetExecutionContext, settings: PipelineSettings
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Build papers, observations, code links, the file ledger and the rejects from all entries."""
    with exclusive_build(settings.paths.data_dir, wait_seconds=settings.writer_wait_seconds):
        curation = curate_store(settings.paths, full=full_build_asked(context))
        write_curated(settings.paths, curation)
    tables = curation.tables
    for name in CURATED:
        metadata = table_metadata(tables[name])
        metadata["curation"] = dg.MetadataValue.text(describe_curation(curation))
        # what an operator asks first of rejects and repairs: which rules, how often
        if name == "rejects":
            counts = count_by_rule(tables[name], "reason")
            metadata["by_rule"] = dg.MetadataValue.md(counts_markdown(counts))
        elif name == "repairs":
            metadata["by_rule"] = dg.MetadataValue.md(counts_markdown(repair_counts(tables[name])))
        elif name == "papers":
            metadata |= embedding_coverage(tables["papers"], tables["paper_embeddings"])
        yield dg.MaterializeResult(asset_key=name, metadata=metadata)
    outcomes = []
    for spec in suites.CURATED_SUITES:
        frame, scope = rows_to_validate(curation, spec.table)
        result, outcome = run_suite_check(frame, spec, tables, scope)
        outcomes.append(outcome.as_record())
        if not outcome.success:
            context.log.error(outcome.describe())
        yield result
    # the release publishes the results of the suites that validated its tables
    with exclusive_build(settings.paths.data_dir, wait_seconds=settings.writer_wait_seconds):
        write_validation(settings.paths, outcomes)
