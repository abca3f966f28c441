"""The curated tables, rebuilt from every ingested file, validated before anything is published."""

from collections.abc import Iterator

import dagster as dg

from assets.ingest import OWNERS, listing_entries
from assets.metadata import table_metadata
from expectations import suites
from expectations.checks import check_spec, run_suite_check
from pipelines.core.build import PUBLISHED_TABLES, curate_store, write_curated
from pipelines.core.catalog import TABLES
from pipelines.resources import PipelineSettings

# which suite guards which table; a failure of any blocks the release and the warehouse
SUITES = {
    "papers": suites.PAPERS,
    "observations": suites.OBSERVATIONS,
    "code_links": suites.CODE_LINKS,
}
CURATED = PUBLISHED_TABLES


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
    check_specs=[check_spec(spec, name) for name, spec in SUITES.items()],
)
def curated_tables(
    context: dg.AssetExecutionContext, settings: PipelineSettings
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Build papers, observations, code links, the file ledger and the rejects from all entries."""
    tables = curate_store(settings.paths)
    write_curated(settings.paths, tables)
    for name in CURATED:
        yield dg.MaterializeResult(asset_key=name, metadata=table_metadata(tables[name]))
    for name, spec in SUITES.items():
        result, outcome = run_suite_check(tables[name], spec, name)
        if not outcome.success:
            context.log.error(outcome.describe())
        yield result
