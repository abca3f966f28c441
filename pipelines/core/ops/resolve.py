"""Look up the arXiv ids of papers listed by title alone, and land every answer as a ledger.

For each title, the Hugging Face papers search is asked first; when its candidates settle nothing,
the arXiv API is asked too, and :func:`title_lookup.decide` weighs the candidates of both. Every
look-up becomes one line of a JSON Lines ledger landed atomically under
``<landing>/resolutions/`` (the title, what each source answered with the sha256 of its bytes,
every candidate with its verdict, the decision, the reason, the time), so that what was found
online is kept as input: a rebuild reads the ledger, not the network.

Requests follow the live fetch's discipline (``fetch.build_session``: timeouts, retries with
backoff on 429 and 5xx, Retry-After, a size cap, the project's User-Agent) and a politeness
interval per host: arXiv asks for no more than one request every three seconds.

A title is looked up again when its last answer left it unresolved and is older than
``retry_unresolved_days``; a line written by hand with ``"provenance": "manual"`` pins a title
and is never looked up again.

This module does not import Dagster.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson
import polars as pl
import requests

from pipelines.core.curate.model import LOOKED_UP_SCHEMA
from pipelines.core.ingest.entries import TITLE_KEY_PREFIX
from pipelines.core.ingest.landing import RESOLUTIONS_FOLDER, sha256_file, sha256_hex
from pipelines.core.ops.fetch import (
    FetchError,
    FetchSettings,
    build_session,
    fetch_bytes,
    land_bytes,
)
from pipelines.core.ops.title_lookup import (
    ACCEPTED,
    ARXIV_API,
    HF_SEARCH,
    Candidate,
    Decision,
    ListedTitle,
    LookupAnswerError,
    decide,
    parse_arxiv_atom,
    parse_hf_search,
    title_keys,
    versionless_ids,
)
from pipelines.core.publish.parts import table_glob

LOOKUP = "lookup"
MANUAL = "manual"
# a look-up whose source could not be asked or read: tried again by the next run
FAILED = "failed"
# the status of a ledger file among a release's sources
LEDGER_STATUS = "lookup ledger"


@dataclass(frozen=True)
class LookupSettings:
    """Where to ask, how politely, and when to ask again."""

    hf_base_url: str = "https://huggingface.co"
    arxiv_base_url: str = "https://export.arxiv.org"
    # seconds between two requests to one host: arXiv's terms ask for 3
    hf_interval: float = 1.0
    arxiv_interval: float = 3.0
    max_results: int = 10
    retry_unresolved_days: int = 30
    # timeouts, retries, User-Agent; search answers are small
    fetch: FetchSettings = field(default_factory=lambda: FetchSettings(max_body_bytes=5 << 20))

    def hf_search_url(self, title: str) -> str:
        return f"{self.hf_base_url.rstrip('/')}/api/papers/search?{urlencode({'q': title})}"

    def arxiv_url(self, title: str) -> str:
        # the title as a phrase in the title field; arXiv's query syntax has no escape for quotes
        phrase = " ".join(title.replace('"', " ").split())
        query = {"search_query": f'ti:"{phrase}"', "max_results": str(self.max_results)}
        return f"{self.arxiv_base_url.rstrip('/')}/api/query?{urlencode(query)}"

    def interval_for(self, url: str) -> float:
        arxiv_host = urlsplit(self.arxiv_base_url).netloc
        return self.arxiv_interval if urlsplit(url).netloc == arxiv_host else self.hf_interval


class Pacer:
    """Waits before a request until the host's interval has passed since its last request."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock, self._sleep = clock, sleep
        self._last: dict[str, float] = {}

    def wait(self, url: str, interval: float) -> None:
        host = urlsplit(url).netloc
        last = self._last.get(host)
        if last is not None:
            remaining = last + interval - self._clock()
            if remaining > 0:
                self._sleep(remaining)
        self._last[host] = self._clock()


@dataclass
class LookupRun:
    """What a run of look-ups did: a ledger line per title, and where the ledger landed."""

    lines: list[dict[str, Any]]
    ledger: Path | None = None

    def count(self, decision: str) -> int:
        return sum(line["decision"] == decision for line in self.lines)

    def describe(self) -> str:
        where = f"; ledger {self.ledger}" if self.ledger else ""
        return (
            f"{len(self.lines)} titles looked up: {self.count(ACCEPTED)} resolved, "
            f"{self.count('unresolved')} unresolved, {self.count(FAILED)} failed{where}"
        )


def resolve_titles(
    titles: Sequence[ListedTitle],
    landing_dir: Path,
    settings: LookupSettings | None = None,
    *,
    session: requests.Session | None = None,
    pacer: Pacer | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> LookupRun:
    """Look up each title and land the ledger of the answers (nothing landed for no title)."""
    settings = settings or LookupSettings()
    pacer = pacer or Pacer()
    own = session is None
    active = session or build_session(settings.fetch)
    try:
        lines = [_look_up(title, active, settings, pacer, now) for title in titles]
    finally:
        if own:
            active.close()
    run = LookupRun(lines)
    if lines:
        stamp = now().strftime("%Y%m%dT%H%M%S%fZ")
        run.ledger = landing_dir / RESOLUTIONS_FOLDER / f"{stamp}.jsonl"
        land_bytes(run.ledger, b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return run


def read_ledger(landing_dir: Path) -> list[dict[str, Any]]:
    """Every line of every ledger file, oldest file first; a line that is not a JSON object with
    a title is skipped (a hand-written line gone wrong must not stop the look-ups)."""
    folder = landing_dir / RESOLUTIONS_FOLDER
    lines: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else ():
        for raw in path.read_bytes().splitlines():
            try:
                line = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if isinstance(line, dict) and isinstance(line.get("title"), str):
                lines.append(line)
    return lines


def ledger_sources(landing_dir: Path) -> list[dict[str, Any]]:
    """The ledger files as sources of a release (``file_key``, ``sha256``, ``size``, ``status``
    ``lookup ledger``): a release says which answers its ids came from."""
    folder = landing_dir / RESOLUTIONS_FOLDER
    return [
        {
            "file_key": f"{RESOLUTIONS_FOLDER}/{path.name}",
            "sha256": sha256_file(path),
            "size": path.stat().st_size,
            "status": LEDGER_STATUS,
        }
        for path in (sorted(folder.glob("*.jsonl")) if folder.is_dir() else [])
    ]


def ledger_ids(landing_dir: Path) -> pl.DataFrame:
    """What curation reads of the ledger (``model.LOOKED_UP_SCHEMA``): per title key, the
    latest id pinned by hand and the latest id a look-up accepted, well-formed ids only."""
    pinned: dict[str, str] = {}
    looked_up: dict[str, str] = {}
    lines = [line for line in read_ledger(landing_dir) if isinstance(line.get("arxiv_id"), str)]
    keys = title_keys([line["title"] for line in lines])
    ids = versionless_ids([line["arxiv_id"] for line in lines])
    for line, key, arxiv in zip(lines, keys, ids, strict=True):
        if not key or arxiv is None:
            continue
        if line.get("provenance") == MANUAL:
            pinned[key] = arxiv
        elif line.get("decision") == ACCEPTED:
            looked_up[key] = arxiv
    rows = [
        {"title_key": key, "pinned_id": pinned.get(key), "looked_up_id": looked_up.get(key)}
        for key in sorted(pinned.keys() | looked_up.keys())
    ]
    return pl.DataFrame(rows, schema=LOOKED_UP_SCHEMA)


def titles_to_look_up(
    listed: Iterable[ListedTitle],
    ledger: Sequence[dict[str, Any]],
    now: datetime,
    retry_unresolved_days: int,
) -> list[ListedTitle]:
    """The titles with no answer yet, whose last look-up failed, or whose last answer left them
    unresolved longer ago than ``retry_unresolved_days``; a resolved or hand-pinned title is
    never asked again. One title per title key, in order."""
    candidates = list(listed)
    keys = title_keys([item.title for item in candidates])
    latest: dict[str, dict[str, Any]] = {}
    # keys made again from the titles, as curation makes them (ledger_ids)
    for line, key in zip(ledger, title_keys([line["title"] for line in ledger]), strict=True):
        if latest.get(key, {}).get("provenance") != MANUAL:
            latest[key] = line
    due, seen = [], set()
    for item, key in zip(candidates, keys, strict=True):
        if key in seen or not key:
            continue
        seen.add(key)
        if _due(latest.get(key), now, retry_unresolved_days):
            due.append(item)
    return due


def _due(last: dict[str, Any] | None, now: datetime, retry_unresolved_days: int) -> bool:
    """Whether a title whose latest ledger line is ``last`` is to be looked up (again)."""
    if last is None:
        return True
    if last.get("provenance") == MANUAL or last.get("decision") == ACCEPTED:
        return False
    if last.get("decision") == FAILED:
        return True
    answered = _when(last.get("time"))
    return answered is None or now - answered >= timedelta(days=retry_unresolved_days)


def _look_up(
    listed: ListedTitle,
    session: requests.Session,
    settings: LookupSettings,
    pacer: Pacer,
    now: Callable[[], datetime],
) -> dict[str, Any]:
    """Ask each source in turn until the candidates found so far settle the title."""
    answers: list[dict[str, Any]] = []
    candidates: list[Candidate] = []
    decision: Decision | None = None
    for source, url_of, parse, accept in _SOURCES:
        url = url_of(settings, listed.title)
        pacer.wait(url, settings.interval_for(url))
        try:
            body = fetch_bytes(session, url, settings.fetch, accept)
            found = parse(body, listed.title)
        except (FetchError, LookupAnswerError) as error:
            answers.append({"source": source, "url": url, "error": str(error)})
            continue
        digest = sha256_hex(body)
        answers.append(
            {"source": source, "url": url, "response_sha256": digest, "found": len(found)}
        )
        candidates += found
        decision = decide(listed, candidates)
        if decision.outcome == ACCEPTED:
            break
    errors = [answer["error"] for answer in answers if "error" in answer]
    # an answer missing may have held the paper: unless one was accepted, ask again next time
    if decision is None or (errors and decision.outcome != ACCEPTED):
        verdicts = decision.verdicts if decision else ()
        decision = Decision(FAILED, None, "; ".join(errors), verdicts)
    return _ledger_line(listed, decision, answers, candidates, now())


# each source: its name, its URL for a title, its parser and the media type asked for
_SOURCES = (
    (HF_SEARCH, LookupSettings.hf_search_url, parse_hf_search, "application/json"),
    (ARXIV_API, LookupSettings.arxiv_url, parse_arxiv_atom, "application/atom+xml"),
)


def _ledger_line(
    listed: ListedTitle,
    decision: Decision,
    answers: list[dict[str, Any]],
    candidates: list[Candidate],
    moment: datetime,
) -> dict[str, Any]:
    """One look-up as the ledger keeps it."""
    return {
        "provenance": LOOKUP,
        "title": listed.title,
        "title_key": title_keys([listed.title])[0],
        "listed_on": listed.listed_on.isoformat() if listed.listed_on else None,
        "decision": decision.outcome,
        "arxiv_id": decision.arxiv_id,
        "reason": decision.reason,
        "answers": answers,
        "candidates": [
            {
                "arxiv_id": candidate.arxiv_id,
                "title": candidate.title,
                "source": candidate.source,
                "submitted_on": _iso(candidate.submitted_on),
                "verdict": verdict,
            }
            for candidate, (_, verdict) in zip(candidates, decision.verdicts, strict=True)
        ],
        "time": moment.isoformat(timespec="seconds"),
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _when(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def title_only_papers(curated_dir: Path) -> pl.DataFrame:
    """The papers of the last build listed by title alone (``title:`` ids), with what a look-up
    reads of them; scanned, so no other paper's text is read.

    Raises:
        FileNotFoundError: when no build has curated papers in ``curated_dir``.
    """
    try:
        return (
            pl.scan_parquet(curated_dir / table_glob("papers"))
            .filter(pl.col("paper_id").str.starts_with(TITLE_KEY_PREFIX))
            .select("paper_id", "title", "first_listed_on", "authors")
            .sort("paper_id")
            .collect()
        )
    except (OSError, pl.exceptions.PolarsError) as error:
        raise FileNotFoundError(f"no curated papers in {curated_dir}: {error}") from None


def titles_due(
    papers: pl.DataFrame, landing_dir: Path, settings: LookupSettings, now: datetime
) -> list[ListedTitle]:
    """Which of the title-only ``papers`` (:func:`title_only_papers`) to look up now
    (:func:`titles_to_look_up` against the landed ledger)."""
    return titles_to_look_up(
        listed_titles(papers.iter_rows(named=True)),
        read_ledger(landing_dir),
        now,
        settings.retry_unresolved_days,
    )


def settings_from_env(fetch: FetchSettings | None = None) -> LookupSettings:
    """Where to ask: ``PAPERS_HF_BASE_URL`` and ``PAPERS_ARXIV_BASE_URL`` when set."""
    defaults = LookupSettings()
    return LookupSettings(
        hf_base_url=os.environ.get("PAPERS_HF_BASE_URL") or defaults.hf_base_url,
        arxiv_base_url=os.environ.get("PAPERS_ARXIV_BASE_URL") or defaults.arxiv_base_url,
        fetch=fetch or defaults.fetch,
    )


def listed_titles(rows: Iterable[dict[str, Any]]) -> list[ListedTitle]:
    """The titles of ``papers`` rows (``title``, ``first_listed_on``, ``authors``) to look up."""
    return [
        ListedTitle(
            row["title"],
            row.get("first_listed_on") if isinstance(row.get("first_listed_on"), date) else None,
            tuple(row.get("authors") or ()),
        )
        for row in rows
    ]
