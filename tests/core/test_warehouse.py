"""The analysts' DuckDB file: views over the release, atomic replacement, old readers unharmed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.core.build import build_everything
from pipelines.core.ops.settings import Paths

# the newest DuckDB 1.x, which cannot read DuckDB 2's default storage format
OLD_DUCKDB = "1.5.6"


def _day(paths: Paths, day: str, papers: list[tuple[str, str, int]]) -> None:
    items = [
        {"paper": {"id": arxiv_id, "title": title, "upvotes": upvotes,
                   "summary": f"About {title}. Code: https://github.com/lab/{arxiv_id}"}}
        for arxiv_id, title, upvotes in papers
    ]  # fmt: skip
    folder = paths.landing_dir / "hf-daily-api"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{day}.json").write_text(json.dumps(items), encoding="utf-8")


def _query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_runs_span_days_without_listings_and_trending_on_ranks_a_day(tmp_paths: Paths) -> None:
    # Friday, Monday and Tuesday: the weekend has no listing, so it does not break the run
    _day(tmp_paths, "2025-03-21", [("2503.00001", "Alpha Paper", 5), ("2503.00002", "Beta", 9)])
    _day(tmp_paths, "2025-03-24", [("2503.00001", "Alpha Paper", 7)])
    _day(tmp_paths, "2025-03-25", [("2503.00003", "Gamma", 1), ("2503.00001", "Alpha Paper", 8)])
    build_everything(tmp_paths)
    warehouse = tmp_paths.warehouse_path
    assert _query(warehouse, "SELECT paper_id, run_days FROM longest_runs") == [
        ("2503.00001", 3),
        ("2503.00002", 1),
        ("2503.00003", 1),
    ]
    assert _query(
        warehouse, "SELECT rank, paper_id, upvotes, code_url FROM trending_on(DATE '2025-03-25')"
    ) == [
        (1, "2503.00003", 1, "https://github.com/lab/2503.00003"),
        (2, "2503.00001", 8, "https://github.com/lab/2503.00001"),
    ]


def test_a_reader_opened_before_a_rebuild_keeps_its_data(tmp_paths: Paths) -> None:
    _day(tmp_paths, "2025-03-21", [("2503.00001", "Alpha Paper", 5)])
    build_everything(tmp_paths)
    before = duckdb.connect(str(tmp_paths.warehouse_path), read_only=True)
    try:
        _day(tmp_paths, "2025-03-24", [("2503.00002", "Beta Paper", 7)])
        build_everything(tmp_paths)
        # the old connection reads the file it opened; a new one (another analyst's process:
        # DuckDB shares one open database per path within a process) sees the new file
        assert before.execute("SELECT count(*) FROM papers").fetchall() == [(1,)]
        script = (
            "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
            "print(c.execute('SELECT count(*) FROM papers').fetchall()[0][0])"
        )
        after = subprocess.run(
            [sys.executable, "-c", script, str(tmp_paths.warehouse_path)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert after.stdout.strip() == "2"
    finally:
        before.close()


def _uv() -> str | None:
    from tests.conftest import REPO

    found = shutil.which("uv")
    local = REPO / ".tools" / "bin" / "uv"
    return found or (str(local) if local.exists() else None)


def test_duckdb_1x_opens_the_warehouse(tmp_paths: Paths, tmp_path: Path) -> None:
    """Analysts on DuckDB 1.x (the last 1.x line) can open the file written by DuckDB 2."""
    uv = _uv()
    if uv is None:
        pytest.skip("uv is not installed")
    _day(tmp_paths, "2025-03-21", [("2503.00001", "Alpha Paper", 5)])
    build_everything(tmp_paths)
    venv = tmp_path / "duckdb1"
    subprocess.run([uv, "venv", "--quiet", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(python), f"duckdb=={OLD_DUCKDB}"],
        check=True,
    )
    script = (
        "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
        "print(duckdb.__version__, c.execute('SELECT count(*) FROM papers').fetchall()[0][0], "
        "c.execute(\"SELECT count(*) FROM trending_on(DATE '2025-03-21')\").fetchall()[0][0])"
    )
    result = subprocess.run(
        [str(python), "-c", script, str(tmp_paths.warehouse_path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert result.stdout.split() == [OLD_DUCKDB, "1", "1"]
