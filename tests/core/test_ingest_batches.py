"""The ingest store keeps a batch of files in one set of Parquet files, and reads each file's rows
from the batch its record names."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import polars as pl

from pipelines.core.build import build_everything
from pipelines.core.ingest import store
from pipelines.core.ingest.entries import ParsedBatch, ParsedFile
from pipelines.core.ingest.landing import storage_stem
from pipelines.core.ops.settings import Paths
from pipelines.core.schema import ENTRY_SCHEMA, REJECT_SCHEMA, REPAIR_SCHEMA
from tests.conftest import SAMPLE_LANDING

DAY_ONE, DAY_TWO = "hf-daily-api/2024-05-27.json", "hf-daily-api/2024-05-28.json"


def _land(paths: Paths, *keys: str) -> None:
    for key in keys:
        target = paths.landing_dir / key
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLE_LANDING / key, target)


def _batches(paths: Paths) -> list[str]:
    """The names of the batches whose entries the store holds."""
    folder = paths.ingest_dir / store.BATCH_FOLDER
    return sorted(path.name.split(".")[0] for path in folder.glob("*.entries.parquet"))


def _entries(paths: Paths) -> pl.DataFrame:
    records = store.with_duplicates_marked(store.load_file_records(paths))
    return store.scan_entries(paths, records).collect().sort("source_file", "position")


def _bump_upvotes(paths: Paths, key: str) -> None:
    """Land other bytes under ``key``: the first paper's upvotes count one more."""
    path = paths.landing_dir / key
    data = path.read_text(encoding="utf-8")
    bumped = re.sub(r'"upvotes": (\d+)', lambda m: f'"upvotes": {int(m[1]) + 1}', data, count=1)
    path.write_text(bumped, encoding="utf-8")


def test_a_build_writes_one_set_of_files_per_batch_not_per_file(tmp_paths: Paths) -> None:
    shutil.copytree(SAMPLE_LANDING, tmp_paths.landing_dir, dirs_exist_ok=True)
    build_everything(tmp_paths)
    records = store.load_file_records(tmp_paths)
    # the 21 sample files are one batch: one entries file, and no file of their own
    assert len(records) == 21
    assert _batches(tmp_paths) == [records[0].stored_in]
    assert {record.stored_in for record in records} == {records[0].stored_in}
    assert list(tmp_paths.ingest_dir.glob("*.parquet")) == []
    assert _entries(tmp_paths).height == sum(record.entries_kept for record in records) == 380


def test_a_file_stored_again_is_read_from_its_new_batch(tmp_paths: Paths) -> None:
    _land(tmp_paths, DAY_ONE, DAY_TWO)
    build_everything(tmp_paths)
    [first] = _batches(tmp_paths)
    before = _entries(tmp_paths)

    _bump_upvotes(tmp_paths, DAY_TWO)
    build_everything(tmp_paths)
    # day one is still read from the first batch, which keeps day two's old rows unread
    [kept, second] = _batches(tmp_paths)
    assert kept == first
    by_key = {record.file_key: record for record in store.load_file_records(tmp_paths)}
    assert (by_key[DAY_ONE].stored_in, by_key[DAY_TWO].stored_in) == (first, second)
    after = _entries(tmp_paths)
    assert after.height == before.height
    changed = after.join(before, on=["source_file", "position", "upvotes"], how="anti")
    assert changed.select("source_file", "position").rows() == [(DAY_TWO, 1)]

    # once no record reads the first batch any more, it goes
    _bump_upvotes(tmp_paths, DAY_ONE)
    build_everything(tmp_paths)
    assert len(_batches(tmp_paths)) == 2 and first not in _batches(tmp_paths)
    assert _entries(tmp_paths).height == before.height


def test_a_store_of_files_of_their_own_is_read_and_left_file_by_file(tmp_paths: Paths) -> None:
    """A data folder written before batches: each file's rows in files of its own, records
    naming no batch. It is read as it is; a file stored again moves to a batch."""
    _land(tmp_paths, DAY_ONE, DAY_TWO)
    build_everything(tmp_paths)
    expected = _entries(tmp_paths)
    rejects_before = store.rejects_table(tmp_paths, store.load_file_records(tmp_paths))
    _into_files_of_their_own(tmp_paths)
    assert _batches(tmp_paths) == []
    assert _entries(tmp_paths).equals(expected)
    assert store.rejects_table(tmp_paths, store.load_file_records(tmp_paths)).equals(rejects_before)

    _bump_upvotes(tmp_paths, DAY_TWO)
    build_everything(tmp_paths)
    by_key = {record.file_key: record for record in store.load_file_records(tmp_paths)}
    assert by_key[DAY_ONE].stored_in is None and by_key[DAY_TWO].stored_in is not None
    own = sorted(path.name for path in tmp_paths.ingest_dir.glob("*.parquet"))
    assert own == [f"{storage_stem(DAY_ONE)}.entries.parquet"]
    assert _entries(tmp_paths).height == expected.height


def test_a_batch_no_record_names_goes_after_a_day(tmp_paths: Paths) -> None:
    """A batch of a run that never recorded its files (blocked, stopped, or still running
    beside this one) is kept for a day, then removed by the next run that records files."""
    _land(tmp_paths, DAY_ONE)
    build_everything(tmp_paths)
    orphan = (
        tmp_paths.ingest_dir / store.BATCH_FOLDER / "000000099-0123456789abcdef.entries.parquet"
    )
    pl.DataFrame(schema=ENTRY_SCHEMA).write_parquet(orphan)

    _land(tmp_paths, DAY_TWO)
    build_everything(tmp_paths)
    assert orphan.exists()

    day_ago = time.time() - (store.ORPHAN_BATCH_HOURS * 3600 + 60)
    os.utime(orphan, (day_ago, day_ago))
    _bump_upvotes(tmp_paths, DAY_TWO)
    build_everything(tmp_paths)
    assert not orphan.exists()
    assert len(_batches(tmp_paths)) == 2


def test_batches_of_the_same_number_holding_other_files_have_other_names(
    tmp_paths: Paths,
) -> None:
    """Two runs ingesting at once may start from the same ingest number; their batches differ
    by what they hold, and the same files read alike give the same batch."""

    def parsed(key: str) -> ParsedFile:
        return ParsedFile(
            file_key=key,
            sha256="0" * 64,
            size=0,
            source_format="hf_daily_api_json",
            page_kind=None,
            entries=pl.DataFrame(schema=ENTRY_SCHEMA),
            rejects=pl.DataFrame(schema=REJECT_SCHEMA),
            repairs=pl.DataFrame(schema=REPAIR_SCHEMA),
        )

    [one] = store.store_batch(tmp_paths, ParsedBatch.of([parsed(DAY_ONE)]), 7)
    [two] = store.store_batch(tmp_paths, ParsedBatch.of([parsed(DAY_TWO)]), 7)
    [again] = store.store_batch(tmp_paths, ParsedBatch.of([parsed(DAY_ONE)]), 7)
    assert one.stored_in != two.stored_in and one.stored_in == again.stored_in
    assert one.stored_in is not None and one.stored_in.startswith("000000007-")
    assert len(_batches(tmp_paths)) == 2


def _into_files_of_their_own(paths: Paths) -> None:
    """Rewrite the store as it was before batches."""
    for record_path in paths.ingest_dir.glob("*.record.json"):
        record = json.loads(record_path.read_text(encoding="utf-8"))
        batch = paths.ingest_dir / store.BATCH_FOLDER / record.pop("stored_in")
        for suffix in ("entries", "rejects", "repairs"):
            source = Path(f"{batch}.{suffix}.parquet")
            if source.exists():
                rows = pl.read_parquet(source).filter(pl.col("source_file") == record["file_key"])
                if rows.height or suffix == "entries":
                    own = paths.ingest_dir / f"{storage_stem(record['file_key'])}.{suffix}.parquet"
                    rows.write_parquet(own)
        record_path.write_text(json.dumps(record), encoding="utf-8")
    shutil.rmtree(paths.ingest_dir / store.BATCH_FOLDER)
