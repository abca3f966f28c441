"""The daily schedule: fetch the latest listings; the landing-folder sensor then builds them."""

import dagster as dg

from pipelines.jobs import fetch_daily_papers_job

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
