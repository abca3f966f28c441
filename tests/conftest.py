"""Shared fixtures: the real sample data and temporary landing and data folders."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, settings

from pipelines.core.ops.settings import Paths

# property tests: a bounded run in CI; HYPOTHESIS_PROFILE=fuzz for a long one on a workstation
settings.register_profile(
    "ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "fuzz", max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

REPO = Path(__file__).resolve().parent.parent
SAMPLE_LANDING = REPO / "data" / "landing"
SHARED_DATA = REPO.parent / "shared" / "data"
CAPTURE_NAME = "000_5f781be605d9922b.txt"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The full real archive beside the repository; tests that need it skip without it."""
    if not (SHARED_DATA / "hf-daily-api").is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture
def sample_landing() -> Path:
    return SAMPLE_LANDING


@pytest.fixture
def tmp_paths(tmp_path: Path) -> Paths:
    """An empty landing folder and data folder under the test's temporary folder."""
    landing = tmp_path / "landing"
    landing.mkdir()
    return Paths(landing_dir=landing, data_dir=tmp_path / "data")


def copy_sample(destination: Path) -> None:
    """Copy the bundled sample listings into ``destination``."""
    shutil.copytree(SAMPLE_LANDING, destination, dirs_exist_ok=True)


@pytest.fixture(scope="session")
def built_sample(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """The bundled samples built once per test process. Read it, never write to it: a test that
    changes a build copies this one (``shutil.copytree(..., symlinks=True)``) or builds its own."""
    from pipelines.core.build import build_everything

    root = tmp_path_factory.mktemp("built-sample")
    paths = Paths(landing_dir=root / "landing", data_dir=root / "data")
    copy_sample(paths.landing_dir)
    build_everything(paths)
    return paths


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """requests honours proxy variables; a proxy set on a CI machine must not see 127.0.0.1."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def server() -> Iterator[object]:
    """A local server replaying the recorded daily papers responses (tests/support)."""
    from tests.support.replay_server import ReplayServer

    replay = ReplayServer().start()
    try:
        yield replay
    finally:
        replay.stop()


def release_table(release_dir: Path, name: str) -> pl.DataFrame:
    """A table of a release read as a downloader would: all its parts, with one call."""
    return pl.read_parquet(release_dir / name / "*.parquet")
