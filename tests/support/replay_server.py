"""A local HTTP server that replays recorded Hugging Face API responses and injects faults.

It listens on 127.0.0.1 on a free port, answers ``/api/daily_papers?date=YYYY-MM-DD`` with the
recorded body of that date (byte for byte, ``404`` when none was recorded), serves pages registered
with :meth:`ReplayServer.add_page`, and can be told, per request target, to misbehave a given number
of times (or forever) before answering normally again. Every request it sees is recorded, so tests
can count retries and read the headers the client sent. Nothing here touches the internet.
"""

from __future__ import annotations

import gzip
import socket
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import parse_qs, urlsplit

REPO = Path(__file__).resolve().parents[2]
SHARED_RECORDINGS = REPO.parent / "shared" / "data" / "hf-daily-api"
BUNDLED_RECORDINGS = REPO / "data" / "landing" / "hf-daily-api"

FaultKind = Literal[
    "status",
    "slow",
    "trickle",
    "truncated",
    "truncated-chunked",
    "html",
    "empty",
    "drop",
    "body",
    "chunked",
    "gzip",
]

HTML_ERROR_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>Something went wrong</h1></body></html>\n"
)


def recorded_dir() -> Path:
    """The recorded API responses: the shared archive when present, else the bundled sample."""
    return SHARED_RECORDINGS if SHARED_RECORDINGS.is_dir() else BUNDLED_RECORDINGS


@dataclass(frozen=True)
class Fault:
    """One way of answering a request other than with the recorded response."""

    kind: FaultKind
    status: int = 200
    retry_after: str | None = None
    seconds: float = 0.0
    body: bytes = b""
    content_type: str = "application/json"

    @classmethod
    def error(cls, status: int, retry_after: str | None = None) -> Fault:
        """An error status with a small JSON body, optionally with a Retry-After header."""
        return cls("status", status=status, retry_after=retry_after)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Wait ``seconds`` before sending anything, then answer normally."""
        return cls("slow", seconds=seconds)

    @classmethod
    def trickle(cls, seconds: float) -> Fault:
        """Send the normal response in 64-byte pieces, ``seconds`` apart."""
        return cls("trickle", seconds=seconds)

    @classmethod
    def truncated(cls) -> Fault:
        """Announce the full Content-Length, send half of the body, then close the connection."""
        return cls("truncated")

    @classmethod
    def truncated_chunked(cls) -> Fault:
        """Send half of the body in chunks, then close the connection without the last chunk."""
        return cls("truncated-chunked")

    @classmethod
    def html(cls) -> Fault:
        """A 200 response carrying an HTML error page."""
        return cls("html", body=HTML_ERROR_PAGE, content_type="text/html; charset=utf-8")

    @classmethod
    def empty(cls) -> Fault:
        """A 200 response with an empty body."""
        return cls("empty")

    @classmethod
    def drop(cls) -> Fault:
        """Read the request, then close the connection without answering."""
        return cls("drop")

    @classmethod
    def with_body(cls, body: bytes, content_type: str = "application/json") -> Fault:
        """A 200 response with exactly this body and Content-Type."""
        return cls("body", body=body, content_type=content_type)

    @classmethod
    def chunked(cls) -> Fault:
        """The normal response sent with chunked transfer encoding, so without Content-Length."""
        return cls("chunked")

    @classmethod
    def gzipped(cls) -> Fault:
        """The normal response compressed with Content-Encoding: gzip."""
        return cls("gzip")


@dataclass(frozen=True)
class SeenRequest:
    """A request as the server received it."""

    target: str
    headers: dict[str, str]


@dataclass
class _Injection:
    fault: Fault
    remaining: int | None  # None: forever


@dataclass
class _Page:
    body: bytes
    content_type: str


@dataclass
class _State:
    recorded: Path
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    injections: dict[str, deque[_Injection]] = field(default_factory=dict)
    pages: dict[str, _Page] = field(default_factory=dict)
    seen: list[SeenRequest] = field(default_factory=list)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: _State

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that gave up (timeout, closed connection) is what several tests provoke
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # idle keep-alive connections end on their own rather than pinning a thread
    timeout = 5

    @property
    def state(self) -> _State:
        return cast(_Server, self.server).state

    def log_message(self, format: str, *args: Any) -> None:
        # quiet: pytest would show every request of every test
        pass

    def do_GET(self) -> None:
        state = self.state
        with state.lock:
            state.seen.append(SeenRequest(self.path, dict(self.headers.items())))
            fault = _take_fault(state, self.path)
        try:
            if fault is None:
                self._send_normal()
            else:
                self._send_fault(fault)
        except OSError:
            # the client went away (it timed out or gave up); nothing more to send
            self.close_connection = True

    def _normal(self) -> tuple[int, bytes, str]:
        state = self.state
        page = state.pages.get(self.path)
        if page is not None:
            return 200, page.body, page.content_type
        parts = urlsplit(self.path)
        if parts.path == "/api/daily_papers":
            day = parse_qs(parts.query).get("date", [""])[0]
            path = state.recorded / f"{day}.json"
            if day and path.is_file():
                return 200, path.read_bytes(), "application/json; charset=utf-8"
            return 404, b'{"error":"no recorded response for this date"}', "application/json"
        return 404, b'{"error":"not found"}', "application/json"

    def _send_normal(self) -> None:
        status, body, content_type = self._normal()
        self._send(status, body, content_type)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _send_fault(self, fault: Fault) -> None:
        state = self.state
        if fault.kind == "status":
            extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            self._send(fault.status, b'{"error":"injected"}', "application/json", extra)
        elif fault.kind == "slow":
            if state.stopping.wait(fault.seconds):
                self.close_connection = True
                return
            self._send_normal()
        elif fault.kind == "trickle":
            status, body, content_type = self._normal()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for start in range(0, len(body), 64):
                if state.stopping.wait(fault.seconds):
                    break
                self.wfile.write(body[start : start + 64])
                self.wfile.flush()
            self.close_connection = True
        elif fault.kind == "truncated":
            status, body, content_type = self._normal()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
        elif fault.kind in {"html", "body"}:
            self._send(200, fault.body, fault.content_type)
        elif fault.kind == "empty":
            self._send(200, b"", "application/json")
        elif fault.kind == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif fault.kind in {"chunked", "truncated-chunked"}:
            status, body, content_type = self._normal()
            complete = fault.kind == "chunked"
            if not complete:
                body = body[: len(body) // 2]
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(body), 4096):
                piece = body[start : start + 4096]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            if complete:
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.close_connection = True
            self.wfile.flush()
        elif fault.kind == "gzip":
            status, body, content_type = self._normal()
            self._send(status, gzip.compress(body), content_type, {"Content-Encoding": "gzip"})


def _take_fault(state: _State, target: str) -> Fault | None:
    queue = state.injections.get(target)
    if not queue:
        return None
    injection = queue[0]
    if injection.remaining is not None:
        injection.remaining -= 1
        if injection.remaining <= 0:
            queue.popleft()
    return injection.fault


class ReplayServer:
    """The server and the controls tests use; start with :meth:`start`, end with :meth:`stop`."""

    def __init__(self, recorded: Path | None = None) -> None:
        self._state = _State(recorded=recorded or recorded_dir())
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self._state
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def recorded(self) -> Path:
        return self._state.recorded

    def start(self) -> ReplayServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        # wake handlers that are waiting on purpose (slow, trickle) so their threads end
        self._state.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def recorded_body(self, day: str) -> bytes:
        """The recorded response of ``day`` (YYYY-MM-DD), as the server sends it."""
        return (self._state.recorded / f"{day}.json").read_bytes()

    def inject(self, target: str, fault: Fault, times: int | None = 1) -> None:
        """Answer ``target`` (path and query) with ``fault`` the next ``times`` times (None:
        forever). Several injections for one target are used in the order they were made."""
        with self._state.lock:
            self._state.injections.setdefault(target, deque()).append(_Injection(fault, times))

    def add_page(self, path: str, body: bytes, content_type: str = "text/plain") -> None:
        """Serve ``body`` at ``path`` (path and query) with status 200."""
        with self._state.lock:
            self._state.pages[path] = _Page(body, content_type)

    @property
    def seen(self) -> list[SeenRequest]:
        with self._state.lock:
            return list(self._state.seen)

    def hits(self, target: str) -> int:
        """How many requests for ``target`` (path and query) the server has received."""
        return sum(1 for request in self.seen if request.target == target)
