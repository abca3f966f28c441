"""The production profile: Dagster's storage in PostgreSQL, folders on an S3-compatible store.

Against a real PostgreSQL server and a local S3 endpoint (moto in server mode), both on
127.0.0.1: CI starts them with ``deploy/ci/services.sh`` and exports
``PAPERS_TEST_POSTGRES_URL`` / ``PAPERS_TEST_S3_ENDPOINT``; without those variables this module
starts its own (PostgreSQL through the same script, moto in a thread) and skips the PostgreSQL
tests only when the server binaries are not installed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
import psycopg2
import pytest

from pipelines.core.ops.object_store import (
    SHA256_KEY,
    SYMLINK_KEY,
    Mirror,
    MirrorError,
    s3_client,
)
from pipelines.core.ops.settings import Paths, locations_from_env, mirror_folder
from pipelines.core.publish.release import LATEST
from pipelines.resources import MirroredPipelineSettings, PipelineSettings
from tests.conftest import REPO, SAMPLE_LANDING, copy_sample

DEPLOY = REPO / "deploy"
SERVICES = DEPLOY / "ci" / "services.sh"
# any fixed instant: both builds name and date their release after it
SOURCE_DATE_EPOCH = "1764115200"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


# -- services --------------------------------------------------------------------------------


@dataclass(frozen=True)
class S3:
    endpoint: str

    @property
    def env(self) -> dict[str, str]:
        return {**AWS_ENV, "PAPERS_S3_ENDPOINT_URL": self.endpoint}

    def client(self) -> Any:
        return s3_client(self.env)

    def new_bucket(self, stem: str) -> str:
        name = f"{stem}-{uuid.uuid4().hex[:8]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = (
            self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        )
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, bucket: str, key: str) -> bytes:
        return self.client().get_object(Bucket=bucket, Key=key)["Body"].read()


@pytest.fixture(scope="session")
def s3() -> Iterator[S3]:
    """The S3 endpoint of CI, or moto's server in a thread of this process."""
    if os.environ.get("PAPERS_TEST_S3_ENDPOINT"):
        yield S3(os.environ["PAPERS_TEST_S3_ENDPOINT"])
        return
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield S3(f"http://127.0.0.1:{port}")
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL URL whose role may create databases: CI's, or a cluster started here."""
    if os.environ.get("PAPERS_TEST_POSTGRES_URL"):
        yield os.environ["PAPERS_TEST_POSTGRES_URL"]
        return
    if not _postgres_binaries():
        pytest.skip(
            "PostgreSQL server binaries are not installed (Debian: apt-get install postgresql), "
            "and PAPERS_TEST_POSTGRES_URL names no running server"
        )
    env_file = tmp_path_factory.mktemp("services") / "services.env"
    env = {**os.environ, "PAPERS_SERVICES_ENV": str(env_file)}
    started = subprocess.run(
        ["bash", str(SERVICES), "start", "postgres"], env=env, capture_output=True, text=True
    )
    try:
        assert started.returncode == 0, started.stderr
        variables = dict(
            line.removeprefix("export ").split("=", 1)
            for line in env_file.read_text().splitlines()
            if line.startswith("export ")
        )
        yield variables["PAPERS_TEST_POSTGRES_URL"]
    finally:
        subprocess.run(["bash", str(SERVICES), "stop"], env=env, capture_output=True, check=False)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh database of its own for each test, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    _admin(postgres_server, f"CREATE DATABASE {name}")
    parts = urlsplit(postgres_server)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        _admin(postgres_server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _admin(url: str, statement: str) -> None:
    connection = psycopg2.connect(url)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def _query(url: str, statement: str, *args: object) -> list[tuple[Any, ...]]:
    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement, args)
            return cursor.fetchall()
    finally:
        connection.close()


def _postgres_binaries() -> bool:
    return bool(list(Path("/usr/lib/postgresql").glob("*/bin/initdb"))) or bool(
        shutil.which("initdb")
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def instance_env(postgres_url: str) -> dict[str, str]:
    """The variables deploy/dagster.yaml reads, for the database of ``postgres_url``."""
    parts = urlsplit(postgres_url)
    return {
        "DAGSTER_PG_HOST": parts.hostname or "127.0.0.1",
        "DAGSTER_PG_PORT": str(parts.port or 5432),
        "DAGSTER_PG_DB_NAME": parts.path.lstrip("/"),
        "DAGSTER_PG_USER": parts.username or "",
        "DAGSTER_PG_PASSWORD": parts.password or "",
    }


def production_home(folder: Path) -> Path:
    """A DAGSTER_HOME holding deploy/dagster.yaml as it is shipped."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(DEPLOY / "dagster.yaml", folder / "dagster.yaml")
    return folder


# -- the Dagster instance --------------------------------------------------------------------


def test_the_production_instance_keeps_runs_in_postgres(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in instance_env(postgres_url).items():
        monkeypatch.setenv(name, value)
    home = production_home(tmp_path / "dagster-home")

    @dg.op
    def hello() -> int:
        return 1

    @dg.job
    def smoke() -> None:
        hello()

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert isinstance(instance.run_coordinator, dg.QueuedRunCoordinator)
        pools = instance.get_concurrency_config().pool_config
        assert pools.default_pool_limit == 1
        assert pools.pool_granularity is not None and pools.pool_granularity.value == "run"
        result = smoke.execute_in_process(instance=instance)
    assert result.success
    rows = _query(
        postgres_url, "SELECT pipeline_name, status FROM runs WHERE run_id = %s", result.run_id
    )
    assert rows == [("smoke", "SUCCESS")]
    [(events,)] = _query(
        postgres_url, "SELECT count(*) FROM event_logs WHERE run_id = %s", result.run_id
    )
    assert events > 5


def test_the_writers_share_one_pool() -> None:
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    pooled = {
        key.to_user_string()
        for key in graph.get_all_asset_keys()
        if "warehouse_writer" in (graph.get(key).pools or set())
    }
    assert {"release", "warehouse"} <= pooled
    # ingest stays out of it: per-file partitions may run in parallel
    assert not pooled & {"raw_listing_files", "listing_entries", "daily_papers_fetch"}


def test_the_workspace_reaches_the_code_server_and_runs_are_queued(
    tmp_path: Path, postgres_url: str
) -> None:
    home = production_home(tmp_path / "dagster-home")
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"},
        **instance_env(postgres_url),
        "DAGSTER_HOME": str(home),
        "PAPERS_LANDING_DIR": str(tmp_path / "landing"),
        "PAPERS_DATA_DIR": str(tmp_path / "data"),
        "PAPERS_CODE_SERVER_HOST": "127.0.0.1",
        "PAPERS_CODE_SERVER_PORT": str(port),
    }
    dagster = str(Path(sys.executable).with_name("dagster"))
    # the command deploy/workspace.yaml documents, on a loopback port
    command = [dagster, "api", "grpc", "-m", "pipelines.definitions", "-a", "defs"]
    server = subprocess.Popen(
        [*command, "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_code_server(port, server)
        launched = subprocess.run(
            [
                dagster,
                "job",
                "launch",
                "-w",
                str(DEPLOY / "workspace.yaml"),
                "-j",
                "publish_dataset",
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert launched.returncode == 0, launched.stderr + launched.stdout
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
    # no daemon runs here, so the queued run coordinator keeps it queued
    rows = _query(postgres_url, "SELECT pipeline_name, status FROM runs")
    assert rows == [("publish_dataset", "QUEUED")]


def _wait_for_code_server(port: int, server: subprocess.Popen[bytes]) -> None:
    from dagster._grpc.client import DagsterGrpcClient

    client = DagsterGrpcClient(port=port, host="127.0.0.1")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            stderr = server.stderr.read().decode() if server.stderr else ""
            raise AssertionError(f"the code server exited: {stderr}")
        try:
            client.ping("ready?")
            return
        except Exception:  # not listening yet
            time.sleep(0.5)
    raise AssertionError("the code server did not answer within 90 s")


# -- the mirror ------------------------------------------------------------------------------


def _data_folder(root: Path) -> Path:
    """A small data folder shaped like the pipeline's, with what must never be pushed."""
    release = root / "releases" / "2026-11-26"
    release.mkdir(parents=True)
    (release / "papers.parquet").write_bytes(b"PAR1 papers PAR1")
    (release / "manifest.json").write_text('{"release_id": "2026-11-26"}\n')
    (root / "releases" / "RELEASED").write_text("2026-11-26\n")
    (root / "releases" / LATEST).symlink_to("2026-11-26", target_is_directory=True)
    (root / "warehouse").mkdir()
    (root / "warehouse" / "papers.duckdb").write_bytes(os.urandom(4096))
    (root / "curated").mkdir()
    (root / "curated" / ".papers.parquet.tmp").write_bytes(b"half written")
    (root / "releases" / ".staging-123").mkdir()
    (root / "releases" / ".staging-123" / "papers.parquet").write_bytes(b"staged")
    (root / ".build.lock").write_text("{}")
    (root / "dagster").mkdir()
    (root / "dagster" / "dagster.yaml").write_text("telemetry: {enabled: false}\n")
    (root / "logs").mkdir()
    (root / "logs" / "build-1.log").write_text("log\n")
    return root


def _mirror(s3: S3, url: str, local: Path) -> Mirror:
    return Mirror(url, local, exclude=("dagster", "logs"), client=s3.client())


def _pushed_here_pulled_there(tmp_path: Path, s3: S3, bucket_name: str) -> tuple[str, Path, Path]:
    """A data folder ``here`` pushed to a new bucket and pulled into ``there``: the URL and both."""
    url = f"s3://{s3.new_bucket(bucket_name)}/data"
    here = _data_folder(tmp_path / "here")
    _mirror(s3, url, here).push()
    there = tmp_path / "there"
    _mirror(s3, url, there).pull()
    return url, here, there


def _tree(root: Path) -> dict[str, str]:
    """Every file and link under ``root``: links by target, files by sha256."""
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[relative] = f"-> {os.readlink(path)}"
        elif path.is_file():
            found[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def test_push_then_pull_round_trip(tmp_path: Path, s3: S3) -> None:
    bucket = s3.new_bucket("mirror")
    source = _data_folder(tmp_path / "source")
    report = _mirror(s3, f"s3://{bucket}/data", source).push()
    keys = s3.keys(bucket)
    assert keys == [
        "data/releases/2026-11-26/manifest.json",
        "data/releases/2026-11-26/papers.parquet",
        "data/releases/RELEASED",
        "data/releases/latest",
        "data/warehouse/papers.duckdb",
    ]
    assert sorted(report.transferred) == sorted(key.removeprefix("data/") for key in keys)
    # hidden files, the lock, the staging folder, dagster/ and logs/ stay local
    head = s3.client().head_object(Bucket=bucket, Key="data/warehouse/papers.duckdb")
    digest = hashlib.sha256((source / "warehouse" / "papers.duckdb").read_bytes()).hexdigest()
    assert head["Metadata"][SHA256_KEY] == digest
    latest = s3.client().head_object(Bucket=bucket, Key="data/releases/latest")
    assert latest["Metadata"][SYMLINK_KEY] == "2026-11-26"
    assert s3.read(bucket, "data/releases/latest") == b"2026-11-26"

    copy = tmp_path / "copy"
    pulled = _mirror(s3, f"s3://{bucket}/data", copy).pull()
    assert len(pulled.transferred) == 5
    expected = {
        name: digest
        for name, digest in _tree(source).items()
        if not name.startswith(("dagster", "logs", ".")) and "/." not in name
    }
    assert _tree(copy) == expected
    assert (copy / "releases" / LATEST).is_symlink()
    assert (copy / "releases" / LATEST / "papers.parquet").read_bytes() == b"PAR1 papers PAR1"
    # nothing changed on either side: nothing moves
    assert _mirror(s3, f"s3://{bucket}/data", copy).pull().transferred == []
    assert _mirror(s3, f"s3://{bucket}/data", source).push().transferred == []


def test_only_changed_files_move(tmp_path: Path, s3: S3) -> None:
    url, here, there = _pushed_here_pulled_there(tmp_path, s3, "changes")

    # same size, other bytes: found by the file's identity, not its size alone
    duckdb = here / "warehouse" / "papers.duckdb"
    duckdb.write_bytes(os.urandom(4096))
    assert _mirror(s3, url, here).push().transferred == ["warehouse/papers.duckdb"]
    assert _mirror(s3, url, there).pull().transferred == ["warehouse/papers.duckdb"]
    assert (there / "warehouse" / "papers.duckdb").read_bytes() == duckdb.read_bytes()

    # a new release: its files, then the ledger, then latest switched to it
    new = here / "releases" / "2026-11-27"
    new.mkdir()
    (new / "papers.parquet").write_bytes(b"PAR1 newer PAR1")
    (new / "manifest.json").write_text('{"release_id": "2026-11-27"}\n')
    (here / "releases" / "RELEASED").write_text("2026-11-26\n2026-11-27\n")
    link = here / "releases" / ".latest-1"
    link.symlink_to("2026-11-27", target_is_directory=True)
    os.replace(link, here / "releases" / LATEST)
    assert _mirror(s3, url, here).push().transferred == [
        "releases/2026-11-27/papers.parquet",
        "releases/2026-11-27/manifest.json",
        "releases/RELEASED",
        "releases/latest",
    ]
    _mirror(s3, url, there).pull()
    assert (there / "releases" / LATEST).resolve() == (there / "releases" / "2026-11-27")


def test_latest_is_pushed_after_every_file_it_points_at(tmp_path: Path, s3: S3) -> None:
    bucket = s3.new_bucket("order")
    uploads: list[str] = []
    client = s3.client()

    class Recording:
        def __getattr__(self, name: str) -> Any:
            return getattr(client, name)

        def put_object(self, **kwargs: Any) -> Any:
            uploads.append(kwargs["Key"])
            return client.put_object(**kwargs)

    source = _data_folder(tmp_path / "source")
    Mirror(f"s3://{bucket}", source, exclude=("dagster", "logs"), client=Recording()).push()
    assert uploads[-1] == "releases/latest"
    release = [key for key in uploads if key.startswith("releases/2026-11-26/")]
    assert release[-1] == "releases/2026-11-26/manifest.json"
    assert uploads.index("releases/RELEASED") > uploads.index(release[-1])


def test_push_deletes_only_what_it_transferred(tmp_path: Path, s3: S3) -> None:
    bucket = s3.new_bucket("deletes")
    url = f"s3://{bucket}/data"
    here = _data_folder(tmp_path / "here")
    _mirror(s3, url, here).push()
    s3.client().put_object(Bucket=bucket, Key="data/notes/from-elsewhere.txt", Body=b"hello")

    # a fresh cache with nothing in it deletes nothing
    empty = _mirror(s3, url, tmp_path / "empty").push()
    assert empty.deleted == [] and empty.transferred == []

    # retention removed the old release here: its objects go, the foreign object stays
    shutil.rmtree(here / "releases" / "2026-11-26")
    (here / "releases" / LATEST).unlink()
    report = _mirror(s3, url, here).push()
    assert sorted(report.deleted) == [
        "releases/2026-11-26/manifest.json",
        "releases/2026-11-26/papers.parquet",
        "releases/latest",
    ]
    assert "data/notes/from-elsewhere.txt" in s3.keys(bucket)
    assert not any(key.startswith("data/releases/2026-11-26/") for key in s3.keys(bucket))


def test_pull_keeps_local_changes_and_follows_remote_deletions(tmp_path: Path, s3: S3) -> None:
    url, here, there = _pushed_here_pulled_there(tmp_path, s3, "pulls")

    # there: a build changed the warehouse but its push is still to come
    (there / "warehouse" / "papers.duckdb").write_bytes(b"rebuilt, not pushed yet")
    (there / "scratch.txt").write_text("made here, never pushed\n")
    # here: the release was removed and pushed
    shutil.rmtree(here / "releases" / "2026-11-26")
    (here / "releases" / LATEST).unlink()
    _mirror(s3, url, here).push()

    report = _mirror(s3, url, there).pull(delete_removed=True)
    assert sorted(report.deleted) == [
        "releases/2026-11-26/manifest.json",
        "releases/2026-11-26/papers.parquet",
        "releases/latest",
    ]
    assert not (there / "releases" / "2026-11-26").exists()
    assert (there / "warehouse" / "papers.duckdb").read_bytes() == b"rebuilt, not pushed yet"
    assert (there / "scratch.txt").exists()
    # the pending change goes up with the next push
    pushed = _mirror(s3, url, there).push()
    assert sorted(pushed.transferred) == ["scratch.txt", "warehouse/papers.duckdb"]


def test_objects_uploaded_by_other_tools(tmp_path: Path, s3: S3) -> None:
    """Landing files put by any tool (no sha256 metadata) are pulled, and a local file with the
    same bytes is recognised by the MD5 ETag instead of being downloaded again."""
    bucket = s3.new_bucket("landing")
    client = s3.client()
    _upload_samples(s3, bucket, "landing")
    client.put_object(Bucket=bucket, Key="landing/hf-daily-api/", Body=b"")  # a folder marker
    local = tmp_path / "landing"
    copy_sample(local)
    (local / "hf-daily-api" / "2025-03-31.json").unlink()
    report = Mirror(f"s3://{bucket}/landing", local, client=client).pull()
    assert report.transferred == ["hf-daily-api/2025-03-31.json"]
    assert report.unchanged == 20
    assert _tree(local) == _tree(SAMPLE_LANDING)


def test_links_leaving_the_folder_are_refused(tmp_path: Path, s3: S3) -> None:
    bucket = s3.new_bucket("links")
    local = tmp_path / "data"
    local.mkdir()
    (local / "outside").symlink_to("/etc")
    with pytest.raises(MirrorError, match="absolute path"):
        Mirror(f"s3://{bucket}", local, client=s3.client()).push()


def test_urls_map_to_mirror_folders_under_the_cache(tmp_path: Path) -> None:
    env = {
        "PAPERS_LANDING_DIR": "s3://landing-bucket/landing",
        "PAPERS_DATA_DIR": str(tmp_path / "data"),
        "PAPERS_CACHE_DIR": str(tmp_path / "cache"),
    }
    locations = locations_from_env(env)
    assert locations.landing_url == "s3://landing-bucket/landing"
    assert locations.data_url is None
    assert locations.paths == Paths(
        landing_dir=mirror_folder("s3://landing-bucket/landing", tmp_path / "cache"),
        data_dir=tmp_path / "data",
    )
    assert locations.paths.landing_dir.parent == tmp_path / "cache"
    with pytest.raises(ValueError, match="contain one another"):
        locations_from_env({**env, "PAPERS_DATA_DIR": "s3://landing-bucket/landing/build"})


# -- the resource in Dagster runs ------------------------------------------------------------


def test_runs_pull_before_and_push_after_only_when_every_step_succeeded(
    tmp_path: Path, s3: S3, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in s3.env.items():
        monkeypatch.setenv(name, value)
    bucket = s3.new_bucket("runs")
    s3.client().put_object(Bucket=bucket, Key="landing/in.json", Body=b"[]")
    settings = MirroredPipelineSettings(
        landing_dir=f"s3://{bucket}/landing",
        data_dir=f"s3://{bucket}/data",
        cache_dir=str(tmp_path / "cache"),
    )

    @dg.asset
    def writes(settings: PipelineSettings) -> None:
        # pulled before the step ran
        assert (settings.paths.landing_dir / "in.json").read_bytes() == b"[]"
        settings.paths.data_dir.mkdir(parents=True, exist_ok=True)
        (settings.paths.data_dir / "ok.txt").write_text("ok")
        (settings.paths.landing_dir / "fetched.json").write_text("{}")

    @dg.asset(deps=[writes])
    def fails(settings: PipelineSettings) -> None:
        (settings.paths.data_dir / "partial.txt").write_text("not to be published")
        raise RuntimeError("a blocking problem")

    defs = dg.Definitions(
        assets=[writes, fails],
        resources={"settings": settings},
        jobs=[
            dg.define_asset_job("good", selection=[writes]),
            dg.define_asset_job("bad", selection=[writes, fails]),
        ],
    )
    with dg.instance_for_test() as instance:
        assert defs.resolve_job_def("good").execute_in_process(instance=instance).success
        assert "data/ok.txt" in s3.keys(bucket)
        assert "landing/fetched.json" in s3.keys(bucket)

        s3.client().delete_object(Bucket=bucket, Key="landing/fetched.json")
        bad = defs.resolve_job_def("bad").execute_in_process(
            instance=instance, raise_on_error=False
        )
    assert not bad.success
    # the failed run pushed no data; what it landed (a fetch lands only valid files) went up
    assert "data/partial.txt" not in s3.keys(bucket)
    assert "landing/fetched.json" in s3.keys(bucket)


def test_the_sensor_plans_from_the_landing_bucket_and_pushes_nothing(
    tmp_path: Path, s3: S3, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.sensors import landing_folder_sensor

    for name, value in s3.env.items():
        monkeypatch.setenv(name, value)
    bucket = s3.new_bucket("sensor")
    _upload_samples(s3, bucket, "landing")
    settings = MirroredPipelineSettings(
        landing_dir=f"s3://{bucket}/landing",
        data_dir=f"s3://{bucket}/data",
        cache_dir=str(tmp_path / "cache"),
    )
    with (
        dg.instance_for_test() as instance,
        dg.build_sensor_context(instance=instance, resources={"settings": settings}) as context,
    ):
        result = landing_folder_sensor(context)
    assert isinstance(result, dg.SensorResult)
    [add_request] = result.dynamic_partitions_requests or []
    assert isinstance(add_request, dg.AddDynamicPartitionsRequest)
    assert len(add_request.partition_keys) == 21
    assert not [key for key in s3.keys(bucket) if key.startswith("data/")]


def _upload_samples(s3: S3, bucket: str, prefix: str) -> None:
    """The bundled sample listings, put as any tool would (no metadata)."""
    client = s3.client()
    for path in sorted(SAMPLE_LANDING.rglob("*")):
        if path.is_file():
            key = f"{prefix}/{path.relative_to(SAMPLE_LANDING).as_posix()}"
            client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())


# -- a whole build ---------------------------------------------------------------------------


def test_a_build_on_s3_with_postgres_gives_the_local_release(
    tmp_path: Path, s3: S3, postgres_url: str
) -> None:
    landing_bucket, data_bucket = s3.new_bucket("landing-bucket"), s3.new_bucket("data-bucket")
    client = s3.client()
    _upload_samples(s3, landing_bucket, "landing")
    remote_env = {
        **s3.env,
        **instance_env(postgres_url),
        "PAPERS_LANDING_DIR": f"s3://{landing_bucket}/landing",
        "PAPERS_DATA_DIR": f"s3://{data_bucket}/data",
        "PAPERS_CACHE_DIR": str(tmp_path / "cache"),
        "PAPERS_DAGSTER_HOME": str(production_home(tmp_path / "dagster-home")),
    }
    remote = _build(remote_env)
    assert remote.returncode == 0, remote.stderr + remote.stdout
    assert "files read:    21 (21 ingested, 0 quarantined, 0 duplicates)" in remote.stdout
    run_id = remote.stdout.split("dagster run:")[1].split()[0]

    local = Paths(landing_dir=tmp_path / "local" / "landing", data_dir=tmp_path / "local" / "data")
    copy_sample(local.landing_dir)
    local_build = _build(
        {"PAPERS_LANDING_DIR": str(local.landing_dir), "PAPERS_DATA_DIR": str(local.data_dir)}
    )
    assert local_build.returncode == 0, local_build.stderr + local_build.stdout

    # the same release, byte for byte, every file of it
    release_dir = (local.releases_dir / LATEST).resolve()
    latest = client.head_object(Bucket=data_bucket, Key="data/releases/latest")
    assert latest["Metadata"][SYMLINK_KEY] == release_dir.name
    prefix = f"data/releases/{release_dir.name}/"
    published = {
        key.removeprefix(prefix): hashlib.sha256(s3.read(data_bucket, key)).hexdigest()
        for key in s3.keys(data_bucket, prefix)
    }
    assert published == _tree(release_dir)
    # every part of every table, shared parts included
    assert {name.split("/")[0] for name in published if name.endswith(".parquet")} >= {
        "papers",
        "observations",
    }
    keys = s3.keys(data_bucket)
    assert "data/warehouse/papers.duckdb" in keys
    assert not [key for key in keys if key.startswith(("data/dagster/", "data/logs/"))]
    assert not [key for key in keys if "/." in key]

    # Dagster's side of the build is in PostgreSQL
    assert _query(postgres_url, "SELECT status FROM runs WHERE run_id = %s", run_id) == [
        ("SUCCESS",)
    ]
    [(partitions,)] = _query(
        postgres_url,
        "SELECT count(*) FROM dynamic_partitions WHERE partitions_def_name = 'listing_files'",
    )
    assert partitions == 21

    # another machine with an empty cache: pulls the state, finds nothing new, publishes nothing
    again = _build({**remote_env, "PAPERS_CACHE_DIR": str(tmp_path / "other-cache")})
    assert again.returncode == 0, again.stderr + again.stdout
    assert "plan: 0 new or changed files of 21 known" in again.stdout
    assert f"release: {release_dir.name} unchanged" in again.stdout
    assert s3.keys(data_bucket) == keys


def _build(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    inherited = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DAGSTER_HOME", "PAPERS_DAGSTER_HOME", "PAPERS_CACHE_DIR")
    }
    full = {**inherited, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH, **env}
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "build"],
        cwd=REPO,
        env=full,
        capture_output=True,
        text=True,
        timeout=300,
    )
