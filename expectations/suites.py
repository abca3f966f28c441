"""The expectation suites, built in Python, one or two per table, with the frame each one reads.

An ERROR suite checks the pipeline's own invariants: keys present and unique, foreign keys, the
accounting of every file, claim spans, and the formats and bounds the field contracts
(pipelines/core/ingest/contracts.py) guarantee. Its failure means the pipeline broke something,
so it blocks publishing. Bounds that real data can exceed (a listing dated in the future, a very
short title, a paper listed for months) are in WARN suites, which report and never block: dirt
from upstream is repaired or rejected by the contracts, where it is. Thresholds are named constants
with the reason for their value. A suite names the columns
it reads; long text is checked by length only and cross-table rules (foreign keys, accounting)
through boolean columns derived with Polars, so validation converts no long text to pandas.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from pipelines.core.arxiv import VERSIONLESS_ID
from pipelines.core.curate.claims import CLAIM_UNITS
from pipelines.core.curate.model import ID_SOURCES
from pipelines.core.curate.similarity import NEIGHBOURS
from pipelines.core.ingest.contracts import (
    DROPPED,
    MAX_ABSTRACT_CHARS,
    MAX_COUNT,
    MAX_TITLE_CHARS,
    REPAIRED,
)
from pipelines.core.ops.settings import build_date

if TYPE_CHECKING:
    import great_expectations as gx

# the first paper of the daily list is from 2023; 2017 leaves room for archives of older pages
EARLIEST_LISTING = dt.datetime(2017, 1, 1)
# a listing is dated at most a day or two ahead of UTC (time zones of the capturing machine)
LISTING_DAYS_AHEAD = 2
# real titles have a few words; a shorter one ("AI") is possible but worth a look
MIN_PLAUSIBLE_TITLE_CHARS = 3
# the archive's papers link at most 3 repositories; more usually means a survey's list of links
MAX_PLAUSIBLE_REPOSITORIES = 5
# a real abstract is rarely under 300 characters; under 100 is a cut-off or a placeholder
MIN_PLAUSIBLE_ABSTRACT_CHARS = 100
# a paper on the daily list stays a few days; two months on the lists deserves a look
MAX_PLAUSIBLE_DAYS_LISTED = 60
PAPER_ID_FORMAT = f"^(?:{VERSIONLESS_ID[1:-1]}|title:.+)$"
ARXIV_ID_FORMAT = VERSIONLESS_ID
SHA256_FORMAT = r"^[0-9a-f]{64}$"
URL_FORMAT = r"^https://[^\s/$.?#][^\s]*$"
SOURCE_FORMATS = ["hf_daily_api", "hf_papers_page"]
LINK_KINDS = ["repository", "profile", "project_page", "dataset", "model", "demo"]
PROVENANCES = ["api_githubRepo", "api_projectPage", "capture_link", "abstract"]
ALIAS_KINDS = ["arxiv_id", "arxiv_id_versioned", "title_key", "title"]
FILE_STATUSES = ["ingested", "quarantined", "duplicate"]
TOPIC_KIND_VALUES = ["task", "modality", "keyword"]
TOPIC_SOURCES = ["taxonomy_title", "taxonomy_abstract", "api_ai_keywords"]

Tables = Mapping[str, pl.DataFrame]
Derive = Callable[[pl.DataFrame, Tables], pl.DataFrame]


@dataclass(frozen=True)
class SuiteSpec:
    """A suite, its severity, and what it reads of a table (and of the other tables)."""

    name: str
    table: str
    columns: tuple[str, ...]
    expectations: Callable[[], list[Any]] = field(repr=False)
    length_columns: tuple[str, ...] = ()
    derive: Derive | None = field(default=None, repr=False)
    severity: str = "ERROR"

    @property
    def blocking(self) -> bool:
        return self.severity == "ERROR"

    def build(self) -> gx.ExpectationSuite:
        import great_expectations as gx

        return gx.ExpectationSuite(name=self.name, expectations=self.expectations())


def _latest_listing() -> dt.datetime:
    # the build's date, not the clock's: the same build gives the same results past midnight
    today = dt.datetime.combine(build_date(), dt.time())
    return today + dt.timedelta(days=LISTING_DAYS_AHEAD)


def _gx() -> Any:
    import great_expectations as gx

    return gx.expectations


def _listing_dates(column: str) -> Any:
    return _gx().ExpectColumnValuesToBeBetween(
        column=column, min_value=EARLIEST_LISTING, max_value=_latest_listing()
    )


def _title_lengths() -> list[Any]:
    """The lengths the title and abstract contracts guarantee (a longer title rejects its entry,
    a longer abstract is dropped)."""
    e = _gx()
    return [
        e.ExpectColumnValuesToNotBeNull(column="title_length"),
        e.ExpectColumnValuesToBeBetween(
            column="title_length", min_value=1, max_value=MAX_TITLE_CHARS
        ),
        e.ExpectColumnValuesToBeBetween(column="abstract_length", max_value=MAX_ABSTRACT_CHARS),
    ]


def _counts(*columns: str) -> list[Any]:
    """The range the count contract guarantees: unusable counts are dropped."""
    e = _gx()
    return [
        e.ExpectColumnValuesToBeBetween(column=column, min_value=0, max_value=MAX_COUNT)
        for column in columns
    ]


def _known_paper(frame: pl.DataFrame, tables: Tables) -> pl.DataFrame:
    """``paper_known``: the row's paper_id exists in the papers table (a foreign key)."""
    papers = tables["papers"]["paper_id"].implode()
    return frame.with_columns(pl.col("paper_id").is_in(papers).alias("paper_known"))


def _foreign_key() -> Any:
    return _gx().ExpectColumnValuesToBeInSet(column="paper_known", value_set=[True])


def _listing_entries() -> list[Any]:
    e = _gx()
    return [
        e.ExpectColumnValuesToNotBeNull(column="source_file"),
        e.ExpectColumnValuesToBeInSet(column="source_format", value_set=SOURCE_FORMATS),
        e.ExpectCompoundColumnsToBeUnique(column_list=["source_file", "position"]),
        e.ExpectColumnValuesToBeBetween(column="position", min_value=1),
        e.ExpectColumnValuesToBeBetween(column="rank", min_value=1),
        e.ExpectColumnValuesToMatchRegex(column="arxiv_id", regex=ARXIV_ID_FORMAT),
        e.ExpectColumnValuesToNotBeNull(column="title_key"),
        *_title_lengths(),
        *_counts("upvotes", "comments"),
    ]


def _listing_entries_warn() -> list[Any]:
    e = _gx()
    return [
        _listing_dates("listed_on"),
        e.ExpectColumnValuesToBeBetween(column="title_length", min_value=MIN_PLAUSIBLE_TITLE_CHARS),
    ]


def _papers() -> list[Any]:
    e = _gx()
    return [
        e.ExpectColumnValuesToNotBeNull(column="paper_id"),
        e.ExpectColumnValuesToBeUnique(column="paper_id"),
        e.ExpectColumnValuesToMatchRegex(column="paper_id", regex=PAPER_ID_FORMAT),
        e.ExpectColumnValuesToBeUnique(column="arxiv_id"),
        e.ExpectColumnValuesToMatchRegex(column="arxiv_id", regex=ARXIV_ID_FORMAT),
        e.ExpectColumnValuesToBeInSet(column="id_source", value_set=list(ID_SOURCES)),
        *_title_lengths(),
        e.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="last_listed_on",
            column_B="first_listed_on",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
        e.ExpectColumnValuesToBeBetween(column="best_rank", min_value=1),
        e.ExpectColumnValuesToBeBetween(column="times_listed", min_value=1),
        *_counts("peak_upvotes"),
    ]


def _repository_counts(frame: pl.DataFrame, tables: Tables) -> pl.DataFrame:
    counts = (
        tables["code_links"]
        .filter(pl.col("kind") == "repository")
        .group_by("paper_id")
        .agg(pl.len().cast(pl.Int64).alias("repository_count"))
    )
    return frame.join(counts, on="paper_id", how="left").with_columns(
        pl.col("repository_count").fill_null(0)
    )


def _papers_warn_columns(frame: pl.DataFrame, tables: Tables) -> pl.DataFrame:
    """``repository_count`` and ``embedded`` (true when the paper has a vector, else null)."""
    vectors = tables["paper_embeddings"].filter(pl.col("vector").is_not_null())["paper_id"]
    return _repository_counts(frame, tables).with_columns(
        pl.when(pl.col("paper_id").is_in(vectors.implode())).then(True).alias("embedded")
    )


def _papers_warn() -> list[Any]:
    e = _gx()
    return [
        e.ExpectColumnValuesToBeBetween(
            column="repository_count", max_value=MAX_PLAUSIBLE_REPOSITORIES
        ),
        e.ExpectColumnValuesToBeBetween(
            column="abstract_length", min_value=MIN_PLAUSIBLE_ABSTRACT_CHARS
        ),
        e.ExpectColumnValuesToBeBetween(column="days_listed", max_value=MAX_PLAUSIBLE_DAYS_LISTED),
        _listing_dates("first_listed_on"),
        _listing_dates("last_listed_on"),
        e.ExpectColumnValuesToBeBetween(column="title_length", min_value=MIN_PLAUSIBLE_TITLE_CHARS),
        # a paper without a vector is missing from search and from every neighbour list
        e.ExpectColumnValuesToNotBeNull(column="embedded"),
    ]


def _observations() -> list[Any]:
    e = _gx()
    return [
        e.ExpectColumnValuesToNotBeNull(column="paper_id"),
        _foreign_key(),
        e.ExpectColumnValuesToNotBeNull(column="source_file"),
        e.ExpectCompoundColumnsToBeUnique(
            column_list=["paper_id", "source_file", "listed_on"],
            ignore_row_if="any_value_is_missing",
        ),
        e.ExpectColumnValuesToBeBetween(column="rank", min_value=1),
        *_counts("upvotes"),
    ]


def _code_links() -> list[Any]:
    e = _gx()
    return [
        e.ExpectColumnValuesToNotBeNull(column="paper_id"),
        _foreign_key(),
        e.ExpectCompoundColumnsToBeUnique(column_list=["paper_id", "url"]),
        e.ExpectColumnValuesToMatchRegex(column="url", regex=URL_FORMAT),
        e.ExpectColumnValuesToNotBeNull(column="host"),
        e.ExpectColumnValuesToBeInSet(column="kind", value_set=LINK_KINDS),
        e.ExpectColumnValuesToBeInSet(column="provenance", value_set=PROVENANCES),
    ]


def _paper_aliases() -> list[Any]:
    e = _gx()
    return [
        e.ExpectColumnValuesToNotBeNull(column="alias"),
        _foreign_key(),
        e.ExpectColumnValuesToBeInSet(column="alias_kind", value_set=ALIAS_KINDS),
        e.ExpectCompoundColumnsToBeUnique(column_list=["alias_kind", "alias", "paper_id"]),
    ]


def _accounted(frame: pl.DataFrame, tables: Tables) -> pl.DataFrame:
    """``accounted``: every entry read from the file was either kept or rejected."""
    return frame.with_columns(
        (pl.col("entries_read") == pl.col("entries_kept") + pl.col("entries_rejected")).alias(
            "accounted"
        )
    )


def _listing_files() -> list[Any]:
    e = _gx()
    return [
        e.ExpectColumnValuesToNotBeNull(column="file_key"),
        e.ExpectColumnValuesToBeUnique(column="file_key"),
        e.ExpectColumnValuesToMatchRegex(column="sha256", regex=SHA256_FORMAT),
        e.ExpectColumnValuesToBeInSet(column="status", value_set=FILE_STATUSES),
        e.ExpectColumnValuesToBeInSet(column="accounted", value_set=[True]),
    ]


def _paper_embeddings() -> list[Any]:
    e = _gx()
    return [
        e.ExpectColumnValuesToBeUnique(column="paper_id"),
        _foreign_key(),
        e.ExpectColumnValuesToNotBeNull(column="model"),
    ]


def _known_neighbours(frame: pl.DataFrame, tables: Tables) -> pl.DataFrame:
    """``paper_known`` and ``similar_paper_known`` (foreign keys) and ``itself`` (a paper
    listed as its own neighbour)."""
    papers = tables["papers"]["paper_id"].implode()
    return _known_paper(frame, tables).with_columns(
        pl.col("similar_paper_id").is_in(papers).alias("similar_paper_known"),
        (pl.col("similar_paper_id") == pl.col("paper_id")).alias("itself"),
    )


def _similar_papers() -> list[Any]:
    e = _gx()
    return [
        e.ExpectCompoundColumnsToBeUnique(column_list=["paper_id", "rank"]),
        _foreign_key(),
        e.ExpectColumnValuesToBeInSet(column="similar_paper_known", value_set=[True]),
        e.ExpectColumnValuesToBeInSet(column="itself", value_set=[False]),
        e.ExpectColumnValuesToBeBetween(column="rank", min_value=1, max_value=NEIGHBOURS),
        # a cosine, with float32's rounding
        e.ExpectColumnValuesToBeBetween(column="score", min_value=-1.001, max_value=1.001),
    ]


def _known_file(frame: pl.DataFrame, tables: Tables) -> pl.DataFrame:
    files = tables["listing_files"]["file_key"].implode()
    return frame.with_columns(pl.col("source_file").is_in(files).alias("file_known"))


def _rejects() -> list[Any]:
    e = _gx()
    return [
        e.ExpectColumnValuesToNotBeNull(column="source_file"),
        e.ExpectColumnValuesToBeInSet(column="file_known", value_set=[True]),
        e.ExpectColumnValuesToNotBeNull(column="reason"),
        e.ExpectCompoundColumnsToBeUnique(
            column_list=["source_file", "position"], ignore_row_if="any_value_is_missing"
        ),
    ]


def _repairs() -> list[Any]:
    e = _gx()
    return [
        e.ExpectColumnValuesToNotBeNull(column="source_file"),
        e.ExpectColumnValuesToBeInSet(column="file_known", value_set=[True]),
        e.ExpectColumnValuesToBeBetween(column="position", min_value=1),
        e.ExpectColumnValuesToNotBeNull(column="field"),
        e.ExpectColumnValuesToNotBeNull(column="rule"),
        e.ExpectColumnValuesToBeInSet(column="action", value_set=[REPAIRED, DROPPED]),
        e.ExpectCompoundColumnsToBeUnique(column_list=["source_file", "position", "field", "rule"]),
    ]


def _claim_spans(frame: pl.DataFrame, tables: Tables) -> pl.DataFrame:
    """``span_in_abstract``: the evidence is exactly the abstract's text at the claim's span."""
    abstracts = tables["papers"].select("paper_id", "abstract")
    return (
        _known_paper(frame, tables)
        .join(abstracts, on="paper_id", how="left")
        .with_columns(
            (
                (pl.col("span_start") >= 0)
                & (pl.col("span_end") <= pl.col("abstract").str.len_chars())
                & (
                    pl.col("abstract").str.slice(
                        pl.col("span_start"), pl.col("span_end") - pl.col("span_start")
                    )
                    == pl.col("evidence")
                )
            )
            .fill_null(False)
            .alias("span_in_abstract")
        )
    )


def _claims() -> list[Any]:
    e = _gx()
    return [
        e.ExpectColumnValuesToNotBeNull(column="paper_id"),
        _foreign_key(),
        e.ExpectCompoundColumnsToBeUnique(column_list=["paper_id", "claim_index"]),
        e.ExpectColumnValuesToNotBeNull(column="value"),
        e.ExpectColumnValuesToBeInSet(column="unit", value_set=list(CLAIM_UNITS)),
        e.ExpectColumnValuesToBeInSet(column="span_in_abstract", value_set=[True]),
    ]


def _paper_topics() -> list[Any]:
    e = _gx()
    return [
        e.ExpectColumnValuesToNotBeNull(column="topic"),
        _foreign_key(),
        e.ExpectCompoundColumnsToBeUnique(column_list=["paper_id", "topic", "source"]),
        e.ExpectColumnValuesToBeInSet(column="kind", value_set=TOPIC_KIND_VALUES),
        e.ExpectColumnValuesToBeInSet(column="source", value_set=TOPIC_SOURCES),
    ]


LISTING_ENTRIES = SuiteSpec(
    name="listing_entries.error",
    table="listing_entries",
    columns=("source_file", "source_format", "position", "rank", "arxiv_id", "title_key",
             "upvotes", "comments"),
    length_columns=("title", "abstract"),
    expectations=_listing_entries,
)  # fmt: skip
LISTING_ENTRIES_WARN = SuiteSpec(
    name="listing_entries.warn",
    table="listing_entries",
    columns=("listed_on",),
    length_columns=("title",),
    expectations=_listing_entries_warn,
    severity="WARN",
)
PAPERS = SuiteSpec(
    name="papers.error",
    table="papers",
    columns=("paper_id", "arxiv_id", "id_source", "first_listed_on", "last_listed_on",
             "best_rank", "times_listed", "peak_upvotes"),
    length_columns=("title", "abstract"),
    expectations=_papers,
)  # fmt: skip
PAPERS_WARN = SuiteSpec(
    name="papers.warn",
    table="papers",
    columns=(
        "paper_id",
        "days_listed",
        "repository_count",
        "first_listed_on",
        "last_listed_on",
        "embedded",
    ),
    length_columns=("title", "abstract"),
    expectations=_papers_warn,
    derive=_papers_warn_columns,
    severity="WARN",
)
OBSERVATIONS = SuiteSpec(
    name="observations.error",
    table="observations",
    columns=("paper_id", "paper_known", "source_file", "listed_on", "rank", "upvotes"),
    expectations=_observations,
    derive=_known_paper,
)
CODE_LINKS = SuiteSpec(
    name="code_links.error",
    table="code_links",
    columns=("paper_id", "paper_known", "url", "host", "kind", "provenance"),
    expectations=_code_links,
    derive=_known_paper,
)
PAPER_ALIASES = SuiteSpec(
    name="paper_aliases.error",
    table="paper_aliases",
    columns=("alias", "alias_kind", "paper_id", "paper_known"),
    expectations=_paper_aliases,
    derive=_known_paper,
)
LISTING_FILES = SuiteSpec(
    name="listing_files.error",
    table="listing_files",
    columns=("file_key", "sha256", "status", "accounted"),
    expectations=_listing_files,
    derive=_accounted,
)
REJECTS = SuiteSpec(
    name="rejects.error",
    table="rejects",
    columns=("source_file", "file_known", "position", "reason"),
    expectations=_rejects,
    derive=_known_file,
)
REPAIRS = SuiteSpec(
    name="repairs.error",
    table="repairs",
    columns=("source_file", "file_known", "position", "field", "rule", "action"),
    expectations=_repairs,
    derive=_known_file,
)
CLAIMS = SuiteSpec(
    name="claims.error",
    table="claims",
    columns=("paper_id", "paper_known", "claim_index", "value", "unit", "span_in_abstract"),
    expectations=_claims,
    derive=_claim_spans,
)
PAPER_TOPICS = SuiteSpec(
    name="paper_topics.error",
    table="paper_topics",
    columns=("paper_id", "paper_known", "topic", "kind", "source"),
    expectations=_paper_topics,
    derive=_known_paper,
)
PAPER_EMBEDDINGS = SuiteSpec(
    name="paper_embeddings.error",
    table="paper_embeddings",
    columns=("paper_id", "paper_known", "model"),
    expectations=_paper_embeddings,
    derive=_known_paper,
)
SIMILAR_PAPERS = SuiteSpec(
    name="similar_papers.error",
    table="similar_papers",
    columns=("paper_id", "paper_known", "rank", "similar_paper_known", "itself", "score"),
    expectations=_similar_papers,
    derive=_known_neighbours,
)

# the suites run on the curated tables, in this order
CURATED_SUITES = (
    PAPERS, PAPERS_WARN, OBSERVATIONS, CODE_LINKS, PAPER_ALIASES, CLAIMS, PAPER_TOPICS,
    PAPER_EMBEDDINGS, SIMILAR_PAPERS, LISTING_FILES, REJECTS, REPAIRS,
)  # fmt: skip
