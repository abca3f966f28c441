"""Where the pipeline reads raw listings and where it writes everything else.

Both folders come from the environment so that an operator can point the same code at any landing
folder: ``PAPERS_LANDING_DIR`` (raw input, never modified) and ``PAPERS_DATA_DIR`` (every file the
pipeline writes). The defaults live under ``./data`` of the working directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_LANDING_DIR = Path("data/landing")
DEFAULT_DATA_DIR = Path("data/build")


@dataclass(frozen=True)
class Paths:
    """Every location the pipeline reads or writes, derived from the two configured folders."""

    landing_dir: Path
    data_dir: Path

    @property
    def snapshots_dir(self) -> Path:
        """Content-addressed copies of landed files: parsing never sees a file change under it."""
        return self.data_dir / "snapshots"

    @property
    def ingest_dir(self) -> Path:
        """Per landed file: its normalised entries, its rejected entries and its ingest record."""
        return self.data_dir / "ingest"

    @property
    def quarantine_dir(self) -> Path:
        """Copies of files that could not be read at all, each with a reason file beside it."""
        return self.data_dir / "quarantine"

    @property
    def curated_dir(self) -> Path:
        """The curated tables of the latest build, before they are published as a release."""
        return self.data_dir / "curated"

    @property
    def releases_dir(self) -> Path:
        return self.data_dir / "releases"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse" / "papers.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"


def paths_from_env(environ: os._Environ[str] | dict[str, str] | None = None) -> Paths:
    """Read the two folders from the environment, falling back to the defaults under ./data."""
    env = os.environ if environ is None else environ
    landing = Path(env.get("PAPERS_LANDING_DIR") or DEFAULT_LANDING_DIR)
    data = Path(env.get("PAPERS_DATA_DIR") or DEFAULT_DATA_DIR)
    return Paths(landing_dir=landing.absolute(), data_dir=data.absolute())
