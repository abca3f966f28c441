"""A build killed (SIGKILL) at any point of publishing leaves every published thing intact, and
the next build completes and cleans up after it."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.core.ops.locking import CRASH_AT_VARIABLE
from pipelines.core.ops.settings import Paths
from pipelines.core.publish.release import LATEST, verify_release
from tests.conftest import REPO

CRASH_POINTS = [
    "ingest:entries-written",
    "curate:table-written",
    "release:table-written",
    "release:manifest-written",
    "release:renamed",
    "release:latest-link-made",
    "release:latest-switched",
    # a rebuild of the warehouse (forced: this build could update it), then an update
    "warehouse:table-loaded",
    "warehouse:diff-applied",
    "warehouse:written",
    "warehouse:replaced",
]
BUILD = (
    "import sys; from pathlib import Path; from pipelines.core.build import build_everything; "
    "from pipelines.core.ops.settings import Paths; "
    "build_everything(Paths(Path(sys.argv[1]), Path(sys.argv[2])))"
)
NEW_DAY = [{"paper": {"id": "2504.00001", "title": "A Paper Landed Late", "upvotes": 2}}]


def _run(paths: Paths, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "SOURCE_DATE_EPOCH": "1767225600"}
    if crash_at:
        env[CRASH_AT_VARIABLE] = crash_at
    if crash_at == "warehouse:table-loaded":
        env["PAPERS_FULL_BUILD"] = "1"
    return subprocess.run(
        [sys.executable, "-c", BUILD, str(paths.landing_dir), str(paths.data_dir)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _papers_in_warehouse(paths: Paths) -> int:
    with duckdb.connect(str(paths.warehouse_path), read_only=True) as connection:
        return connection.execute("SELECT count(*) FROM papers").fetchall()[0][0]


def _visible_leftovers(data_dir: Path) -> list[str]:
    hidden = [p for p in data_dir.rglob(".*") if p.name != ".build.lock"]
    return sorted(str(p.relative_to(data_dir)) for p in hidden)


@pytest.mark.parametrize("crash_at", CRASH_POINTS)
def test_a_kill_at_any_point_leaves_the_published_data_intact(
    built_sample: Paths, tmp_path: Path, crash_at: str
) -> None:
    paths = Paths(landing_dir=tmp_path / "landing", data_dir=tmp_path / "data")
    shutil.copytree(built_sample.landing_dir, paths.landing_dir)
    shutil.copytree(built_sample.data_dir, paths.data_dir, symlinks=True)
    before = (paths.releases_dir / LATEST).resolve().name
    (paths.landing_dir / "hf-daily-api" / "2025-04-01.json").write_text(json.dumps(NEW_DAY))

    crashed = _run(paths, crash_at)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr

    # whatever `latest` points at is a complete, verified release: the old one, or the new one
    # when the kill came after the switch; and the warehouse opens, old or new
    latest = (paths.releases_dir / LATEST).resolve()
    assert verify_release(latest) == []
    assert latest.name == before or crash_at.startswith(("release:latest-switched", "warehouse"))
    assert verify_release(paths.releases_dir / before) == []
    assert _papers_in_warehouse(paths) in (380, 381)
    for release in paths.releases_dir.iterdir():
        if not release.name.startswith(".") and release.is_dir():
            assert verify_release(release) == [], release.name

    recovered = _run(paths)
    assert recovered.returncode == 0, recovered.stderr
    final = (paths.releases_dir / LATEST).resolve()
    assert verify_release(final) == []
    assert json.loads((final / "manifest.json").read_text())["tables"]["papers"]["rows"] == 381
    assert _papers_in_warehouse(paths) == 381
    assert _visible_leftovers(paths.data_dir) == []
    # one release per publication: an interrupted one is completed, not published twice
    releases = sorted(p.name for p in paths.releases_dir.iterdir() if p.is_dir())
    assert len([r for r in releases if r != LATEST]) == 2
