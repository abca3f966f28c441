"""The live fetcher against a local server that replays recorded API responses and injects faults.

Nothing here touches the internet: every request goes to 127.0.0.1. Backoffs are hundredths of a
second and waits the client is told to make (Retry-After, politeness) are recorded by an injected
sleep rather than slept, so the file runs in a few seconds.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import urllib3.exceptions

from pipelines.core.ingest.landing import SIDECAR_SUFFIX
from pipelines.core.ops.fetch import (
    LIVE_LICENCE,
    OFFLINE_SUFFIX,
    FetchError,
    FetchOutcome,
    FetchSettings,
    backfill,
    build_session,
    daily_path,
    default_user_agent,
    fetch_daily,
    fetch_trending,
)
from tests.support.clock import FakeClock
from tests.support.replay_server import Fault, ReplayServer

# the replay server and proxy clearing are shared fixtures (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("no_proxy")

LIST_DAY = date(2024, 5, 27)  # a JSON list of objects
REPR_DAY = date(2024, 12, 10)  # a JSON list of Python-repr strings
WRAPPED_DAY = date(2025, 1, 10)  # {"status", "date", "count", "data": [...]}


def target(day: date) -> str:
    return f"/api/daily_papers?date={day.isoformat()}"


def all_files(folder: Path) -> set[str]:
    """Every file under ``folder``, hidden ones included (a left-over temporary file would be),
    except the sidecars that describe a landed file."""
    if not folder.exists():
        return set()
    return {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and not path.name.endswith(SIDECAR_SUFFIX)
    }


def test_a_fetched_file_has_a_sidecar_with_its_url_and_licence(
    landing: Path, settings: FetchSettings
) -> None:
    outcome = fetch_daily(date(2024, 5, 27), landing, settings)
    sidecar = outcome.path.with_name(outcome.path.name + SIDECAR_SUFFIX)  # type: ignore[union-attr]
    meta = json.loads(sidecar.read_text())
    assert meta["licence"] == LIVE_LICENCE
    assert meta["url"] == outcome.url


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    folder = tmp_path / "landing"
    folder.mkdir()
    return folder


@pytest.fixture
def settings(server: ReplayServer) -> FetchSettings:
    return FetchSettings(
        base_url=server.base_url,
        connect_timeout=1.0,
        read_timeout=0.5,
        transfer_timeout=5.0,
        max_retries=3,
        backoff_factor=0.01,
        max_backoff=0.05,
        min_interval=0.0,
    )


@pytest.fixture
def sleeps() -> list[float]:
    """The waits urllib3's Retry asked for, recorded instead of slept."""
    return []


@pytest.fixture
def session(settings: FetchSettings, sleeps: list[float]) -> Iterator[requests.Session]:
    http = build_session(settings, sleep=sleeps.append)
    try:
        yield http
    finally:
        http.close()


def closed_port_url() -> str:
    """A local URL nothing listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --- good responses -----------------------------------------------------------------------------


@pytest.mark.parametrize("day", [LIST_DAY, REPR_DAY, WRAPPED_DAY], ids=["list", "repr", "wrapped"])
def test_response_lands_byte_identical(
    server: ReplayServer, landing: Path, settings: FetchSettings, day: date
) -> None:
    outcome = fetch_daily(day, landing, settings)

    path = landing / "hf-daily-api" / f"{day.isoformat()}.json"
    assert outcome.status == "fetched"
    assert outcome.path == path == daily_path(landing, day)
    assert path.read_bytes() == server.recorded_body(day.isoformat())
    assert outcome.size == path.stat().st_size
    assert outcome.retries == 0
    assert outcome.url == f"{server.base_url}/api/daily_papers?date={day.isoformat()}"
    assert all_files(landing) == {f"hf-daily-api/{day.isoformat()}.json"}
    assert server.hits(target(day)) == 1


def test_user_agent_names_the_project(
    server: ReplayServer, landing: Path, settings: FetchSettings
) -> None:
    fetch_daily(LIST_DAY, landing, settings)

    agent = server.seen[0].headers["User-Agent"]
    assert agent == default_user_agent()
    assert agent.startswith("trending-papers/")
    assert "dataset pipeline" in agent


def test_default_user_agent_carries_the_package_version() -> None:
    from importlib.metadata import version

    assert default_user_agent().startswith(f"trending-papers/{version('trending-papers')} (+")
    assert FetchSettings().user_agent == default_user_agent()


def test_identical_file_is_left_untouched(
    server: ReplayServer, landing: Path, settings: FetchSettings
) -> None:
    path = daily_path(landing, LIST_DAY)
    path.parent.mkdir()
    path.write_bytes(server.recorded_body(LIST_DAY.isoformat()))
    before = path.stat()

    outcome = fetch_daily(LIST_DAY, landing, settings)

    after = path.stat()
    assert outcome.status == "unchanged"
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert all_files(landing) == {"hf-daily-api/2024-05-27.json"}


def test_changed_file_is_replaced(
    server: ReplayServer, landing: Path, settings: FetchSettings
) -> None:
    path = daily_path(landing, LIST_DAY)
    path.parent.mkdir()
    path.write_bytes(b"[]")

    outcome = fetch_daily(LIST_DAY, landing, settings)

    assert outcome.status == "updated"
    assert path.read_bytes() == server.recorded_body(LIST_DAY.isoformat())
    assert all_files(landing) == {"hf-daily-api/2024-05-27.json"}


def test_gzip_encoded_response_lands_decoded(
    server: ReplayServer, landing: Path, settings: FetchSettings
) -> None:
    server.inject(target(LIST_DAY), Fault.gzipped())

    fetch_daily(LIST_DAY, landing, settings)

    assert daily_path(landing, LIST_DAY).read_bytes() == server.recorded_body("2024-05-27")


def test_chunked_response_without_content_length_lands(
    server: ReplayServer, landing: Path, settings: FetchSettings
) -> None:
    server.inject(target(LIST_DAY), Fault.chunked())

    fetch_daily(LIST_DAY, landing, settings)

    assert daily_path(landing, LIST_DAY).read_bytes() == server.recorded_body("2024-05-27")


# --- retried faults ------------------------------------------------------------------------------


def test_server_error_then_success_lands_after_a_retry(
    server: ReplayServer, landing: Path, session: requests.Session, settings: FetchSettings
) -> None:
    server.inject(target(LIST_DAY), Fault.error(500))

    outcome = fetch_daily(LIST_DAY, landing, settings, session)

    assert outcome.status == "fetched"
    assert outcome.retries == 1
    assert server.hits(target(LIST_DAY)) == 2
    assert daily_path(landing, LIST_DAY).read_bytes() == server.recorded_body("2024-05-27")


def test_retry_after_is_honoured(
    server: ReplayServer, landing: Path, sleeps: list[float], settings: FetchSettings
) -> None:
    server.inject(target(LIST_DAY), Fault.error(429, retry_after="2"))
    patient = replace(settings, max_backoff=10.0)

    with build_session(patient, sleep=sleeps.append) as http:
        outcome = fetch_daily(LIST_DAY, landing, patient, http)

    assert sleeps == [2.0]
    assert outcome.status == "fetched"
    assert outcome.retries == 1
    assert server.hits(target(LIST_DAY)) == 2


def test_retry_after_is_capped_by_max_backoff(
    server: ReplayServer,
    landing: Path,
    sleeps: list[float],
    session: requests.Session,
    settings: FetchSettings,
) -> None:
    # a day-long Retry-After must not stall the run: the wait is capped at max_backoff
    server.inject(target(LIST_DAY), Fault.error(429, retry_after="86400"))

    outcome = fetch_daily(LIST_DAY, landing, settings, session)

    assert sleeps == [settings.max_backoff]
    assert outcome.status == "fetched"


def test_unreadable_retry_after_falls_back_to_backoff(
    server: ReplayServer,
    landing: Path,
    sleeps: list[float],
    session: requests.Session,
    settings: FetchSettings,
) -> None:
    server.inject(target(LIST_DAY), Fault.error(503, retry_after="after lunch"), times=2)

    outcome = fetch_daily(LIST_DAY, landing, settings, session)

    assert outcome.status == "fetched"
    assert server.hits(target(LIST_DAY)) == 3
    # urllib3 retries the first failure at once and backs off from the second one
    assert sleeps == [pytest.approx(settings.backoff_factor * 2)]


def test_service_unavailable_forever_fails_with_a_clear_message(
    server: ReplayServer,
    landing: Path,
    sleeps: list[float],
    settings: FetchSettings,
) -> None:
    stubborn = replace(settings, max_retries=5)
    server.inject(target(WRAPPED_DAY), Fault.error(503), times=None)

    with build_session(stubborn, sleep=sleeps.append) as http, pytest.raises(FetchError) as raised:
        fetch_daily(WRAPPED_DAY, landing, stubborn, http)

    url = f"{server.base_url}/api/daily_papers?date=2025-01-10"
    assert str(raised.value).startswith(
        f"GET {url} failed after 5 retries: 503 Service Unavailable"
    )
    assert raised.value.url == url
    assert raised.value.listing_date == WRAPPED_DAY
    assert raised.value.retries == 5
    assert not raised.value.offline
    assert server.hits(target(WRAPPED_DAY)) == 6
    # exponential backoff, capped, and never a wait beyond max_backoff
    assert sleeps == pytest.approx([0.02, 0.04, 0.05, 0.05])
    assert all_files(landing) == set()


def test_read_timeout_then_success_lands(
    server: ReplayServer, landing: Path, settings: FetchSettings
) -> None:
    server.inject(target(LIST_DAY), Fault.slow(3.0))

    outcome = fetch_daily(LIST_DAY, landing, settings)

    assert outcome.status == "fetched"
    assert server.hits(target(LIST_DAY)) == 2
    assert daily_path(landing, LIST_DAY).read_bytes() == server.recorded_body("2024-05-27")


def test_read_timeout_forever_fails(
    server: ReplayServer, landing: Path, settings: FetchSettings
) -> None:
    brief = replace(settings, max_retries=1, read_timeout=0.3)
    server.inject(target(LIST_DAY), Fault.slow(5.0), times=None)

    with pytest.raises(FetchError) as raised:
        fetch_daily(LIST_DAY, landing, brief)

    message = str(raised.value)
    assert "date=2024-05-27 failed after 1 retry: no response within the 0.3 s read timeout" in (
        message
    )
    assert not raised.value.offline
    assert server.hits(target(LIST_DAY)) == 2
    assert all_files(landing) == set()


def test_dropped_connection_then_success_lands(
    server: ReplayServer, landing: Path, settings: FetchSettings
) -> None:
    server.inject(target(LIST_DAY), Fault.drop())

    outcome = fetch_daily(LIST_DAY, landing, settings)

    assert outcome.status == "fetched"
    assert server.hits(target(LIST_DAY)) == 2


def test_dropped_connection_forever_fails(
    server: ReplayServer, landing: Path, settings: FetchSettings
) -> None:
    server.inject(target(LIST_DAY), Fault.drop(), times=None)

    with pytest.raises(FetchError) as raised:
        fetch_daily(LIST_DAY, landing, settings)

    assert "failed after 3 retries: the server closed the connection without a response" in str(
        raised.value
    )
    assert server.hits(target(LIST_DAY)) == 4
    assert all_files(landing) == set()


# --- refused bodies: nothing reaches the landing folder ------------------------------------------


def test_truncated_body_is_refused(
    server: ReplayServer, landing: Path, settings: FetchSettings
) -> None:
    server.inject(target(LIST_DAY), Fault.truncated())

    with pytest.raises(FetchError) as raised:
        fetch_daily(LIST_DAY, landing, settings)

    size = len(server.recorded_body("2024-05-27"))
    assert str(raised.value).endswith(
        "date=2024-05-27 failed: the body is incomplete: the connection closed after "
        f"{size // 2} of the {size} bytes announced by Content-Length"
    )
    assert all_files(landing) == set()
    # a broken body is not retried: the next run fetches the date again
    assert server.hits(target(LIST_DAY)) == 1


def test_truncated_chunked_body_is_refused(
    server: ReplayServer, landing: Path, settings: FetchSettings
) -> None:
    server.inject(target(LIST_DAY), Fault.truncated_chunked())

    with pytest.raises(FetchError) as raised:
        fetch_daily(LIST_DAY, landing, settings)

    assert "date=2024-05-27 failed: the body is incomplete: the connection closed after" in str(
        raised.value
    )
    assert all_files(landing) == set()


def test_body_that_stops_arriving_is_refused(
    server: ReplayServer, landing: Path, settings: FetchSettings
) -> None:
    server.inject(target(LIST_DAY), Fault.trickle(2.0))

    with pytest.raises(FetchError) as raised:
        fetch_daily(LIST_DAY, landing, settings)

    assert "the body stopped arriving: nothing for 0.5 s (read timeout)" in str(raised.value)
    assert all_files(landing) == set()


def test_trickling_body_is_cut_at_the_transfer_timeout(
    server: ReplayServer, landing: Path, settings: FetchSettings
) -> None:
    # every piece arrives well within the read timeout, but the whole would take minutes
    hasty = replace(settings, transfer_timeout=0.3)
    server.inject(target(LIST_DAY), Fault.trickle(0.02))

    with pytest.raises(FetchError) as raised:
        fetch_daily(LIST_DAY, landing, hasty)

    assert "the transfer took longer than 0.3 s; download stopped" in str(raised.value)
    assert all_files(landing) == set()


@pytest.mark.parametrize(
    ("fault", "cause"),
    [
        (Fault.html(), "the server sent an HTML page (text/html; charset=utf-8), not JSON"),
        (
            Fault.with_body(b"\n<html><body>rate limited</body></html>"),
            "the server sent an HTML page, not JSON",
        ),
        (Fault.empty(), "the body is empty"),
        (Fault.with_body(b'[{"paper": {"id": "2405.1'), "the body is not valid JSON"),
        (Fault.with_body(b'{"error": "oops"}'), "the JSON object has no 'data' list"),
        (Fault.with_body(b"42"), "the JSON is a int, not a list of papers"),
        (
            Fault.with_body(b'{"date": "2024-05-28", "data": []}'),
            "the response is for 2024-05-28, not 2024-05-27",
        ),
    ],
    ids=["html-page", "html-as-json", "empty", "bad-json", "no-data", "scalar", "other-date"],
)
def test_malformed_body_is_refused(
    server: ReplayServer, landing: Path, settings: FetchSettings, fault: Fault, cause: str
) -> None:
    server.inject(target(LIST_DAY), fault)

    with pytest.raises(FetchError) as raised:
        fetch_daily(LIST_DAY, landing, settings)

    url = f"{server.base_url}/api/daily_papers?date=2024-05-27"
    assert str(raised.value).startswith(f"GET {url} failed: {cause}")
    assert all_files(landing) == set()
    assert server.hits(target(LIST_DAY)) == 1


@pytest.mark.parametrize(
    ("fault", "cause"),
    [
        (None, "(Content-Length), more than the 1000 allowed"),
        (Fault.chunked(), "the body exceeded the 1000 bytes allowed; download stopped"),
    ],
    ids=["content-length", "chunked"],
)
def test_oversized_body_is_refused(
    server: ReplayServer,
    landing: Path,
    settings: FetchSettings,
    fault: Fault | None,
    cause: str,
) -> None:
    small = replace(settings, max_body_bytes=1000)
    if fault is not None:
        server.inject(target(LIST_DAY), fault)

    with pytest.raises(FetchError, match=r"date=2024-05-27 failed: the body") as raised:
        fetch_daily(LIST_DAY, landing, small)

    assert cause in str(raised.value)
    assert all_files(landing) == set()


def test_missing_date_names_the_status(
    server: ReplayServer, landing: Path, settings: FetchSettings
) -> None:
    with pytest.raises(FetchError) as raised:
        fetch_daily(date(2024, 6, 1), landing, settings)

    assert str(raised.value) == (
        f"GET {server.base_url}/api/daily_papers?date=2024-06-01 failed: "
        '404 Not Found: {"error":"no recorded response for this date"}'
    )
    assert server.hits(target(date(2024, 6, 1))) == 1


def test_existing_file_survives_a_failed_fetch(
    server: ReplayServer, landing: Path, settings: FetchSettings
) -> None:
    path = daily_path(landing, LIST_DAY)
    path.parent.mkdir()
    path.write_bytes(b"[]")
    server.inject(target(LIST_DAY), Fault.truncated())

    with pytest.raises(FetchError):
        fetch_daily(LIST_DAY, landing, settings)

    assert path.read_bytes() == b"[]"
    assert all_files(landing) == {"hf-daily-api/2024-05-27.json"}


# --- offline -------------------------------------------------------------------------------------


def test_unreachable_server_gives_the_offline_message(landing: Path) -> None:
    base = closed_port_url()
    offline = FetchSettings(base_url=base, max_retries=2, backoff_factor=0.01, max_backoff=0.05)

    with pytest.raises(FetchError) as raised:
        fetch_daily(LIST_DAY, landing, offline)

    assert str(raised.value) == (
        f"cannot reach {base}: connection refused after 2 retries "
        f"(GET {base}/api/daily_papers?date=2024-05-27); {OFFLINE_SUFFIX}"
    )
    assert raised.value.offline
    assert all_files(landing) == set()


class _FailingSession(requests.Session):
    """A session whose every request fails with the given error, as requests would raise it."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def get(self, url: str | bytes, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        raise self.error


def test_dns_failure_gives_the_offline_message(landing: Path) -> None:
    url = "https://huggingface.co/api/daily_papers?date=2024-05-27"
    reason = socket.gaierror(-2, "Name or service not known")
    resolution = urllib3.exceptions.NameResolutionError("huggingface.co", None, reason)  # type: ignore[arg-type]
    resolution.__cause__ = reason
    error = requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, url, resolution))  # type: ignore[arg-type]

    with pytest.raises(FetchError) as raised:
        fetch_daily(LIST_DAY, landing, FetchSettings(), _FailingSession(error))

    assert str(raised.value) == (
        "cannot reach https://huggingface.co: cannot resolve the host name "
        f"(name or service not known) (GET {url}); {OFFLINE_SUFFIX}"
    )


# --- backfill ------------------------------------------------------------------------------------


def test_backfill_reports_every_date(
    server: ReplayServer, landing: Path, settings: FetchSettings
) -> None:
    polite = replace(settings, min_interval=1.5, max_retries=1)
    existing = daily_path(landing, date(2024, 5, 28))
    existing.parent.mkdir()
    existing.write_bytes(b"[]")
    server.inject(target(date(2024, 5, 29)), Fault.error(503), times=None)
    server.inject(target(date(2024, 5, 30)), Fault.truncated())
    clock = FakeClock()
    seen: list[FetchOutcome] = []

    outcomes = backfill(
        date(2024, 5, 27),
        date(2024, 6, 1),
        landing,
        polite,
        sleep=clock.sleep,
        clock=clock,
        progress=seen.append,
    )

    assert [(o.listing_date, o.status) for o in outcomes] == [
        (date(2024, 5, 27), "fetched"),
        (date(2024, 5, 28), "skipped"),
        (date(2024, 5, 29), "failed"),
        (date(2024, 5, 30), "failed"),
        (date(2024, 5, 31), "fetched"),
        (date(2024, 6, 1), "failed"),
    ]
    assert seen == outcomes
    reasons = [str(o.error) for o in outcomes if o.error is not None]
    assert "date=2024-05-29 failed after 1 retry: 503 Service Unavailable" in reasons[0]
    assert "date=2024-05-30 failed: the body is incomplete" in reasons[1]
    assert "date=2024-06-01 failed: 404 Not Found" in reasons[2]
    assert outcomes[2].retries == 1
    # the skipped date was not requested and its file not touched
    assert server.hits(target(date(2024, 5, 28))) == 0
    assert existing.read_bytes() == b"[]"
    # one polite wait before each request but the first; a skipped date costs none
    assert clock.sleeps == [1.5] * 4
    assert all_files(landing) == {
        "hf-daily-api/2024-05-27.json",
        "hf-daily-api/2024-05-28.json",
        "hf-daily-api/2024-05-31.json",
    }
    assert outcomes[0].describe().startswith("2024-05-27: fetched (")
    assert outcomes[2].describe().startswith("2024-05-29: failed: GET ")


def test_backfill_can_refetch_existing_dates(
    server: ReplayServer, landing: Path, settings: FetchSettings
) -> None:
    first = backfill(LIST_DAY, date(2024, 5, 28), landing, settings)
    again = backfill(LIST_DAY, date(2024, 5, 28), landing, settings, skip_existing=False)

    assert [o.status for o in first] == ["fetched", "fetched"]
    assert [o.status for o in again] == ["unchanged", "unchanged"]
    assert server.hits(target(LIST_DAY)) == 2


def test_backfill_stops_requesting_once_the_host_is_unreachable(landing: Path) -> None:
    base = closed_port_url()
    offline = FetchSettings(base_url=base, max_retries=1, backoff_factor=0.01, min_interval=0)

    outcomes = backfill(date(2024, 5, 27), date(2024, 5, 29), landing, offline)

    assert [o.status for o in outcomes] == ["failed"] * 3
    errors = [o.error for o in outcomes]
    assert all(error is not None and error.offline for error in errors)
    assert str(errors[0]).startswith(f"cannot reach {base}: connection refused after 1 retry")
    assert str(errors[1]) == (
        f"cannot reach {base}: not requested, the host was unreachable for "
        f"{base}/api/daily_papers?date=2024-05-27 "
        f"(GET {base}/api/daily_papers?date=2024-05-28); {OFFLINE_SUFFIX}"
    )
    assert all_files(landing) == set()


def test_backfill_refuses_a_reversed_range(landing: Path) -> None:
    with pytest.raises(ValueError, match="ends"):
        backfill(date(2024, 5, 28), date(2024, 5, 27), landing)


# --- trending page -------------------------------------------------------------------------------

CAPTURE = "Trending Papers\n\nA Paper Title\n\nIts abstract, in a few words — with ünïcode.\n"


def test_trending_page_lands_under_its_capture_time(
    server: ReplayServer, landing: Path, settings: FetchSettings
) -> None:
    server.add_page("/papers/trending", CAPTURE.encode(), "text/markdown; charset=utf-8")
    configured = replace(settings, trending_url=f"{server.base_url}/papers/trending")
    now = datetime(2025, 1, 10, 11, 15, 30, tzinfo=UTC)

    outcome = fetch_trending(landing, configured, now=now)

    assert outcome is not None
    assert outcome.status == "fetched"
    path = landing / "trending-page" / "trending-2025-01-10T111530Z.md"
    assert outcome.path == path
    assert path.read_text(encoding="utf-8") == CAPTURE
    assert all_files(landing) == {"trending-page/trending-2025-01-10T111530Z.md"}
    assert server.seen[0].headers["User-Agent"] == default_user_agent()


@pytest.mark.parametrize(
    ("body", "content_type", "cause"),
    [
        (b" \n", "text/plain", "the page is empty"),
        (b"<!DOCTYPE html><html></html>", "text/html", "the page came back as HTML"),
        (b"\n<html lang=en><body></body></html>", "text/plain", "the page came back as HTML"),
        (b"caf\xe9", "text/plain", "the page is not utf-8 text"),
    ],
    ids=["empty", "html", "html-as-text", "not-utf-8"],
)
def test_unusable_trending_page_is_refused(
    server: ReplayServer,
    landing: Path,
    settings: FetchSettings,
    body: bytes,
    content_type: str,
    cause: str,
) -> None:
    server.add_page("/papers/trending", body, content_type)
    configured = replace(settings, trending_url=f"{server.base_url}/papers/trending")

    with pytest.raises(FetchError) as raised:
        fetch_trending(landing, configured)

    assert str(raised.value).startswith(f"GET {server.base_url}/papers/trending failed: {cause}")
    assert all_files(landing) == set()


def test_trending_page_is_decoded_with_its_declared_charset(
    server: ReplayServer, landing: Path, settings: FetchSettings
) -> None:
    server.add_page(
        "/trending.txt", "Café papers\n".encode("latin-1"), "text/plain; charset=latin-1"
    )
    configured = replace(settings, trending_url=f"{server.base_url}/trending.txt")

    outcome = fetch_trending(landing, configured, now=datetime(2025, 1, 10, tzinfo=UTC))

    assert outcome is not None and outcome.path is not None
    assert outcome.path.read_bytes() == "Café papers\n".encode()


def test_trending_page_needs_a_configured_url(landing: Path) -> None:
    assert fetch_trending(landing, FetchSettings()) is None
    assert all_files(landing) == set()


# --- purity --------------------------------------------------------------------------------------


def test_fetch_module_does_not_import_dagster() -> None:
    code = "import sys, pipelines.core.ops.fetch; print('dagster' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"
