"""Parser for responses of the Hugging Face daily papers API (``/api/daily_papers?date=...``).

The archive holds three shapes of the same response: a JSON list of objects; a JSON list whose items
are Python-repr strings of those objects (December 2024 to January 2025); and a wrapped object
``{"status", "date", "count", "data": [...]}``. Fields appear over time, so every field is optional
here and each entry's original JSON is kept in ``raw_entry`` for fields not yet known.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

import orjson
import polars as pl

from pipelines.core.errors import ListingError, RejectedEntry
from pipelines.core.schema import PARSED_ENTRY_SCHEMA

# a repr-string entry above this size is refused rather than evaluated: real entries are < 100 kB
MAX_REPR_ENTRY_CHARS = 1_000_000

_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_ISO_UTC_FORMAT = "%Y-%m-%dT%H:%M:%S%.fZ"


def listing_date_from_name(file_key: str) -> date | None:
    """The listing date carried by a file name such as ``hf-daily-api/2024-05-27.json``."""
    match = _DATE_IN_NAME.search(file_key.rsplit("/", 1)[-1])
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def parse_api_json(data: str, file_key: str) -> tuple[pl.DataFrame, list[RejectedEntry]]:
    """Parse one API response into parsed entries, plus its rejected entries.

    Raises:
        ListingError: when the file as a whole is not a daily papers response.
    """
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise ListingError(file_key, f"not valid JSON ({error})") from None
    listed_on = listing_date_from_name(file_key)
    if isinstance(document, dict):
        if not isinstance(document.get("data"), list):
            raise ListingError(
                file_key, "a JSON object without a 'data' list is not a daily papers response"
            )
        wrapped_date = document.get("date")
        if listed_on is None and isinstance(wrapped_date, str):
            listed_on = listing_date_from_name(wrapped_date)
        items = document["data"]
    elif isinstance(document, list):
        items = document
    else:
        raise ListingError(
            file_key, f"expected a JSON list of papers, found {type(document).__name__}"
        )

    rows: list[dict[str, Any]] = []
    rejects: list[RejectedEntry] = []
    for position, item in enumerate(items, start=1):
        try:
            record = _decode_item(item)
            rows.append(_entry_row(record, position))
        except ValueError as error:
            rejects.append(RejectedEntry(position, "entry.undecodable", str(error), _excerpt(item)))
    # timestamps arrive as ISO text and are parsed below as whole columns, not entry by entry
    as_text = {**PARSED_ENTRY_SCHEMA, **dict.fromkeys(_TIMESTAMP_COLUMNS, pl.String())}
    frame = pl.DataFrame(rows, schema=as_text)
    frame = frame.with_columns(
        pl.lit(listed_on, dtype=pl.Date()).alias("listed_on"),
        pl.lit("daily").alias("page_kind"),
        *(
            pl.col(name)
            .str.to_datetime(_ISO_UTC_FORMAT, time_zone="UTC", strict=False)
            .dt.cast_time_unit("us")
            for name in _TIMESTAMP_COLUMNS
        ),
    )
    if listed_on is None:
        # without a date in the name, the day the paper went on the daily list is the listing date;
        # it is midnight UTC of that day, so the UTC date never shifts with the reader's time zone
        frame = frame.with_columns(pl.col("submitted_on_daily_at").dt.date().alias("listed_on"))
    return frame.select(list(PARSED_ENTRY_SCHEMA)), rejects


_TIMESTAMP_COLUMNS = ("published_at", "submitted_on_daily_at")


def _decode_item(item: object) -> Mapping[str, Any]:
    if isinstance(item, str):
        if len(item) > MAX_REPR_ENTRY_CHARS:
            raise ValueError(f"entry is a string of {len(item):,} characters, over the limit")
        try:
            item = ast.literal_eval(item)
        except (ValueError, SyntaxError, MemoryError, RecursionError) as error:
            raise ValueError(f"entry is a string that is not a Python literal ({error})") from None
    if not isinstance(item, dict):
        raise ValueError(f"entry is a {type(item).__name__}, not an object")
    if not isinstance(item.get("paper"), dict):
        raise ValueError("entry has no 'paper' object")
    return item


def _entry_row(record: Mapping[str, Any], position: int) -> dict[str, Any]:
    paper: Mapping[str, Any] = record["paper"]
    authors = paper.get("authors") or []
    if not isinstance(authors, list):
        raise ValueError("'paper.authors' is not a list")
    keywords = paper.get("ai_keywords")
    return {
        "position": position,
        "page_kind": "daily",
        "listed_on": None,
        "listed_month_day": None,
        "arxiv_id_raw": _text(paper.get("id"), "paper.id"),
        "title_raw": _text(paper.get("title") or record.get("title"), "title"),
        "abstract_raw": _text(paper.get("summary") or record.get("summary"), "paper.summary"),
        "authors": [
            a["name"] for a in authors if isinstance(a, dict) and isinstance(a.get("name"), str)
        ],
        "published_at": _text(paper.get("publishedAt") or record.get("publishedAt"), "publishedAt"),
        "upvotes": _integer(paper.get("upvotes"), "paper.upvotes"),
        "comments": _integer(record.get("numComments"), "numComments"),
        "github_repo_raw": _text(paper.get("githubRepo"), "paper.githubRepo"),
        "project_page_raw": _text(paper.get("projectPage"), "paper.projectPage"),
        "ai_keywords": [k for k in keywords if isinstance(k, str)]
        if isinstance(keywords, list)
        else None,
        "submitted_on_daily_at": _text(paper.get("submittedOnDailyAt"), "paper.submittedOnDailyAt"),
        "github_stars": _integer(paper.get("githubStars"), "paper.githubStars"),
        "author_count": len(authors),
        "organization": _organization(paper.get("organization") or record.get("organization")),
        "submitted_by": _submitter(record.get("submittedBy") or paper.get("submittedOnDailyBy")),
        "capture_links": None,
        # sorted keys make the kept original byte-identical whatever the order the API served
        "raw_entry": orjson.dumps(record, option=orjson.OPT_SORT_KEYS, default=str).decode("utf-8"),
    }


def _organization(value: object) -> str | None:
    # the API gives an organisation object ({"name", "fullname", ...}) on newer entries
    if isinstance(value, dict):
        name = value.get("fullname") or value.get("name")
        return name if isinstance(name, str) else None
    return value if isinstance(value, str) else None


def _submitter(value: object) -> str | None:
    if isinstance(value, dict):
        name = value.get("fullname") or value.get("name")
        return name if isinstance(name, str) else None
    return None


def _text(value: object, field: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"'{field}' is a {type(value).__name__}, not text")


def _integer(value: object, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"'{field}' is {value!r}, not a whole number")
    return value


def _excerpt(item: object, limit: int = 300) -> str:
    text = item if isinstance(item, str) else repr(item)
    return text[:limit]
