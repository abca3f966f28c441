"""The schedules: fetch the latest listings every day (the landing-folder sensor then builds
them), and rebuild everything once a week."""

import dagster as dg

from pipelines.jobs import (
    FULL_BUILD_TAG,
    fetch_daily_papers_job,
    look_up_titles_job,
    publish_dataset_job,
)

daily_fetch_schedule = dg.ScheduleDefinition(
    name="daily_fetch_schedule",
    job=fetch_daily_papers_job,
    # the daily list of a day is complete in the morning UTC; yesterday is fetched again
    # so late upvotes and additions land too
    cron_schedule="30 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Fetches yesterday's and today's daily papers into the landing folder every "
    "morning; with the landing-folder sensor running, the new files are then built.",
)

weekly_full_build_schedule = dg.ScheduleDefinition(
    name="weekly_full_build_schedule",
    job=publish_dataset_job,
    # Sunday night, before the daily fetch
    cron_schedule="0 3 * * 0",
    execution_timezone="UTC",
    tags={FULL_BUILD_TAG: "true"},
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Once a week, curates every paper from the whole history, validates every row "
    "and rebuilds the warehouse; daily builds only update what their new files touch. It "
    "publishes the same data, so it makes no new release unless something was wrong.",
)

daily_title_lookup_schedule = dg.ScheduleDefinition(
    name="daily_title_lookup_schedule",
    job=look_up_titles_job,
    # after the daily fetch and the build it triggers, so today's title-only papers are known
    cron_schedule="30 7 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every morning after the fetch, looks up the arXiv ids of papers listed by title "
    "alone and lands the answers; the next build gives the papers their ids.",
)
