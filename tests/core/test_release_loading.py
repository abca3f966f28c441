"""A release loads unchanged in the tools people use: Polars, pyarrow, DuckDB, HF datasets."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.dataset as pads
import pytest

from pipelines.core.build import read_curated
from pipelines.core.ops.settings import Paths
from pipelines.core.publish.release import LATEST

TABLES = ("papers", "observations", "code_links", "claims", "paper_topics")


@pytest.fixture
def release_dir(built_sample: Paths) -> Path:
    return (built_sample.releases_dir / LATEST).resolve()


def _key_sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns[: min(3, frame.width)], nulls_last=True)


@pytest.mark.parametrize("table", TABLES)
def test_polars_pyarrow_and_duckdb_read_the_same_rows(
    built_sample: Paths, release_dir: Path, table: str
) -> None:
    # one call each: the table's folder of parts, or the glob of its parts
    parts = str(release_dir / table / "*.parquet")
    with_polars = pl.read_parquet(parts)
    with_pyarrow = pl.from_arrow(pads.dataset(release_dir / table, format="parquet").to_table())
    assert isinstance(with_pyarrow, pl.DataFrame)
    with duckdb.connect() as connection:
        with_duckdb = connection.sql(f"SELECT * FROM read_parquet({parts!r})").pl()
    with_duckdb = with_duckdb.with_columns(
        pl.col(pl.Datetime("us", "Etc/UTC")).dt.convert_time_zone("UTC")
    )
    assert with_pyarrow.equals(with_polars)
    assert with_duckdb.equals(with_polars)
    assert with_polars.height > 0
    # in the published order: parts in the order of their names
    assert with_polars.equals(read_curated(built_sample)[table])


def test_the_hugging_face_datasets_library_loads_the_card_configs_offline(
    release_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    import datasets

    # the release folder as is: its README.md dataset card names a config per table
    papers = datasets.load_dataset(
        os.fspath(release_dir), "papers", split="train", cache_dir=str(tmp_path / "cache")
    )
    expected = pl.read_parquet(release_dir / "papers" / "*.parquet")
    assert papers.num_rows == expected.height
    assert papers.column_names == expected.columns
    assert sorted(papers["paper_id"]) == sorted(expected["paper_id"].to_list())
    claims = datasets.load_dataset(
        "parquet",
        data_files=str(release_dir / "claims" / "*.parquet"),
        split="train",
        cache_dir=str(tmp_path / "cache"),
    )
    assert claims.num_rows == pl.read_parquet(release_dir / "claims" / "*.parquet").height
