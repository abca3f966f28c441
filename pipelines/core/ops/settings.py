"""Where the pipeline reads raw listings and where it writes everything else.

Both folders come from the environment so that an operator can point the same code at any landing
folder: ``PAPERS_LANDING_DIR`` (raw input, never modified) and ``PAPERS_DATA_DIR`` (every file the
pipeline writes). The defaults live under ``./data`` of the working directory.

Either folder may be an ``s3://bucket/prefix`` URL on any S3-compatible store. The pipeline then
works on a local mirror of it under ``PAPERS_CACHE_DIR`` (default
``~/.cache/trending-papers/<hash of the URL>``), pulled before a build and pushed after a
successful one (see :mod:`pipelines.core.ops.object_store`); :class:`Paths` always names local
folders.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from pipelines.core.ops.object_store import Mirror, SyncReport, is_remote

DEFAULT_LANDING_DIR = Path("data/landing")
DEFAULT_DATA_DIR = Path("data/build")
# top-level folders of a data folder that stay on the machine that wrote them: the Dagster
# instance folder (a production instance keeps its storage in PostgreSQL) and Dagster's run logs
LOCAL_ONLY_FOLDERS = ("dagster", "logs")


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


@dataclass(frozen=True)
class Locations:
    """The two folders as configured (a local path or an ``s3://`` URL each) and the local
    :class:`Paths` the pipeline reads and writes: for a URL, its mirror under ``cache_dir``."""

    landing: str
    data: str
    paths: Paths
    cache_dir: Path

    @property
    def landing_url(self) -> str | None:
        return self.landing if is_remote(self.landing) else None

    @property
    def data_url(self) -> str | None:
        return self.data if is_remote(self.data) else None

    @property
    def is_remote(self) -> bool:
        return self.landing_url is not None or self.data_url is not None

    def landing_mirror(self) -> Mirror | None:
        if self.landing_url is None:
            return None
        return Mirror(self.landing_url, self.paths.landing_dir)

    def data_mirror(self) -> Mirror | None:
        if self.data_url is None:
            return None
        return Mirror(self.data_url, self.paths.data_dir, exclude=LOCAL_ONLY_FOLDERS)

    def pull(self, *, landing: bool = True, data: bool = True) -> list[SyncReport]:
        """Bring the local mirrors up to date with the bucket (nothing to do for local folders).

        A file that came from the bucket and was removed there since is removed locally too, so
        the mirror holds what the bucket holds; files made locally and not yet pushed are kept.
        """
        mirrors = [self.landing_mirror() if landing else None, self.data_mirror() if data else None]
        return [mirror.pull(delete_removed=True) for mirror in mirrors if mirror is not None]

    def push(self, *, landing: bool = True, data: bool = True) -> list[SyncReport]:
        """Publish local changes to the bucket: files written into the landing mirror (a live
        fetch) are uploaded, never deleted; the data mirror is published in full, objects of
        files deleted locally (releases removed by retention) included."""
        reports = []
        landing_mirror = self.landing_mirror() if landing else None
        if landing_mirror is not None:
            reports.append(landing_mirror.push(delete_extraneous=False))
        data_mirror = self.data_mirror() if data else None
        if data_mirror is not None:
            reports.append(data_mirror.push(delete_extraneous=True))
        return reports


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``PAPERS_CACHE_DIR``, else ``$XDG_CACHE_HOME/trending-papers`` (``~/.cache/...``)."""
    env = os.environ if environ is None else environ
    if env.get("PAPERS_CACHE_DIR"):
        return Path(env["PAPERS_CACHE_DIR"]).expanduser().absolute()
    base = Path(env.get("XDG_CACHE_HOME") or "~/.cache").expanduser()
    return (base / "trending-papers").absolute()


def mirror_folder(url: str, cache_dir: Path) -> Path:
    """The local mirror of ``url``: one folder per URL, named by a hash of it."""
    normalised = url.rstrip("/")
    return cache_dir / hashlib.sha256(normalised.encode()).hexdigest()[:16]


def resolve_locations(
    landing: str | os.PathLike[str],
    data: str | os.PathLike[str],
    cache_dir: str | os.PathLike[str] | None = None,
) -> Locations:
    """The local Paths for two configured folders; URLs map to mirrors under ``cache_dir``."""
    cache = Path(cache_dir).absolute() if cache_dir else default_cache_dir()

    def local(location: str | os.PathLike[str]) -> tuple[str, Path]:
        text = os.fspath(location)
        if is_remote(text):
            return text, mirror_folder(text, cache)
        path = Path(text).absolute()
        return str(path), path

    landing_text, landing_dir = local(landing)
    data_text, data_dir = local(data)
    if is_remote(landing_text) and is_remote(data_text):
        landing_key, data_key = landing_text.rstrip("/") + "/", data_text.rstrip("/") + "/"
        if landing_key.startswith(data_key) or data_key.startswith(landing_key):
            # the landing mirror would pull the pipeline's own output as listings, or vice versa
            raise ValueError(
                f"the landing folder {landing_text} and the data folder {data_text} "
                "must not contain one another"
            )
    return Locations(landing_text, data_text, Paths(landing_dir, data_dir), cache)


def locations_from_env(environ: Mapping[str, str] | None = None) -> Locations:
    """The two folders from the environment (paths or URLs), with their local Paths."""
    env = os.environ if environ is None else environ
    return resolve_locations(
        env.get("PAPERS_LANDING_DIR") or DEFAULT_LANDING_DIR,
        env.get("PAPERS_DATA_DIR") or DEFAULT_DATA_DIR,
        default_cache_dir(env),
    )


def paths_from_env(environ: Mapping[str, str] | None = None) -> Paths:
    """Read the two folders from the environment, falling back to the defaults under ./data.

    A folder given as an ``s3://`` URL is its local mirror (see :class:`Locations`).
    """
    return locations_from_env(environ).paths


def build_date() -> date:
    """The date a build is of: today in UTC, or ``SOURCE_DATE_EPOCH`` when set. Releases are
    named after it, and the suites' "not after today" bounds end there, so a build of the same
    inputs with the same date gives the same files whenever it runs."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), UTC).date()
    return datetime.now(UTC).date()
