"""Which arXiv paper a listed title is, from the candidates a search returned: precision first.

A page capture often lists a paper by its title alone. A search of the Hugging Face papers API
(JSON) or of the arXiv API (an Atom feed) returns candidates; :func:`decide` accepts one only when
the evidence leaves no doubt, and otherwise leaves the title unresolved with the candidates and the
reason recorded. A wrong id would merge two papers' histories in every table, while a missing id
only leaves a ``title:`` row: so the rules never guess.

The rules, in order:

1. A candidate submitted after the day the title was listed cannot be it (a later paper with the
   same title): it is set aside.
2. A candidate whose title key (``text.title_key``: case, LaTeX, punctuation and spacing folded)
   equals the listed one is acceptable.
3. A candidate whose key is within ``MAX_EDITS`` edits (and at most ``MAX_EDIT_SHARE`` of the
   title's length) is acceptable only when another signal agrees: an author surname in common
   (when the listing shows authors) or the same GitHub repository. The listing date alone does not
   count: every older paper with a similar title would pass it.
4. When several distinct papers are acceptable and the listing shows authors, those sharing an
   author are kept. Exactly one paper left: accepted. None, or more than one: unresolved.

Parsing the answers: the Atom feed is parsed with ``defusedxml``, which refuses entity
declarations, so a hostile or broken feed cannot expand entities or reach external resources; a
feed it refuses or cannot parse is an error naming the query, never an empty answer.

This module does not import Dagster and does no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from xml.etree.ElementTree import Element

import orjson
import polars as pl
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring
from rapidfuzz.distance import Levenshtein

from pipelines.core.arxiv import arxiv_id
from pipelines.core.text import title_key

HF_SEARCH = "hf_search"
ARXIV_API = "arxiv_api"
# at most this many character edits between the listed title's key and a candidate's ...
MAX_EDITS = 3
# ... and at most this share of the listed key's length (a short title allows fewer)
MAX_EDIT_SHARE = 0.05

ACCEPTED = "accepted"
UNRESOLVED = "unresolved"

# the verdicts that make a candidate acceptable
_ACCEPTABLE = frozenset({"exact", "near, same repository", "near, an author in common"})
_ATOM = "{http://www.w3.org/2005/Atom}"
_GITHUB = re.compile(r"github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)", re.IGNORECASE)


class LookupAnswerError(ValueError):
    """An answer of a search API that cannot be read; the message names the query and why."""


@dataclass(frozen=True)
class ListedTitle:
    """A title as a listing shows it, with what else the listing says of the paper."""

    title: str
    listed_on: date | None = None
    authors: tuple[str, ...] = ()
    github: str | None = None


@dataclass(frozen=True)
class Candidate:
    """A paper a search returned for a title."""

    arxiv_id: str
    title: str
    source: str
    authors: tuple[str, ...] = ()
    submitted_on: date | None = None
    github: str | None = None


@dataclass(frozen=True)
class Decision:
    """What a look-up concluded: the accepted arXiv id or none, why, and every candidate weighed
    with its verdict (``exact``, ``near, <signal>``, ``near, no other signal``, ``too far``,
    ``submitted after the listing``, ``no author in common``)."""

    outcome: str
    arxiv_id: str | None
    reason: str
    verdicts: tuple[tuple[str, str], ...] = field(default=())


def decide(listed: ListedTitle, candidates: Sequence[Candidate]) -> Decision:
    """Accept the one candidate the evidence points to, or none (see the module's rules)."""
    keys = title_keys([listed.title, *(candidate.title for candidate in candidates)])
    listed_key, candidate_keys = keys[0], keys[1:]
    surnames, *candidate_surnames = _surnames([listed.authors, *(c.authors for c in candidates)])
    repository = _repository(listed.github)
    verdicts = [
        [
            candidate.arxiv_id,
            _verdict(listed, listed_key, candidate, key, surnames & theirs, repository),
        ]
        for candidate, key, theirs in zip(
            candidates, candidate_keys, candidate_surnames, strict=True
        )
    ]
    shares_author = {
        candidate.arxiv_id
        for candidate, theirs in zip(candidates, candidate_surnames, strict=True)
        if surnames & theirs
    }
    acceptable = [
        candidate
        for candidate, (_, verdict) in zip(candidates, verdicts, strict=True)
        if verdict in _ACCEPTABLE
    ]
    if len({candidate.arxiv_id for candidate in acceptable}) > 1 and surnames:
        acceptable = [c for c in acceptable if c.arxiv_id in shares_author]
        kept = {candidate.arxiv_id for candidate in acceptable}
        for verdict in verdicts:
            if verdict[1] in _ACCEPTABLE and verdict[0] not in kept:
                verdict[1] = "no author in common"
    ids = sorted({candidate.arxiv_id for candidate in acceptable})
    weighed = tuple((id_, verdict) for id_, verdict in verdicts)
    if len(ids) == 1:
        why = sorted({verdict for id_, verdict in weighed if id_ == ids[0]})
        return Decision(ACCEPTED, ids[0], f"one paper matches: {', '.join(why)}", weighed)
    if not ids:
        reason = "no candidate" if not candidates else "no candidate matches the title closely"
        return Decision(UNRESOLVED, None, reason, weighed)
    return Decision(UNRESOLVED, None, f"{len(ids)} papers match: {', '.join(ids)}", weighed)


def title_keys(titles: Sequence[str]) -> list[str]:
    """The matching key of each title (``text.title_key``), in order."""
    frame = pl.DataFrame({"title": list(titles)}, schema={"title": pl.String})
    return frame.select(title_key("title").fill_null(""))["title"].to_list()


def versionless_ids(values: Sequence[str]) -> list[str | None]:
    """The versionless arXiv id of each id or abs/pdf URL (``arxiv.arxiv_id``), None if none."""
    frame = pl.DataFrame({"id": list(values)}, schema={"id": pl.String})
    return frame.select(arxiv_id("id"))["id"].to_list()


def parse_hf_search(body: bytes, query: str) -> list[Candidate]:
    """The candidates of a Hugging Face papers search answer (``/api/papers/search?q=``).

    The answer is a JSON list shaped like the daily papers API's items: each item's ``paper``
    holds ``id`` (the arXiv id), ``title``, ``authors`` (objects with a ``name``),
    ``publishedAt`` and, when known, ``githubRepo``.
    """
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise LookupAnswerError(f"{HF_SEARCH} {query!r}: not JSON ({error})") from None
    if not isinstance(document, list):
        kind = type(document).__name__
        raise LookupAnswerError(f"{HF_SEARCH} {query!r}: expected a JSON list, got {kind}")
    found: list[tuple[str, dict[str, Any]]] = []
    for item in document:
        paper = item.get("paper") if isinstance(item, dict) else None
        if isinstance(paper, dict) and isinstance(paper.get("id"), str):
            found.append((paper["id"], paper))
    ids = versionless_ids([raw for raw, _ in found])
    candidates = []
    for versionless, (_, paper) in zip(ids, found, strict=True):
        title = paper.get("title")
        if versionless is None or not isinstance(title, str):
            continue
        listed_authors = paper.get("authors")
        authors = listed_authors if isinstance(listed_authors, list) else []
        github = paper.get("githubRepo")
        candidates.append(
            Candidate(
                arxiv_id=versionless,
                title=title,
                source=HF_SEARCH,
                authors=tuple(
                    a["name"]
                    for a in authors
                    if isinstance(a, dict) and isinstance(a.get("name"), str)
                ),
                submitted_on=_day(paper.get("publishedAt")),
                github=github if isinstance(github, str) else None,
            )
        )
    return candidates


def parse_arxiv_atom(body: bytes, query: str) -> list[Candidate]:
    """The candidates of an arXiv API answer (an Atom feed, ``/api/query?search_query=``).

    Each ``entry`` gives the id (``http://arxiv.org/abs/<id>v<n>``), ``title`` (hard-wrapped by
    arXiv), ``published`` (the first version's submission), ``author/name``, and sometimes a
    GitHub link in ``arxiv:comment``.
    """
    try:
        feed = fromstring(body, forbid_dtd=True)
    except DefusedXmlException as error:
        raise LookupAnswerError(f"{ARXIV_API} {query!r}: refused feed ({error})") from None
    except ParseError as error:
        raise LookupAnswerError(f"{ARXIV_API} {query!r}: not a readable feed ({error})") from None
    if feed.tag != f"{_ATOM}feed":
        raise LookupAnswerError(f"{ARXIV_API} {query!r}: expected an Atom feed, got <{feed.tag}>")
    entries = feed.findall(f"{_ATOM}entry")
    ids = versionless_ids([_text(entry, "id") for entry in entries])
    candidates = []
    for versionless, entry in zip(ids, entries, strict=True):
        title = " ".join(_text(entry, "title").split())
        if versionless is None or not title:
            continue
        comment = " ".join(
            element.text or "" for element in entry if element.tag.endswith("}comment")
        )
        candidates.append(
            Candidate(
                arxiv_id=versionless,
                title=title,
                source=ARXIV_API,
                authors=tuple(
                    name
                    for author in entry.findall(f"{_ATOM}author")
                    if (name := _text(author, "name"))
                ),
                submitted_on=_day(_text(entry, "published")),
                github=_first_repository(comment),
            )
        )
    return candidates


def _verdict(
    listed: ListedTitle,
    listed_key: str,
    candidate: Candidate,
    key: str,
    common_surnames: set[str],
    listed_repository: str | None,
) -> str:
    if listed.listed_on and candidate.submitted_on and candidate.submitted_on > listed.listed_on:
        return "submitted after the listing"
    if key == listed_key and key:
        return "exact"
    edits = Levenshtein.distance(listed_key, key, score_cutoff=MAX_EDITS + 1)
    if not key or edits > min(MAX_EDITS, int(MAX_EDIT_SHARE * len(listed_key))):
        return "too far"
    if listed_repository and listed_repository == _repository(candidate.github):
        return "near, same repository"
    if common_surnames:
        return "near, an author in common"
    return "near, no other signal"


def _surnames(groups: Sequence[Sequence[str]]) -> list[set[str]]:
    """Per group of author names, each author's last word in matching form (one pass)."""
    names = [name for group in groups for name in group]
    keys = iter(title_keys(names))
    return [{key.split()[-1] for _ in group if (key := next(keys))} for group in groups]


def _repository(url: str | None) -> str | None:
    found = _GITHUB.search(url or "")
    return f"{found[1]}/{found[2].removesuffix('.git')}".lower() if found else None


def _first_repository(text: str) -> str | None:
    found = _GITHUB.search(text)
    return f"https://github.com/{found[1]}/{found[2]}" if found else None


def _text(element: Element, name: str) -> str:
    child = element.find(f"{_ATOM}{name}")
    return (child.text or "").strip() if child is not None else ""


def _day(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None
