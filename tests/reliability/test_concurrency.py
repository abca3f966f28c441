"""Two builds at once: the second waits or fails clearly, and the outputs are those of one run."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines.core.build import build_everything
from pipelines.core.ops.locking import BuildLocked, exclusive_build
from pipelines.core.ops.settings import Paths
from pipelines.core.publish.release import LATEST
from tests.conftest import REPO, copy_sample, release_table


def _cli_build(paths: Paths) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PAPERS_LANDING_DIR": str(paths.landing_dir),
        "PAPERS_DATA_DIR": str(paths.data_dir),
    }
    env.pop("DAGSTER_HOME", None)
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "build"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_a_second_build_process_fails_with_a_clear_message(tmp_paths: Paths) -> None:
    copy_sample(tmp_paths.landing_dir)
    with exclusive_build(tmp_paths.data_dir):
        second = _cli_build(tmp_paths)
        _, stderr = second.communicate(timeout=300)
    assert second.returncode == 1
    assert f"another build is writing {tmp_paths.data_dir}" in stderr
    assert f"process {os.getpid()}" in stderr
    assert not tmp_paths.releases_dir.exists()


def test_two_build_processes_at_once_give_the_outputs_of_one(tmp_paths: Paths) -> None:
    copy_sample(tmp_paths.landing_dir)
    first, second = _cli_build(tmp_paths), _cli_build(tmp_paths)
    results = [process.communicate(timeout=300) for process in (first, second)]
    codes = sorted([first.returncode, second.returncode])
    # either one ran while the other was refused, or they ran one after the other
    assert codes in ([0, 0], [0, 1]), results
    if codes == [0, 1]:
        assert any("another build is writing" in stderr for _, stderr in results)
    release = (tmp_paths.releases_dir / LATEST).resolve()
    observations = release_table(release, "observations")
    assert observations.height == 380
    assert observations.select("paper_id", "source_file", "listed_on").is_unique().all()
    assert len([p for p in tmp_paths.releases_dir.iterdir() if p.is_dir()]) == 2  # one + latest


def test_a_second_writer_thread_waits_for_the_first(tmp_path: Path) -> None:
    order: list[str] = []

    def writer(name: str, hold: float) -> None:
        with exclusive_build(tmp_path, wait_seconds=30):
            order.append(f"{name} in")
            time.sleep(hold)
            order.append(f"{name} out")

    first = threading.Thread(target=writer, args=("first", 0.5))
    first.start()
    time.sleep(0.1)
    writer("second", 0)
    first.join()
    assert order == ["first in", "first out", "second in", "second out"]
    with exclusive_build(tmp_path), exclusive_build(tmp_path):
        pass  # re-entrant within a thread: the CLI holds it while its assets take it again


def test_a_writer_that_cannot_wait_names_the_holder(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; "
         "from pipelines.core.ops.locking import exclusive_build\n"
         "with exclusive_build(Path(sys.argv[1])):\n print('held', flush=True); time.sleep(30)",
         str(tmp_path)],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with (
            pytest.raises(BuildLocked, match=f"process {holder.pid}, since "),
            exclusive_build(tmp_path, wait_seconds=0.3),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()
    # the kernel drops a dead holder's lock: no stale lock to clean by hand
    with exclusive_build(tmp_path):
        pass


def test_readers_keep_reading_the_latest_release_during_a_rebuild(tmp_paths: Paths) -> None:
    copy_sample(tmp_paths.landing_dir)
    build_everything(tmp_paths)
    parts = sorted(((tmp_paths.releases_dir / LATEST) / "papers").glob("*.parquet"))
    readers = [pq.ParquetFile(part) for part in parts]
    (tmp_paths.landing_dir / "hf-daily-api" / "2025-04-01.json").write_text(
        '[{"paper": {"id": "2504.00001", "title": "A Late Paper"}}]'
    )
    build_everything(tmp_paths)
    # the reader opened the old release, which a rebuild never modifies
    assert sum(reader.read().num_rows for reader in readers) == 380
    assert pq.read_table((tmp_paths.releases_dir / LATEST) / "papers").num_rows == 381
