"""The circuit breaker: it trips on drift, not on dirt.

Dirt is a few bad values or entries in a file; the field contracts repair or reject them where
they are, and the rest is published. Drift is a change of shape upstream (a renamed field, a new
layout, a new wrapper): every entry of a file then fails the same way, and publishing what is
left would silently publish a dataset with days missing. Two thresholds tell them apart:

* **per file**: a file whose share of rejected entries passes ``FILE_REJECT_SHARE`` is
  quarantined whole (``entries.trip_breaker``), its other entries held back;
* **per run**: a run whose rejected entries, across all its files, pass ``RUN_REJECT_SHARE`` is
  blocked: nothing of it is recorded as ingested and nothing is published, until the files are
  fixed or removed or an operator raises the threshold (``PAPERS_MAX_REJECT_SHARE``). Below the
  threshold, rejects are reported as a warning.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

# a file that rejects more than this share of its entries is not a file with some dirt in it:
# its shape has changed, and what was kept of it cannot be trusted
FILE_REJECT_SHARE = 0.5
# ... once it has rejected at least this many: two broken entries of three are dirt, not drift
FILE_REJECT_MIN = 5
# a run that rejects more than this share of the entries it read has met a change upstream,
# not dirt: the whole real archive (2,993 entries) rejects none, and a day with a few broken
# entries rejects a few percent
RUN_REJECT_SHARE = 0.25
# ... once it has rejected at least this many: a run of one small capture with two cut-off
# entries is not a change upstream
RUN_REJECT_MIN = 20
# rejects that say nothing about drift: repeated blocks are how captures of endless pages look,
# and a capture cut off loses one entry at its end
NOT_DRIFT = ("entry.repeat", "capture.cut_off")
# the operator's setting that replaces RUN_REJECT_SHARE (1 accepts any share)
MAX_REJECT_SHARE_VARIABLE = "PAPERS_MAX_REJECT_SHARE"


def run_reject_share_limit() -> float:
    """The share of rejected entries above which a run is blocked: ``RUN_REJECT_SHARE``, or the
    operator's ``PAPERS_MAX_REJECT_SHARE``."""
    configured = os.environ.get(MAX_REJECT_SHARE_VARIABLE)
    if not configured:
        return RUN_REJECT_SHARE
    try:
        value = float(configured)
    except ValueError:
        raise ValueError(
            f"{MAX_REJECT_SHARE_VARIABLE}={configured!r} is not a number between 0 and 1"
        ) from None
    if not 0 <= value <= 1:
        raise ValueError(f"{MAX_REJECT_SHARE_VARIABLE}={configured!r} is not between 0 and 1")
    return value


@dataclass(frozen=True)
class RuleCount:
    """How often one rule rejected (or repaired) in a run, with an example an operator can open."""

    rule: str
    count: int
    example: str


@dataclass(frozen=True)
class RunVerdict:
    """What the rejects of one run say: dirt (reported) or drift (the run is blocked)."""

    entries_read: int
    entries_rejected: int
    limit: float
    by_rule: tuple[RuleCount, ...]

    @property
    def share(self) -> float:
        return self.entries_rejected / self.entries_read if self.entries_read else 0.0

    @property
    def blocked(self) -> bool:
        return self.entries_rejected >= RUN_REJECT_MIN and self.share > self.limit

    def describe(self) -> str:
        head = (
            f"{self.entries_rejected:,} of {self.entries_read:,} entries rejected "
            f"({self.share:.1%}; repeats and cut-off capture ends not counted)"
        )
        if self.blocked:
            head += (
                f", over the {self.limit:.0%} threshold for a run: a change upstream, not dirt. "
                "Nothing of this run is recorded or published"
            )
        elif self.entries_rejected:
            head += f", under the {self.limit:.0%} threshold for a run"
        return head


def run_verdict(rejects: Sequence[pl.DataFrame], entries_read: int) -> RunVerdict:
    """The verdict on a run from the rejects of its files (``REJECT_SCHEMA`` frames) and the
    number of entries it read."""
    frame = pl.concat([frame for frame in rejects if frame.height] or [_EMPTY])
    counted = frame.filter(pl.col("position").is_not_null() & ~pl.col("rule").is_in(NOT_DRIFT))
    return RunVerdict(
        entries_read=entries_read,
        entries_rejected=counted.height,
        limit=run_reject_share_limit(),
        by_rule=count_by_rule(counted, "reason"),
    )


def count_by_rule(frame: pl.DataFrame, detail: str) -> tuple[RuleCount, ...]:
    """Rows of ``frame`` (with ``rule``, ``source_file``, ``position`` and ``detail``) counted
    by rule, most frequent first, each with its first row as the example."""
    if frame.height == 0:
        return ()
    counted = (
        frame.sort("source_file", "position", nulls_last=False)
        .group_by("rule", maintain_order=True)
        .agg(
            pl.len().alias("count"),
            pl.col("source_file").first(),
            pl.col("position").first(),
            pl.col(detail).first(),
        )
        .sort("count", "rule", descending=[True, False])
    )
    return tuple(
        RuleCount(rule or "unrecorded", count, _where(source_file, position, text))
        for rule, count, source_file, position, text in counted.iter_rows()
    )


def repair_counts(repairs: pl.DataFrame) -> tuple[RuleCount, ...]:
    """Repairs (``REPAIR_SCHEMA``) counted by rule, each example showing the value before and
    after, quoted so that white space shows."""
    shown = repairs.with_columns(
        pl.format(
            "'{}' -> {}",
            pl.col("value_before"),
            pl.when(pl.col("value_after").is_null())
            .then(pl.lit("dropped"))
            .otherwise(pl.format("'{}'", pl.col("value_after"))),
        ).alias("change")
    )
    return count_by_rule(shown, "change")


def merge_counts(*groups: Sequence[RuleCount]) -> tuple[RuleCount, ...]:
    """Counts of several batches as one: counts summed, the first example kept."""
    merged: dict[str, RuleCount] = {}
    for group in groups:
        for count in group:
            known = merged.get(count.rule)
            merged[count.rule] = (
                count
                if known is None
                else RuleCount(count.rule, known.count + count.count, known.example)
            )
    return tuple(sorted(merged.values(), key=lambda c: (-c.count, c.rule)))


def _where(source_file: str, position: int | None, text: str | None) -> str:
    where = source_file if position is None else f"{source_file}, entry {position}"
    return f"{where}: {text or ''}".rstrip(": ")


_EMPTY = pl.DataFrame(
    schema={
        "source_file": pl.String(),
        "position": pl.Int32(),
        "rule": pl.String(),
        "reason": pl.String(),
    }
)
