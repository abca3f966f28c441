"""Fetch raw listings from Hugging Face into the landing folder: the daily papers API and, when one
is configured, a capture of the trending page.

A response reaches the landing folder only when it is whole and is what the pipeline expects: status
200, every byte that Content-Length announced, no larger than ``max_body_bytes``, and (for the API)
a JSON list or a ``{"data": [...]}`` object rather than an HTML error page. It is then written
atomically (temporary file in the same folder, fsync, rename), so the pipeline never reads half a
file, and a file whose bytes did not change is left untouched, so its sha256 (and therefore its
ingest record) stays the same.

Errors: :func:`fetch_daily` and :func:`fetch_trending` raise :class:`FetchError` when nothing was
landed; its message names the URL (which carries the date) and what was wrong, and is meant to be
shown to the operator as it is, without a traceback. :func:`backfill` never raises for one date: it
returns one :class:`FetchOutcome` per date, failed ones carrying their ``FetchError``.

Retries are urllib3's :class:`~urllib3.util.Retry`, mounted on a :class:`requests.Session`:
connection errors, read timeouts before the response and the statuses 429, 500, 502, 503 and 504
are retried with exponential backoff, honouring ``Retry-After`` up to ``max_backoff`` seconds. A
failure while the body is being read (connection cut, read timeout, too large) is not retried: the
date is reported failed and the next run fetches it again.

This module does not import Dagster; the pipeline's assets and the CLI call it.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http import HTTPStatus
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import orjson
import requests
import requests.adapters
import urllib3.exceptions
from urllib3.response import BaseHTTPResponse
from urllib3.util import Retry

from pipelines.core.ingest.landing import SIDECAR_SUFFIX

DAILY_FOLDER = "hf-daily-api"
# responses fetched live are not the Apache-2.0 archive: they come under the site's terms
LIVE_LICENCE = "Hugging Face terms of service (fetched live)"
TRENDING_FOLDER = "trending-page"
DAILY_PATH = "/api/daily_papers"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
OFFLINE_SUFFIX = "the pipeline goes on with the files already landed"

# bytes asked of the socket per read; read1 returns as soon as some arrive, so the transfer deadline
# is checked at least once per read timeout however slowly a server sends
_READ_SIZE = 64 * 1024
# how much of an error response's body is quoted in the message
_EXCERPT_BYTES = 300
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]+")
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# a text capture may hold a stray tag, but not the start of an HTML document
_HTML_START = re.compile(r"\A\ufeff?\s*<(?:!doctype\s+html|html[\s>])", re.IGNORECASE)

FetchStatus = Literal["fetched", "updated", "unchanged", "skipped", "failed"]


def default_user_agent() -> str:
    """``trending-papers/<version> (+url; dataset pipeline)``: tells the site who is asking."""
    try:
        package_version = version("trending-papers")
    except PackageNotFoundError:
        package_version = "dev"
    return (
        f"trending-papers/{package_version} (+https://github.com/trending-papers; dataset pipeline)"
    )


@dataclass(frozen=True)
class FetchSettings:
    """How to reach Hugging Face and how patient and polite to be.

    ``transfer_timeout`` bounds one whole response (a server sending a byte every few seconds would
    never trip the read timeout); it is checked after every read, so a transfer ends at the latest
    ``read_timeout`` seconds after it.
    """

    base_url: str = "https://huggingface.co"
    # the page to capture into trending-page/ when set; it should serve the page as text (the
    # pipeline parses text captures, an HTML page is refused)
    trending_url: str | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    transfer_timeout: float = 300.0
    max_retries: int = 5
    backoff_factor: float = 1.0
    # longest wait between two attempts, for backoff and for a server's Retry-After alike
    max_backoff: float = 60.0
    # seconds between two requests of a backfill
    min_interval: float = 1.0
    max_body_bytes: int = 50 * 1024 * 1024
    user_agent: str = field(default_factory=default_user_agent)

    def daily_url(self, listing_date: date) -> str:
        """The API URL of one day's listing."""
        return f"{self.base_url.rstrip('/')}{DAILY_PATH}?date={listing_date.isoformat()}"


class FetchError(Exception):
    """Nothing was landed for one URL; the message says which and why.

    ``offline`` is true when the host could not be reached at all (connection refused, DNS failure,
    connect timeout): the message then says so and that the pipeline carries on with what it has.
    """

    def __init__(
        self,
        url: str,
        reason: str,
        *,
        listing_date: date | None = None,
        retries: int = 0,
        offline: bool = False,
    ) -> None:
        self.url = url
        self.reason = reason
        self.listing_date = listing_date
        self.retries = retries
        self.offline = offline
        after = f" after {retries} {'retry' if retries == 1 else 'retries'}" if retries else ""
        if offline:
            message = f"cannot reach {_origin(url)}: {reason}{after} (GET {url}); {OFFLINE_SUFFIX}"
        else:
            message = f"GET {url} failed{after}: {reason}"
        super().__init__(message)


@dataclass(frozen=True)
class FetchOutcome:
    """What happened to one URL.

    ``fetched``: a new file was landed; ``updated``: the file existed with other bytes and was
    replaced; ``unchanged``: the file existed with the same bytes and was not touched; ``skipped``:
    the file existed and was not requested (backfill with ``skip_existing``); ``failed``: nothing
    was landed, ``error`` says why.
    """

    url: str
    status: FetchStatus
    listing_date: date | None = None
    path: Path | None = None
    size: int | None = None
    retries: int = 0
    error: FetchError | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def describe(self) -> str:
        """One line for a log or a terminal."""
        what = self.listing_date.isoformat() if self.listing_date else self.url
        if self.error is not None:
            return f"{what}: failed: {self.error}"
        retried = f", after {self.retries} retries" if self.retries else ""
        size = f", {self.size} bytes" if self.size is not None else ""
        return f"{what}: {self.status} ({self.path}{size}{retried})"


class PoliteRetry(Retry):
    """urllib3's Retry with a ceiling on Retry-After and an injectable sleep.

    urllib3 2.x sleeps for whatever Retry-After says (newer releases cap it at six hours), so a
    hostile or confused server could stall a run for hours; here the wait is capped at
    ``retry_after_cap``. A Retry-After that is not a number or a date makes urllib3 raise; here it
    falls back to the exponential backoff. ``sleep_func`` lets tests measure the waits.
    """

    def __init__(
        self,
        *args: Any,
        retry_after_cap: float = 60.0,
        sleep_func: Callable[[float], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after_cap = retry_after_cap
        self.sleep_func = sleep_func

    def new(self, **kw: Any) -> PoliteRetry:
        # urllib3 makes a new Retry per attempt from its own parameters: carry ours along
        kw.setdefault("retry_after_cap", self.retry_after_cap)
        kw.setdefault("sleep_func", self.sleep_func)
        return super().new(**kw)

    def parse_retry_after(self, retry_after: str) -> float:
        return min(super().parse_retry_after(retry_after), self.retry_after_cap)

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        wait: float | None = None
        if self.respect_retry_after_header and response is not None:
            try:
                wait = self.get_retry_after(response)
            except urllib3.exceptions.InvalidHeader:
                wait = None
        if not wait:
            wait = self.get_backoff_time()
        if wait > 0:
            # resolved at call time so that a patched time.sleep is honoured too
            (self.sleep_func or time.sleep)(wait)


def build_session(
    settings: FetchSettings, sleep: Callable[[float], None] | None = None
) -> requests.Session:
    """A session that identifies the project and retries what is worth retrying.

    ``raise_on_status=False``: when the retries are spent the last response is returned, so the
    error can name its status rather than urllib3's generic "too many 503 error responses".
    """
    retry = PoliteRetry(
        total=settings.max_retries,
        backoff_factor=settings.backoff_factor,
        backoff_max=settings.max_backoff,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=True,
        raise_on_status=False,
        retry_after_cap=settings.max_backoff,
        sleep_func=sleep,
    )
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = settings.user_agent
    session.max_redirects = 5
    return session


def daily_path(landing_dir: Path, listing_date: date) -> Path:
    """Where one day's API response lands; the pipeline reads the listing date from the name."""
    return landing_dir / DAILY_FOLDER / f"{listing_date.isoformat()}.json"


def fetch_daily(
    listing_date: date,
    landing_dir: Path,
    settings: FetchSettings | None = None,
    session: requests.Session | None = None,
) -> FetchOutcome:
    """Fetch one day's listing from the daily papers API into ``hf-daily-api/YYYY-MM-DD.json``.

    Returns a ``fetched``, ``updated`` or ``unchanged`` outcome.

    Raises:
        FetchError: nothing was landed (unreachable host, error status after the retries,
            incomplete, oversized, HTML or non-JSON body, JSON of another shape or date).
    """
    settings = settings or FetchSettings()
    url = settings.daily_url(listing_date)
    with _session_for(settings, session) as http:
        received = _transfer(
            http, url, settings, "application/json", listing_date, refuse_html=True
        )
    body, retries = received.body, received.retries
    _check_daily_body(body, url, listing_date, retries)
    path = daily_path(landing_dir, listing_date)
    status = _write_atomic(path, body, url, listing_date, retries)
    if status != "unchanged":
        _write_sidecar(path, url, listing_date, retries)
    return FetchOutcome(url, status, listing_date, path, len(body), retries)


def fetch_trending(
    landing_dir: Path,
    settings: FetchSettings | None = None,
    session: requests.Session | None = None,
    now: datetime | None = None,
) -> FetchOutcome | None:
    """Capture ``settings.trending_url`` into ``trending-page/trending-YYYY-MM-DDTHHMMSSZ.md``.

    The name carries the UTC capture time (``now``, default the current time), from which the
    pipeline dates the page. The text is decoded with the charset the server declares (UTF-8 when
    none) and written as UTF-8. Returns None when no trending URL is configured.

    Raises:
        FetchError: nothing was landed (as for :func:`fetch_daily`, and for an empty or HTML page).
    """
    settings = settings or FetchSettings()
    url = settings.trending_url
    if not url:
        return None
    captured = (now or datetime.now(UTC)).astimezone(UTC)
    accept = "text/markdown, text/plain;q=0.9, */*;q=0.1"
    with _session_for(settings, session) as http:
        received = _transfer(http, url, settings, accept, None, refuse_html=False)
    body, retries, charset = received.body, received.retries, received.charset
    try:
        text = body.decode(charset)
    except (LookupError, UnicodeDecodeError) as error:
        raise FetchError(
            url, f"the page is not {charset} text ({error})", retries=retries
        ) from None
    if not text.strip():
        raise FetchError(url, "the page is empty", retries=retries)
    if received.media_type in _HTML_TYPES or _HTML_START.match(text):
        raise FetchError(
            url,
            "the page came back as HTML; configure a URL that serves it as text "
            "(the pipeline parses text captures)",
            retries=retries,
        )
    name = f"trending-{captured.strftime('%Y-%m-%dT%H%M%SZ')}.md"
    path = landing_dir / TRENDING_FOLDER / name
    data = text.encode("utf-8")
    status = _write_atomic(path, data, url, None, retries)
    return FetchOutcome(url, status, None, path, len(data), retries)


def backfill(
    start: date,
    end: date,
    landing_dir: Path,
    settings: FetchSettings | None = None,
    session: requests.Session | None = None,
    skip_existing: bool = True,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    progress: Callable[[FetchOutcome], None] | None = None,
) -> list[FetchOutcome]:
    """Fetch every date from ``start`` to ``end`` inclusive; one outcome per date, in date order.

    Requests are spaced by at least ``settings.min_interval`` seconds (from the end of one to the
    start of the next; skipped dates cost no wait). A failed date does not stop the others, except
    when the host is unreachable: the remaining dates are then reported failed without being
    requested, since each would only wait through its retries for the same answer.

    ``sleep`` and ``clock`` exist for tests; ``progress`` is called with each outcome as it comes.
    """
    if end < start:
        raise ValueError(f"backfill range ends ({end}) before it starts ({start})")
    settings = settings or FetchSettings()
    outcomes: list[FetchOutcome] = []
    last_request_end: float | None = None
    unreachable: FetchError | None = None
    with _session_for(settings, session) as http:
        for listing_date in _dates(start, end):
            url = settings.daily_url(listing_date)
            path = daily_path(landing_dir, listing_date)
            if skip_existing and path.exists():
                outcome = FetchOutcome(url, "skipped", listing_date, path, path.stat().st_size)
            elif unreachable is not None:
                error = FetchError(
                    url,
                    f"not requested, the host was unreachable for {unreachable.url}",
                    listing_date=listing_date,
                    offline=True,
                )
                outcome = FetchOutcome(url, "failed", listing_date, error=error)
            else:
                if last_request_end is not None:
                    wait = settings.min_interval - (clock() - last_request_end)
                    if wait > 0:
                        sleep(wait)
                try:
                    outcome = fetch_daily(listing_date, landing_dir, settings, http)
                except FetchError as error:
                    outcome = FetchOutcome(
                        url, "failed", listing_date, retries=error.retries, error=error
                    )
                    if error.offline:
                        unreachable = error
                last_request_end = clock()
            outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
    return outcomes


# --- transfer ---------------------------------------------------------------------------------


def fetch_bytes(session: requests.Session, url: str, settings: FetchSettings, accept: str) -> bytes:
    """The whole body of a 200 answer to a GET of ``url``, with this module's discipline
    (retries, Retry-After, size cap, transfer deadline); an HTML page is refused.

    Raises:
        FetchError: naming the URL and what was wrong.
    """
    return _transfer(session, url, settings, accept, None, refuse_html=True).body


def land_bytes(path: Path, data: bytes) -> FetchStatus:
    """Write ``data`` to ``path`` atomically, as fetched files are (``unchanged`` when ``path``
    already holds it)."""
    return _write_atomic(path, data, str(path), None, 0)


@contextmanager
def _session_for(
    settings: FetchSettings, session: requests.Session | None
) -> Iterator[requests.Session]:
    """The caller's session as it is, or a new one that is closed afterwards."""
    if session is not None:
        yield session
        return
    own = build_session(settings)
    try:
        yield own
    finally:
        own.close()


def _transfer(
    session: requests.Session,
    url: str,
    settings: FetchSettings,
    accept: str,
    listing_date: date | None,
    *,
    refuse_html: bool,
) -> _Received:
    """GET ``url`` and return its complete 200 response; refuse an HTML one when asked to."""

    def fail(reason: str, retries: int = 0) -> FetchError:
        return FetchError(url, reason, listing_date=listing_date, retries=retries)

    try:
        response = session.get(
            url,
            headers={"Accept": accept},
            timeout=(settings.connect_timeout, settings.read_timeout),
            stream=True,
        )
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
        raise _request_failure(session, url, error, settings, listing_date) from error

    with response:
        retries = _retries_of(response)
        if response.status_code != HTTPStatus.OK:
            reason = _status_line(response)
            excerpt = _error_excerpt(response)
            raise fail(f"{reason}{': ' + excerpt if excerpt else ''}", retries)
        content_type = response.headers.get("Content-Type", "")
        media_type = content_type.split(";", 1)[0].strip().lower()
        if refuse_html and media_type in _HTML_TYPES:
            raise fail(f"the server sent an HTML page ({content_type}), not JSON", retries)
        declared = _content_length(response)
        if declared is not None and declared > settings.max_body_bytes:
            raise fail(
                f"the body is {declared} bytes (Content-Length), "
                f"more than the {settings.max_body_bytes} allowed",
                retries,
            )
        try:
            body = _read_body(response, settings)
        except _BodyTooLarge:
            raise fail(
                f"the body exceeded the {settings.max_body_bytes} bytes allowed; download stopped",
                retries,
            ) from None
        except _TransferTooSlow:
            raise fail(
                f"the transfer took longer than {settings.transfer_timeout:g} s; download stopped",
                retries,
            ) from None
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise fail(_body_failure(error, settings), retries) from error
        # urllib3 already raises on a short body (enforce_content_length, its default); checked
        # again so that the guarantee does not rest on a library default
        encoded = response.headers.get("Content-Encoding", "identity").lower() != "identity"
        if declared is not None and not encoded and len(body) != declared:
            raise fail(
                f"the body is incomplete: {len(body)} of the {declared} bytes announced "
                "by Content-Length",
                retries,
            )
        charset = response.encoding if "charset" in content_type.lower() else None
        return _Received(body, retries, media_type, charset or "utf-8")


@dataclass(frozen=True)
class _Received:
    """A complete 200 response: its decoded body, the retries it took, what it says it is."""

    body: bytes
    retries: int
    media_type: str
    charset: str


class _BodyTooLarge(Exception):
    pass


class _TransferTooSlow(Exception):
    pass


def _read_body(response: requests.Response, settings: FetchSettings) -> bytes:
    """Read the decoded body, stopping as soon as it is too large or too slow."""
    raw = response.raw
    deadline = time.monotonic() + settings.transfer_timeout
    chunks: list[bytes] = []
    size = 0
    while True:
        # read1 returns whatever arrived (at most _READ_SIZE) rather than waiting for a full buffer,
        # which is what lets the size and time limits be checked while the body trickles in
        chunk = raw.read1(_READ_SIZE, decode_content=True)
        if not chunk:
            break
        size += len(chunk)
        if size > settings.max_body_bytes:
            raise _BodyTooLarge
        if time.monotonic() > deadline:
            raise _TransferTooSlow
        chunks.append(chunk)
    return b"".join(chunks)


def _request_failure(
    session: requests.Session,
    url: str,
    error: BaseException,
    settings: FetchSettings,
    listing_date: date | None,
) -> FetchError:
    """What requests/urllib3 raised before a response, as a FetchError an operator can read."""
    chain = list(_exception_chain(error))
    exhausted = any(isinstance(item, urllib3.exceptions.MaxRetryError) for item in chain)
    retries = _configured_retries(session, url) if exhausted else 0

    def first(kind: type[BaseException]) -> BaseException | None:
        return next((item for item in chain if isinstance(item, kind)), None)

    offline = True
    resolution = first(urllib3.exceptions.NameResolutionError)
    if resolution is not None:
        cause = f"cannot resolve the host name ({_os_error_text(chain) or 'no address'})"
    elif first(urllib3.exceptions.NewConnectionError) is not None:
        cause = _os_error_text(chain) or "cannot open a connection"
    elif first(urllib3.exceptions.ConnectTimeoutError) is not None or isinstance(
        error, requests.exceptions.ConnectTimeout
    ):
        cause = f"no connection within the {settings.connect_timeout:g} s connect timeout"
    elif first(urllib3.exceptions.ProxyError) is not None:
        cause = f"the proxy failed ({_clean(str(first(urllib3.exceptions.ProxyError)))})"
    else:
        offline = False
        if first(urllib3.exceptions.ReadTimeoutError) is not None or isinstance(
            error, requests.exceptions.ReadTimeout
        ):
            cause = f"no response within the {settings.read_timeout:g} s read timeout"
        elif first(urllib3.exceptions.SSLError) is not None:
            cause = f"TLS error ({_clean(str(first(urllib3.exceptions.SSLError)))})"
        elif first(urllib3.exceptions.ProtocolError) is not None:
            cause = "the server closed the connection without a response"
        elif isinstance(error, requests.exceptions.TooManyRedirects):
            cause = "too many redirects"
        elif isinstance(error, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
            cause = f"invalid URL ({_clean(str(error))})"
        else:
            cause = f"{type(error).__name__}: {_clean(str(error))}"
    return FetchError(url, cause, listing_date=listing_date, retries=retries, offline=offline)


def _body_failure(error: BaseException, settings: FetchSettings) -> str:
    chain = list(_exception_chain(error))
    if any(isinstance(item, urllib3.exceptions.ReadTimeoutError | TimeoutError) for item in chain):
        return f"the body stopped arriving: nothing for {settings.read_timeout:g} s (read timeout)"
    if any(isinstance(item, urllib3.exceptions.DecodeError) for item in chain):
        return f"the body cannot be decoded ({_clean(str(error))})"
    # urllib3's IncompleteRead (Content-Length not met) counts bytes; http.client's (a chunked
    # body cut short) holds the bytes themselves and may not know how many were expected
    incomplete = next(
        (item for item in chain if isinstance(item, http.client.IncompleteRead)), None
    )
    if incomplete is not None:
        partial = incomplete.partial
        received = partial if isinstance(partial, int) else len(partial)
        expected = incomplete.expected
        if isinstance(expected, int):
            return (
                f"the body is incomplete: the connection closed after {received} "
                f"of the {received + expected} bytes announced by Content-Length"
            )
        return f"the body is incomplete: the connection closed after {received} bytes"
    return f"the connection broke while reading the body ({_clean(str(error))})"


def _exception_chain(error: BaseException) -> Iterator[BaseException]:
    """The error and everything it wraps: causes, contexts, urllib3's ``reason``, exception args."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        item = pending.pop(0)
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        wrapped = [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]
        pending.extend(inner for inner in wrapped if isinstance(inner, BaseException))


def _os_error_text(chain: list[BaseException]) -> str | None:
    """``connection refused``, ``name or service not known``: the system's words for the failure."""
    for item in chain:
        if isinstance(item, OSError) and item.strerror:
            return item.strerror[:1].lower() + item.strerror[1:]
    return None


def _configured_retries(session: requests.Session, url: str) -> int:
    retry = getattr(session.get_adapter(url), "max_retries", None)
    return retry.total if isinstance(retry, Retry) and isinstance(retry.total, int) else 0


def _retries_of(response: requests.Response) -> int:
    """How many retries urllib3 made before this response (0 when it came at the first try)."""
    retry = getattr(response.raw, "retries", None)
    return len(retry.history) if isinstance(retry, Retry) else 0


def _status_line(response: requests.Response) -> str:
    try:
        phrase = HTTPStatus(response.status_code).phrase
    except ValueError:
        phrase = _clean(response.reason or "", 80) or "unknown status"
    return f"{response.status_code} {phrase}"


def _error_excerpt(response: requests.Response) -> str:
    """The start of an error response's body, for the message; empty when it cannot be read."""
    try:
        data = response.raw.read1(_EXCERPT_BYTES, decode_content=True)
    except (urllib3.exceptions.HTTPError, OSError):
        return ""
    if _looks_like_html(data):
        return "(an HTML page)"
    return _clean(data.decode("utf-8", "replace"), _EXCERPT_BYTES)


def _content_length(response: requests.Response) -> int | None:
    value = response.headers.get("Content-Length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


# --- validation -------------------------------------------------------------------------------


def _check_daily_body(body: bytes, url: str, listing_date: date, retries: int) -> None:
    """Refuse a body that is not a daily papers response for ``listing_date``."""

    def fail(reason: str) -> FetchError:
        return FetchError(url, reason, listing_date=listing_date, retries=retries)

    if not body.strip():
        raise fail("the body is empty")
    if _looks_like_html(body):
        raise fail("the server sent an HTML page, not JSON")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise fail(f"the body is not valid JSON, perhaps truncated ({error})") from None
    if isinstance(document, dict):
        if not isinstance(document.get("data"), list):
            raise fail("the JSON object has no 'data' list; it is not a daily papers response")
        answered = document.get("date")
        if isinstance(answered, str) and answered[:10] != listing_date.isoformat():
            raise fail(f"the response is for {_clean(answered, 40)}, not {listing_date}")
    elif not isinstance(document, list):
        raise fail(
            f"the JSON is a {type(document).__name__}, not a list of papers "
            "or an object with a 'data' list"
        )


def _looks_like_html(body: bytes) -> bool:
    # JSON never starts with '<'; an error page or a login wall always does
    return body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


# --- landing ----------------------------------------------------------------------------------


def _write_atomic(
    path: Path, data: bytes, url: str, listing_date: date | None, retries: int
) -> FetchStatus:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part.

    The temporary file is hidden (leading dot), so the pipeline's scan of the landing folder skips
    it even if a crash leaves it behind. Returns ``unchanged`` without writing when ``path`` already
    holds exactly ``data``.
    """
    try:
        if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
            return "unchanged"
        existed = path.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".part"
        )
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            # mkstemp creates the file readable by its owner only; landed files are shared data
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _fsync_folder(path.parent)
    except OSError as error:
        raise FetchError(
            url, f"cannot write {path}: {error}", listing_date=listing_date, retries=retries
        ) from error
    return "updated" if existed else "fetched"


def _write_sidecar(path: Path, url: str, listing_date: date | None, retries: int) -> None:
    """Say where a landed file comes from, in ``<file>.meta.json`` beside it: its URL, when it
    was fetched, and its licence, which differs from the archived responses' Apache-2.0."""
    meta = {
        "source": "live fetch",
        "url": url,
        "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "licence": LIVE_LICENCE,
    }
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    _write_atomic(sidecar, (json.dumps(meta, indent=2) + "\n").encode(), url, listing_date, retries)


def _fsync_folder(folder: Path) -> None:
    # the rename is durable only once the folder's entry is on disk too
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


# --- small helpers ----------------------------------------------------------------------------


def _dates(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else url


def _clean(text: str, limit: int = 200) -> str:
    """Text from a server, made safe for a one-line message: no control characters, bounded."""
    text = _CONTROL_CHARS.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
