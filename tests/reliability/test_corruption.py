"""A flipped byte in a published file is found by `verify`, by name, with a non-zero exit."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pipelines.core.build import build_everything
from pipelines.core.ops.settings import Paths
from pipelines.core.publish.release import LATEST
from tests.conftest import REPO, copy_sample


def _verify(paths: Paths, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PAPERS_DATA_DIR": str(paths.data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "verify", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize("corrupted", ["papers", "claims", "croissant.json"])
def test_verify_names_a_flipped_byte_and_fails(tmp_paths: Paths, corrupted: str) -> None:
    copy_sample(tmp_paths.landing_dir)
    build_everything(tmp_paths)
    release = (tmp_paths.releases_dir / LATEST).resolve()
    assert _verify(tmp_paths).returncode == 0
    # a document, or the first part of a table
    path = release / corrupted
    if path.is_dir():
        path = sorted(path.glob("*.parquet"))[0]
    target = str(path.relative_to(release))
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x01
    path.write_bytes(bytes(data))
    result = _verify(tmp_paths, release.name)
    assert result.returncode == 1
    assert f"FAILED {release.name}: {target}: sha256 does not match the manifest" in result.stderr
