"""The read-only server of the data folder: byte ranges, refused methods, and the latest release's
papers read over HTTP by Polars and DuckDB."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message

import polars as pl
import pytest

from pipelines.core.ops.settings import Paths
from pipelines.core.publish.release import MANIFEST, latest_release
from pipelines.core.publish.serve import UnsatisfiableRange, byte_range, serving


def test_byte_ranges() -> None:
    assert byte_range("bytes=0-9", 100) == (0, 9)
    assert byte_range("bytes=90-", 100) == (90, 99)
    assert byte_range("bytes=-8", 100) == (92, 99)
    assert byte_range("bytes=-500", 100) == (0, 99)
    assert byte_range("bytes=50-500", 100) == (50, 99)
    # not one valid range: the whole file is the answer
    assert byte_range("bytes=0-1,5-6", 100) is None
    assert byte_range("bytes=9-3", 100) is None
    assert byte_range("items=0-1", 100) is None
    assert byte_range("bytes=-", 100) is None
    for unsatisfiable in ("bytes=100-", "bytes=200-300", "bytes=-0"):
        with pytest.raises(UnsatisfiableRange):
            byte_range(unsatisfiable, 100)


@pytest.fixture(scope="module")
def served(built_sample: Paths) -> Iterator[tuple[str, Paths]]:
    with serving(built_sample.data_dir) as url:
        yield url, built_sample


def _request(
    url: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, Message, bytes]:
    """Status, headers (names in any case) and body; no proxy, whatever the environment says."""
    request = urllib.request.Request(url, method=method, headers=headers or {})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_files_are_served_whole_and_in_ranges(served: tuple[str, Paths]) -> None:
    url, paths = served
    part = paths.releases_dir / "latest" / "papers" / "2024-05.parquet"
    data = part.read_bytes()
    address = f"{url}/releases/latest/papers/2024-05.parquet"

    status, headers, body = _request(address)
    assert (status, body, headers["Accept-Ranges"]) == (200, data, "bytes")
    assert headers["Content-Type"] == "application/vnd.apache.parquet"

    status, headers, body = _request(address, headers={"Range": "bytes=4-11"})
    assert (status, body) == (206, data[4:12])
    assert headers["Content-Range"] == f"bytes 4-11/{len(data)}"
    assert headers["Content-Length"] == "8"

    status, headers, body = _request(address, headers={"Range": "bytes=-8"})
    assert (status, body) == (206, data[-8:])
    assert body.endswith(b"PAR1")

    status, headers, _ = _request(address, headers={"Range": f"bytes={len(data)}-"})
    assert (status, headers["Content-Range"]) == (416, f"bytes */{len(data)}")

    status, headers, body = _request(address, "HEAD", headers={"Range": "bytes=0-3"})
    assert (status, headers["Content-Length"], body) == (206, "4", b"")

    # a range of an older version of the file: the whole file
    stale = {"Range": "bytes=0-3", "If-Range": "Mon, 01 Jan 2001 00:00:00 GMT"}
    assert _request(address, headers=stale)[:1] == (200,)


def test_only_get_and_head_are_answered(served: tuple[str, Paths]) -> None:
    url, paths = served
    page = f"{url}/releases/index.html"
    before = (paths.releases_dir / "index.html").read_bytes()

    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        status, headers, _ = _request(page, method)
        assert (status, headers.get("Allow")) == (405, "GET, HEAD"), method
    assert (paths.releases_dir / "index.html").read_bytes() == before


def test_the_root_leads_to_the_list_and_nothing_outside_is_served(
    served: tuple[str, Paths],
) -> None:
    url, _ = served
    host = url.removeprefix("http://")
    connection = http.client.HTTPConnection(host, timeout=30)
    connection.request("GET", "/")
    response = connection.getresponse()
    assert (response.status, response.getheader("Location")) == (302, "/releases/index.html")
    response.read()
    # a path that climbs out of the folder stays inside it
    connection.request("GET", "/../../../../etc/passwd")
    assert connection.getresponse().status == 404
    connection.close()
    status, headers, body = _request(f"{url}/releases/index.html")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"<!DOCTYPE html>" in body


def _papers_urls(url: str, paths: Paths) -> tuple[list[str], pl.DataFrame]:
    release = latest_release(paths.releases_dir)
    assert release is not None
    manifest = json.loads((release / MANIFEST).read_text())
    parts = [part["file"] for part in manifest["tables"]["papers"]["parts"]]
    local = pl.read_parquet([release / part for part in parts])
    return [f"{url}/releases/{release.name}/{part}" for part in parts], local


def test_polars_reads_the_latest_papers_over_http(served: tuple[str, Paths]) -> None:
    url, paths = served
    urls, local = _papers_urls(url, paths)

    papers = pl.read_parquet(urls)
    counted = pl.scan_parquet(urls[0]).select(pl.len()).collect().item()

    assert papers.height == 380
    assert papers.equals(local)
    assert counted == 59


def test_duckdb_reads_the_latest_papers_over_http(served: tuple[str, Paths]) -> None:
    import duckdb

    url, paths = served
    urls, local = _papers_urls(url, paths)
    with duckdb.connect() as connection:
        try:
            # only what is already on this machine: installing would download it
            connection.execute("LOAD httpfs")
        except duckdb.Error as error:
            pytest.skip(
                "DuckDB reads http:// with its httpfs extension, which is not built into the "
                "duckdb 2.0.1 wheel and is installed from the extension server (no network "
                f"here; the registry's duckdb-extension-httpfs is built for 1.5): {error}"
            )
        count = connection.execute("SELECT count(*) FROM read_parquet(?)", [urls]).fetchone()
    assert count == (local.height,)
