"""Which landed files a build must process, and the partition range that covers them."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from pipelines.core.ingest.landing import RefusedPath, scan_landing
from pipelines.core.ingest.store import pending_files
from pipelines.core.ops.settings import Paths

# the run tag listing the files a run covers (shown on the run in the UI)
FILES_TAG = "trending_papers/files"
FILES_TAG_MAX_CHARS = 1_000


@dataclass(frozen=True)
class BuildPlan:
    """New or changed files, the partitions to add for them, and the run tags of the range."""

    pending: list[str]
    new_partitions: list[str]
    range_start: str | None
    range_end: str | None
    refused: list[RefusedPath]
    # identifies the exact bytes planned, so one plan is never requested twice
    fingerprint: str

    @property
    def run_tags(self) -> dict[str, str]:
        if self.range_start is None or self.range_end is None:
            return {}
        files = ", ".join(self.pending)
        if len(files) > FILES_TAG_MAX_CHARS:
            files = files[: FILES_TAG_MAX_CHARS - 30] + f"... ({len(self.pending)} files)"
        return {
            ASSET_PARTITION_RANGE_START_TAG: self.range_start,
            ASSET_PARTITION_RANGE_END_TAG: self.range_end,
            FILES_TAG: files,
        }


def plan_build(paths: Paths, known_partitions: Sequence[str]) -> BuildPlan:
    """Plan the ingest of every new or changed landed file.

    A range of dynamic partitions follows the order in which keys were added; new keys are added
    at the end, so new files form one contiguous range. A changed file already known widens the
    range back to its own key; the files in between are unchanged and skipped cheaply.
    """
    landed, refused = scan_landing(paths.landing_dir)
    changed = pending_files(paths, landed)
    pending = [item.file_key for item, _ in changed]
    fingerprint = hashlib.sha256(
        "\n".join(f"{item.file_key}\t{digest}" for item, digest in changed).encode()
    ).hexdigest()[:16]
    known = set(known_partitions)
    new_partitions = [key for key in pending if key not in known]
    order = [*known_partitions, *new_partitions]
    if not pending:
        return BuildPlan([], [], None, None, refused, fingerprint)
    position = {key: index for index, key in enumerate(order)}
    indexes = sorted(position[key] for key in pending)
    return BuildPlan(
        pending, new_partitions, order[indexes[0]], order[indexes[-1]], refused, fingerprint
    )
