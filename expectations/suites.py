"""The expectation suites, built in Python, one per table, with the frame each one reads.

Thresholds are named constants with the reason for their value. A suite names the columns it
reads and the text columns it checks by length only, so validation converts no long text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipelines.core.arxiv import VERSIONLESS_ID
from pipelines.core.entries import MAX_TITLE_CHARS as ENTRY_MAX_TITLE_CHARS

if TYPE_CHECKING:
    import great_expectations as gx

# the first paper of the daily list is from 2023; 2017 leaves room for archives of older pages
EARLIEST_LISTING = dt.datetime(2017, 1, 1)
# a listing is dated at most a day or two ahead of UTC (time zones of the capturing machine)
LISTING_DAYS_AHEAD = 2
# entries with longer titles are rejected at parsing, so a longer one here is a bug
MAX_TITLE_CHARS = ENTRY_MAX_TITLE_CHARS
MIN_TITLE_CHARS = 3
# arXiv abstracts are limited to 1920 characters; captures and the API add little, so 10k is absurd
MAX_ABSTRACT_CHARS = 10_000
PAPER_ID_FORMAT = f"^(?:{VERSIONLESS_ID}|title:.+)$"
URL_FORMAT = r"^https://[^\s/$.?#][^\s]*$"
SOURCE_FORMATS = ["hf_daily_api", "hf_papers_page"]
LINK_KINDS = ["repository", "profile", "project_page", "dataset", "model", "demo"]
PROVENANCES = ["api_githubRepo", "api_projectPage", "capture_link", "abstract"]


@dataclass(frozen=True)
class SuiteSpec:
    """A suite and what it needs of a table."""

    name: str
    columns: tuple[str, ...]
    length_columns: tuple[str, ...] = ()
    build: Callable[[], gx.ExpectationSuite] = field(repr=False, default=lambda: None)  # type: ignore[assignment,return-value]


def _latest_listing() -> dt.datetime:
    today = dt.datetime.now(dt.UTC).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    return today + dt.timedelta(days=LISTING_DAYS_AHEAD)


def _listing_entries() -> gx.ExpectationSuite:
    import great_expectations as gx

    e = gx.expectations
    return gx.ExpectationSuite(
        name="listing_entries.error",
        expectations=[
            e.ExpectColumnValuesToNotBeNull(column="source_file"),
            e.ExpectColumnValuesToBeInSet(column="source_format", value_set=SOURCE_FORMATS),
            e.ExpectCompoundColumnsToBeUnique(column_list=["source_file", "position"]),
            e.ExpectColumnValuesToBeBetween(column="position", min_value=1),
            e.ExpectColumnValuesToBeBetween(column="rank", min_value=1),
            e.ExpectColumnValuesToMatchRegex(column="arxiv_id", regex=f"^(?:{VERSIONLESS_ID})$"),
            e.ExpectColumnValuesToNotBeNull(column="title_key"),
            e.ExpectColumnValuesToBeBetween(
                column="title_length", min_value=MIN_TITLE_CHARS, max_value=MAX_TITLE_CHARS
            ),
            e.ExpectColumnValuesToBeBetween(column="abstract_length", max_value=MAX_ABSTRACT_CHARS),
            e.ExpectColumnValuesToBeBetween(column="upvotes", min_value=0),
            e.ExpectColumnValuesToBeBetween(column="comments", min_value=0),
            e.ExpectColumnValuesToBeBetween(
                column="listed_on", min_value=EARLIEST_LISTING, max_value=_latest_listing()
            ),
        ],
    )


def _papers() -> gx.ExpectationSuite:
    import great_expectations as gx

    e = gx.expectations
    return gx.ExpectationSuite(
        name="papers.error",
        expectations=[
            e.ExpectColumnValuesToNotBeNull(column="paper_id"),
            e.ExpectColumnValuesToBeUnique(column="paper_id"),
            e.ExpectColumnValuesToMatchRegex(column="paper_id", regex=PAPER_ID_FORMAT),
            e.ExpectColumnValuesToBeUnique(column="arxiv_id"),
            e.ExpectColumnValuesToMatchRegex(column="arxiv_id", regex=f"^(?:{VERSIONLESS_ID})$"),
            e.ExpectColumnValuesToNotBeNull(column="title_length"),
            e.ExpectColumnValuesToBeBetween(
                column="title_length", min_value=MIN_TITLE_CHARS, max_value=MAX_TITLE_CHARS
            ),
            e.ExpectColumnValuesToBeBetween(column="abstract_length", max_value=MAX_ABSTRACT_CHARS),
            e.ExpectColumnValuesToBeBetween(
                column="first_listed_on", min_value=EARLIEST_LISTING, max_value=_latest_listing()
            ),
            e.ExpectColumnValuesToBeBetween(
                column="last_listed_on", min_value=EARLIEST_LISTING, max_value=_latest_listing()
            ),
            e.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="last_listed_on",
                column_B="first_listed_on",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
            e.ExpectColumnValuesToBeBetween(column="best_rank", min_value=1),
            e.ExpectColumnValuesToBeBetween(column="times_listed", min_value=1),
            e.ExpectColumnValuesToBeBetween(column="peak_upvotes", min_value=0),
        ],
    )


def _observations() -> gx.ExpectationSuite:
    import great_expectations as gx

    e = gx.expectations
    return gx.ExpectationSuite(
        name="observations.error",
        expectations=[
            e.ExpectColumnValuesToNotBeNull(column="paper_id"),
            e.ExpectColumnValuesToNotBeNull(column="source_file"),
            e.ExpectCompoundColumnsToBeUnique(
                column_list=["paper_id", "source_file", "listed_on"],
                ignore_row_if="any_value_is_missing",
            ),
            e.ExpectColumnValuesToBeBetween(column="rank", min_value=1),
            e.ExpectColumnValuesToBeBetween(column="upvotes", min_value=0),
            e.ExpectColumnValuesToBeBetween(
                column="listed_on", min_value=EARLIEST_LISTING, max_value=_latest_listing()
            ),
        ],
    )


def _code_links() -> gx.ExpectationSuite:
    import great_expectations as gx

    e = gx.expectations
    return gx.ExpectationSuite(
        name="code_links.error",
        expectations=[
            e.ExpectColumnValuesToNotBeNull(column="paper_id"),
            e.ExpectCompoundColumnsToBeUnique(column_list=["paper_id", "url"]),
            e.ExpectColumnValuesToMatchRegex(column="url", regex=URL_FORMAT),
            e.ExpectColumnValuesToNotBeNull(column="host"),
            e.ExpectColumnValuesToBeInSet(column="kind", value_set=LINK_KINDS),
            e.ExpectColumnValuesToBeInSet(column="provenance", value_set=PROVENANCES),
        ],
    )


LISTING_ENTRIES = SuiteSpec(
    name="listing_entries.error",
    columns=(
        "source_file",
        "source_format",
        "position",
        "rank",
        "arxiv_id",
        "title_key",
        "upvotes",
        "comments",
        "listed_on",
    ),
    length_columns=("title", "abstract"),
    build=_listing_entries,
)
PAPERS = SuiteSpec(
    name="papers.error",
    columns=(
        "paper_id",
        "arxiv_id",
        "first_listed_on",
        "last_listed_on",
        "best_rank",
        "times_listed",
        "peak_upvotes",
    ),
    length_columns=("title", "abstract"),
    build=_papers,
)
OBSERVATIONS = SuiteSpec(
    name="observations.error",
    columns=("paper_id", "source_file", "listed_on", "rank", "upvotes"),
    build=_observations,
)
CODE_LINKS = SuiteSpec(
    name="code_links.error",
    columns=("paper_id", "url", "host", "kind", "provenance"),
    build=_code_links,
)
