"""Every query in docs/analysts.md runs against the warehouse built from the samples."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from pipelines.core.ops.settings import Paths
from tests.conftest import REPO

DOC = REPO / "docs" / "analysts.md"
QUERIES = re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
# queries whose answer on the bundled samples is legitimately empty
MAY_BE_EMPTY = ("FROM rejects", "dataset ILIKE '%imagenet%'")


@pytest.fixture
def warehouse(built_sample: Paths) -> Path:
    return built_sample.warehouse_path


def test_the_doc_has_a_dozen_queries() -> None:
    assert len(QUERIES) >= 12


@pytest.mark.parametrize("query", QUERIES, ids=[f"q{n:02d}" for n in range(1, len(QUERIES) + 1)])
def test_every_documented_query_runs(warehouse: Path, query: str) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(query).fetchall()
    if not any(marker in query for marker in MAY_BE_EMPTY):
        assert rows, query
