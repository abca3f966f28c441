"""From the bytes of one landed file to its normalised listing entries and its rejects.

This is the single entry point of parsing: it refuses what is not a listing (with a reason an
operator can act on), picks the parser for the format, normalises every column with Polars
expressions, and rejects single bad entries while keeping the good ones of the same file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import orjson
import polars as pl

from pipelines.core.arxiv import arxiv_id, arxiv_version
from pipelines.core.errors import FILE_UNREADABLE, ListingError, RejectedEntry
from pipelines.core.ingest.api_json import parse_api_json
from pipelines.core.ingest.breaker import FILE_REJECT_MIN, FILE_REJECT_SHARE, NOT_DRIFT
from pipelines.core.ingest.contracts import API_FORMAT, CAPTURE_FORMAT, apply_contracts
from pipelines.core.ingest.page_capture import CaptureContext, parse_page_capture
from pipelines.core.schema import ENTRY_SCHEMA, PARSED_ENTRY_SCHEMA, REJECT_SCHEMA, REPAIR_SCHEMA
from pipelines.core.text import title_key

# files above this size are refused unread: the largest real daily response is about 0.3 MB
DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024
# the version of the parsing rules: raised whenever parsing, the field contracts or the normal
# form change what a file gives, so that files ingested before are read again
PARSER_VERSION = 2
# the paper key given to entries that no source has yet tied to an arXiv id
TITLE_KEY_PREFIX = "title:"


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
    # the landed file's stat signature when it was read (see landing.LandedFile)
    stat_signature: str | None = None
    # what the contracts repaired or dropped in the kept entries (REPAIR_SCHEMA)
    repairs: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REPAIR_SCHEMA))

    # entries kept, remembered when the entries themselves are released (without_entries)
    kept: int | None = None

    @property
    def entries_kept(self) -> int:
        return self.entries.height if self.kept is None else self.kept

    @property
    def entries_read(self) -> int:
        return self.entries_kept + self.entry_rejects

    def without_entries(self) -> ParsedFile:
        """The same outcome without its entries and repairs (already stored), to keep memory
        small."""
        return replace(
            self,
            entries=self.entries.clear(),
            repairs=self.repairs.clear(),
            kept=self.entries_kept,
        )

    @property
    def entry_rejects(self) -> int:
        return self.rejects.filter(pl.col("position").is_not_null()).height


@dataclass
class ParsedBatch:
    """A batch of files as parsed, ready to be validated and stored together.

    ``files`` holds each file's outcome without its entries and repairs (its counts, rejects and
    error); ``entries`` and ``repairs`` hold those of every file, in file order, as one frame
    each: the ingest store writes them as they are, and a worker process hands over three frames
    instead of three per file.
    """

    files: list[ParsedFile]
    entries: pl.DataFrame
    repairs: pl.DataFrame

    @classmethod
    def of(cls, parsed: Sequence[ParsedFile]) -> ParsedBatch:
        return cls(
            [item.without_entries() for item in parsed],
            pl.concat([pl.DataFrame(schema=ENTRY_SCHEMA), *(item.entries for item in parsed)]),
            pl.concat([pl.DataFrame(schema=REPAIR_SCHEMA), *(item.repairs for item in parsed)]),
        )

    @property
    def rejects(self) -> pl.DataFrame:
        return pl.concat([pl.DataFrame(schema=REJECT_SCHEMA), *(f.rejects for f in self.files)])


def detect_format(data: bytes, file_key: str, max_bytes: int) -> tuple[str, str]:
    """Decode the bytes and tell which kind of listing they are: ``(format, text)``.

    Raises:
        ListingError: for an empty, oversized, binary, non-UTF-8 or HTML file.
    """
    if len(data) > max_bytes:
        raise ListingError(
            file_key,
            f"file is {len(data):,} bytes, over the limit of {max_bytes:,} bytes",
            rule="file.too_large",
        )
    if b"\x00" in data[:65536]:
        raise ListingError(
            file_key, "binary file (it contains NUL bytes), not a listing", rule="file.binary"
        )
    try:
        # utf-8-sig accepts, and drops, the byte-order mark some editors write
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ListingError(
            file_key,
            f"not UTF-8 text: byte 0x{data[error.start]:02x} at offset {error.start} is invalid",
            rule="file.not_utf8",
        ) from None
    head = text.lstrip()[:512]
    if not head:
        raise ListingError(file_key, "file is empty", rule="file.empty")
    lowered = head.lower()
    if lowered.startswith(("<!doctype html", "<html", "<head", "<body")) or (
        head.startswith("<") and "<html" in lowered
    ):
        raise ListingError(
            file_key, "an HTML page (an error page?) saved as a listing", rule="file.html_page"
        )
    named_json = file_key.lower().endswith(".json")
    # a text capture may start with a bracket too (a text browser's "[1]Hugging Face" link):
    # without a .json name, it is a response only when it is JSON
    if head[0] in "[{" and (named_json or _is_json(text)):
        return API_FORMAT, text
    if named_json:
        raise ListingError(
            file_key,
            "a .json file that is not a JSON list or object of papers",
            rule="file.not_json",
        )
    return CAPTURE_FORMAT, text


def _is_json(text: str) -> bool:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


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
    # what decoding repaired or dropped, by entry position (REPAIR_SCHEMA but the file)
    decode_repairs: pl.DataFrame | None = None
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
    batch = normalise_entries(
        [read.parsed for read in reads],
        [(read.file_key, read.sha256, read.source_format or "") for read in reads],
    )
    entries_of = batch.kept.partition_by("source_file", as_dict=True, include_key=True)
    invalid_of = batch.invalid.partition_by("source_file", as_dict=True, include_key=True)
    repairs_of = batch.repairs.partition_by("source_file", as_dict=True, include_key=True)
    # the batch-wide frames are copied into the per-file ones: free them before going on
    del batch
    # most files have no rejects and no repairs: they share these empty frames
    no_entries = pl.DataFrame(schema=ENTRY_SCHEMA)
    no_rejects = pl.DataFrame(schema=REJECT_SCHEMA)
    no_repairs = pl.DataFrame(schema=REPAIR_SCHEMA)
    parsed = []
    for read in reads:
        key = (read.file_key,)
        kept = entries_of.get(key, no_entries)
        rejects = invalid_of.get(key, no_rejects)
        if read.entry_rejects or read.file_error is not None:
            rejects = pl.concat([_rejects_frame(read), rejects]).sort("position")
        repairs = repairs_of.get(key, no_repairs)
        if read.decode_repairs is not None and read.decode_repairs.height:
            repairs = _with_decode_repairs(read, repairs, kept)
        page_kind = kept["page_kind"][0] if kept.height else None
        outcome = ParsedFile(
            read.file_key,
            read.sha256,
            read.size,
            read.source_format,
            kept,
            rejects,
            read.file_error,
            page_kind,
            repairs=repairs,
        )
        parsed.append(trip_breaker(outcome))
    return parsed


def _with_decode_repairs(
    read: _Read, column_repairs: pl.DataFrame, kept: pl.DataFrame
) -> pl.DataFrame:
    """The repairs of a file's kept entries: those of decoding, then those of the columns."""
    assert read.decode_repairs is not None
    decoded = (
        read.decode_repairs.with_columns(pl.lit(read.file_key).alias("source_file"))
        .select(list(REPAIR_SCHEMA))
        .join(kept.select("position"), on="position", how="semi")
    )
    return pl.concat([decoded, column_repairs]).sort("position", maintain_order=True)


# --- the circuit breaker for one file (see breaker.py) -----------------------------------------

TOO_MANY_REJECTS = "file.too_many_rejects"
HELD_BACK = "file.held_back"


def trip_breaker(parsed: ParsedFile) -> ParsedFile:
    """Quarantine a whole file whose share of rejected entries says its shape has changed.

    Its kept entries are held back (each a reject of its own, so every entry is still counted),
    and the reason names the threshold and the most common rules of its rejects.
    """
    # most files reject fewer entries than the breaker looks at: no need to count them
    if parsed.file_error is not None or parsed.rejects.height < FILE_REJECT_MIN:
        return parsed
    drift = parsed.rejects.filter(
        pl.col("position").is_not_null() & ~pl.col("rule").is_in(NOT_DRIFT)
    )
    read = parsed.entries_read - (parsed.entry_rejects - drift.height)
    if drift.height < FILE_REJECT_MIN or drift.height <= FILE_REJECT_SHARE * read:
        return parsed
    common = (
        drift.group_by("rule")
        .agg(pl.len().alias("count"), pl.col("reason").first())
        .sort("count", "rule", descending=[True, False])
        .head(3)
    )
    causes = "; ".join(
        f"{rule} x{count} (e.g. {reason})" for rule, count, reason in common.iter_rows()
    )
    reason = (
        f"{drift.height:,} of {read:,} entries rejected, over the {FILE_REJECT_SHARE:.0%} "
        f"threshold for one file: its shape has probably changed. Most common: {causes}"
    )
    held = parsed.entries.select(
        "source_file",
        "source_sha256",
        "position",
        pl.lit(None, dtype=pl.String).alias("field"),
        pl.lit(HELD_BACK).alias("rule"),
        pl.lit("held back: the file is quarantined for its share of rejected entries").alias(
            "reason"
        ),
        pl.coalesce(pl.col("title_raw"), pl.lit("")).str.slice(0, 300).alias("raw_excerpt"),
    )
    file_row = pl.DataFrame(
        [
            {
                "source_file": parsed.file_key,
                "source_sha256": parsed.sha256,
                "position": None,
                "field": None,
                "rule": TOO_MANY_REJECTS,
                "reason": reason,
                "raw_excerpt": "",
            }
        ],
        schema=REJECT_SCHEMA,
    )
    return replace(
        parsed,
        entries=parsed.entries.clear(),
        rejects=pl.concat([file_row, parsed.rejects, held]).sort("position"),
        repairs=parsed.repairs.clear(),
        file_error=reason,
        page_kind=None,
    )


def _read(item: ListingInput, options: IngestOptions) -> _Read:
    decode_repairs = None
    try:
        source_format, text = detect_format(item.data, item.file_key, options.max_file_bytes)
        if source_format == API_FORMAT:
            parsed, entry_rejects, decode_repairs = parse_api_json(text, item.file_key)
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
            file_error=error.reason,
            file_rule=error.rule,
        )
    return _Read(
        item.file_key,
        item.sha256,
        len(item.data),
        source_format,
        parsed,
        entry_rejects,
        decode_repairs,
    )


@dataclass(frozen=True)
class NormalisedEntries:
    """The entries of a batch of files after their contracts and normal form."""

    kept: pl.DataFrame  # ENTRY_SCHEMA
    invalid: pl.DataFrame  # REJECT_SCHEMA
    # repairs and dropped fields of the kept entries (REPAIR_SCHEMA)
    repairs: pl.DataFrame


def normalise_entries(
    parsed: Sequence[pl.DataFrame], sources: Sequence[tuple[str, str, str]]
) -> NormalisedEntries:
    """Hold the parsed entries of several files to their field contracts and bring them to their
    normal form, as whole columns; split off the entries that cannot be used, with a reason.

    Args:
        parsed: per file, its entries as the parser returned them (``PARSED_ENTRY_SCHEMA``,
            times typed or as text).
        sources: per file, in the same order, ``(file_key, sha256, source_format)``.

    Returns:
        Kept entries, rejected ones and the repairs of the kept ones, each in file order, then
        by position. A repeat is judged, and a rank counted, within its own file.
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
            [pl.DataFrame(schema=_PARSED_AS_READ)] + [_as_read(item) for item in parsed],
            rechunk=False,
        )
        .with_columns(file_of_row.alias("_file"))
        .join(files, on="_file", how="left", maintain_order="left")
        .with_row_index("_row")
    )
    checked = apply_contracts(frame, index="_row")
    del frame
    normal = (
        checked.entries.lazy()
        .with_columns(
            arxiv_id("arxiv_id").alias("arxiv_id"),
            arxiv_version("arxiv_id").alias("arxiv_version"),
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
    contract_rejects = checked.rejected.select(
        "_row",
        pl.struct("field", "rule", "reason").alias("_contract_reject"),
    )
    identity = pl.coalesce(pl.col("arxiv_id"), pl.col("title_key"))
    usable = pl.col("_contract_reject").is_null()
    repeat = pl.struct(
        pl.lit(None, dtype=pl.String).alias("field"),
        pl.lit("entry.repeat").alias("rule"),
        pl.lit("repeats an earlier entry of the same file").alias("reason"),
    )
    reason = (
        pl.when(~usable)
        .then(pl.col("_contract_reject"))
        .when(pl.col("_repeat"))
        .then(repeat)
        .otherwise(None)
    )
    frame = (
        normal.join(contract_rejects.lazy(), on="_row", how="left", maintain_order="left")
        .sort("_file", "position")
        # unusable entries are no paper: they neither repeat nor are repeated
        .with_columns(
            (~pl.when(usable).then(identity).is_first_distinct() & usable)
            .over("_file")
            .alias("_repeat")
        )
        .with_columns(
            reason.alias("reject_reason"),
            # the rank is the place on the page: a broken entry still took its place, but
            # repeated blocks do not push later papers down
            (pl.col("position") - pl.col("_repeat").cast(pl.Int32).cum_sum().over("_file"))
            .cast(pl.Int32)
            .alias("rank"),
        )
        .collect()
    )
    kept = frame.filter(pl.col("reject_reason").is_null())
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
    repairs = (
        checked.repairs.join(kept.select("_row", "source_file", "position"), on="_row")
        .sort("_row", maintain_order=True)
        .select(list(REPAIR_SCHEMA))
    )
    return NormalisedEntries(kept.select(list(ENTRY_SCHEMA)), invalid, repairs)


# times are read from text by their contracts; a parser may give them typed already
_TIMES = ("published_at", "submitted_on_daily_at")
_PARSED_AS_READ = {**PARSED_ENTRY_SCHEMA, **dict.fromkeys(_TIMES, pl.String())}


def _as_read(parsed: pl.DataFrame) -> pl.DataFrame:
    """A parser's entries with times as ISO text, the form their contracts read."""
    return parsed.select(
        pl.col(name).dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        if name in _TIMES and parsed.schema[name] != pl.String()
        else pl.col(name)
        for name in PARSED_ENTRY_SCHEMA
    )


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
