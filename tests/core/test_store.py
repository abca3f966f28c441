"""The ingest store plans a build without reading the files it has already ingested."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from pipelines.core.build import build_everything
from pipelines.core.ingest import store
from pipelines.core.ingest.landing import scan_landing
from pipelines.core.ops.settings import Paths
from tests.conftest import SAMPLE_LANDING

DAYS = ("2024-05-27.json", "2024-05-28.json")


@pytest.fixture
def built(tmp_paths: Paths) -> Paths:
    for name in DAYS:
        target = tmp_paths.landing_dir / "hf-daily-api" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLE_LANDING / "hf-daily-api" / name, target)
    build_everything(tmp_paths)
    return tmp_paths


def _plan(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], int]:
    """The pending file keys, and how many files planning hashed."""
    hashed = []
    real = store.sha256_hex
    monkeypatch.setattr(store, "sha256_hex", lambda data: hashed.append(1) or real(data))
    landed, _ = scan_landing(paths.landing_dir)
    return [item.file_key for item, _ in store.pending_files(paths, landed)], len(hashed)


def test_files_ingested_and_untouched_are_not_read(
    built: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _plan(built, monkeypatch) == ([], 0)


def test_a_new_file_is_pending_and_read_once_by_the_snapshot_not_by_the_plan(
    built: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(
        SAMPLE_LANDING / "hf-daily-api" / "2024-05-29.json",
        built.landing_dir / "hf-daily-api" / "2024-05-29.json",
    )
    assert _plan(built, monkeypatch) == (["hf-daily-api/2024-05-29.json"], 0)


def test_a_file_written_again_is_hashed_and_pending_only_when_its_bytes_changed(
    built: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = (built.landing_dir / "hf-daily-api" / name for name in DAYS)
    # the same bytes written again: read, found the same, not pending
    first.write_bytes(first.read_bytes())
    # other bytes of the same size, the modification time put back: the change time still moved
    stat = second.stat()
    data = second.read_bytes()
    second.write_bytes(data.replace(b'"upvotes": 1', b'"upvotes": 2', 1))
    assert second.stat().st_size == stat.st_size
    os.utime(second, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert _plan(built, monkeypatch) == ([f"hf-daily-api/{DAYS[1]}"], 2)


def test_a_record_without_a_signature_is_hashed_as_before(
    built: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ingest records written by earlier versions hold no stat signature
    for path in built.ingest_dir.glob("*.record.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        del record["stat_signature"]
        path.write_text(json.dumps(record), encoding="utf-8")
    assert _plan(built, monkeypatch) == ([], 2)
