"""The Dagster UI as an operator sees it: `make ui`, headless Chromium, a run launched from it.

Starts `make ui` on a free port of 127.0.0.1 with its own data folder, checks that every asset
and every check is on the pages, launches a materialisation through the UI's GraphQL API and
waits for it, saves screenshots in test-artifacts/, and stops the server by its process id.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.core.build import build_everything
from pipelines.core.ops.settings import Paths
from pipelines.definitions import defs
from tests.conftest import REPO, copy_sample

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = REPO / "test-artifacts"
# the flags that work headless on these machines (no sandbox as root, no background traffic)
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--virtual-time-budget=20000", "--window-size=1400,900",
]  # fmt: skip
LOCATION = "pipelines.definitions:defs"

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _graphql(port: int, query: str, variables: dict[str, object] | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    root = tmp_path_factory.mktemp("ui")
    paths = Paths(landing_dir=root / "landing", data_dir=root / "data")
    copy_sample(paths.landing_dir)
    build_everything(paths)
    port = _free_port()
    env = {
        **os.environ,
        "PAPERS_LANDING_DIR": str(paths.landing_dir),
        "PAPERS_DATA_DIR": str(paths.data_dir),
        "NO_PROXY": "127.0.0.1,localhost",
    }
    env.pop("DAGSTER_HOME", None)
    log = (root / "ui.log").open("w")
    server = subprocess.Popen(
        ["make", "--no-print-directory", "ui", f"UI_PORT={port}"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                _graphql(port, "{ version }")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError((root / "ui.log").read_text()) from None
                time.sleep(1)
        # the first visit shows a community pop-up over the page; mark it seen
        _graphql(port, "mutation { setNuxSeen }")
        yield port
    finally:
        # stop the server by its process id: make started it in its own process group
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def _page(
    port: int, path: str, tmp_path: Path, screenshot: str | None = None, height: int = 900
) -> str:
    assert CHROMIUM is not None
    profile = tmp_path / f"chrome-{abs(hash(path))}"
    # the last flag wins: a taller window where a list renders only the rows it shows
    command = [
        CHROMIUM,
        *CHROMIUM_FLAGS,
        f"--window-size=1400,{height}",
        f"--user-data-dir={profile}",
    ]
    url = f"http://127.0.0.1:{port}{path}"
    if screenshot:
        ARTIFACTS.mkdir(exist_ok=True)
        subprocess.run(
            [*command, f"--screenshot={ARTIFACTS / screenshot}", url],
            capture_output=True, timeout=120, check=True,
        )  # fmt: skip
    dom = subprocess.run(
        [*command, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True
    )
    return dom.stdout


def test_every_asset_and_check_is_on_the_pages(ui: int, tmp_path: Path) -> None:
    graph = defs.resolve_asset_graph()
    assets = sorted(key.to_user_string() for key in graph.get_all_asset_keys())
    graph_page = _page(ui, "/asset-groups", tmp_path, screenshot="ui-asset-graph.png")
    assert "Global asset lineage" in graph_page
    # the catalog renders the rows in view: tall enough for every asset
    catalog = _page(ui, "/assets", tmp_path, screenshot="ui-catalog.png", height=2000)
    assert [name for name in assets if f"/assets/{name}" not in catalog] == []
    checks_by_asset: dict[str, list[str]] = {}
    for key in graph.asset_check_keys:
        checks_by_asset.setdefault(key.asset_key.to_user_string(), []).append(key.name)
    for asset, checks in sorted(checks_by_asset.items()):
        page = _page(ui, f"/assets/{asset}?view=checks", tmp_path)
        assert [check for check in checks if check not in page] == [], asset
    assert (ARTIFACTS / "ui-asset-graph.png").stat().st_size > 10_000


def test_a_materialisation_launched_through_the_ui_succeeds(ui: int, tmp_path: Path) -> None:
    launched = _graphql(
        ui,
        """
        mutation Launch($params: ExecutionParams!) {
          launchRun(executionParams: $params) {
            __typename
            ... on LaunchRunSuccess { run { runId } }
            ... on PythonError { message }
          }
        }
        """,
        {
            "params": {
                "selector": {
                    "repositoryLocationName": LOCATION,
                    "repositoryName": "__repository__",
                    "jobName": "publish_dataset",
                },
                "runConfigData": {},
            }
        },
    )["data"]["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    status = None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        status = _graphql(
            ui, "query R($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }",
            {"id": run_id},
        )["data"]["runOrError"]["status"]  # fmt: skip
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(2)
    assert status == "SUCCESS"
    page = _page(ui, f"/runs/{run_id}", tmp_path, screenshot="ui-run.png")
    assert run_id[:8] in page
