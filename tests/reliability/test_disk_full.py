"""A full disk: a clear error, nothing published, the previous release and warehouse intact."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.core.build import build_everything
from pipelines.core.ops.settings import Paths
from pipelines.core.publish import release as release_module
from pipelines.core.publish.release import LATEST, verify_release
from tests.conftest import REPO, copy_sample

NEW_DAY = [{"paper": {"id": "2504.00001", "title": "A Paper Landed Late", "upvotes": 2}}]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 MB tmpfs for the data folder (root only; skipped elsewhere)."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount_point)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(disk: Path, leave_bytes: int) -> None:
    stats = os.statvfs(disk)
    free = stats.f_bavail * stats.f_frsize
    with (disk / "filler").open("wb") as handle:
        handle.truncate(0)
        handle.write(b"\0" * max(0, free - leave_bytes))


def _state(paths: Paths) -> tuple[str, int]:
    latest = (paths.releases_dir / LATEST).resolve()
    with duckdb.connect(str(paths.warehouse_path), read_only=True) as connection:
        count = connection.execute("SELECT count(*) FROM papers").fetchall()[0][0]
    return latest.name, count


def test_a_full_tmpfs_stops_the_build_and_leaves_the_release_intact(
    tmp_path: Path, small_disk: Path
) -> None:
    paths = Paths(landing_dir=tmp_path / "landing", data_dir=small_disk / "data")
    copy_sample(paths.landing_dir)
    build_everything(paths)
    before = _state(paths)
    (paths.landing_dir / "hf-daily-api" / "2025-04-01.json").write_text(json.dumps(NEW_DAY))
    _fill(small_disk, leave_bytes=64 * 1024)
    with pytest.raises(OSError) as raised:
        build_everything(paths)
    assert raised.value.errno == errno.ENOSPC
    assert _state(paths) == before
    assert verify_release(paths.releases_dir / LATEST) == []
    (small_disk / "filler").unlink()
    # with space again, the next build completes and leaves no temporary file behind
    summary = build_everything(paths)
    assert summary.tables["papers"] == 381
    leftovers = [p for p in paths.data_dir.rglob(".*") if p.name != ".build.lock"]
    assert leftovers == []


def test_the_cli_says_the_disk_is_full(tmp_paths: Paths, small_disk: Path) -> None:
    paths = Paths(landing_dir=tmp_paths.landing_dir, data_dir=small_disk / "data")
    copy_sample(paths.landing_dir)
    build_everything(paths)
    (paths.landing_dir / "hf-daily-api" / "2025-04-01.json").write_text(json.dumps(NEW_DAY))
    _fill(small_disk, leave_bytes=16 * 1024)
    env = {**os.environ, "PAPERS_LANDING_DIR": str(paths.landing_dir),
           "PAPERS_DATA_DIR": str(paths.data_dir)}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "build"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode != 0
    assert "No space left on device" in result.stderr or "disk is full" in result.stderr
    assert verify_release(paths.releases_dir / LATEST) == []


def test_an_enospc_while_writing_a_release_publishes_nothing(
    tmp_paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_sample(tmp_paths.landing_dir)
    build_everything(tmp_paths)
    before = _state(tmp_paths)
    (tmp_paths.landing_dir / "hf-daily-api" / "2025-04-01.json").write_text(json.dumps(NEW_DAY))
    written: list[Path] = []
    # the release copies (or shares) the curated parts it publishes
    original = release_module.share_or_copy

    def fails_on_the_third_part(source: Path, shared: Path | None, path: Path) -> None:
        written.append(path)
        if len(written) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        original(source, shared, path)

    monkeypatch.setattr(release_module, "share_or_copy", fails_on_the_third_part)
    with pytest.raises(OSError, match="No space left on device"):
        build_everything(tmp_paths)
    assert _state(tmp_paths) == before
    assert [p.name for p in tmp_paths.releases_dir.iterdir() if p.name.startswith(".")] == []
