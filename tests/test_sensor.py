"""The landing-folder sensor: new files become partitions and one run covers all of them."""

from __future__ import annotations

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from pipelines.core.build import build_everything
from pipelines.core.ops.settings import Paths
from pipelines.partitions import LISTING_FILES_PARTITION
from pipelines.resources import PipelineSettings
from pipelines.sensors import landing_folder_sensor
from tests.conftest import copy_sample


def _settings(paths: Paths) -> PipelineSettings:
    return PipelineSettings(landing_dir=str(paths.landing_dir), data_dir=str(paths.data_dir))


def _evaluate(instance: dg.DagsterInstance, paths: Paths) -> dg.SensorResult | dg.SkipReason:
    context = dg.build_sensor_context(instance=instance, resources={"settings": _settings(paths)})
    return landing_folder_sensor(context)  # type: ignore[return-value]


def test_new_files_are_added_as_partitions_and_requested_in_one_run(tmp_paths: Paths) -> None:
    copy_sample(tmp_paths.landing_dir)
    with dg.instance_for_test() as instance:
        result = _evaluate(instance, tmp_paths)
        assert isinstance(result, dg.SensorResult)
        [add_request] = result.dynamic_partitions_requests or []
        assert isinstance(add_request, dg.AddDynamicPartitionsRequest)
        assert add_request.partitions_def_name == LISTING_FILES_PARTITION
        assert len(add_request.partition_keys) == 21
        [run] = result.run_requests or []
        assert run.tags[ASSET_PARTITION_RANGE_START_TAG] == "hf-daily-api/2024-05-27.json"
        assert run.tags[ASSET_PARTITION_RANGE_END_TAG] == "trending-page/000_5f781be605d9922b.txt"
        assert run.run_key is not None and run.run_key.startswith("landing-")


def test_nothing_new_is_a_skip_and_a_changed_file_widens_the_range(tmp_paths: Paths) -> None:
    copy_sample(tmp_paths.landing_dir)
    build_everything(tmp_paths)
    with dg.instance_for_test() as instance:
        keys = sorted(
            str(p.relative_to(tmp_paths.landing_dir))
            for p in tmp_paths.landing_dir.rglob("*")
            if p.is_file()
        )
        instance.add_dynamic_partitions(LISTING_FILES_PARTITION, keys)
        assert isinstance(_evaluate(instance, tmp_paths), dg.SkipReason)

        changed = tmp_paths.landing_dir / "hf-daily-api" / "2025-03-31.json"
        changed.write_bytes(changed.read_bytes().replace(b'"upvotes": 1', b'"upvotes": 2', 1))
        result = _evaluate(instance, tmp_paths)
        assert isinstance(result, dg.SensorResult)
        assert result.dynamic_partitions_requests == []
        [run] = result.run_requests or []
        assert run.tags[ASSET_PARTITION_RANGE_START_TAG] == "hf-daily-api/2025-03-31.json"
        assert run.tags[ASSET_PARTITION_RANGE_END_TAG] == "hf-daily-api/2025-03-31.json"
        assert run.tags["trending_papers/files"] == "hf-daily-api/2025-03-31.json"
