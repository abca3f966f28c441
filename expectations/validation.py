"""Run an expectation suite on a Polars frame and summarise the outcome; no Dagster here.

Great Expectations 1.x reads pandas, not Polars: the frame is narrowed to the suite's columns,
long text is replaced by its length, and dates become ``datetime64[ns]``, which GX compares fast.
Importing GX costs seconds, so it is imported here, when a validation runs, not at load time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import polars as pl

from expectations.suites import SuiteSpec
from pipelines.core.build import ALL_ROWS

# how many failing values each failed expectation reports
SAMPLE_SIZE = 10
_lock = threading.Lock()


@dataclass(frozen=True)
class FailedExpectation:
    expectation: str
    column: str | None
    unexpected_count: int
    element_count: int
    sample: list[Any]


@dataclass(frozen=True)
class SuiteOutcome:
    """What a suite found on one frame."""

    suite: str
    severity: str
    success: bool
    evaluated: int
    rows: int
    failures: list[FailedExpectation] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    # which rows were validated: all of them, or those an incremental build changed
    scope: str = ALL_ROWS

    def as_record(self) -> dict[str, Any]:
        """The outcome as published with a release: summary, failures and the GX results
        without their run-time metadata (run id, time), so the record depends on data only."""
        gx_result = {k: v for k, v in self.raw.items() if k not in ("meta", "id")}
        return {
            "suite": self.suite,
            "severity": self.severity,
            "success": self.success,
            "evaluated": self.evaluated,
            "rows": self.rows,
            "scope": self.scope,
            "failures": [asdict(failure) for failure in self.failures],
            "great_expectations": gx_result,
        }

    def describe(self) -> str:
        rows = f"{self.rows} rows" + ("" if self.scope == ALL_ROWS else f" ({self.scope})")
        if self.success:
            return f"{self.suite}: {self.evaluated} expectations met on {rows}"
        parts = [
            f"{f.expectation}({f.column or ''}): {f.unexpected_count} of {f.element_count}"
            f" unexpected, e.g. {f.sample[:3]}"
            for f in self.failures
        ]
        return f"{self.suite}: {len(self.failures)} of {self.evaluated} failed: " + "; ".join(parts)


def prepare_frame(
    frame: pl.DataFrame, spec: SuiteSpec, tables: Mapping[str, pl.DataFrame] | None = None
) -> pl.DataFrame:
    """The narrow frame a suite reads: derived columns, its columns, text lengths, and dates as
    nanosecond datetimes."""
    if spec.derive is not None:
        frame = spec.derive(frame, tables or {})
    selected = frame.select(
        *[pl.col(name) for name in spec.columns if name not in spec.length_columns],
        *[pl.col(name).str.len_chars().alias(f"{name}_length") for name in spec.length_columns],
    )
    return selected.with_columns(pl.col(pl.Date).cast(pl.Datetime("ns")))


def validate(
    frame: pl.DataFrame,
    spec: SuiteSpec,
    tables: Mapping[str, pl.DataFrame] | None = None,
    scope: str = ALL_ROWS,
) -> SuiteOutcome:
    """Validate ``frame`` against the suite of ``spec``; ``tables`` are the other tables of the
    build, for suites whose rules cross tables (foreign keys). ``scope`` says which rows of the
    table ``frame`` holds, for the record."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    narrow = prepare_frame(frame, spec, tables).to_pandas()
    # GX keeps process-wide state in its ephemeral contexts; one validation at a time
    with _lock:
        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = context.data_sources.add_pandas(f"{spec.name}.source")
        asset = source.add_dataframe_asset(name=spec.name)
        batch_definition = asset.add_batch_definition_whole_dataframe("whole_table")
        batch = batch_definition.get_batch(batch_parameters={"dataframe": narrow})
        result = batch.validate(spec.build(), result_format="SUMMARY")
    failures = [
        FailedExpectation(
            expectation=config.type,
            column=_column_of(config.kwargs),
            unexpected_count=int(item.result.get("unexpected_count") or 0),
            element_count=int(item.result.get("element_count") or len(narrow)),
            sample=_sample(item),
        )
        for item in result.results
        if not item.success and (config := item.expectation_config) is not None
    ]
    return SuiteOutcome(
        suite=spec.name,
        severity=spec.severity,
        success=bool(result.success),
        evaluated=len(result.results),
        rows=len(narrow),
        failures=failures,
        scope=scope,
        raw=dict(result.to_json_dict()),  # type: ignore[arg-type]
    )


def _sample(item: Any) -> list[Any]:
    # an expectation that could not run (a missing column, say) fails with no values to show
    info = item.exception_info or {}
    if info.get("raised_exception"):
        return [f"could not run: {info.get('exception_message')}"]
    values = item.result.get("partial_unexpected_list") or []
    return [_plain(value) for value in values][:SAMPLE_SIZE]


def _column_of(kwargs: dict[str, Any]) -> str | None:
    if "column" in kwargs:
        return str(kwargs["column"])
    if "column_list" in kwargs:
        return ",".join(kwargs["column_list"])
    if "column_A" in kwargs:
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, float):
        return None if value != value else value  # NaN is how pandas shows a null
    return str(value)
