"""Publishing: the immutable Parquet release and the analysts' DuckDB file."""

import dagster as dg

from assets.curated import CURATED, full_build_asked
from assets.ingest import OWNERS
from pipelines.core.build import load_warehouse, publish, read_curated
from pipelines.core.ops.locking import exclusive_build
from pipelines.core.publish.release import latest_release, open_release
from pipelines.resources import PipelineSettings

# one writer of the data folder at a time across runs (deploy/dagster.yaml limits the pool to 1)
WRITER_POOL = "warehouse_writer"


@dg.asset(
    deps=[dg.AssetKey(name) for name in CURATED],
    pool=WRITER_POOL,
    group_name="publish",
    kinds={"parquet"},
    owners=OWNERS,
)
def release(settings: PipelineSettings) -> dg.MaterializeResult:
    """The public release: one zstd Parquet file per curated table under
    ``releases/<release id>/`` with a manifest (rows, bytes, sha256, schema per file), and the
    ``releases/latest`` pointer switched to it once it is complete and verified. When the data
    equals the latest release, no new release is made."""
    with exclusive_build(settings.paths.data_dir, wait_seconds=settings.writer_wait_seconds):
        published = publish(settings.paths, read_curated(settings.paths))
    return dg.MaterializeResult(
        metadata={
            "release_id": published.release_id,
            "new_release": published.created,
            "path": dg.MetadataValue.path(str(published.path)),
            "rows": dg.MetadataValue.json(published.row_counts),
        }
    )


@dg.asset(deps=[release], pool=WRITER_POOL, group_name="publish", kinds={"duckdb"}, owners=OWNERS)
def warehouse(
    context: dg.AssetExecutionContext, settings: PipelineSettings
) -> dg.MaterializeResult:
    """The analysts' DuckDB file ``warehouse/papers.duckdb``: the tables of the latest release,
    with a comment on every table and column, replaced atomically."""
    paths = settings.paths
    latest = latest_release(paths.releases_dir)
    if latest is None:
        raise dg.Failure("no release to load: materialise the release first")
    with exclusive_build(paths.data_dir, wait_seconds=settings.writer_wait_seconds):
        load = load_warehouse(paths, open_release(latest), full=full_build_asked(context))
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(paths.warehouse_path)),
            "release_id": latest.name,
            # rebuilt from the release, updated with its diff, or already holding it
            "load": load.mode,
            "rows_deleted": load.rows_deleted,
            "rows_inserted": load.rows_inserted,
            "rows": dg.MetadataValue.json(load.counts),
        }
    )
