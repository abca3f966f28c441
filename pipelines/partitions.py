"""Partitions: one dynamic partition per landed raw listing file, keyed by its file key."""

from __future__ import annotations

import dagster as dg

LISTING_FILES_PARTITION = "listing_files"

listing_files_partitions = dg.DynamicPartitionsDefinition(name=LISTING_FILES_PARTITION)
