"""Parser for text captures of Hugging Face papers pages (Trending Papers, daily list, search).

A capture is what a person or a crawler saved of the rendered page: a few header lines of the site,
an optional date line (``Mar 12``, often without the year), then one block per paper: its title,
a blank line, and its abstract. Rank is the position of the paper on the page.

The year of a date line without one is never guessed: it comes from a date in the file name, a
sidecar (``<file>.meta.json`` with ``captured_on``) or an operator setting; otherwise the entry
keeps month and day in ``listed_month_day`` and its ``listed_on`` stays empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import polars as pl

from pipelines.core.errors import ListingError
from pipelines.core.schema import PARSED_ENTRY_SCHEMA

_MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
# full names, three-letter abbreviations and the common "Sept"
MONTHS = {
    **{name: number for number, name in enumerate(_MONTH_NAMES, start=1)},
    **{name[:3]: number for number, name in enumerate(_MONTH_NAMES, start=1)},
    "sept": 9,
}
_DATE_LINE = re.compile(
    r"^(?:#+\s*)?(?P<month>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2})(?:,?\s+(?P<year>\d{4}))?$"
)
# lines of the site around the listing, compared case-insensitively after white space is folded
_SITE_LINES = {
    "new",
    "subscribe",
    "get trending papers in your email inbox!",
    "get trending papers in your email inbox once a day!",
    "byak and the research community",
    "by ak and the research community",
    "trending papers",
    "daily papers",
}
# a title is one short line; anything longer than this is prose, not a title
MAX_TITLE_CHARS = 400
TRUNCATION_MARKER = "[content truncated]"


@dataclass(frozen=True)
class CaptureContext:
    """What is known about a capture besides its text."""

    file_key: str
    captured_on: date | None = None
    capture_year: int | None = None


def parse_page_capture(
    text: str, context: CaptureContext
) -> tuple[pl.DataFrame, list[tuple[int, str, str]]]:
    """Parse one capture into parsed entries plus ``(position, reason, excerpt)`` rejects.

    Raises:
        ListingError: when the text holds no paper at all.
    """
    lines = [line.rstrip() for line in text.splitlines()]
    page_kind = _page_kind(lines)
    listed_on, month_day, body_start = _date_line(lines, context)
    paragraphs = _paragraphs(lines[body_start:])
    truncated = bool(paragraphs) and paragraphs[-1].lower().startswith(TRUNCATION_MARKER)
    if truncated:
        paragraphs.pop()

    rows: list[dict[str, object]] = []
    rejects: list[tuple[int, str, str]] = []
    position = 0
    index = 0
    while index < len(paragraphs):
        title = paragraphs[index]
        abstract = paragraphs[index + 1] if index + 1 < len(paragraphs) else None
        position += 1
        index += 2
        if abstract is None:
            reason = (
                "the capture is cut off inside this entry: its title has no abstract"
                if truncated or index > len(paragraphs)
                else "title without an abstract"
            )
            rejects.append((position, reason, title[:300]))
            continue
        if len(title) > MAX_TITLE_CHARS:
            rejects.append(
                (
                    position,
                    f"expected a title line, found {len(title):,} characters of text",
                    title[:300],
                )
            )
            continue
        rows.append(
            {
                "position": position,
                "page_kind": page_kind,
                "listed_on": listed_on,
                "listed_month_day": month_day,
                "title_raw": title,
                "abstract_raw": abstract,
            }
        )
    if not rows and not rejects:
        raise ListingError(context.file_key, "no paper found in this page capture")
    frame = pl.DataFrame(rows, schema=PARSED_ENTRY_SCHEMA)
    return frame, rejects


def _page_kind(lines: list[str]) -> str:
    head = " ".join(lines[:40]).lower()
    if "/papers?q=" in head or "search results" in head:
        return "search"
    if "trending" in head:
        return "trending"
    if "daily papers" in head or "/papers/date/" in head:
        return "daily"
    return "unknown"


def _date_line(lines: list[str], context: CaptureContext) -> tuple[date | None, str | None, int]:
    """Find the page's date line among the header lines; return the date and where entries start."""
    for index, line in enumerate(lines):
        folded = " ".join(line.split()).lower()
        if not folded or folded in _SITE_LINES:
            continue
        match = _DATE_LINE.match(line.strip())
        if match and match["month"].lower() in MONTHS:
            month = MONTHS[match["month"].lower()]
            day = int(match["day"])
            year = int(match["year"]) if match["year"] else _year_for(context)
            month_day = f"{month:02d}-{day:02d}"
            if year is None:
                return None, month_day, index + 1
            try:
                return date(year, month, day), month_day, index + 1
            except ValueError:
                raise ListingError(
                    context.file_key, f"date line {line.strip()!r} is not a date of {year}"
                ) from None
        # the first line that is neither site chrome nor a date starts the listing
        return context.captured_on, _month_day(context.captured_on), index
    return context.captured_on, _month_day(context.captured_on), len(lines)


def _year_for(context: CaptureContext) -> int | None:
    if context.captured_on is not None:
        return context.captured_on.year
    return context.capture_year


def _month_day(day: date | None) -> str | None:
    return None if day is None else f"{day.month:02d}-{day.day:02d}"


def _paragraphs(lines: list[str]) -> list[str]:
    """Group lines into blank-line separated paragraphs, joining hard-wrapped lines."""
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append("\n".join(current))
            current = []
    if current:
        paragraphs.append("\n".join(current))
    return paragraphs
