"""The batching SQLite event storage stores what Dagster's own SQLite storage stores."""

import json
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events.log import EventLogEntry
from dagster._core.instance.ref import InstanceRef

from pipelines.cli import (
    _EARLIER_INSTANCE_CONFIG,
    INSTANCE_CONFIG,
    INSTANCE_CONFIG_MARK,
    _prepare_instance,
)
from pipelines.core.ops.settings import Paths
from pipelines.event_storage import (
    INSTANCE_ENVIRONMENT,
    BatchedSqliteEventLogStorage,
)

FILES = [f"day/{n:03d}.json" for n in range(120)]
files = dg.DynamicPartitionsDefinition(name="files")


@dg.asset(partitions_def=files, backfill_policy=dg.BackfillPolicy.single_run())
def per_file(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"files": len(context.partition_keys)})


@dg.asset(partitions_def=files, backfill_policy=dg.BackfillPolicy.single_run(), deps=[per_file])
def downstream(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"last": context.partition_keys[-1]})


@pytest.fixture
def batched_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in INSTANCE_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    yield


def _materialise(home: Path, config: str) -> dict[str, object]:
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(config, encoding="utf-8")
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        instance.add_dynamic_partitions("files", FILES)
        result = dg.materialize(
            [per_file, downstream],
            instance=instance,
            tags={
                "dagster/asset_partition_range_start": FILES[0],
                "dagster/asset_partition_range_end": FILES[-1],
            },
        )
        assert result.success
        return _stored(instance)


def _stored(instance: dg.DagsterInstance) -> dict[str, object]:
    stored: dict[str, object] = {"storage": type(instance.event_log_storage).__name__}
    for asset in ("per_file", "downstream"):
        key = dg.AssetKey(asset)
        records = instance.fetch_materializations(key, limit=1000).records
        events = [r.asset_materialization for r in records]
        stored[asset] = sorted((e.partition, dict(e.metadata)) for e in events if e is not None)
        stored[f"{asset}_partitions"] = sorted(instance.get_materialized_partitions(key))
        one = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[FILES[7]]), limit=10
        ).records
        stored[f"{asset}_one"] = [r.partition_key for r in one]
        stored[f"{asset}_latest"] = instance.get_latest_materialization_event(key) is not None
        # the asset's entry: its last materialisation (the last event stored) and its last run
        [record] = instance.get_asset_records([key])
        entry = record.asset_entry
        last = entry.last_materialization_record
        assert last is not None and last.storage_id == max(r.storage_id for r in records)
        assert entry.last_run_id == last.run_id
        stored[f"{asset}_entry"] = (last.partition_key, entry.last_materialization_storage_id)
    return stored


def test_batched_storage_stores_what_the_stock_storage_stores(
    tmp_path: Path, batched_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[int] = []
    store_batch = BatchedSqliteEventLogStorage.store_event_batch

    def counted(self: BatchedSqliteEventLogStorage, events: Sequence[EventLogEntry]) -> None:
        batches.append(len(events))
        store_batch(self, events)

    monkeypatch.setattr(BatchedSqliteEventLogStorage, "store_event_batch", counted)
    ours = _materialise(
        tmp_path / "ours",
        INSTANCE_CONFIG.format(mark=INSTANCE_CONFIG_MARK, base_dir=f'"{tmp_path / "ours"}"'),
    )
    stock = _materialise(tmp_path / "stock", "telemetry:\n  enabled: false\n")
    assert ours.pop("storage") == BatchedSqliteEventLogStorage.__name__
    assert stock.pop("storage") == "SqliteEventLogStorage"
    assert ours == stock
    assert ours["per_file_partitions"] == sorted(FILES)
    assert ours["per_file_one"] == [FILES[7]]
    assert len(ours["downstream"]) == len(FILES)  # type: ignore[arg-type]
    # each asset's materialisations went to the storage as one batch
    assert batches.count(len(FILES)) == 2


def test_an_instance_written_in_batches_opens_with_the_stock_storage(
    tmp_path: Path, batched_env: None
) -> None:
    home = tmp_path / "home"
    ours = _materialise(
        home, INSTANCE_CONFIG.format(mark=INSTANCE_CONFIG_MARK, base_dir=f'"{home}"')
    )
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        stock = _stored(instance)
    assert stock.pop("storage") == "SqliteEventLogStorage"
    ours.pop("storage")
    assert stock == ours


def test_the_cli_writes_and_upgrades_only_its_own_instance_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the variables the CLI sets are restored after the test
    monkeypatch.delenv("PAPERS_DAGSTER_HOME", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "elsewhere"))
    for name in INSTANCE_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    paths = Paths(landing_dir=tmp_path / "landing", data_dir=tmp_path / "data")
    config = paths.dagster_home / "dagster.yaml"
    paths.dagster_home.mkdir(parents=True)
    # what earlier versions wrote (the stock storage) is upgraded in place
    config.write_text(_EARLIER_INSTANCE_CONFIG, encoding="utf-8")
    _prepare_instance(paths)
    written = config.read_text(encoding="utf-8")
    assert written.startswith(INSTANCE_CONFIG_MARK)
    assert f"base_dir: {json.dumps(str(paths.dagster_home))}" in written
    assert os.environ["DAGSTER_HOME"] == str(paths.dagster_home)
    for name, value in INSTANCE_ENVIRONMENT.items():
        assert os.environ[name] == value
    # a data folder that moved gets its own folder named again
    moved = Paths(landing_dir=tmp_path / "landing", data_dir=tmp_path / "moved")
    shutil.copytree(paths.data_dir, moved.data_dir)
    _prepare_instance(moved)
    moved_config = (moved.dagster_home / "dagster.yaml").read_text(encoding="utf-8")
    assert json.dumps(str(moved.dagster_home)) in moved_config
    assert json.dumps(str(paths.dagster_home)) not in moved_config
    # a dagster.yaml of the operator's own (no mark) is left as it is
    config.write_text("telemetry:\n  enabled: true\n", encoding="utf-8")
    _prepare_instance(paths)
    assert config.read_text(encoding="utf-8") == "telemetry:\n  enabled: true\n"
