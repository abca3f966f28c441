"""From the bytes of one landed file to its normalised listing entries and its rejects.

This is the single entry point of parsing: it refuses what is not a listing (with a reason an
operator can act on), picks the parser for the format, normalises every column with Polars
expressions, and rejects single bad entries while keeping the good ones of the same file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

import polars as pl

from pipelines.core.api_json import parse_api_json
from pipelines.core.arxiv import arxiv_id, arxiv_version
from pipelines.core.errors import ListingError
from pipelines.core.page_capture import CaptureContext, parse_page_capture
from pipelines.core.schema import ENTRY_SCHEMA, PARSED_ENTRY_SCHEMA, REJECT_SCHEMA
from pipelines.core.text import clean_text, title_key

API_FORMAT = "hf_daily_api"
CAPTURE_FORMAT = "hf_papers_page"
# files above this size are refused unread: the largest real daily response is about 0.3 MB
DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024
# the paper key given to entries that no source has yet tied to an arXiv id
TITLE_KEY_PREFIX = "title:"
# real titles are under 300 characters; a longer "title" is a parsing accident or hostile input
MAX_TITLE_CHARS = 1_000


@dataclass(frozen=True)
class IngestOptions:
    """Operator settings that change how a file is read."""

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    capture_year: int | None = None


@dataclass
class ParsedFile:
    """The outcome of reading one landed file: kept entries, rejected entries, and a summary."""

    file_key: str
    sha256: str
    size: int
    source_format: str | None
    entries: pl.DataFrame
    rejects: pl.DataFrame
    file_error: str | None = None
    page_kind: str | None = None
    licence: str | None = None

    # entries kept, remembered when the entries themselves are released (without_entries)
    kept: int | None = None

    @property
    def entries_kept(self) -> int:
        return self.entries.height if self.kept is None else self.kept

    @property
    def entries_read(self) -> int:
        return self.entries_kept + self.entry_rejects

    def without_entries(self) -> ParsedFile:
        """The same outcome without its entries (already stored), to keep memory small."""
        return replace(self, entries=self.entries.clear(), kept=self.entries_kept)

    @property
    def entry_rejects(self) -> int:
        return self.rejects.filter(pl.col("position").is_not_null()).height


def detect_format(data: bytes, file_key: str, max_bytes: int) -> tuple[str, str]:
    """Decode the bytes and tell which kind of listing they are: ``(format, text)``.

    Raises:
        ListingError: for an empty, oversized, binary, non-UTF-8 or HTML file.
    """
    if len(data) > max_bytes:
        raise ListingError(
            file_key, f"file is {len(data):,} bytes, over the limit of {max_bytes:,} bytes"
        )
    if b"\x00" in data[:65536]:
        raise ListingError(file_key, "binary file (it contains NUL bytes), not a listing")
    try:
        # utf-8-sig accepts, and drops, the byte-order mark some editors write
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ListingError(
            file_key,
            f"not UTF-8 text: byte 0x{data[error.start]:02x} at offset {error.start} is invalid",
        ) from None
    head = text.lstrip()[:512]
    if not head:
        raise ListingError(file_key, "file is empty")
    lowered = head.lower()
    if lowered.startswith(("<!doctype html", "<html", "<head", "<body")) or (
        head.startswith("<") and "<html" in lowered
    ):
        raise ListingError(file_key, "an HTML page (an error page?) saved as a listing")
    if head[0] in "[{":
        return API_FORMAT, text
    if file_key.lower().endswith(".json"):
        raise ListingError(file_key, "a .json file that is not a JSON list or object of papers")
    return CAPTURE_FORMAT, text


def parse_file(
    data: bytes,
    file_key: str,
    sha256: str,
    *,
    captured_on: date | None = None,
    options: IngestOptions | None = None,
) -> ParsedFile:
    """Read one landed file. Never raises for bad input: a bad file comes back with a file_error."""
    options = options or IngestOptions()
    try:
        source_format, text = detect_format(data, file_key, options.max_file_bytes)
        if source_format == API_FORMAT:
            parsed, entry_rejects = parse_api_json(text, file_key)
        else:
            context = CaptureContext(file_key, captured_on, options.capture_year)
            parsed, entry_rejects = parse_page_capture(text, context)
    except ListingError as error:
        return ParsedFile(
            file_key=file_key,
            sha256=sha256,
            size=len(data),
            source_format=None,
            entries=pl.DataFrame(schema=ENTRY_SCHEMA),
            rejects=_rejects_frame(file_key, sha256, [(None, error.reason, "")]),
            file_error=error.reason,
        )
    entries, invalid = normalise_entries(parsed, file_key, sha256, source_format)
    rejects = pl.concat([_rejects_frame(file_key, sha256, entry_rejects), invalid]).sort("position")
    page_kind = entries["page_kind"][0] if entries.height else None
    return ParsedFile(file_key, sha256, len(data), source_format, entries, rejects, None, page_kind)


def normalise_entries(
    parsed: pl.DataFrame, file_key: str, sha256: str, source_format: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Normalise parsed entries as whole columns and split off the invalid ones with a reason."""
    frame = (
        parsed.select(list(PARSED_ENTRY_SCHEMA))
        .with_columns(
            pl.lit(file_key).alias("source_file"),
            pl.lit(sha256).alias("source_sha256"),
            pl.lit(source_format).alias("source_format"),
            arxiv_id("arxiv_id_raw").alias("arxiv_id"),
            arxiv_version("arxiv_id_raw").alias("arxiv_version"),
            clean_text("title_raw").alias("title"),
            clean_text("abstract_raw").alias("abstract"),
            pl.col("listed_on").is_not_null().alias("listed_year_known"),
        )
        .with_columns(
            title_key("title").alias("title_key"),
            pl.when(pl.col("listed_on").is_not_null())
            .then(pl.col("listed_on").dt.strftime("%m-%d"))
            .otherwise(pl.col("listed_month_day"))
            .alias("listed_month_day"),
        )
    )
    identity = pl.coalesce(pl.col("arxiv_id"), pl.col("title_key"))
    reason = (
        pl.when(pl.col("title").fill_null("") == "")
        .then(pl.lit("title is missing"))
        .when(pl.col("title").str.len_chars() > MAX_TITLE_CHARS)
        .then(
            pl.format(
                "title is {} characters long, over {}",
                pl.col("title").str.len_chars(),
                pl.lit(MAX_TITLE_CHARS),
            )
        )
        .when(pl.col("title_key").fill_null("") == "")
        .then(pl.lit("title has no letters or digits"))
        .when(pl.col("arxiv_id_raw").is_not_null() & pl.col("arxiv_id").is_null())
        .then(pl.format("'{}' is not an arXiv id", pl.col("arxiv_id_raw").str.slice(0, 80)))
        .when(pl.lit(source_format == API_FORMAT) & pl.col("arxiv_id_raw").is_null())
        .then(pl.lit("arXiv id (paper.id) is missing"))
        .when(pl.col("upvotes") < 0)
        .then(pl.format("upvote count {} is negative", pl.col("upvotes")))
        .when(pl.col("comments") < 0)
        .then(pl.format("comment count {} is negative", pl.col("comments")))
        .when(pl.col("_repeat"))
        .then(pl.lit("repeats an earlier entry of the same file"))
        .otherwise(None)
    )
    frame = (
        frame.sort("position")
        .with_columns((~identity.is_first_distinct()).alias("_repeat"))
        .with_columns(
            reason.alias("reject_reason"),
            # the rank is the place on the page: repeated blocks do not push later papers down
            (~pl.col("_repeat")).cast(pl.Int32).cum_sum().alias("rank"),
        )
    )
    kept = frame.filter(pl.col("reject_reason").is_null()).select(list(ENTRY_SCHEMA))
    invalid = frame.filter(pl.col("reject_reason").is_not_null()).select(
        pl.col("source_file"),
        pl.col("source_sha256"),
        pl.col("position"),
        pl.col("reject_reason").alias("reason"),
        pl.coalesce(pl.col("title_raw"), pl.col("raw_entry"), pl.lit(""))
        .str.slice(0, 300)
        .alias("raw_excerpt"),
    )
    return kept, invalid


def _rejects_frame(
    file_key: str, sha256: str, rejects: Sequence[tuple[int | None, str, str]]
) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "source_file": file_key,
                "source_sha256": sha256,
                "position": position,
                "reason": reason,
                "raw_excerpt": excerpt,
            }
            for position, reason, excerpt in rejects
        ],
        schema=REJECT_SCHEMA,
    )
