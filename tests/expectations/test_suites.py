"""The suites called directly: clean tables pass, each planted defect is caught and named."""

from __future__ import annotations

import polars as pl
import pytest

from expectations import suites
from expectations.validation import validate
from pipelines.core.build import read_curated
from pipelines.core.ops.settings import Paths


@pytest.fixture
def tables(built_sample: Paths) -> dict[str, pl.DataFrame]:
    return read_curated(built_sample)


def _failed(frame: pl.DataFrame, spec: suites.SuiteSpec, tables: dict[str, pl.DataFrame]) -> set:
    outcome = validate(frame, spec, tables)
    return {(f.expectation, f.column) for f in outcome.failures}


def test_every_suite_passes_on_the_samples(tables: dict[str, pl.DataFrame]) -> None:
    for spec in suites.CURATED_SUITES:
        outcome = validate(tables[spec.table], spec, tables)
        assert outcome.success, outcome.describe()


def test_planted_defects_in_papers(tables: dict[str, pl.DataFrame]) -> None:
    papers = tables["papers"]
    broken = pl.concat([papers, papers.head(1)]).with_columns(
        pl.when(pl.col("paper_id") == papers["paper_id"][5])
        .then(pl.lit("2405.1573"))
        .otherwise(pl.col("arxiv_id"))
        .alias("arxiv_id"),
        pl.when(pl.col("paper_id") == papers["paper_id"][6])
        .then(pl.lit(0, dtype=pl.Int32))
        .otherwise(pl.col("best_rank"))
        .alias("best_rank"),
        pl.when(pl.col("paper_id") == papers["paper_id"][7])
        .then(pl.lit("guessed"))
        .otherwise(pl.col("id_source"))
        .alias("id_source"),
    )
    assert _failed(broken, suites.PAPERS, tables) == {
        ("expect_column_values_to_be_unique", "paper_id"),
        ("expect_column_values_to_be_unique", "arxiv_id"),
        ("expect_column_values_to_match_regex", "arxiv_id"),
        ("expect_column_values_to_be_between", "best_rank"),
        ("expect_column_values_to_be_in_set", "id_source"),
    }


def test_a_broken_foreign_key_is_caught(tables: dict[str, pl.DataFrame]) -> None:
    orphan = tables["observations"].with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("2501.99999"))
        .otherwise(pl.col("paper_id"))
        .alias("paper_id")
    )
    assert _failed(orphan, suites.OBSERVATIONS, tables) == {
        ("expect_column_values_to_be_in_set", "paper_known")
    }
    outcome = validate(orphan, suites.OBSERVATIONS, tables)
    assert outcome.failures[0].unexpected_count == 1


def test_an_unaccounted_file_is_caught(tables: dict[str, pl.DataFrame]) -> None:
    lost = tables["listing_files"].with_columns(pl.col("entries_read") + 1)
    assert _failed(lost, suites.LISTING_FILES, tables) == {
        ("expect_column_values_to_be_in_set", "accounted")
    }


def test_the_warn_suite_reports_a_paper_with_too_many_repositories(
    tables: dict[str, pl.DataFrame],
) -> None:
    linked = tables["code_links"]["paper_id"].implode()
    paper = tables["papers"].filter(~pl.col("paper_id").is_in(linked))["paper_id"][0]
    many = pl.DataFrame(
        {"paper_id": [paper] * 6, "kind": ["repository"] * 6, "url": [f"u{i}" for i in range(6)]}
    )
    with_many = {**tables, "code_links": pl.concat([tables["code_links"], many], how="diagonal")}
    outcome = validate(tables["papers"], suites.PAPERS_WARN, with_many)
    assert not outcome.success and outcome.severity == "WARN"
    [failure] = outcome.failures
    assert (failure.column, failure.unexpected_count, failure.sample) == (
        "repository_count",
        1,
        [6],
    )


def test_the_not_after_today_bound_is_the_builds_date_not_the_clocks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A build of fixed inputs and date gives the same validation results past midnight."""
    import datetime as dt

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764115200")  # 2025-11-26
    assert suites._latest_listing() == dt.datetime(2025, 11, 26) + dt.timedelta(
        days=suites.LISTING_DAYS_AHEAD
    )


def test_the_warn_suite_reports_papers_without_a_vector(tables: dict[str, pl.DataFrame]) -> None:
    embeddings = tables["paper_embeddings"]
    # one paper's vector null, another's row missing
    gaps = embeddings.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(None).otherwise(pl.col("vector")).alias("vector")
    ).slice(0, embeddings.height - 1)
    outcome = validate(tables["papers"], suites.PAPERS_WARN, {**tables, "paper_embeddings": gaps})
    assert not outcome.success and outcome.severity == "WARN"
    [failure] = outcome.failures
    assert (failure.expectation, failure.column, failure.unexpected_count) == (
        "expect_column_values_to_not_be_null",
        "embedded",
        2,
    )


def test_planted_defects_in_neighbour_lists(tables: dict[str, pl.DataFrame]) -> None:
    similar = tables["similar_papers"]
    first = similar["paper_id"][0]
    broken = similar.with_columns(
        # a paper listed as its own neighbour, a neighbour that is no paper, a rank past ten
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit(first))
        .when(pl.int_range(pl.len()) == 1)
        .then(pl.lit("2501.99999"))
        .otherwise(pl.col("similar_paper_id"))
        .alias("similar_paper_id"),
        pl.when(pl.int_range(pl.len()) == 2)
        .then(pl.lit(11, dtype=pl.Int8))
        .otherwise(pl.col("rank"))
        .alias("rank"),
    )
    assert _failed(broken, suites.SIMILAR_PAPERS, tables) == {
        ("expect_column_values_to_be_in_set", "itself"),
        ("expect_column_values_to_be_in_set", "similar_paper_known"),
        ("expect_column_values_to_be_between", "rank"),
    }
