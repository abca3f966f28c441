"""The adapter that runs an expectation suite as a Dagster asset check."""

from __future__ import annotations

import time
from collections.abc import Mapping

import dagster as dg
import polars as pl

from expectations.suites import SuiteSpec
from expectations.validation import SuiteOutcome, validate
from pipelines.core.build import ALL_ROWS, progress


def check_name(spec: SuiteSpec) -> str:
    """``papers.error`` -> ``papers_error_suite``: the check's name in the UI."""
    return spec.name.replace(".", "_") + "_suite"


def check_spec(spec: SuiteSpec) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        name=check_name(spec),
        asset=spec.table,
        blocking=spec.blocking,
        description=f"Great Expectations suite '{spec.name}' ({spec.severity})"
        + (": a failure stops publishing in this run." if spec.blocking else ": reports only."),
    )


def run_suite_check(
    frame: pl.DataFrame,
    spec: SuiteSpec,
    tables: Mapping[str, pl.DataFrame] | None = None,
    scope: str = ALL_ROWS,
) -> tuple[dg.AssetCheckResult, SuiteOutcome]:
    """Validate ``frame`` and report the outcome as a check result of the suite's severity, with
    the failed expectations and samples of the failing values as metadata."""
    started = time.perf_counter()
    outcome = validate(frame, spec, tables, scope)
    progress.info("validate: %s (%.2f s)", outcome.describe(), time.perf_counter() - started)
    return check_result(spec, [outcome]), outcome


def check_result(spec: SuiteSpec, outcomes: list[SuiteOutcome]) -> dg.AssetCheckResult:
    """One check result for the outcomes of a suite on the batches of one run: it passes when
    every batch passed, and shows the failures of the batches that did not."""
    outcome = next((o for o in outcomes if not o.success), outcomes[-1])
    rows = sum(o.rows for o in outcomes)
    failed = {
        f"{failure.expectation}({failure.column or ''})": {
            "unexpected": failure.unexpected_count,
            "of": failure.element_count,
            "sample": failure.sample,
        }
        for failure in outcome.failures
    }
    return dg.AssetCheckResult(
        check_name=check_name(spec),
        asset_key=spec.table,
        passed=all(o.success for o in outcomes),
        severity=dg.AssetCheckSeverity.ERROR if spec.blocking else dg.AssetCheckSeverity.WARN,
        description=outcome.describe(),
        metadata={
            "rows": rows,
            "scope": outcome.scope,
            "batches": len(outcomes),
            "expectations": outcome.evaluated,
            "failed_expectations": len(outcome.failures),
            "failures": dg.MetadataValue.json(failed),
        },
    )
