"""From the bytes of one landed file to its normalised listing entries and its rejects.

This is the single entry point of parsing: it refuses what is not a listing (with a reason an
operator can act on), picks the parser for the format, normalises every column with Polars
expressions, and rejects single bad entries while keeping the good ones of the same file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

import polars as pl

from pipelines.core.api_json import parse_api_json
from pipelines.core.arxiv import arxiv_id, arxiv_version
from pipelines.core.errors import FILE_UNREADABLE, ListingError, RejectedEntry
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


@dataclass(frozen=True)
class ListingInput:
    """One landed file to read: its bytes and what is known about it before reading."""

    data: bytes
    file_key: str
    sha256: str
    captured_on: date | None = None


@dataclass(frozen=True)
class _Read:
    """A file as its parser returned it: entries as written, or why the file is unreadable."""

    file_key: str
    sha256: str
    size: int
    source_format: str | None
    parsed: pl.DataFrame
    entry_rejects: Sequence[RejectedEntry]
    file_error: str | None = None
    file_rule: str | None = None


def parse_file(
    data: bytes,
    file_key: str,
    sha256: str,
    *,
    captured_on: date | None = None,
    options: IngestOptions | None = None,
) -> ParsedFile:
    """Read one landed file. Never raises for bad input: a bad file comes back with a file_error."""
    return parse_listings([ListingInput(data, file_key, sha256, captured_on)], options)[0]


def parse_listings(
    inputs: Iterable[ListingInput], options: IngestOptions | None = None
) -> list[ParsedFile]:
    """Read landed files, in order; their entries are normalised together, as whole columns.

    Files are decoded one at a time (their bytes are dropped as soon as they are parsed) and
    normalised in one pass: a few hundred small files cost one set of column operations, not one
    per file. The result is the same as reading each file alone. Never raises for bad input.
    """
    options = options or IngestOptions()
    reads = [_read(item, options) for item in inputs]
    entries, invalid = normalise_entries(
        [read.parsed for read in reads],
        [(read.file_key, read.sha256, read.source_format or "") for read in reads],
    )
    entries_of = entries.partition_by("source_file", as_dict=True, include_key=True)
    invalid_of = invalid.partition_by("source_file", as_dict=True, include_key=True)
    # the batch-wide frames are copied into the per-file ones: free them before going on
    del entries, invalid
    parsed = []
    for read in reads:
        kept = entries_of.get((read.file_key,), pl.DataFrame(schema=ENTRY_SCHEMA))
        rejects = pl.concat(
            [
                _rejects_frame(read),
                invalid_of.get((read.file_key,), pl.DataFrame(schema=REJECT_SCHEMA)),
            ]
        ).sort("position")
        page_kind = kept["page_kind"][0] if kept.height else None
        parsed.append(
            ParsedFile(
                read.file_key,
                read.sha256,
                read.size,
                read.source_format,
                kept,
                rejects,
                read.file_error,
                page_kind,
            )
        )
    return parsed


def _read(item: ListingInput, options: IngestOptions) -> _Read:
    try:
        source_format, text = detect_format(item.data, item.file_key, options.max_file_bytes)
        if source_format == API_FORMAT:
            parsed, entry_rejects = parse_api_json(text, item.file_key)
        else:
            context = CaptureContext(item.file_key, item.captured_on, options.capture_year)
            parsed, entry_rejects = parse_page_capture(text, context)
    except ListingError as error:
        return _Read(
            item.file_key,
            item.sha256,
            len(item.data),
            None,
            pl.DataFrame(schema=PARSED_ENTRY_SCHEMA),
            [],
            error.reason,
            error.rule,
        )
    return _Read(item.file_key, item.sha256, len(item.data), source_format, parsed, entry_rejects)


def normalise_entries(
    parsed: Sequence[pl.DataFrame], sources: Sequence[tuple[str, str, str]]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Normalise the parsed entries of several files as whole columns; split off the invalid
    ones with a reason.

    Args:
        parsed: per file, its entries as the parser returned them (``PARSED_ENTRY_SCHEMA``).
        sources: per file, in the same order, ``(file_key, sha256, source_format)``.

    Returns:
        ``(kept, invalid)``: kept entries (``ENTRY_SCHEMA``) and rejected ones
        (``REJECT_SCHEMA``), both in file order, then by position. A repeat is judged, and a
        rank counted, within its own file.
    """
    files = pl.DataFrame(
        {
            "_file": pl.Series(range(len(sources)), dtype=pl.UInt32),
            "source_file": [source[0] for source in sources],
            "source_sha256": [source[1] for source in sources],
            "source_format": [source[2] for source in sources],
        }
    )
    # which file each row comes from; a file without entries adds no row (explode turns its
    # empty list into a null, dropped)
    file_of_row = (
        files.select(
            pl.col("_file").repeat_by(pl.Series([frame.height for frame in parsed])).explode()
        )
        .to_series()
        .drop_nulls()
    )
    frame = (
        pl.concat(
            [pl.DataFrame(schema=PARSED_ENTRY_SCHEMA)]
            + [item.select(list(PARSED_ENTRY_SCHEMA)) for item in parsed],
            rechunk=False,
        )
        .lazy()
        .with_columns(file_of_row.alias("_file"))
        .join(files.lazy(), on="_file", how="left", maintain_order="left")
        .with_columns(
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
    # (field, rule, reason) of the first check an entry fails, in this order
    checks: list[tuple[pl.Expr, str | None, str, pl.Expr]] = [
        (pl.col("title").fill_null("") == "", "title", "title.missing", pl.lit("title is missing")),
        (
            pl.col("title").str.len_chars() > MAX_TITLE_CHARS,
            "title",
            "title.too_long",
            pl.format(
                "title is {} characters long, over {}",
                pl.col("title").str.len_chars(),
                pl.lit(MAX_TITLE_CHARS),
            ),
        ),
        (
            pl.col("title_key").fill_null("") == "",
            "title",
            "title.no_letters",
            pl.lit("title has no letters or digits"),
        ),
        (
            pl.col("arxiv_id_raw").is_not_null() & pl.col("arxiv_id").is_null(),
            "arxiv_id",
            "arxiv_id.invalid",
            pl.format("'{}' is not an arXiv id", pl.col("arxiv_id_raw").str.slice(0, 80)),
        ),
        (
            (pl.col("source_format") == API_FORMAT) & pl.col("arxiv_id_raw").is_null(),
            "arxiv_id",
            "arxiv_id.missing",
            pl.lit("arXiv id (paper.id) is missing"),
        ),
        (
            pl.col("upvotes") < 0,
            "upvotes",
            "upvotes.negative",
            pl.format("upvote count {} is negative", pl.col("upvotes")),
        ),
        (
            pl.col("comments") < 0,
            "comments",
            "comments.negative",
            pl.format("comment count {} is negative", pl.col("comments")),
        ),
        (
            pl.col("_repeat"),
            None,
            "entry.repeat",
            pl.lit("repeats an earlier entry of the same file"),
        ),
    ]
    reason: pl.Expr = pl.lit(
        None, dtype=pl.Struct({"field": pl.String, "rule": pl.String, "reason": pl.String})
    )
    for condition, field, rule, message in reversed(checks):
        reason = (
            pl.when(condition)
            .then(
                pl.struct(
                    pl.lit(field, dtype=pl.String).alias("field"),
                    pl.lit(rule).alias("rule"),
                    message.alias("reason"),
                )
            )
            .otherwise(reason)
        )
    frame = (
        frame.sort("_file", "position")
        .with_columns((~identity.is_first_distinct()).over("_file").alias("_repeat"))
        .with_columns(
            reason.alias("reject_reason"),
            # the rank is the place on the page: repeated blocks do not push later papers down
            (~pl.col("_repeat")).cast(pl.Int32).cum_sum().over("_file").alias("rank"),
        )
        .collect()
    )
    kept = frame.filter(pl.col("reject_reason").is_null()).select(list(ENTRY_SCHEMA))
    invalid = frame.filter(pl.col("reject_reason").is_not_null()).select(
        pl.col("source_file"),
        pl.col("source_sha256"),
        pl.col("position"),
        pl.col("reject_reason").struct.field("field"),
        pl.col("reject_reason").struct.field("rule"),
        pl.col("reject_reason").struct.field("reason"),
        pl.coalesce(pl.col("title_raw"), pl.col("raw_entry"), pl.lit(""))
        .str.slice(0, 300)
        .alias("raw_excerpt"),
    )
    return kept, invalid


def _rejects_frame(read: _Read) -> pl.DataFrame:
    """The rejects a parser reported: the whole file, or single entries of it."""
    rows: list[tuple[int | None, str | None, str, str, str]] = [
        (item.position, None, item.rule, item.reason, item.excerpt) for item in read.entry_rejects
    ]
    if read.file_error is not None:
        rows.append((None, None, read.file_rule or FILE_UNREADABLE, read.file_error, ""))
    return pl.DataFrame(
        [
            {
                "source_file": read.file_key,
                "source_sha256": read.sha256,
                "position": position,
                "field": field,
                "rule": rule,
                "reason": reason,
                "raw_excerpt": excerpt,
            }
            for position, field, rule, reason, excerpt in rows
        ],
        schema=REJECT_SCHEMA,
    )
