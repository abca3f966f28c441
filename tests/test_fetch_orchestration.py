"""The live fetch as Dagster runs it: the asset against a local server, and the daily schedule."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from assets.fetch import FetchRange, daily_papers_fetch, fetch_range, title_lookups
from pipelines.core.build import build_everything, read_curated
from pipelines.core.ops.settings import Paths
from pipelines.resources import HuggingFaceApi, PipelineSettings
from pipelines.schedules import daily_fetch_schedule
from tests.support.replay_server import Fault, ReplayServer

pytestmark = pytest.mark.usefixtures("no_proxy")


def _resources(paths: Paths, base_url: str) -> dict[str, object]:
    return {
        "settings": PipelineSettings(
            landing_dir=str(paths.landing_dir), data_dir=str(paths.data_dir)
        ),
        "huggingface": HuggingFaceApi(
            base_url=base_url, min_interval_seconds=0.0, max_retries=2, backoff_factor=0.01
        ),
    }


def _config(start: str, end: str) -> dict[str, object]:
    return {"ops": {"daily_papers_fetch": {"config": {"start": start, "end": end}}}}


def test_the_fetch_asset_lands_validated_files_that_then_build(
    tmp_paths: Paths, server: ReplayServer
) -> None:
    server.inject("/api/daily_papers?date=2024-05-28", Fault.error(503), times=1)
    server.inject("/api/daily_papers?date=2024-05-29", Fault.html(), times=None)
    result = dg.materialize(
        [daily_papers_fetch],
        resources=_resources(tmp_paths, server.base_url),
        run_config=_config("2024-05-27", "2024-05-29"),
    )
    assert result.success
    metadata = result.asset_materializations_for_node("daily_papers_fetch")[0].metadata
    assert (metadata["fetched"].value, metadata["failed"].value) == (2, 1)
    landed = sorted(
        p.name for p in (tmp_paths.landing_dir / "hf-daily-api").glob("*.json")
        if not p.name.endswith(".meta.json")
    )  # fmt: skip
    # the HTML error page of the 29th never reaches the landing folder
    assert landed == ["2024-05-27.json", "2024-05-28.json"]
    assert (tmp_paths.landing_dir / "hf-daily-api" / "2024-05-27.json").read_bytes() == (
        server.recorded_body("2024-05-27")
    )
    summary = build_everything(tmp_paths)
    assert summary.tables["papers"] == 13 + 15
    files = read_curated(tmp_paths)["listing_files"]
    # fetched live, the files carry the site's terms, not the archive's Apache-2.0
    assert files["licence"].unique().to_list() == ["Hugging Face terms of service (fetched live)"]


def test_offline_the_fetch_fails_clearly_and_the_landed_files_still_build(
    tmp_paths: Paths, server: ReplayServer
) -> None:
    closed = server.base_url
    server.stop()
    result = dg.materialize(
        [daily_papers_fetch],
        resources=_resources(tmp_paths, closed),
        run_config=_config("2024-05-27", "2024-05-27"),
        raise_on_error=False,
    )
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    message = str(failure.step_failure_data.error.message if failure.step_failure_data else "")
    assert "cannot reach" in message
    assert "the pipeline goes on with the files already landed" in message
    (tmp_paths.landing_dir / "hf-daily-api").mkdir(parents=True)
    Path(tmp_paths.landing_dir / "hf-daily-api" / "2024-05-27.json").write_bytes(
        server.recorded_body("2024-05-27")
    )
    assert build_everything(tmp_paths).tables["papers"] == 13


def test_the_default_range_is_yesterday_and_today() -> None:
    assert fetch_range(FetchRange(), today=date(2026, 3, 1)) == (
        date(2026, 2, 28),
        date(2026, 3, 1),
    )
    assert fetch_range(FetchRange(start="2025-01-01", end="2025-01-31")) == (
        date(2025, 1, 1),
        date(2025, 1, 31),
    )


def test_the_daily_schedule_requests_the_fetch_job() -> None:
    assert daily_fetch_schedule.cron_schedule == "30 6 * * *"
    assert daily_fetch_schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    context = dg.build_schedule_context(scheduled_execution_time=None)
    request = daily_fetch_schedule.evaluate_tick(context).run_requests
    assert request is not None and len(request) == 1
    assert daily_fetch_schedule.job_name == "fetch_daily_papers"


def test_the_look_up_asset_lands_a_ledger_for_the_title_only_papers_of_the_last_build(
    built_sample: Paths, server: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    import orjson

    from pipelines.core.curate.stored import read_table
    from pipelines.core.ops.resolve import LookupSettings, read_ledger

    paths = Paths(landing_dir=tmp_path / "landing", data_dir=tmp_path / "data")
    shutil.copytree(built_sample.landing_dir, paths.landing_dir)
    shutil.copytree(built_sample.data_dir, paths.data_dir, symlinks=True)
    monkeypatch.setenv("PAPERS_ARXIV_BASE_URL", server.base_url)
    papers = read_table(paths.curated_dir, "papers")
    first = papers.filter(papers["paper_id"].str.starts_with("title:")).sort("paper_id")["title"][0]
    search = LookupSettings(hf_base_url=server.base_url).hf_search_url(first)
    answer = [{"paper": {"id": "2411.00001", "title": first, "publishedAt": "2024-01-01"}}]
    server.add_page(search.removeprefix(server.base_url), orjson.dumps(answer), "application/json")
    result = dg.materialize(
        [title_lookups],
        resources=_resources(paths, server.base_url),
        run_config={"ops": {"title_lookups": {"config": {"limit": 2}}}},
    )
    assert result.success
    metadata = result.asset_materializations_for_node("title_lookups")[0].metadata
    # the second title is known to neither source (404): failed, asked again by the next run
    assert {
        name: metadata[name].value
        for name in ("titles_without_id", "looked_up", "resolved", "failed")
    } == {
        "titles_without_id": 69,
        "looked_up": 2,
        "resolved": 1,
        "failed": 1,
    }
    ledger = read_ledger(paths.landing_dir)
    assert next((line["title"], line["arxiv_id"], line["decision"]) for line in ledger) == (
        first,
        "2411.00001",
        "accepted",
    )
    assert ledger[1]["decision"] == "failed" and "404" in ledger[1]["reason"]
