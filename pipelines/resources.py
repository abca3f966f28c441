"""Resources shared by the assets: where the pipeline reads and writes, and operator settings."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from pipelines.core.entries import DEFAULT_MAX_FILE_BYTES, IngestOptions
from pipelines.core.fetch import FetchSettings
from pipelines.core.settings import Paths, paths_from_env


class PipelineSettings(dg.ConfigurableResource):
    """The landing folder, the data folder and how raw files are read.

    Defaults come from ``PAPERS_LANDING_DIR``, ``PAPERS_DATA_DIR``, ``PAPERS_CAPTURE_YEAR`` and
    ``PAPERS_MAX_FILE_BYTES`` when the definitions are loaded.
    """

    landing_dir: str
    data_dir: str
    capture_year: int | None = None
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    # how long an asset waits for another run writing the same data folder before failing
    writer_wait_seconds: float = 600.0

    @property
    def paths(self) -> Paths:
        return Paths(landing_dir=Path(self.landing_dir), data_dir=Path(self.data_dir))

    @property
    def ingest_options(self) -> IngestOptions:
        return IngestOptions(max_file_bytes=self.max_file_bytes, capture_year=self.capture_year)


def settings_from_env() -> PipelineSettings:
    paths = paths_from_env()
    year = os.environ.get("PAPERS_CAPTURE_YEAR")
    max_bytes = os.environ.get("PAPERS_MAX_FILE_BYTES")
    return PipelineSettings(
        landing_dir=str(paths.landing_dir),
        data_dir=str(paths.data_dir),
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
