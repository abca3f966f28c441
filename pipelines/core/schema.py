"""Column schemas shared by the parsers and the curated tables."""

from __future__ import annotations

import polars as pl

UTC_TIMESTAMP = pl.Datetime("us", "UTC")

# what a listing shows of a paper besides its identity and text, as the source gives it
_LISTED_FIELDS: dict[str, pl.DataType] = {
    "authors": pl.List(pl.String()),
    "published_at": UTC_TIMESTAMP,
    "upvotes": pl.Int64(),
    "comments": pl.Int64(),
    "github_repo_raw": pl.String(),
    "project_page_raw": pl.String(),
    "ai_keywords": pl.List(pl.String()),
    "submitted_on_daily_at": UTC_TIMESTAMP,
    "github_stars": pl.Int64(),
    "author_count": pl.Int32(),
    "organization": pl.String(),
    "submitted_by": pl.String(),
    "capture_links": pl.List(pl.String()),
}

# what a parser returns for one file, before normalisation: one row per listed entry, as written
PARSED_ENTRY_SCHEMA: dict[str, pl.DataType] = {
    "position": pl.Int32(),
    "page_kind": pl.String(),
    "listed_on": pl.Date(),
    "listed_month_day": pl.String(),
    "arxiv_id_raw": pl.String(),
    "title_raw": pl.String(),
    "abstract_raw": pl.String(),
    **_LISTED_FIELDS,
    "raw_entry": pl.String(),
}

# the normalised listing entry kept for a file (see entries.normalise_entries); the raw columns
# keep the text exactly as read
ENTRY_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "source_sha256": pl.String(),
    "source_format": pl.String(),
    "page_kind": pl.String(),
    "position": pl.Int32(),
    "rank": pl.Int32(),
    "listed_on": pl.Date(),
    "listed_month_day": pl.String(),
    "listed_year_known": pl.Boolean(),
    "arxiv_id": pl.String(),
    "arxiv_version": pl.Int32(),
    "title": pl.String(),
    "title_key": pl.String(),
    "abstract": pl.String(),
    **_LISTED_FIELDS,
    "title_raw": pl.String(),
    "abstract_raw": pl.String(),
    "arxiv_id_raw": pl.String(),
    "raw_entry": pl.String(),
}

# an entry (or a whole file) that was not kept, and why
REJECT_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "source_sha256": pl.String(),
    "position": pl.Int32(),
    "field": pl.String(),
    "rule": pl.String(),
    "reason": pl.String(),
    "raw_excerpt": pl.String(),
}

# a change the pipeline made to a value from upstream: repaired, or dropped as unusable (see
# pipelines/core/ingest/contracts.py)
REPAIR_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "position": pl.Int32(),
    "field": pl.String(),
    "rule": pl.String(),
    "action": pl.String(),
    "value_before": pl.String(),
    "value_after": pl.String(),
}
