"""The licence of each source file, so data under different licences can be told apart: a
sidecar's declaration, else the default of its kind of source."""

from __future__ import annotations

import re

import polars as pl

# Licence of a source file's content, by the kind of source. The bundled daily-API responses
# come from a public archive distributed under the Apache License 2.0 (data/NOTICE.md), so they
# carry its licence. Captures of the papers page are Hugging Face's own pages: no licence is
# granted, their reuse is governed by the Hugging Face terms of service. A daily-API response
# fetched live (not from the archive) is not covered by the archive's licence either: give such
# files a `licence` value in the listing_files frame, which overrides this mapping.
SOURCE_LICENCES: dict[str, str] = {
    "hf_daily_api": "Apache-2.0",
    "hf_papers_page": "unknown (Hugging Face terms of service)",
}
# an unreadable file (no source_format) or a kind of source this mapping does not know yet
UNKNOWN_LICENCE = "unknown"
LICENCE_OVERRIDE_COLUMN = "licence"


def source_licences(listing_files: pl.DataFrame) -> pl.DataFrame:
    """The ``sources`` table: the licence of each landed source file.

    Joined to ``observations.source_file`` (or ``rejects.source_file``) on ``file_key``, it tells
    which rows come from which licence, so data under different licences can be separated.

    Args:
        listing_files: The ``listing_files`` table (``file_key``, ``source_format``); an optional
            ``licence`` column overrides :data:`SOURCE_LICENCES` where it is not null.

    Returns:
        Columns ``file_key``, ``source_format``, ``licence``, one row per file, sorted by key.
    """
    by_format = (
        pl.col("source_format")
        .replace_strict(SOURCE_LICENCES, default=None, return_dtype=pl.String())
        .fill_null(UNKNOWN_LICENCE)
    )
    licence = (
        pl.coalesce(pl.col(LICENCE_OVERRIDE_COLUMN).cast(pl.String()), by_format)
        if LICENCE_OVERRIDE_COLUMN in listing_files.columns
        else by_format
    )
    return listing_files.select(
        pl.col("file_key").cast(pl.String()),
        pl.col("source_format").cast(pl.String()),
        licence.alias("licence"),
    ).sort("file_key")


# Hugging Face licence ids (the `license:` of a dataset card) and the URL Croissant records
LICENCE_URLS: dict[str, str] = {
    "apache-2.0": "https://www.apache.org/licenses/LICENSE-2.0",
    "mit": "https://opensource.org/license/mit",
    "cc-by-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "cc-by-sa-4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
    "cc-by-nc-4.0": "https://creativecommons.org/licenses/by-nc/4.0/",
    "cc0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "odc-by": "https://opendatacommons.org/licenses/by/1-0/",
    "odbl": "https://opendatacommons.org/licenses/odbl/1-0/",
    "pddl": "https://opendatacommons.org/licenses/pddl/1-0/",
}


def licence_url(licence: str) -> str:
    if re.match(r"^https?://", licence):
        return licence
    return LICENCE_URLS.get(licence.lower(), licence)
