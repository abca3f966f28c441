"""A read-only web server for the data folder, so the download pages and the Parquet files can be
looked at and read over HTTP on this machine (``trending-papers serve``).

Built on the standard library's ``http.server``. Python 3.11's ``SimpleHTTPRequestHandler`` does
not answer HTTP range requests (it always sends the whole file), while Polars, DuckDB and
PyArrow read a Parquet file over HTTP by asking for its footer and then only the row groups and
columns they need: :class:`ReadOnlyHandler` answers ``Range: bytes=...`` with ``206 Partial
Content`` (a single range; a request for several ranges gets the whole file, which HTTP allows).
It answers GET and HEAD only; any other method is refused with ``405 Method Not Allowed``, so
nothing can be written or deleted through it. It listens on the loopback address only.
"""

from __future__ import annotations

import email.utils
import http.server
import logging
import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http import HTTPStatus
from pathlib import Path
from typing import Any, BinaryIO

LOOPBACK = "127.0.0.1"
ALLOWED_METHODS = "GET, HEAD"
_RANGE = re.compile(r"^bytes=(?P<first>\d*)-(?P<last>\d*)$")
# types the standard table does not know, with an explicit charset for the text ones
EXTRA_TYPES = {
    ".parquet": "application/vnd.apache.parquet",
    ".md": "text/markdown; charset=utf-8",
    ".cff": "text/plain; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# where the data folder's root sends a browser: the list of releases
HOME = "/releases/index.html"

log = logging.getLogger("trending_papers.serve")


class ReadOnlyHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the files of a folder (``directory``) for GET and HEAD, with single byte ranges."""

    extensions_map = {  # noqa: RUF012 - the parent declares it so; never changed
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        **EXTRA_TYPES,
    }
    # the byte range (first, last) of the response being sent; None for the whole file
    _range: tuple[int, int] | None = None

    def send_head(self) -> BinaryIO | None:  # type: ignore[override]
        """Open the requested file and send the headers: 206 with ``Content-Range`` for a
        satisfiable single range, 416 for an unsatisfiable one, else what the parent sends."""
        self._range = None
        if self.path in ("", "/"):
            self.send_response(HTTPStatus.FOUND)
            self.send_header("Location", HOME)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        requested = self.headers.get("Range")
        path = self.translate_path(self.path)
        if requested is None or not os.path.isfile(path) or not self._if_range_holds(path):
            return super().send_head()  # type: ignore[misc]
        size = os.path.getsize(path)
        try:
            span = byte_range(requested, size)
        except UnsatisfiableRange:
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if span is None:
            # a syntax this server does not take (several ranges): the whole file, as allowed
            return super().send_head()  # type: ignore[misc]
        first, last = span
        handle = open(path, "rb")  # noqa: SIM115 - closed by the caller after copyfile
        try:
            handle.seek(first)
            self.send_response(HTTPStatus.PARTIAL_CONTENT)
            self.send_header("Content-Type", self.guess_type(path))
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
            self.send_header("Content-Length", str(last - first + 1))
            self.send_header("Last-Modified", self.date_time_string(int(os.path.getmtime(path))))
            self.end_headers()
        except BaseException:
            handle.close()
            raise
        self._range = (first, last)
        return handle  # type: ignore[return-value]

    def _if_range_holds(self, path: str) -> bool:
        """``If-Range``: the range applies only when the file is still the version the client
        has (same ``Last-Modified``); otherwise the whole file is sent."""
        condition = self.headers.get("If-Range")
        if condition is None:
            return True
        try:
            since = email.utils.parsedate_to_datetime(condition).timestamp()
        except (TypeError, ValueError):
            return False  # an entity tag: this server sends none, so none can match
        return int(os.path.getmtime(path)) <= since

    def copyfile(self, source: Any, outputfile: Any) -> None:
        if self._range is None:
            shutil.copyfileobj(source, outputfile)
            return
        first, last = self._range
        remaining = last - first + 1
        while remaining > 0:
            chunk = source.read(min(64 * 1024, remaining))
            if not chunk:
                break
            outputfile.write(chunk)
            remaining -= len(chunk)

    def end_headers(self) -> None:
        # every file may be asked for in pieces; say so, so clients use ranges
        self.send_header("Accept-Ranges", "bytes")
        super().end_headers()

    def _refuse(self) -> None:
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", ALLOWED_METHODS)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _refuse

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


class UnsatisfiableRange(ValueError):
    """A byte range none of whose bytes is in the file (answered with 416)."""


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The first and last byte (inclusive) that a ``Range`` header asks of a file of ``size``
    bytes; None when the header is not a single byte range (then the whole file is the answer).

    Raises:
        UnsatisfiableRange: No byte of the range is in the file.
    """
    match = _RANGE.match(header.strip())
    if match is None or (not match.group("first") and not match.group("last")):
        return None
    if not match.group("first"):
        # bytes=-N: the last N bytes
        length = int(match.group("last"))
        if length == 0 or size == 0:
            raise UnsatisfiableRange(header)
        return max(0, size - length), size - 1
    first = int(match.group("first"))
    last = int(match.group("last")) if match.group("last") else None
    if last is not None and last < first:
        return None  # not a valid range: ignored, as HTTP asks
    if first >= size:
        raise UnsatisfiableRange(header)
    return first, size - 1 if last is None else min(last, size - 1)


def make_server(folder: Path, port: int) -> http.server.ThreadingHTTPServer:
    """A server of ``folder`` on the loopback address (``port`` 0: any free port)."""
    handler = partial(ReadOnlyHandler, directory=str(folder))
    return http.server.ThreadingHTTPServer((LOOPBACK, port), handler)


@contextmanager
def serving(folder: Path, port: int = 0) -> Iterator[str]:
    """Serve ``folder`` in a background thread for the duration of the block; yields its URL."""
    server = make_server(folder, port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
