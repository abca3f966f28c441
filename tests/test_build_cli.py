"""End to end: `trending-papers build` (what `make run` calls) on real listings, in temp folders."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import polars as pl
import pytest
from dagster._core.instance.ref import InstanceRef

from pipelines.core.curate.similarity import MODEL
from pipelines.core.ops.settings import Paths
from pipelines.core.publish.release import LATEST, RELEASED, verify_release
from pipelines.core.publish.site import INDEX_HTML, INDEX_JSON
from tests.conftest import REPO, copy_sample, release_table

CAPTURE_FIXTURES = REPO / "tests" / "fixtures" / "captures"
TABLES = ("papers", "observations", "code_links", "paper_aliases", "listing_files", "rejects")


def run_build(
    paths: Paths, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PAPERS_LANDING_DIR": str(paths.landing_dir),
        "PAPERS_DATA_DIR": str(paths.data_dir),
        **(env or {}),
    }
    env.pop("DAGSTER_HOME", None)
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "build", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def dagster_runs(paths: Paths) -> list[dg.DagsterRun]:
    """The runs recorded in the persistent Dagster instance of the data folder."""
    ref = InstanceRef.from_dir(str(paths.dagster_home))
    with dg.DagsterInstance.from_ref(ref) as instance:
        return list(instance.get_runs())


def test_build_of_the_bundled_samples(tmp_paths: Paths) -> None:
    copy_sample(tmp_paths.landing_dir)
    result = run_build(tmp_paths)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "files read:    21 (21 ingested, 0 quarantined, 0 duplicates)" in result.stdout
    assert "entries:       380 kept, 0 rejected" in result.stdout
    assert "parse: 21/21 files, 380 entries kept, 0 rejected" in result.stdout
    # the capture's 69 papers have no arXiv id: the summary says how to look them up
    assert "    69 listed by title alone, without an arXiv id: `" in result.stdout
    assert " resolve` looks them up" in result.stdout
    # the screen gets progress and a summary; Dagster's own log goes to the log file
    assert "STEP_SUCCESS" not in result.stdout + result.stderr
    log_files = list(tmp_paths.logs_dir.glob("build-*.log"))
    assert len(log_files) == 1 and "STEP_SUCCESS" in log_files[0].read_text()

    release_dir = (tmp_paths.releases_dir / LATEST).resolve()
    assert verify_release(release_dir) == []
    released = {name: release_table(release_dir, name) for name in TABLES}
    # the inputs: 311 API records with 311 distinct arXiv ids, and 69 capture entries
    assert released["papers"].height == 380
    assert released["papers"]["arxiv_id"].n_unique() == 312  # 311 ids and null
    assert released["observations"].height == 380
    assert released["listing_files"]["entries_read"].sum() == 380
    assert released["listing_files"]["status"].unique().to_list() == ["ingested"]
    assert released["rejects"].height == 0
    with duckdb.connect(str(tmp_paths.warehouse_path), read_only=True) as connection:
        for name, frame in released.items():
            count = connection.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
            assert count == frame.height, name
        keys = connection.execute("SELECT paper_id FROM papers ORDER BY paper_id").fetchall()
        assert [k[0] for k in keys] == sorted(released["papers"]["paper_id"].to_list())

    runs = dagster_runs(tmp_paths)
    assert len(runs) == 1 and runs[0].job_name == "build_dataset"
    assert "hf-daily-api/2024-05-27.json" in runs[0].tags["trending_papers/files"]

    again = run_build(tmp_paths)
    assert again.returncode == 0, again.stderr
    assert "plan: 0 new or changed files of 21 known" in again.stdout
    assert "unchanged" in again.stdout
    assert sorted(p.name for p in tmp_paths.releases_dir.iterdir()) == sorted(
        [release_dir.name, LATEST, RELEASED, INDEX_HTML, INDEX_JSON]
    )

    # a new day: only what it touches is curated again, and the warehouse is updated
    (tmp_paths.landing_dir / "hf-daily-api" / "2025-04-01.json").write_text(
        json.dumps([{"paper": {"id": "2504.00001", "title": "A Paper Landed Late"}}])
    )
    daily = run_build(tmp_paths)
    assert daily.returncode == 0, daily.stderr
    assert (
        "curate: incremental: 1 changed files of 22; 1 papers of 381 curated again from 1 files"
    ) in daily.stdout
    assert "warehouse: updated" in daily.stdout
    # validated: the rows of that paper, against the whole tables it refers to
    assert (
        "validate: observations.error: 6 expectations met on 1 rows "
        "(the 1 papers curated again, of 381 rows)"
    ) in daily.stdout
    # forced: everything curated and loaded again, the same tables, so no new release
    forced = run_build(tmp_paths, "--full")
    assert forced.returncode == 0, forced.stderr
    assert "curate: full: every paper curated from the whole history" in forced.stdout
    assert "release: " in forced.stdout and " unchanged" in forced.stdout
    assert "warehouse: rebuilt" in forced.stdout
    assert "validate: observations.error: 6 expectations met on 381 rows" in forced.stdout


def test_a_listing_dated_years_ahead_publishes_with_a_warning(tmp_paths: Paths) -> None:
    copy_sample(tmp_paths.landing_dir)
    # a file named for a day years ahead: odd, but data, not a broken pipeline
    shutil.copy(
        tmp_paths.landing_dir / "hf-daily-api" / "2024-05-27.json",
        tmp_paths.landing_dir / "hf-daily-api" / "2031-05-27.json",
    )
    result = run_build(tmp_paths)
    assert result.returncode == 0, result.stderr
    assert "warnings (reported, not blocking):" in result.stdout
    assert "listing_entries_warn_suite: listing_entries.warn: 1 of 2 failed" in result.stdout
    assert "expect_column_values_to_be_between(listed_on): 13 of 393" in result.stdout
    assert (tmp_paths.releases_dir / LATEST).exists()
    assert f"download page: {tmp_paths.releases_dir / 'index.html'}" in result.stdout
    assert "380 with a vector for search and similar papers" in result.stdout
    # nothing but the build's own lines on the screen (no library logging)
    assert "INFO:" not in result.stdout + result.stderr
    # the papers asset shows how many papers have a vector
    papers = _latest_metadata(tmp_paths, "papers")
    assert papers["embedded_papers"].value == 380
    assert papers["papers_without_vector"].value == 0
    assert papers["embedding_coverage"].value == 1.0
    assert papers["embedding_model"].value == MODEL


def _rename_titles(path: Path) -> None:
    """The API renames its title field: every entry of the file is left without a title."""
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"title":', '"name":').replace("'title':", "'name':"))


def test_a_run_whose_rejects_pass_the_threshold_is_blocked_and_says_why(
    tmp_paths: Paths,
) -> None:
    copy_sample(tmp_paths.landing_dir)
    renamed = sorted((tmp_paths.landing_dir / "hf-daily-api").glob("*.json"))[1:]
    for path in renamed:
        _rename_titles(path)
    result = run_build(tmp_paths)
    assert result.returncode == 1
    assert "BUILD FAILED: nothing was published" in result.stderr
    assert "too many rejects: 298 of 380 entries rejected (78.4%" in result.stderr
    assert "over the 25% threshold for a run" in result.stderr
    # grouped by rule, with a file and an entry to open, and the command that opens it
    assert "title.missing x298" in result.stderr
    assert "AssetCheckFailedError" not in result.stderr
    assert "hf-daily-api/2024-05-28.json, entry 1: title is missing" in result.stderr
    assert "trending-papers inspect <file> --entry <position>" in result.stderr
    assert "invariant broken" not in result.stderr
    assert not tmp_paths.releases_dir.exists()

    inspected = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "inspect", "hf-daily-api/2024-05-28.json",
         "--entry", "1"],
        cwd=REPO,
        env={**os.environ, "PAPERS_DATA_DIR": str(tmp_paths.data_dir)},
        capture_output=True,
        text=True,
        check=True,
    )  # fmt: skip
    assert "status:   read but not recorded" in inspected.stdout
    assert "entry 1: [title.missing] title is missing" in inspected.stdout
    assert '"name":' in inspected.stdout and '"title":' not in inspected.stdout

    # nothing of the blocked run was recorded: an operator who accepts the rejects publishes
    accepted = run_build(tmp_paths, env={"PAPERS_MAX_REJECT_SHARE": "1"})
    assert accepted.returncode == 0, accepted.stderr
    assert "plan: 21 new or changed files" in accepted.stdout
    assert "files read:    21 (2 ingested, 19 quarantined, 0 duplicates)" in accepted.stdout
    assert "file.too_many_rejects x19" in accepted.stdout
    # the UI shows rejects grouped by rule, with counts and an example
    by_rule = _latest_metadata(tmp_paths, "rejects")["by_rule"].value
    assert "| title.missing | 298 | hf-daily-api/2024-05-28.json, entry 1: title is missing |" in (
        str(by_rule)
    )
    ingest = _latest_metadata(tmp_paths, "listing_entries")
    assert "| file.too_many_rejects | 19 |" in str(ingest["rejects_by_rule"].value)


def _latest_metadata(paths: Paths, asset: str) -> dict[str, Any]:
    ref = InstanceRef.from_dir(str(paths.dagster_home))
    with dg.DagsterInstance.from_ref(ref) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(asset))
        assert event is not None and event.asset_materialization is not None
        return dict(event.asset_materialization.metadata)


@pytest.mark.slow
def test_the_whole_archive_and_every_fixture_in_one_run(
    tmp_paths: Paths, shared_data: Path
) -> None:
    # everything as an operator would land it: the archive with its LICENSE, and every capture
    # fixture (the texts that are no listings included)
    shutil.copytree(shared_data, tmp_paths.landing_dir, dirs_exist_ok=True)
    shutil.copytree(CAPTURE_FIXTURES, tmp_paths.landing_dir / "fixtures")
    result = run_build(tmp_paths)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "files read:    240 (233 ingested, 7 quarantined, 0 duplicates)" in result.stdout
    assert "entries:       3,097 kept, 6 rejected" in result.stdout
    assert "papers:        3,072" in result.stdout
    assert "file.not_a_listing x7, e.g. fixtures/not_listings/LICENSE" in result.stdout
    assert "capture.cut_off x4" in result.stdout and "entry.repeat x2" in result.stdout
    assert "repairs:       1 value repaired or dropped (table repairs)" in result.stdout
    # a command the operator can paste, for the first reject
    assert "look at one:  trending-papers inspect fixtures/browser_copy_trending.txt --entry 5" in (
        result.stdout
    )
    assert (
        "project_page_raw.whitespace x1, e.g. hf-daily-api/2025-03-17.json, entry 3: "
        "' https://sites.google.com/view/adc-robot' -> 'https://sites.google.com/view/adc-robot'"
    ) in result.stdout
    release_dir = (tmp_paths.releases_dir / LATEST).resolve()
    files = release_table(release_dir, "listing_files")
    assert files.height == 240
    quarantined = files.filter(pl.col("status") == "quarantined")["file_key"].to_list()
    assert quarantined == [
        *(f"fixtures/not_listings/{name}" for name in
          ("LICENSE", "README.md", "article.txt", "chat.md", "fetch.log", "papers.csv")),
        "hf-daily-api/LICENSE",
    ]  # fmt: skip
    kept = dict(files.group_by("source_format").agg(pl.col("entries_kept").sum()).iter_rows())
    assert kept == {"hf_daily_api": 2993, "hf_papers_page": 104, None: 0}
    assert (files["entries_read"] == files["entries_kept"] + files["entries_rejected"]).all()
    papers = release_table(release_dir, "papers")
    assert papers["arxiv_id"].drop_nulls().n_unique() == 3003
    runs = dagster_runs(tmp_paths)
    assert len(runs) == 1
