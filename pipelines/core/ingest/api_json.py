"""Parser for responses of the Hugging Face daily papers API (``/api/daily_papers?date=...``).

The archive holds three shapes of the same response: a JSON list of objects; a JSON list whose items
are Python-repr strings of those objects (December 2024 to January 2025); and a wrapped object
``{"status", "date", "count", "data": [...]}``. Any other shape (another wrapper, items without a
``paper`` object) refuses the whole file: guessing at a shape not seen would publish wrong data.

Fields appear over time: each entry's original JSON is kept in ``raw_entry`` for fields not yet
known. Values are decoded to their fields' types through ``contracts.Decoder``, which repairs
what it can (a count sent as text), drops what it cannot, and rejects the entry when its title or
arXiv id is unusable; the contracts check the rest as whole columns.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from datetime import date
from typing import Any, NamedTuple

import orjson
import polars as pl

from pipelines.core.errors import ListingError, RejectedEntry
from pipelines.core.ingest.contracts import API_FORMAT, Decoder, EntryRejected
from pipelines.core.schema import PARSED_ENTRY_SCHEMA

# a repr-string entry above this size is refused rather than evaluated: real entries are < 100 kB
MAX_REPR_ENTRY_CHARS = 1_000_000

_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def listing_date_from_name(file_key: str) -> date | None:
    """The listing date carried by a file name such as ``hf-daily-api/2024-05-27.json``."""
    match = _DATE_IN_NAME.search(file_key.rsplit("/", 1)[-1])
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


class ParsedResponse(NamedTuple):
    """One API response as read: its entries (times still as text), rejected entries, and the
    values whose type was repaired or dropped while decoding (see ``contracts.Decoder``)."""

    entries: pl.DataFrame
    rejects: list[RejectedEntry]
    repairs: pl.DataFrame


def parse_api_json(data: str, file_key: str) -> ParsedResponse:
    """Parse one API response into parsed entries, rejected entries and decoding repairs.

    Raises:
        ListingError: when the file as a whole is not a daily papers response.
    """
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise ListingError(file_key, f"not valid JSON ({error})", rule="file.not_json") from None
    listed_on = listing_date_from_name(file_key)
    if isinstance(document, dict):
        if not isinstance(document.get("data"), list):
            raise ListingError(
                file_key,
                "a JSON object without a 'data' list is not a daily papers response "
                f"(its keys: {_keys(document)})",
                rule="file.unknown_shape",
            )
        wrapped_date = document.get("date")
        if listed_on is None and isinstance(wrapped_date, str):
            listed_on = listing_date_from_name(wrapped_date)
        items = document["data"]
    elif isinstance(document, list):
        items = document
    else:
        raise ListingError(
            file_key,
            f"expected a JSON list of papers, found {type(document).__name__}",
            rule="file.unknown_shape",
        )

    decoder = Decoder(API_FORMAT)
    rows: list[dict[str, Any]] = []
    rejects: list[RejectedEntry] = []
    shapes: list[str] = []
    for position, item in enumerate(items, start=1):
        decoder.position = position
        try:
            record = _decode_item(item)
            rows.append(_entry_row(record, position, decoder))
        except EntryRejected as error:
            rejects.append(RejectedEntry(position, error.rule, error.reason, _excerpt(item)))
        except _NotAnEntry as error:
            rejects.append(RejectedEntry(position, error.rule, str(error), _excerpt(item)))
            if error.shape is not None:
                shapes.append(error.shape)
    if items and len(shapes) == len(items):
        # not one item is a paper entry: the API changed its shape, or this is another endpoint
        raise ListingError(
            file_key,
            f"none of its {len(items):,} items is a daily papers entry (the first {shapes[0]})",
            rule="file.unknown_shape",
        )
    frame = pl.DataFrame(rows, schema=PARSED_RESPONSE_SCHEMA).with_columns(
        pl.lit(listed_on, dtype=pl.Date()).alias("listed_on"),
    )
    if listed_on is None:
        # without a date in the name, the day the paper went on the daily list is the listing
        # date: the UTC day of its time as written, so it never shifts with the reader's zone
        frame = frame.with_columns(
            pl.col("submitted_on_daily_at")
            .str.slice(0, 10)
            .str.to_date("%Y-%m-%d", strict=False)
            .alias("listed_on")
        )
    # an entry rejected after some of its values were decoded keeps no repairs: the notes of
    # the entries kept are taken by position where the file's entries are gathered
    return ParsedResponse(frame, rejects, decoder.repairs())


# the parsed entries of a response: times are text until their contracts read them
PARSED_RESPONSE_SCHEMA: dict[str, pl.DataType] = {
    **PARSED_ENTRY_SCHEMA,
    "published_at": pl.String(),
    "submitted_on_daily_at": pl.String(),
}


class _NotAnEntry(ValueError):
    """An item of the response's list that is not a paper entry: of another shape, or a string
    that does not decode (dirt in one item, so no ``shape``)."""

    def __init__(self, message: str, shape: str | None, rule: str = "entry.not_an_entry") -> None:
        super().__init__(message)
        self.shape = shape
        self.rule = rule


def _decode_item(item: object) -> Mapping[str, Any]:
    if isinstance(item, str):
        if len(item) > MAX_REPR_ENTRY_CHARS:
            raise _NotAnEntry(
                f"entry is a string of {len(item):,} characters, over the limit",
                None,
                "entry.undecodable",
            )
        try:
            item = ast.literal_eval(item)
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError) as error:
            raise _NotAnEntry(
                f"entry is a string that is not a Python literal ({error})",
                None,
                "entry.undecodable",
            ) from None
    if not isinstance(item, dict):
        kind = type(item).__name__
        raise _NotAnEntry(f"entry is a {kind}, not an object", f"is a {kind}")
    if not isinstance(item.get("paper"), dict):
        raise _NotAnEntry(
            "entry has no 'paper' object", f"has the keys {_keys(item)} and no 'paper' object"
        )
    return item


def _entry_row(record: Mapping[str, Any], position: int, decode: Decoder) -> dict[str, Any]:
    paper: Mapping[str, Any] = record["paper"]
    authors = decode.names("authors", paper.get("authors"))
    keywords = decode.texts("ai_keywords", paper.get("ai_keywords"))
    return {
        "position": position,
        "page_kind": "daily",
        "listed_on": None,
        "listed_month_day": None,
        # the title is decoded first: an entry without one is rejected for it, not for its id
        "title_raw": decode.text("title", _first(paper, record, "title")),
        "arxiv_id_raw": decode.text("arxiv_id", paper.get("id")),
        "abstract_raw": decode.text("abstract", _first(paper, record, "summary")),
        "authors": authors,
        "published_at": decode.timestamp("published_at", _first(paper, record, "publishedAt")),
        "upvotes": decode.count("upvotes", paper.get("upvotes")),
        "comments": decode.count("comments", record.get("numComments")),
        "github_repo_raw": decode.text("github_repo_raw", paper.get("githubRepo")),
        "project_page_raw": decode.text("project_page_raw", paper.get("projectPage")),
        "ai_keywords": keywords,
        "submitted_on_daily_at": decode.timestamp(
            "submitted_on_daily_at", paper.get("submittedOnDailyAt")
        ),
        "github_stars": decode.count("github_stars", paper.get("githubStars")),
        "author_count": len(authors) if authors is not None else None,
        "organization": decode.text(
            "organization", _display_name(_first(paper, record, "organization"))
        ),
        "submitted_by": decode.text(
            "submitted_by",
            _display_name(record.get("submittedBy") or paper.get("submittedOnDailyBy")),
        ),
        "capture_links": None,
        # sorted keys make the kept original byte-identical whatever the order the API served
        "raw_entry": orjson.dumps(record, option=orjson.OPT_SORT_KEYS, default=str).decode("utf-8"),
    }


def _first(paper: Mapping[str, Any], record: Mapping[str, Any], key: str) -> object:
    """A field of the paper object, else of the entry around it (older responses put some
    fields there); an empty value does not hide the other."""
    value = paper.get(key)
    return value if value not in (None, "") else record.get(key, value)


def _display_name(value: object) -> object:
    """The name to show of an organisation or a user: the API gives an object with ``fullname``
    and ``name`` on newer entries, a plain name on older ones."""
    if isinstance(value, dict):
        return value.get("fullname") or value.get("name")
    return value


def _keys(value: dict[Any, Any]) -> str:
    keys = sorted(str(key) for key in value)
    shown = ", ".join(keys[:8])
    return shown + (f" and {len(keys) - 8} more" if len(keys) > 8 else "")


def _excerpt(item: object, limit: int = 300) -> str:
    text = item if isinstance(item, str) else repr(item)
    return text[:limit]
