"""Resources shared by the assets: where the pipeline reads and writes, and operator settings."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from pipelines.core.ingest.entries import DEFAULT_MAX_FILE_BYTES, IngestOptions
from pipelines.core.ops.fetch import FetchSettings
from pipelines.core.ops.object_store import is_remote
from pipelines.core.ops.settings import Locations, Paths, locations_from_env, resolve_locations


class PipelineSettings(dg.ConfigurableResource):
    """The landing folder, the data folder and how raw files are read.

    Defaults come from ``PAPERS_LANDING_DIR``, ``PAPERS_DATA_DIR``, ``PAPERS_CAPTURE_YEAR`` and
    ``PAPERS_MAX_FILE_BYTES`` when the definitions are loaded.

    Either folder may be an ``s3://`` URL: ``paths`` then names its local mirror, which is pulled
    whenever the resource is set up (for each run, or each step of a multi-process run, and each
    sensor evaluation). Pushing back after a run is :class:`MirroredPipelineSettings`' job.
    """

    landing_dir: str
    data_dir: str
    # where s3:// folders are mirrored; unset: PAPERS_CACHE_DIR, else ~/.cache/trending-papers
    cache_dir: str | None = None
    capture_year: int | None = None
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    # how long an asset waits for another run writing the same data folder before failing
    writer_wait_seconds: float = 600.0

    @property
    def locations(self) -> Locations:
        """The folders as configured, with the local Paths the pipeline works on."""
        return resolve_locations(self.landing_dir, self.data_dir, self.cache_dir)

    @property
    def paths(self) -> Paths:
        if is_remote(self.landing_dir) or is_remote(self.data_dir):
            return self.locations.paths
        return Paths(landing_dir=Path(self.landing_dir), data_dir=Path(self.data_dir))

    @property
    def ingest_options(self) -> IngestOptions:
        return IngestOptions(max_file_bytes=self.max_file_bytes, capture_year=self.capture_year)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Pull the mirrors of ``s3://`` folders: the run or sensor sees what the bucket holds."""
        locations = self.locations
        if not locations.is_remote:
            return
        for report in locations.pull():
            if context.log is not None:
                context.log.info(report.describe())


class MirroredPipelineSettings(PipelineSettings):
    """The settings when a folder is an ``s3://`` URL: pulled at set-up like any settings, and
    pushed back when the resource is torn down at the end of a run (or of each step, with the
    multi-process or k8s executors).

    Landed files (a live fetch writes only validated files) are always pushed. The data folder
    is pushed only when no step of the run has failed so far: a failed blocking check leaves the
    bucket as it was. A sensor evaluation has no run and pushes nothing.

    This is a separate class because a resource with a teardown is a context-manager resource,
    which ``build_sensor_context(resources=...)`` cannot open outside a ``with`` block; local
    folders need no teardown, so :func:`settings_from_env` picks this class only for URLs.
    Dagster reports an exception raised here as a failed teardown of a successful run, so the
    CLI pushes again itself, and a push left undone is completed by the next run's push.
    """

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        run = context.dagster_run
        if run is None:
            return
        locations = self.locations
        reports = locations.push(data=False)
        if _failed_steps(context, run.run_id):
            if context.log is not None:
                context.log.warning(
                    f"{locations.data}: not pushed, a step of run {run.run_id} failed"
                )
        else:
            reports += locations.push(landing=False)
        for report in reports:
            if context.log is not None:
                context.log.info(report.describe())


def _failed_steps(context: dg.InitResourceContext, run_id: str) -> list[str]:
    """The steps of the run that failed so far, per the instance's event log."""
    if context.instance is None:
        return []
    events = context.instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    return [event.step_key or "" for event in events]


def settings_from_env() -> PipelineSettings:
    locations = locations_from_env()
    year = os.environ.get("PAPERS_CAPTURE_YEAR")
    max_bytes = os.environ.get("PAPERS_MAX_FILE_BYTES")
    settings_class = MirroredPipelineSettings if locations.is_remote else PipelineSettings
    return settings_class(
        landing_dir=locations.landing,
        data_dir=locations.data,
        capture_year=int(year) if year else None,
        max_file_bytes=int(max_bytes) if max_bytes else DEFAULT_MAX_FILE_BYTES,
    )


class HuggingFaceApi(dg.ConfigurableResource):
    """Where and how politely the live fetch reaches Hugging Face.

    Defaults come from ``PAPERS_HF_BASE_URL`` and ``PAPERS_TRENDING_URL`` when the definitions
    are loaded; tests point ``base_url`` at a local server.
    """

    base_url: str = "https://huggingface.co"
    trending_url: str | None = None
    min_interval_seconds: float = 1.0
    max_retries: int = 5
    backoff_factor: float = 1.0
    read_timeout_seconds: float = 30.0

    @property
    def fetch_settings(self) -> FetchSettings:
        return FetchSettings(
            base_url=self.base_url,
            trending_url=self.trending_url,
            min_interval=self.min_interval_seconds,
            max_retries=self.max_retries,
            backoff_factor=self.backoff_factor,
            read_timeout=self.read_timeout_seconds,
        )


def api_from_env() -> HuggingFaceApi:
    return HuggingFaceApi(
        base_url=os.environ.get("PAPERS_HF_BASE_URL") or "https://huggingface.co",
        trending_url=os.environ.get("PAPERS_TRENDING_URL") or None,
    )
