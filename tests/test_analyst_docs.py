"""Every query in docs/analysts.md runs against the warehouse built from the samples."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from pipelines.core.build import build_everything
from pipelines.core.settings import Paths
from tests.conftest import REPO, copy_sample

DOC = REPO / "docs" / "analysts.md"
QUERIES = re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
# queries whose answer on the bundled samples is legitimately empty
MAY_BE_EMPTY = ("FROM rejects", "dataset ILIKE '%imagenet%'")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("analysts")
    paths = Paths(landing_dir=root / "landing", data_dir=root / "data")
    copy_sample(paths.landing_dir)
    build_everything(paths)
    return paths.warehouse_path


def test_the_doc_has_a_dozen_queries() -> None:
    assert len(QUERIES) >= 12


@pytest.mark.parametrize("query", QUERIES, ids=[f"q{n:02d}" for n in range(1, len(QUERIES) + 1)])
def test_every_documented_query_runs(warehouse: Path, query: str) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(query).fetchall()
    if not any(marker in query for marker in MAY_BE_EMPTY):
        assert rows, query
