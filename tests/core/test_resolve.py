"""Title look-ups against a local server standing in for Hugging Face and arXiv: which source is
asked, how politely, what a fault leaves, and the ledger landed for the next build.

The search answers are real daily-API items (the papers search answers items of the same shape);
the arXiv answers follow the Atom layout of the arXiv API (see test_title_lookup.FEED).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from html import escape
from pathlib import Path

import orjson
import polars as pl
import pytest
import requests

from pipelines.core.ingest.landing import RESOLUTIONS_FOLDER, scan_landing, sha256_file
from pipelines.core.ops.fetch import FetchSettings, build_session
from pipelines.core.ops.resolve import (
    FAILED,
    MANUAL,
    LookupSettings,
    Pacer,
    read_ledger,
    resolve_titles,
    titles_to_look_up,
)
from pipelines.core.ops.settings import Paths
from pipelines.core.ops.title_lookup import (
    ACCEPTED,
    ARXIV_API,
    HF_SEARCH,
    UNRESOLVED,
    Candidate,
    ListedTitle,
)
from tests.conftest import SAMPLE_LANDING
from tests.core.test_title_lookup import FEED
from tests.support.clock import FakeClock
from tests.support.replay_server import Fault, ReplayServer

SSM_TITLE = "Transformers are SSMs: Generalized Models and Efficient Algorithms Through Structured State Space Duality"  # noqa: E501
# a paper of the bundled sample (hf-daily-api/2024-05-31.json)
JINA_TITLE = "Jina CLIP: Your CLIP Model Is Also Your Text Retriever"
NOW = datetime(2024, 6, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def lookup(server: ReplayServer, no_proxy: None) -> LookupSettings:
    fetch = FetchSettings(
        connect_timeout=1.0, read_timeout=0.5, max_retries=2, backoff_factor=0.01, max_backoff=0.05
    )
    # both sources on the one local server: arXiv's by a name of its own, so each has its host
    return LookupSettings(
        hf_base_url=server.base_url,
        arxiv_base_url=server.base_url.replace("127.0.0.1", "localhost"),
        fetch=fetch,
    )


@pytest.fixture
def session(lookup: LookupSettings) -> requests.Session:
    return build_session(lookup.fetch, sleep=lambda _: None)


def _target(url: str) -> str:
    """The path and query the server sees for ``url``."""
    return "/" + url.split("/", 3)[3]


def _search_answer(*ids: str) -> bytes:
    """A papers search answer holding the real daily items of these ids."""
    items = orjson.loads((SAMPLE_LANDING / "hf-daily-api" / "2024-05-31.json").read_bytes())
    return orjson.dumps([item for item in items if item["paper"]["id"] in ids])


def _run(titles: list[ListedTitle], landing: Path, lookup: LookupSettings, session, clock=None):
    clock = clock or FakeClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    return resolve_titles(titles, landing, lookup, session=session, pacer=pacer, now=lambda: NOW)


def test_a_title_the_search_finds_is_resolved_without_asking_arxiv(
    server: ReplayServer, lookup: LookupSettings, session: requests.Session, tmp_path: Path
) -> None:
    listed = ListedTitle(JINA_TITLE, date(2024, 6, 1))
    server.add_page(
        _target(lookup.hf_search_url(JINA_TITLE)),
        _search_answer("2405.20335", "2405.20204"),
        "application/json",
    )
    run = _run([listed], tmp_path, lookup, session)
    [line] = run.lines
    assert (line["decision"], line["arxiv_id"]) == (ACCEPTED, "2405.20204")
    assert line["reason"] == "one paper matches: exact"
    assert [answer["source"] for answer in line["answers"]] == ["hf_search"]
    assert server.hits(_target(lookup.arxiv_url(JINA_TITLE))) == 0
    assert {c["arxiv_id"]: c["verdict"] for c in line["candidates"]} == {
        "2405.20204": "exact",
        "2405.20335": "too far",
    }
    assert run.ledger is not None and run.ledger.parent == tmp_path / RESOLUTIONS_FOLDER
    assert read_ledger(tmp_path) == [line]
    assert line["time"] == "2024-06-10T12:00:00+00:00"
    assert run.describe().startswith("1 titles looked up: 1 resolved, 0 unresolved, 0 failed")
    # the project says who is asking
    [request] = [r for r in server.seen if r.target.startswith("/api/papers/search")]
    assert request.headers["User-Agent"].startswith("trending-papers/")


def test_arxiv_is_asked_when_the_search_settles_nothing_and_each_host_is_paced(
    server: ReplayServer, lookup: LookupSettings, session: requests.Session, tmp_path: Path
) -> None:
    titles = [ListedTitle(SSM_TITLE, date(2024, 6, 3)), ListedTitle("Unknown Paper Title Here")]
    for title in titles:
        server.add_page(_target(lookup.hf_search_url(title.title)), b"[]", "application/json")
        server.add_page(_target(lookup.arxiv_url(title.title)), FEED, "application/atom+xml")
    clock = FakeClock()
    run = _run(titles, tmp_path, lookup, session, clock)
    found, unknown = run.lines
    assert (found["decision"], found["arxiv_id"]) == (ACCEPTED, "2405.21060")
    assert [answer["found"] for answer in found["answers"]] == [0, 2]
    assert (unknown["decision"], unknown["reason"]) == (
        UNRESOLVED,
        "no candidate matches the title closely",
    )
    # requests: hf, arxiv, hf, arxiv, on a clock that moves only when slept on: the second
    # search waits 1 s; the second arXiv request 3 s after the first, 1 s of which went by
    # waiting for the search
    assert clock.sleeps == [lookup.hf_interval, lookup.arxiv_interval - lookup.hf_interval]


def test_a_busy_server_is_retried_and_a_broken_feed_leaves_the_title_to_the_next_run(
    server: ReplayServer, lookup: LookupSettings, session: requests.Session, tmp_path: Path
) -> None:
    listed = ListedTitle(SSM_TITLE, date(2024, 6, 3))
    search = _target(lookup.hf_search_url(SSM_TITLE))
    server.add_page(search, b"[]", "application/json")
    server.inject(search, Fault.error(429, retry_after="0"))
    server.add_page(_target(lookup.arxiv_url(SSM_TITLE)), FEED[:200], "application/atom+xml")
    [line] = _run([listed], tmp_path, lookup, session).lines
    assert server.hits(search) == 2
    assert (line["decision"], line["arxiv_id"]) == (FAILED, None)
    assert line["reason"].startswith(f"arxiv_api {SSM_TITLE!r}: not a readable feed")
    due = titles_to_look_up([listed], read_ledger(tmp_path), NOW, 30)
    assert due == [listed]


def test_an_entity_expansion_feed_is_refused(
    server: ReplayServer, lookup: LookupSettings, session: requests.Session, tmp_path: Path
) -> None:
    listed = ListedTitle(SSM_TITLE)
    server.add_page(_target(lookup.hf_search_url(SSM_TITLE)), b"[]", "application/json")
    attack = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol2;</title></feed>'
    )
    server.add_page(_target(lookup.arxiv_url(SSM_TITLE)), attack, "application/atom+xml")
    [line] = _run([listed], tmp_path, lookup, session).lines
    assert line["decision"] == FAILED and "refused feed" in line["reason"]


def test_resolved_and_pinned_titles_are_not_asked_again_and_unresolved_ones_after_30_days() -> None:
    old, recent = (NOW - timedelta(days=31)).isoformat(), (NOW - timedelta(days=2)).isoformat()
    ledger = [
        {"title": "Resolved Paper", "decision": ACCEPTED, "time": old},
        {"title": "Stale Miss", "decision": UNRESOLVED, "time": old},
        {"title": "Recent Miss", "decision": UNRESOLVED, "time": recent},
        {"title": "Pinned Paper", "provenance": MANUAL, "arxiv_id": "2401.00001", "time": old},
        {"title": "pinned  paper", "decision": UNRESOLVED, "time": old},
    ]
    listed = [
        ListedTitle(title)
        for title in (
            "Resolved Paper",
            "Stale Miss",
            "Recent Miss",
            "Pinned Paper",
            "New Paper",
            "new paper",
        )
    ]
    due = titles_to_look_up(listed, ledger, NOW, 30)
    assert [item.title for item in due] == ["Stale Miss", "New Paper"]


def test_the_landing_scan_does_not_read_the_ledger_as_listings(tmp_path: Path) -> None:
    (tmp_path / RESOLUTIONS_FOLDER).mkdir()
    (tmp_path / RESOLUTIONS_FOLDER / "20240610T120000000000Z.jsonl").write_text("{}\n")
    shutil.copy(SAMPLE_LANDING / "hf-daily-api" / "2024-05-31.json", tmp_path / "day.json")
    files, refused = scan_landing(tmp_path)
    assert [item.file_key for item in files] == ["day.json"] and refused == []


def test_the_resolve_command_lists_the_title_only_papers_of_the_sample(
    built_sample: Paths, tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(built_sample.landing_dir, landing)
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "resolve", "--dry-run", "--limit", "3"],
        env={
            "PATH": "/usr/bin:/bin",
            "PAPERS_LANDING_DIR": str(landing),
            "PAPERS_DATA_DIR": str(built_sample.data_dir),
        },
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "69 papers without an arXiv id; 3 to look up"
    assert len(lines) == 4 and all(line.startswith("  ") for line in lines[1:])
    assert not (landing / RESOLUTIONS_FOLDER).exists()


def _release_parts(summary: object) -> dict[str, list[str]]:
    manifest = orjson.loads((summary.release.path / "manifest.json").read_bytes())  # type: ignore[attr-defined]
    return {
        name: [part["sha256"] for part in table["parts"]]
        for name, table in manifest["tables"].items()
    }


def test_the_build_gives_title_only_papers_the_ids_of_the_ledger_incrementally_as_in_full(
    tmp_paths: Paths, tmp_path: Path
) -> None:
    from pipelines.core.build import build_everything
    from pipelines.core.curate.stored import read_table

    shutil.copytree(SAMPLE_LANDING, tmp_paths.landing_dir, dirs_exist_ok=True)
    build_everything(tmp_paths)
    papers = read_table(tmp_paths.curated_dir, "papers")
    by_title = papers.filter(pl.col("paper_id").str.starts_with("title:")).sort("paper_id")
    assert by_title.height == 69
    looked_up, pinned = by_title["title"][0], by_title["title"][1]
    ledger = tmp_paths.landing_dir / RESOLUTIONS_FOLDER / "20240610T120000000000Z.jsonl"
    ledger.parent.mkdir()
    lines = [
        {
            "provenance": "lookup",
            "title": looked_up,
            "decision": ACCEPTED,
            "arxiv_id": "2401.00001v2",
        },
        {"provenance": MANUAL, "title": pinned, "arxiv_id": "arXiv:2402.00002"},
        # an unresolved answer and a malformed id give nothing
        {
            "provenance": "lookup",
            "title": by_title["title"][2],
            "decision": UNRESOLVED,
            "arxiv_id": None,
        },
        {"provenance": MANUAL, "title": by_title["title"][3], "arxiv_id": "not an id"},
    ]
    ledger.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))

    incremental = build_everything(tmp_paths)
    assert incremental.curation != "full: every paper curated from the whole history"
    papers = read_table(tmp_paths.curated_dir, "papers")
    found = papers.filter(pl.col("arxiv_id").is_in(["2401.00001", "2402.00002"]))
    assert found.select("paper_id", "title").sort("paper_id").rows() == [
        ("2401.00001", looked_up),
        ("2402.00002", pinned),
    ]
    assert papers.filter(pl.col("paper_id").str.starts_with("title:")).height == 67
    # each paper says how its id was found
    assert dict(papers.group_by("id_source").len().iter_rows()) == {
        "api": 311,
        "lookup": 1,
        "manual": 1,
        None: 67,
    }

    # the release names the ledger it read
    manifest = orjson.loads((incremental.release.path / "manifest.json").read_bytes())  # type: ignore[union-attr]
    assert manifest["sources"][-1] == {
        "file_key": f"{RESOLUTIONS_FOLDER}/{ledger.name}",
        "sha256": sha256_file(ledger),
        "size": ledger.stat().st_size,
        "status": "lookup ledger",
    }
    full_paths = Paths(landing_dir=tmp_paths.landing_dir, data_dir=tmp_path / "full")
    full = build_everything(full_paths)
    assert _release_parts(full) == _release_parts(incremental)


def _feed(entries: list[tuple[str, str, str]]) -> bytes:
    """An arXiv API answer (Atom) with these (id, title, published day) entries."""
    body = "".join(
        f"<entry><id>http://arxiv.org/abs/{arxiv}v1</id><published>{day}T12:00:00Z</published>"
        f"<title>{escape(title)}</title><author><name>A. Author</name></author></entry>"
        for arxiv, title, day in entries
    )
    return f'<feed xmlns="http://www.w3.org/2005/Atom">{body}</feed>'.encode()


def test_the_bundled_capture_resolved_then_built_offline_gives_the_ids_the_server_knows(
    built_sample: Paths,
    server: ReplayServer,
    lookup: LookupSettings,
    session: requests.Session,
    tmp_path: Path,
) -> None:
    """The capture's 69 title-only papers, a third known to the search, a third to arXiv only,
    a third to neither; after the look-ups, a build gives every known title its id, and a
    build of the same landing folder in a fresh data folder (no server asked) is identical."""
    from pipelines.core.build import build_everything
    from pipelines.core.curate.stored import read_table

    papers = read_table(built_sample.curated_dir, "papers")
    listed = papers.filter(pl.col("paper_id").str.starts_with("title:")).sort("paper_id")
    titles = [
        ListedTitle(row["title"], row["first_listed_on"]) for row in listed.iter_rows(named=True)
    ]
    known: dict[str, str] = {}
    for index, title in enumerate(titles):
        arxiv = f"2411.{index:05d}"
        day = "2024-11-01"
        miss = (f"2410.{index:05d}", f"{title.title} (Workshop Version)", "2024-10-01")
        search, feed = b"[]", _feed([])
        if index % 3 == 0:
            item = {"paper": {"id": arxiv, "title": title.title, "publishedAt": f"{day}T12:00:00Z"}}
            other = {
                "paper": {"id": miss[0], "title": miss[1], "publishedAt": f"{miss[2]}T12:00:00Z"}
            }
            search = orjson.dumps([other, item])
            known[title.title] = arxiv
        elif index % 3 == 1:
            feed = _feed([miss, (arxiv, title.title, day)])
            known[title.title] = arxiv
        server.add_page(_target(lookup.hf_search_url(title.title)), search, "application/json")
        server.add_page(_target(lookup.arxiv_url(title.title)), feed, "application/atom+xml")

    landing = tmp_path / "landing"
    shutil.copytree(built_sample.landing_dir, landing)
    run = _run(titles, landing, lookup, session)
    assert (run.count(ACCEPTED), run.count(UNRESOLVED), run.count(FAILED)) == (46, 23, 0)

    online = build_everything(Paths(landing_dir=landing, data_dir=tmp_path / "first"))
    built = read_table(tmp_path / "first" / "curated", "papers")
    got = dict(
        built.filter(pl.col("id_source") == "lookup").select("title", "arxiv_id").iter_rows()
    )
    assert got == known
    assert built.filter(pl.col("paper_id").str.starts_with("title:")).height == 23
    requests_made = len(server.seen)
    offline = build_everything(Paths(landing_dir=landing, data_dir=tmp_path / "second"))
    assert len(server.seen) == requests_made
    assert _release_parts(offline) == _release_parts(online)


def _answers(candidates: list[Candidate]) -> tuple[bytes, bytes]:
    """The search answer (JSON items) and the arXiv answer (Atom) holding ``candidates``, each
    source its own."""
    items = [
        {
            "paper": {
                "id": c.arxiv_id,
                "title": c.title,
                "authors": [{"name": name} for name in c.authors],
                "publishedAt": f"{c.submitted_on}T12:00:00.000Z" if c.submitted_on else None,
            }
        }
        for c in candidates
        if c.source == HF_SEARCH
    ]
    entries = "".join(
        f"<entry><id>http://arxiv.org/abs/{c.arxiv_id}v1</id>"
        + (f"<published>{c.submitted_on}T12:00:00Z</published>" if c.submitted_on else "")
        + f"<title>{escape(c.title)}</title>"
        + "".join(f"<author><name>{escape(name)}</name></author>" for name in c.authors)
        + "</entry>"
        for c in candidates
        if c.source == ARXIV_API
    )
    feed = f'<feed xmlns="http://www.w3.org/2005/Atom">{entries}</feed>'.encode()
    return orjson.dumps(items), feed


def test_precision_through_the_server_on_300_labelled_titles(
    server: ReplayServer, lookup: LookupSettings, session: requests.Session, tmp_path: Path
) -> None:
    """The labelled set of test_title_lookup, its first 300 titles answered by the local
    server in both formats (the true paper from arXiv for every other title): the look-ups
    accept only true ids, and every true paper the answers hold."""
    from tests.core.test_title_lookup import _labelled_cases

    cases = _labelled_cases()[:300]
    for _, listed, candidates, _ in cases:
        search, feed = _answers(candidates)
        server.add_page(_target(lookup.hf_search_url(listed.title)), search, "application/json")
        server.add_page(_target(lookup.arxiv_url(listed.title)), feed, "application/atom+xml")
    run = _run([listed for _, listed, _, _ in cases], tmp_path, lookup, session)
    outcomes = [
        (line["arxiv_id"], truth) for line, (_, _, _, truth) in zip(run.lines, cases, strict=True)
    ]
    accepted = [(found, truth) for found, truth in outcomes if found is not None]
    assert run.count(FAILED) == 0
    precision = sum(found == truth for found, truth in accepted) / len(accepted)
    assert precision >= 0.99
    # measured: every accepted id is the true one, and every true paper answered is found
    assert all(found == truth for found, truth in accepted)
    assert len(accepted) == sum(truth is not None for _, truth in outcomes) == 200
