"""Field contracts: what every field of a listing entry may hold, and what is done when a value
from upstream does not fit. The one place both parsers' output is held to.

A contract names the field's kind (text, link, arXiv id, count, time, list of names...), where
each source writes it, whether an entry is unusable without it, and its bounds. Each kind has an
ordered list of rules, and each rule one policy:

* **repair** when the fix is unambiguous (invisible characters removed, a link's line breaks
  removed, ``&amp;`` unescaped, a count sent as the text ``"12"`` read as 12);
* **drop the field** when an optional value is unusable: the entry is kept, the field is null;
* **reject the entry** when a required value is unusable (no title, no arXiv id in an API entry).

Every repair and every dropped field is recorded (file, entry position, field, rule, value before
and after) and published as the ``repairs`` table, so each change the pipeline made to upstream
text can be audited. The normal form every value is brought to (white space folded, Unicode NFC,
an arXiv id's version split off) is documented in the data dictionary and not recorded: it is
how the column is defined, not a change made because something was wrong.

Values are checked in two places. Types are coerced where a file is decoded (:class:`Decoder`,
one entry at a time: a JSON value has no column type yet); everything else runs as Polars
expressions over whole columns (:func:`apply_contracts`).
"""

from __future__ import annotations

import ast
import html
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import polars as pl

from pipelines.core.arxiv import arxiv_id, arxiv_version
from pipelines.core.schema import REPAIR_SCHEMA
from pipelines.core.text import (
    INVISIBLE,
    TRAILING_IN_FIELD,
    fold_text,
    title_key,
    without_trailing_punctuation,
)

API_FORMAT = "hf_daily_api"
CAPTURE_FORMAT = "hf_papers_page"

REPAIR = "repair"
DROP_FIELD = "drop_field"
REJECT_ENTRY = "reject_entry"
# what the repairs table says was done
REPAIRED = "repaired"
DROPPED = "dropped"

# real titles are under 300 characters; a longer "title" is a parsing accident or hostile input
MAX_TITLE_CHARS = 1_000
# arXiv limits abstracts to 1,920 characters and the API adds nothing; 10,000 is a whole page
# pasted into the field, not an abstract
MAX_ABSTRACT_CHARS = 10_000
# an organisation, a submitter or an author name; longer is a paragraph in the wrong field
MAX_NAME_CHARS = 300
# keywords are a few words each
MAX_KEYWORD_CHARS = 200
# browsers and servers refuse links much longer than this
MAX_URL_CHARS = 2_048
# no count the site shows (upvotes, comments, stars, authors) comes near a hundred million
MAX_COUNT = 100_000_000
# arXiv opened in August 1991: a paper published before it has a wrong date
EARLIEST_PUBLICATION = datetime(1991, 8, 1, tzinfo=UTC)
# a paper is listed after it is published: a publication time more than this after its listing
# day is wrong (two days leave room for the time zones of the listing and of arXiv)
PUBLISHED_AFTER_LISTING_DAYS = 2
# how much of a value before and after a repair the repairs table keeps
EXCERPT_CHARS = 200

# the canonical form of the API's times, and other ways a time is written, tried in this order
ISO_UTC_FORMAT = "%Y-%m-%dT%H:%M:%S%.fZ"
_OTHER_TIME_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%MZ",
)
_OTHER_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y")


@dataclass(frozen=True)
class Rule:
    """One way a value can break a contract, and what is done about it."""

    name: str
    policy: str
    description: str


@dataclass(frozen=True)
class FieldContract:
    """What one field of a listing entry may hold."""

    name: str
    kind: str
    description: str
    # per source format, where the value comes from
    sources: Mapping[str, str]
    # the parsed column the value is read from, when it is not ``name`` (the column is kept as
    # read, and the value after the contract is written to ``name``)
    source_column: str | None = None
    # source formats in which an entry without a usable value is rejected
    required_in: frozenset[str] = frozenset()
    max_chars: int | None = None

    @property
    def column(self) -> str:
        return self.source_column or self.name

    def rules(self) -> tuple[Rule, ...]:
        """Every rule that can fire on this field, in the order they are applied."""
        decode = tuple(_rule(self, name) for name in _DECODE_RULES.get(self.kind, ()))
        column = tuple(step.rule for step in _steps(self) if step.recorded)
        return decode + column


# --- the contracts ------------------------------------------------------------------------------

_API = API_FORMAT
_CAPTURE = CAPTURE_FORMAT
CONTRACTS: dict[str, FieldContract] = {
    contract.name: contract
    for contract in [
        FieldContract(
            "title",
            "title",
            "The paper's title.",
            {_API: "paper.title, else title", _CAPTURE: "title line, heading or paper link"},
            source_column="title_raw",
            required_in=frozenset({_API, _CAPTURE}),
            max_chars=MAX_TITLE_CHARS,
        ),
        FieldContract(
            "arxiv_id",
            "arxiv_id",
            "The paper's arXiv id (new or old style, versioned or not).",
            {_API: "paper.id", _CAPTURE: "arXiv or paper link of the card"},
            source_column="arxiv_id_raw",
            required_in=frozenset({_API}),
        ),
        FieldContract(
            "abstract",
            "prose",
            "The paper's abstract.",
            {_API: "paper.summary, else summary", _CAPTURE: "paragraphs after the title"},
            source_column="abstract_raw",
            max_chars=MAX_ABSTRACT_CHARS,
        ),
        FieldContract(
            "authors",
            "names",
            "Author names in listed order.",
            {_API: "paper.authors[].name"},
            max_chars=MAX_NAME_CHARS,
        ),
        FieldContract(
            "published_at",
            "timestamp",
            "When the paper was published on arXiv (UTC).",
            {_API: "paper.publishedAt, else publishedAt", _CAPTURE: "Published on ..."},
        ),
        FieldContract(
            "submitted_on_daily_at",
            "timestamp",
            "When the paper was put on the daily list (UTC).",
            {_API: "paper.submittedOnDailyAt"},
        ),
        FieldContract(
            "upvotes",
            "count",
            "Upvotes shown at the time.",
            {_API: "paper.upvotes", _CAPTURE: "upvote count of the card"},
        ),
        FieldContract(
            "comments",
            "count",
            "Comments shown at the time.",
            {_API: "numComments", _CAPTURE: "comment count of the card"},
        ),
        FieldContract(
            "github_stars",
            "count",
            "Stars of the linked repository shown at the time.",
            {_API: "paper.githubStars", _CAPTURE: "GitHub link label"},
        ),
        FieldContract(
            "author_count",
            "count",
            "Number of authors.",
            {_API: "length of paper.authors", _CAPTURE: "N authors"},
        ),
        FieldContract(
            "github_repo_raw",
            "url",
            "The code repository the API links.",
            {_API: "paper.githubRepo"},
            max_chars=MAX_URL_CHARS,
        ),
        FieldContract(
            "project_page_raw",
            "url",
            "The project page the API links.",
            {_API: "paper.projectPage"},
            max_chars=MAX_URL_CHARS,
        ),
        FieldContract(
            "capture_links",
            "urls",
            "Code and project links shown on a card.",
            {_CAPTURE: "GitHub and project links of the card"},
            max_chars=MAX_URL_CHARS,
        ),
        FieldContract(
            "ai_keywords",
            "keywords",
            "Keywords the API attached to the paper.",
            {_API: "paper.ai_keywords"},
            max_chars=MAX_KEYWORD_CHARS,
        ),
        FieldContract(
            "organization",
            "name",
            "The organisation the paper is listed under.",
            {_API: "paper.organization or organization", _CAPTURE: "organisation line"},
            max_chars=MAX_NAME_CHARS,
        ),
        FieldContract(
            "submitted_by",
            "name",
            "Who put the paper on the daily list.",
            {_API: "submittedBy or paper.submittedOnDailyBy", _CAPTURE: "Submitted by ..."},
            max_chars=MAX_NAME_CHARS,
        ),
    ]
}


# --- rules of each kind -------------------------------------------------------------------------

# what each rule does, by the part of its name after the field (title.markup -> markup)
_RULE_TEXT: dict[str, tuple[str, str]] = {
    # decoding
    "wrong_type": (DROP_FIELD, "the value is not of the field's type (an object, a list...)"),
    "number_as_text": (REPAIR, "a number sent as text ('12', '1,234', '1.2k') read as the number"),
    "whole_float": (REPAIR, "a whole number sent with a decimal point (12.0) read as 12"),
    "not_a_number": (DROP_FIELD, "not a whole number ('many', 1.5, true)"),
    "text_from_number": (REPAIR, "a number sent where text belongs, written as text"),
    "epoch": (REPAIR, "a time sent as seconds or milliseconds since 1970, converted to UTC"),
    "list_as_text": (REPAIR, "a list sent as the text of a JSON or Python list, read as the list"),
    "not_a_list": (DROP_FIELD, "a single text or value where a list belongs"),
    "item_as_text": (REPAIR, "an author given as a plain name instead of an object with a name"),
    "item_unusable": (REPAIR, "list items that are not text (or have no name) removed"),
    # columns
    "invisible": (REPAIR, "invisible and control characters (zero-width, direction overrides, "
                  "C0/C1 controls, byte-order marks) removed"),
    "markup": (REPAIR, "HTML tags and Markdown emphasis, heading marks and link syntax removed "
               "from plain text"),
    "entities": (REPAIR, "HTML entities (&amp;, &#8211;) replaced by their characters"),
    "empty": (DROP_FIELD, "empty or only white space: treated as missing"),
    "too_long": (DROP_FIELD, "longer than the field's limit"),
    "no_letters": (DROP_FIELD, "no letter or digit in it, outside markup"),
    "missing": (REJECT_ENTRY, "missing"),
    "link_syntax": (REPAIR, "a Markdown or angle-bracket link reduced to its address"),
    "whitespace": (REPAIR, "white space and line breaks inside the value removed"),
    "trailing_punctuation": (REPAIR, "punctuation after the link (a sentence's full stop, a "
                             "closing bracket) removed"),
    "scheme_added": (REPAIR, "a link without a scheme given https://"),
    "unusable": (DROP_FIELD, "not a usable web link (no host name, a placeholder such as 'N/A', "
                 "another scheme)"),
    "respelled": (REPAIR, "the same id spelled another way (arXiv: prefix, abs/pdf link, "
                  "full-width digits, upper case) written as the bare id"),
    "invalid": (DROP_FIELD, "not an arXiv id"),
    "negative": (DROP_FIELD, "a negative count"),
    "implausible": (DROP_FIELD, f"a count over {MAX_COUNT:,}"),
    "other_format": (REPAIR, "a date or time written in another format, read as UTC"),
    "unparsable": (DROP_FIELD, "not a date or time, or an impossible one (February 30)"),
    "out_of_range": (DROP_FIELD, "before arXiv opened (August 1991), or after the listing day"),
    "items_removed": (REPAIR, "items that are empty, too long or not text removed from the list"),
}  # fmt: skip

_DECODE_RULES: dict[str, tuple[str, ...]] = {
    "title": ("text_from_number", "wrong_type"),
    "prose": ("text_from_number", "wrong_type"),
    "name": ("text_from_number", "wrong_type"),
    "arxiv_id": ("text_from_number", "wrong_type"),
    "url": ("wrong_type",),
    "count": ("number_as_text", "whole_float", "not_a_number"),
    "timestamp": ("epoch", "wrong_type"),
    "names": ("list_as_text", "not_a_list", "item_as_text", "item_unusable"),
    "keywords": ("list_as_text", "not_a_list", "item_unusable"),
}


def _rule(contract: FieldContract, what: str) -> Rule:
    policy, description = _RULE_TEXT[what]
    if policy == DROP_FIELD and contract.required_in:
        policy = REJECT_ENTRY
    if what == "too_long" and contract.max_chars is not None:
        description = f"longer than {contract.max_chars:,} characters"
    return Rule(f"{contract.name}.{what}", policy, description)


@dataclass(frozen=True)
class _Step:
    """One rule as a Polars expression: the value before -> the value after (null: dropped)."""

    rule: Rule
    # a repair: the value before -> the value after
    apply: Callable[[pl.Expr], pl.Expr] | None = None
    # a check: true where the value may stay; where false it is dropped (a null stays null)
    keep: Callable[[pl.Expr], pl.Expr] | None = None
    # False for the normal form: it defines the column, it repairs nothing (module docstring)
    recorded: bool = True
    # a pattern every value the step can change matches, as read (no earlier step creates
    # what it looks for): when no value of a batch matches, the step is skipped. Most values
    # are clean, and a scan costs less than a rewrite and a comparison
    guard: str | None = None


def _normal_form(contract: FieldContract) -> _Step:
    """White space folded, hard wraps unwrapped, Unicode NFC (``text.fold_text``: invisible
    characters are gone by then, removed and recorded by their own step)."""
    return _Step(
        Rule(f"{contract.name}.normal_form", REPAIR, "normal form"), fold_text, recorded=False
    )


# HTML elements that format text; other things in angle brackets (<EOS>, <think>, x < y) are
# content of an abstract and stay. Tags inside a word (H<sub>2</sub>O) leave nothing; tags that
# break a line or a block leave a space
_INLINE_TAG = (
    r"(?i)</?(?:a|abbr|b|big|cite|code|del|em|font|i|ins|kbd|mark|q|s|samp|small|span|strike|"
    r"strong|sub|sup|tt|u|var)\b[^<>]{0,500}?/?>"
)
_BLOCK_TAG = r"(?i)</?(?:br|div|h[1-6]|hr|li|ol|p|pre|ul)\b[^<>]{0,500}?/?>"
_HTML_TAG = f"{_INLINE_TAG}|{_BLOCK_TAG}"
_ENTITY = r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
# Markdown around a whole short value: heading marks, emphasis, a link
_MARKDOWN_HEADING = r"^\s{0,3}#{1,6}\s+"
_MARKDOWN_EMPHASIS = r"(?s)^(\*\*|__|\*|_)(\S(?:.*?\S)?)(\*\*|__|\*|_)$"
_MARKDOWN_LINK = r"^\[([^\[\]]+)\]\([^()\s]*\)$"
_LINK_IN_SYNTAX = r"^\s*(?:\[[^\[\]]*\]\(\s*<?([^()<>\s]+)>?\s*\)|<([^<>\s]+)>)\s*$"
_SCHEME = r"(?i)^[a-z][a-z0-9+.-]*:"
# a host name: labels of letters, digits and hyphens, and a top-level domain of letters
_HOST = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
_USABLE_URL = rf"(?i)^https?://{_HOST}(?::\d{{1,5}})?(?:[/?#][^\s]*)?$"
_SCHEMELESS_HOST = rf"(?i)^(?:www\.)?{_HOST}(?:[/?#:]|$)"


_INVISIBLE_PATTERN = re.compile(INVISIBLE)


def _unescaped(text: str) -> str:
    """``html.unescape``, without the invisible characters an entity may spell (&#8203;): the
    invisible step, which removes them, runs before this one."""
    return _INVISIBLE_PATTERN.sub("", html.unescape(text))


def _unescape_entities(values: pl.Series) -> pl.Series:
    """HTML entities replaced by their characters. Only values holding an entity go through
    Python's ``html.unescape``: the rest are returned as they are."""
    holds = values.str.contains(_ENTITY).fill_null(False)
    if not holds.any():
        return values
    indices = holds.arg_true()
    fixed = [_unescaped(value) for value in values.gather(indices).to_list()]
    return values.scatter(indices, pl.Series(fixed, dtype=pl.String))


def _unescape_entities_in_lists(lists: pl.Series) -> pl.Series:
    """``_unescape_entities`` for a column of lists of text, list by list: only the lists that
    hold an entity go through Python, and are put back in their rows."""
    holds = lists.list.eval(pl.element().str.contains(_ENTITY)).list.any().fill_null(False)
    if not holds.any():
        return lists
    rows = pl.DataFrame({"value": lists}).with_row_index("row")
    fixed = rows.filter(holds).select(
        "row",
        pl.Series(
            [
                [None if item is None else _unescaped(item) for item in value]
                for value in lists.filter(holds).to_list()
            ],
            dtype=lists.dtype,
        ).alias("fixed"),
    )
    return (
        rows.join(fixed, on="row", how="left", maintain_order="left")
        .select(
            pl.when(pl.col("fixed").is_not_null()).then("fixed").otherwise("value").alias("value")
        )
        .to_series()
        .alias(lists.name)
    )


def _entities(expr: pl.Expr) -> pl.Expr:
    return expr.map_batches(_unescape_entities, return_dtype=pl.String)


def _entities_in_lists(expr: pl.Expr) -> pl.Expr:
    return expr.map_batches(_unescape_entities_in_lists, return_dtype=pl.List(pl.String()))


def _markup(expr: pl.Expr, *, short: bool) -> pl.Expr:
    stripped = expr.str.replace_all(_BLOCK_TAG, " ").str.replace_all(_INLINE_TAG, "")
    if not short:
        return pl.when(expr.str.contains(_HTML_TAG)).then(stripped).otherwise(expr)
    return (
        pl.when(expr.str.contains(r"[<#*_\[]"))
        .then(
            stripped.str.strip_chars()
            .str.replace(_MARKDOWN_HEADING, "")
            .str.replace(_MARKDOWN_LINK, "${1}")
            .str.replace(_MARKDOWN_EMPHASIS, "${2}")
        )
        .otherwise(expr)
    )


def _text_steps(contract: FieldContract, *, short: bool) -> list[_Step]:
    rule = lambda what: _rule(contract, what)  # noqa: E731
    steps = [
        _Step(rule("invisible"), lambda e: e.str.replace_all(INVISIBLE, ""), guard=INVISIBLE),
        _Step(
            rule("markup"),
            lambda e: _markup(e, short=short),
            guard=r"[<#*_\[]" if short else _HTML_TAG,
        ),
        _Step(rule("entities"), _entities, guard="&"),
        _normal_form(contract),
        _Step(rule("empty"), keep=lambda e: e != ""),
    ]
    if contract.max_chars is not None:
        limit = contract.max_chars
        steps.append(_Step(rule("too_long"), keep=lambda e: e.str.len_chars() <= limit))
    if contract.kind == "title":
        # a title is matched by its key: one whose key is empty (punctuation, bare LaTeX
        # commands) can be matched with nothing
        steps.append(_Step(rule("no_letters"), keep=lambda e: title_key(e) != ""))
    return steps


def _url_steps(contract: FieldContract) -> list[_Step]:
    rule = lambda what: _rule(contract, what)  # noqa: E731
    limit = contract.max_chars or MAX_URL_CHARS
    return [
        _Step(rule("invisible"), lambda e: e.str.replace_all(INVISIBLE, ""), guard=INVISIBLE),
        _Step(
            rule("link_syntax"),
            lambda e: pl.coalesce(
                e.str.extract(_LINK_IN_SYNTAX, 1), e.str.extract(_LINK_IN_SYNTAX, 2), e
            ),
        ),
        _Step(rule("whitespace"), lambda e: e.str.replace_all(r"\s+", ""), guard=r"\s"),
        _Step(
            rule("trailing_punctuation"),
            lambda e: without_trailing_punctuation(e, TRAILING_IN_FIELD),
        ),
        _Step(
            rule("scheme_added"),
            lambda e: (
                pl.when(~e.str.contains(_SCHEME) & e.str.contains(_SCHEMELESS_HOST))
                .then(pl.concat_str([pl.lit("https://"), e]))
                .otherwise(e)
            ),
        ),
        _Step(rule("empty"), keep=lambda e: e != ""),
        _Step(rule("too_long"), keep=lambda e: e.str.len_chars() <= limit),
        _Step(rule("unusable"), keep=lambda e: e.str.contains(_USABLE_URL)),
    ]


def _arxiv_steps(contract: FieldContract) -> list[_Step]:
    rule = lambda what: _rule(contract, what)  # noqa: E731

    def canonical(expr: pl.Expr) -> pl.Expr:
        # the bare id, keeping a version: 2405.15738 and 2405.15738v2 are written as they should
        found = arxiv_id(expr)
        version = arxiv_version(expr)
        return (
            pl.when(version.is_not_null()).then(pl.format("{}v{}", found, version)).otherwise(found)
        )

    return [
        _Step(rule("invisible"), lambda e: e.str.replace_all(INVISIBLE, "")),
        _Step(rule("whitespace"), lambda e: e.str.replace_all(r"\s+", "")),
        _Step(rule("empty"), keep=lambda e: e != ""),
        _Step(
            rule("respelled"),
            lambda e: pl.coalesce(canonical(e.str.normalize("NFKC")), e),
        ),
        _Step(rule("invalid"), keep=lambda e: arxiv_id(e).is_not_null()),
    ]


def _count_steps(contract: FieldContract) -> list[_Step]:
    rule = lambda what: _rule(contract, what)  # noqa: E731
    return [
        _Step(rule("negative"), keep=lambda e: e >= 0),
        _Step(rule("implausible"), keep=lambda e: e <= MAX_COUNT),
    ]


def _timestamp_steps(contract: FieldContract) -> list[_Step]:
    """Times are text until these steps: the canonical ISO form, else another format (repaired),
    else nothing (dropped). The column becomes a UTC timestamp after the last step."""
    rule = lambda what: _rule(contract, what)  # noqa: E731

    def parsed(expr: pl.Expr, formats: Iterable[str]) -> pl.Expr:
        tried = [expr.str.to_datetime(f, time_zone="UTC", strict=False) for f in formats]
        return pl.coalesce(*[t.dt.cast_time_unit("us") for t in tried])

    def other_format(expr: pl.Expr) -> pl.Expr:
        canonical = parsed(expr, [ISO_UTC_FORMAT])
        other = pl.coalesce(
            parsed(expr, _OTHER_TIME_FORMATS),
            *[
                expr.str.to_date(f, strict=False)
                .cast(pl.Datetime("us"))
                .dt.replace_time_zone("UTC")
                for f in _OTHER_DATE_FORMATS
            ],
        )
        as_canonical = other.dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        return pl.when(canonical.is_null() & other.is_not_null()).then(as_canonical).otherwise(expr)

    latest = pl.col("listed_on").cast(pl.Datetime("us")).dt.replace_time_zone("UTC") + pl.duration(
        days=PUBLISHED_AFTER_LISTING_DAYS + 1
    )
    return [
        _Step(rule("other_format"), lambda e: other_format(e.str.strip_chars())),
        _Step(rule("unparsable"), keep=lambda e: parsed(e, [ISO_UTC_FORMAT]).is_not_null()),
        _Step(
            rule("out_of_range"),
            # the listing day is a column of the entries: an unknown one checks nothing
            keep=lambda e: (
                (parsed(e, [ISO_UTC_FORMAT]) >= EARLIEST_PUBLICATION)
                & (parsed(e, [ISO_UTC_FORMAT]) < latest).fill_null(True)
            ),
        ),
    ]


def _list_steps(contract: FieldContract, item_steps: Sequence[_Step]) -> list[_Step]:
    """A list's items go through the item rules one at a time; an item a check drops leaves the
    list, and a list left empty is dropped."""
    rule = lambda what: _rule(contract, what)  # noqa: E731
    steps = [
        # entities go through Python: a whole column of lists at once, not list by list
        _Step(item.rule, _entities_in_lists, guard=item.guard)
        if item.apply is _entities
        else _Step(
            item.rule,
            lambda e, apply=item.apply: e.list.eval(apply(pl.element())),
            recorded=item.recorded,
            guard=item.guard,
        )
        for item in item_steps
        if item.apply is not None
    ]
    checks = [item.keep for item in item_steps if item.keep is not None]

    def kept(expr: pl.Expr) -> pl.Expr:
        keep = pl.lit(True)
        for check in checks:
            keep = keep & check(pl.element()).fill_null(True)
        return expr.list.eval(pl.element().filter(keep))

    steps.append(_Step(rule("items_removed"), kept))
    steps.append(_Step(rule("empty"), keep=lambda e: e.list.len() > 0))
    return steps


def _steps(contract: FieldContract) -> list[_Step]:
    kind = contract.kind
    if kind in ("title", "name"):
        return _text_steps(contract, short=True)
    if kind == "prose":
        return _text_steps(contract, short=False)
    if kind == "url":
        return _url_steps(contract)
    if kind == "arxiv_id":
        return _arxiv_steps(contract)
    if kind == "count":
        return _count_steps(contract)
    if kind == "timestamp":
        return _timestamp_steps(contract)
    if kind == "urls":
        return _list_steps(contract, _url_steps(contract))
    if kind in ("names", "keywords"):
        item = FieldContract(contract.name, "name", "", {}, max_chars=contract.max_chars)
        return _list_steps(contract, _text_steps(item, short=True))
    raise ValueError(f"no rules for the kind {kind!r}")


# --- columns ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractOutcome:
    """Entries after their contracts: values repaired or dropped, and what was done."""

    # the entries, every contract field holding its repaired value (times typed)
    entries: pl.DataFrame
    # one row per repair or dropped field of an entry that is kept: its row index, the field,
    # the rule, the action and the value before and after
    repairs: pl.DataFrame
    # one row per entry a required field made unusable: its row index, field, rule and reason
    rejected: pl.DataFrame


def apply_contracts(frame: pl.DataFrame, index: str = "_row") -> ContractOutcome:
    """Hold every contract field of ``frame`` to its contract, as whole columns.

    ``frame`` holds the parsed entries of one or several files, their ``source_format``, their
    ``listed_on`` and a unique row ``index`` (UInt32), by which repairs and rejects are reported.
    A field whose output column differs from its input (``title_raw`` -> ``title``) keeps the
    input as read.

    Every field's values go through its steps as columns of one plan, the n-th steps of all
    fields side by side (so fields are worked on in parallel); a step no value of the batch can
    change is left out (its guard), and a step's rows are only extracted when it changed some.
    """
    fields = [c for c in CONTRACTS.values() if c.column in frame.columns]
    steps = _unguarded(fields, frame)
    stages = {c.name: [f"_{c.name}_{n}" for n in range(len(steps[c.name]) + 1)] for c in fields}
    lazy = frame.lazy().select(
        index,
        "source_format",
        "listed_on",
        *(pl.col(c.column).alias(stages[c.name][0]) for c in fields),
    )
    for depth in range(max((len(s) for s in steps.values()), default=0)):
        lazy = lazy.with_columns(
            _stage(steps[c.name][depth], stages[c.name][depth]).alias(stages[c.name][depth + 1])
            for c in fields
            if depth < len(steps[c.name])
        )
    values = lazy.collect()
    recorded = [
        (c, step, before, after)
        for c in fields
        for step, before, after in zip(
            steps[c.name], stages[c.name][:-1], stages[c.name][1:], strict=True
        )
        if step.recorded
    ]
    changed = values.select(
        pl.col(before).ne_missing(pl.col(after)).any().alias(after)
        for _, _, before, after in recorded
    ).row(0, named=True)
    repairs = [
        _changes(values, c, step, before, after, stages[c.name], index)
        for c, step, before, after in recorded
        if changed[after]
    ]
    rejected = [
        values.filter(
            pl.col(stages[c.name][-1]).is_null()
            & pl.col("source_format").is_in(sorted(c.required_in))
        ).select(
            pl.col(index),
            pl.lit(c.name).alias("field"),
            _first_drop(c, steps[c.name], stages[c.name]).alias("rule"),
            _excerpt(pl.col(stages[c.name][0])).alias("value_before"),
            # required fields are text: how long it was says why it was too long
            pl.col(stages[c.name][0]).str.len_chars().alias("value_chars"),
        )
        for c in fields
        if c.required_in
    ]
    finals = [_typed(c, pl.col(stages[c.name][-1])).alias(c.name) for c in fields]
    repair_rows = _concat(repairs, _REPAIR_ROWS, index)
    reject_rows = _concat(rejected, _REJECTED_ROWS, index)
    return ContractOutcome(
        entries=frame.with_columns(values.select(finals)),
        repairs=repair_rows.join(reject_rows.select(index), on=index, how="anti").sort(
            index, "field", maintain_order=True
        ),
        rejected=_rejection_reasons(
            reject_rows.unique(index, keep="first", maintain_order=True), index
        ),
    )


def _stage(step: _Step, before: str) -> pl.Expr:
    """A step as an expression of the stage before it: a repair, or a check that leaves a
    value or drops it (a null stays null)."""
    value = pl.col(before)
    if step.keep is not None:
        return pl.when(step.keep(value).fill_null(True)).then(value).otherwise(None)
    assert step.apply is not None
    return step.apply(value)


def _changes(
    values: pl.DataFrame,
    contract: FieldContract,
    step: _Step,
    before: str,
    after: str,
    stages: Sequence[str],
    index: str,
) -> pl.DataFrame:
    """The rows a step changed, as repairs. A value that ends dropped is recorded once, by the
    check that dropped it and with the value as read: repairs tried on it changed nothing kept."""
    is_drop = pl.col(before).is_not_null() & pl.col(after).is_null()
    kept = pl.col(stages[-1]).is_not_null()
    return values.filter(pl.col(before).ne_missing(pl.col(after)) & (is_drop | kept)).select(
        pl.col(index),
        pl.lit(contract.name).alias("field"),
        pl.lit(step.rule.name).alias("rule"),
        pl.when(is_drop).then(pl.lit(DROPPED)).otherwise(pl.lit(REPAIRED)).alias("action"),
        _excerpt(pl.when(is_drop).then(pl.col(stages[0])).otherwise(pl.col(before))).alias(
            "value_before"
        ),
        _excerpt(pl.col(after)).alias("value_after"),
    )


def _first_drop(contract: FieldContract, steps: Sequence[_Step], stages: Sequence[str]) -> pl.Expr:
    """The rule of the first step that dropped the value; ``<field>.missing`` when it was never
    there."""
    expr: pl.Expr = pl.lit(f"{contract.name}.missing")
    for step, before, after in reversed(list(zip(steps, stages[:-1], stages[1:], strict=True))):
        expr = (
            pl.when(pl.col(before).is_not_null() & pl.col(after).is_null())
            .then(pl.lit(step.rule.name))
            .otherwise(expr)
        )
    return expr


def _typed(contract: FieldContract, final: pl.Expr) -> pl.Expr:
    """The column as published: times are text until here."""
    if contract.kind != "timestamp":
        return final
    parsed = final.str.to_datetime(ISO_UTC_FORMAT, time_zone="UTC", strict=False)
    return parsed.dt.cast_time_unit("us")


def _unguarded(fields: Sequence[FieldContract], frame: pl.DataFrame) -> dict[str, list[_Step]]:
    """Per field, the steps that can change one of its values in ``frame``: those without a
    guard, and those whose guard some value matches (one pass over the batch for all)."""
    steps = {c.name: _steps(c) for c in fields}
    probes = {
        f"{c.name}:{guard}": _matches(pl.col(c.column), frame.schema[c.column], guard).any()
        for c in fields
        for guard in {step.guard for step in steps[c.name] if step.guard is not None}
    }
    found = frame.select(expr.alias(name) for name, expr in probes.items()).row(0, named=True)
    return {
        c.name: [
            step
            for step in steps[c.name]
            if step.guard is None or found.get(f"{c.name}:{step.guard}", True)
        ]
        for c in fields
    }


def _matches(column: pl.Expr, dtype: pl.DataType, guard: str) -> pl.Expr:
    """Per row, whether the text (or an item of the list of texts) matches ``guard``."""
    if dtype == pl.String():
        return column.str.contains(guard)
    if dtype == pl.List(pl.String()):
        return column.list.eval(pl.element().str.contains(guard)).list.any()
    return pl.lit(True)


_REPAIR_ROWS = {
    "field": pl.String(),
    "rule": pl.String(),
    "action": pl.String(),
    "value_before": pl.String(),
    "value_after": pl.String(),
}
_REJECTED_ROWS = {
    "field": pl.String(),
    "rule": pl.String(),
    "value_before": pl.String(),
    "value_chars": pl.UInt32(),
}


def _concat(
    frames: Sequence[pl.DataFrame], schema: Mapping[str, pl.DataType], index: str
) -> pl.DataFrame:
    empty = pl.DataFrame(schema={index: pl.UInt32(), **schema})
    return pl.concat([empty, *frames], how="vertical_relaxed")


def rule_descriptions() -> dict[str, str]:
    """Every rule's name and description, ``<field>.missing`` included."""
    descriptions = {f"{name}.missing": "missing" for name in CONTRACTS}
    for contract in CONTRACTS.values():
        descriptions.update((rule.name, rule.description) for rule in contract.rules())
    return descriptions


def _rejection_reasons(rows: pl.DataFrame, index: str) -> pl.DataFrame:
    described = pl.format(
        "{}: {}{}",
        pl.col("field"),
        pl.col("rule").replace_strict(rule_descriptions(), default="unusable"),
        pl.when(pl.col("value_before").is_not_null())
        .then(pl.format(" ('{}')", pl.col("value_before").str.slice(0, 80)))
        .otherwise(pl.lit("")),
    )
    too_long = pl.format(
        "{} is {} characters long, over the limit ({})",
        pl.col("field"),
        pl.col("value_chars"),
        pl.col("value_before").str.slice(0, 80),
    )
    return rows.with_columns(
        pl.when(pl.col("rule").str.ends_with(".missing"))
        .then(pl.format("{} is missing", pl.col("field")))
        .when(pl.col("rule").str.ends_with(".too_long"))
        .then(too_long)
        .otherwise(described)
        .alias("reason")
    ).select(index, "field", "rule", "reason")


def _excerpt(expr: pl.Expr) -> pl.Expr:
    """A value as text, cut to ``EXCERPT_CHARS``: lists joined with ' | ', times in ISO form."""
    return expr.map_batches(_excerpt_series, return_dtype=pl.String)


def _excerpt_series(values: pl.Series) -> pl.Series:
    if values.dtype == pl.String:
        text = values
    elif isinstance(values.dtype, pl.List):
        text = values.list.join(" | ")
    elif isinstance(values.dtype, pl.Datetime):
        text = values.dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
    else:
        text = values.cast(pl.String)
    return text.str.slice(0, EXCERPT_CHARS)


# --- decoding JSON values -----------------------------------------------------------------------


class EntryRejected(ValueError):
    """A required field of an entry is unusable: the entry is rejected."""

    def __init__(self, field_name: str, rule: str, reason: str) -> None:
        self.field = field_name
        self.rule = rule
        self.reason = reason
        super().__init__(reason)


@dataclass
class Decoder:
    """Coerces the JSON values of one file's entries to their fields' types, noting each change.

    A parser calls it per value while it decodes an entry (the values have no column type yet);
    the notes become rows of the repairs table, keyed by the entry's position.
    """

    source_format: str
    notes: list[dict[str, Any]] = field(default_factory=list)
    position: int = 0

    def text(self, name: str, value: object) -> str | None:
        """A text field (title, abstract, id, link, name): text, or a number written as text."""
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            written = str(value)
            self._note(name, "text_from_number", value, written)
            return written
        self._unusable(name, "wrong_type", value, f"is {_kind_of(value)}, not text")
        return None

    def count(self, name: str, value: object) -> int | None:
        """A count: a whole number, or text or a float that is one."""
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value  # type: ignore[return-value]
        if isinstance(value, float) and value.is_integer():
            self._note(name, "whole_float", value, int(value))
            return int(value)
        if isinstance(value, str) and (number := _count_in_text(value)) is not None:
            self._note(name, "number_as_text", value, number)
            return number
        self._unusable(name, "not_a_number", value, "is not a whole number")
        return None

    def timestamp(self, name: str, value: object) -> str | None:
        """A time: ISO text (checked as a column later), or seconds or milliseconds since 1970."""
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            seconds = value / 1000 if abs(value) >= 100_000_000_000 else value
            try:
                moment = datetime.fromtimestamp(seconds, UTC)
            except (OverflowError, OSError, ValueError):
                self._unusable(name, "wrong_type", value, "is not a time")
                return None
            written = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
            self._note(name, "epoch", value, written)
            return written
        self._unusable(name, "wrong_type", value, f"is {_kind_of(value)}, not a time")
        return None

    def names(self, name: str, value: object, key: str = "name") -> list[str] | None:
        """A list of names: objects with a ``key``, or plain names (repaired)."""
        items = self._list(name, value)
        if items is None:
            return None
        names: list[str] = []
        plain = unusable = 0
        for item in items:
            if isinstance(item, dict) and isinstance(item.get(key), str):
                names.append(item[key])
            elif isinstance(item, str):
                names.append(item)
                plain += 1
            else:
                unusable += 1
        if plain:
            self._note(name, "item_as_text", items, names)
        if unusable:
            self._note(name, "item_unusable", items, names)
        return names

    def texts(self, name: str, value: object) -> list[str] | None:
        """A list of texts (keywords); items that are not text are removed."""
        items = self._list(name, value)
        if items is None:
            return None
        texts = [item for item in items if isinstance(item, str)]
        if len(texts) < len(items):
            self._note(name, "item_unusable", items, texts)
        return texts

    def _list(self, name: str, value: object) -> list[Any] | None:
        if value is None or isinstance(value, list):
            return value
        if isinstance(value, str) and value.strip()[:1] in ("[", "("):
            listed = _list_in_text(value)
            if listed is not None:
                self._note(name, "list_as_text", value, listed)
                return listed
        self._unusable(name, "not_a_list", value, f"is {_kind_of(value)}, not a list")
        return None

    def _note(self, name: str, what: str, before: object, after: object) -> None:
        self.notes.append(
            {
                "position": self.position,
                "field": name,
                "rule": f"{name}.{what}",
                "action": REPAIRED if after is not None else DROPPED,
                "value_before": _python_excerpt(before),
                "value_after": None if after is None else _python_excerpt(after),
            }
        )

    def _unusable(self, name: str, what: str, value: object, problem: str) -> None:
        contract = CONTRACTS[name]
        if self.source_format in contract.required_in:
            raise EntryRejected(
                name, f"{name}.{what}", f"{name} {problem}: {_python_excerpt(value)[:80]}"
            )
        self._note(name, what, value, None)

    def repairs(self) -> pl.DataFrame:
        """The notes as rows: ``position``, ``field``, ``rule``, ``action``, before, after."""
        return pl.DataFrame(
            self.notes,
            schema={
                "position": pl.Int32(),
                **{k: v for k, v in REPAIR_SCHEMA.items() if k not in ("source_file", "position")},
            },
        )


_COUNT_TEXT = re.compile(r"^\s*(\d{1,3}(?:,\d{3})+|\d{1,12})(?:\.0+)?\s*$")
_SCALED_COUNT_TEXT = re.compile(r"^\s*(\d{1,6})(?:\.(\d{1,2}))?\s*([kKmM])\s*$")


def _count_in_text(text: str) -> int | None:
    """'12', '1,234', '12.0', '1.2k' as a whole number; None when the text is not one."""
    if plain := _COUNT_TEXT.match(text):
        return int(plain[1].replace(",", ""))
    if scaled := _SCALED_COUNT_TEXT.match(text):
        scale = 1_000 if scaled[3].lower() == "k" else 1_000_000
        fraction = scaled[2] or ""
        return int(scaled[1]) * scale + (
            int(fraction) * scale // 10 ** len(fraction) if fraction else 0
        )
    return None


# a list written as text is at most this long: a real author list is a few kilobytes
_MAX_LIST_TEXT = 200_000


def _list_in_text(text: str) -> list[Any] | None:
    """The list a text spells as JSON or as a Python literal; None when it spells none."""
    if len(text) > _MAX_LIST_TEXT:
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            return None
    if isinstance(value, tuple):
        value = list(value)
    return value if isinstance(value, list) else None


def _kind_of(value: object) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def _python_excerpt(value: object) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
    return text[:EXCERPT_CHARS]


# --- documentation ------------------------------------------------------------------------------


CONTRACTS_START = "<!-- field contracts: generated from pipelines/core/ingest/contracts.py -->"
CONTRACTS_END = "<!-- end of field contracts -->"


def contracts_markdown() -> str:
    """The contracts as a Markdown table between their markers, for docs/reliability.md."""
    lines = [
        CONTRACTS_START,
        "",
        "| field | kind | from (API / capture) | without a usable value | rules, in order |",
        "| --- | --- | --- | --- | --- |",
    ]
    for contract in CONTRACTS.values():
        sources = " / ".join(
            contract.sources.get(source, "-") for source in (API_FORMAT, CAPTURE_FORMAT)
        )
        if not contract.required_in:
            required = "field dropped"
        elif contract.required_in == {API_FORMAT, CAPTURE_FORMAT}:
            required = "entry rejected"
        else:
            required = "entry rejected (API); field dropped (capture)"
        rules = "<br>".join(
            f"`{rule.name}` ({_POLICY_WORDS[rule.policy]}): {rule.description}"
            for rule in contract.rules()
        )
        lines.append(f"| `{contract.name}` | {contract.kind} | {sources} | {required} | {rules} |")
    return "\n".join([*lines, "", CONTRACTS_END])


_POLICY_WORDS = {REPAIR: "repair", DROP_FIELD: "drop field", REJECT_ENTRY: "reject entry"}

if __name__ == "__main__":
    import sys
    from pathlib import Path

    from pipelines.core.publish.catalog import replace_generated_section

    replace_generated_section(
        Path(sys.argv[1]), CONTRACTS_START, CONTRACTS_END, contracts_markdown()
    )
