"""Every query in docs/analysts.md runs against the warehouse built from the samples."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.core.ops.settings import Paths
from pipelines.core.publish.search import search_papers
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


RECIPE = next(
    block
    for block in re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    if "embed_texts" in block
)


def test_the_python_recipe_finds_papers_in_the_downloaded_parquet(built_sample: Paths) -> None:
    # the recipe as documented, pointed at the samples' release instead of data/build
    code = RECIPE.replace("data/build/releases", str(built_sample.releases_dir))
    assert code != RECIPE
    names: dict[str, object] = {}
    exec(compile(code, str(DOC), "exec"), names)
    nearest = names["nearest"]
    assert isinstance(nearest, pl.DataFrame)
    assert nearest.height == 10
    # the same ten papers, in the same order, as the warehouse's semantic search
    in_warehouse = search_papers(
        built_sample.warehouse_path, "speculative decoding", k=10, method="semantic"
    )
    assert nearest["paper_id"].to_list() == in_warehouse["paper_id"].to_list()
    # code lines of the recipe beyond the imports: two
    lines = [
        line for line in RECIPE.splitlines() if line and not line.startswith(("import", "from"))
    ]
    assert len(lines) == 2
