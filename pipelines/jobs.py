"""Jobs: the whole build (new files through to the warehouse) as one run."""

from __future__ import annotations

import dagster as dg

from pipelines.partitions import listing_files_partitions

# a run with this tag set to "true" curates every paper from the whole history, validates every
# row and rebuilds the warehouse, instead of updating what the new files touch
FULL_BUILD_TAG = "trending_papers/full_build"

BUILD_JOB = "build_dataset"

build_dataset_job = dg.define_asset_job(
    BUILD_JOB,
    selection=dg.AssetSelection.groups("ingest", "curated", "publish"),
    partitions_def=listing_files_partitions,
    description="Ingest the given landed files, rebuild the curated tables, validate them, and "
    "publish the release and the warehouse when every blocking check passed.",
)

PUBLISH_JOB = "publish_dataset"

publish_dataset_job = dg.define_asset_job(
    PUBLISH_JOB,
    selection=dg.AssetSelection.groups("curated", "publish"),
    description="Rebuild the curated tables from every ingested file, validate them, and publish "
    "the release and the warehouse; for when no new file landed.",
)

FETCH_JOB = "fetch_daily_papers"

fetch_daily_papers_job = dg.define_asset_job(
    FETCH_JOB,
    selection=dg.AssetSelection.assets("daily_papers_fetch"),
    description="Fetch daily papers API responses (and the trending page when configured) into "
    "the landing folder.",
)

LOOKUP_JOB = "look_up_titles"

look_up_titles_job = dg.define_asset_job(
    LOOKUP_JOB,
    selection=dg.AssetSelection.assets("title_lookups"),
    description="Look up the arXiv ids of papers listed by title alone (Hugging Face papers "
    "search, then arXiv) and land the answers in the landing folder's look-up ledger.",
)
