"""The Dagster definitions of the pipeline: the one entry point the UI, the CLI and tests load."""

from __future__ import annotations

import dagster as dg

from assets.curated import curated_tables
from assets.fetch import daily_papers_fetch, title_lookups
from assets.ingest import listing_entries, raw_listing_files
from assets.publish import release, warehouse
from pipelines.jobs import (
    build_dataset_job,
    fetch_daily_papers_job,
    look_up_titles_job,
    publish_dataset_job,
)
from pipelines.resources import api_from_env, settings_from_env
from pipelines.run_logs import run_log_file
from pipelines.schedules import (
    daily_fetch_schedule,
    daily_title_lookup_schedule,
    weekly_full_build_schedule,
)
from pipelines.sensors import landing_folder_sensor

defs = dg.Definitions(
    assets=[
        daily_papers_fetch,
        title_lookups,
        raw_listing_files,
        listing_entries,
        curated_tables,
        release,
        warehouse,
    ],
    jobs=[build_dataset_job, publish_dataset_job, fetch_daily_papers_job, look_up_titles_job],
    sensors=[landing_folder_sensor],
    schedules=[daily_fetch_schedule, weekly_full_build_schedule, daily_title_lookup_schedule],
    resources={"settings": settings_from_env(), "huggingface": api_from_env()},
    loggers={"console": dg.colored_console_logger, "run_log_file": run_log_file},
)
