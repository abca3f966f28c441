"""The Dagster definitions load, and the asset graph is what the docs describe."""

from __future__ import annotations

import ast
from datetime import datetime
from pathlib import Path

import dagster as dg

from pipelines.definitions import defs
from tests.conftest import REPO

# a rename or a new dependency shows up here as a reviewable diff
EXPECTED_GRAPH = {
    "daily_papers_fetch": ("fetch", []),
    "title_lookups": ("fetch", ["daily_papers_fetch"]),
    "raw_listing_files": ("ingest", []),
    "listing_entries": ("ingest", ["raw_listing_files"]),
    "papers": ("curated", ["listing_entries"]),
    "observations": ("curated", ["listing_entries"]),
    "code_links": ("curated", ["listing_entries"]),
    "listing_files": ("curated", ["listing_entries"]),
    "rejects": ("curated", ["listing_entries"]),
    "repairs": ("curated", ["listing_entries"]),
    "paper_aliases": ("curated", ["listing_entries"]),
    "claims": ("curated", ["listing_entries"]),
    "paper_topics": ("curated", ["listing_entries"]),
    "paper_embeddings": ("curated", ["listing_entries"]),
    "similar_papers": ("curated", ["listing_entries"]),
    "release": (
        "publish",
        [
            "claims",
            "code_links",
            "listing_files",
            "observations",
            "paper_aliases",
            "paper_embeddings",
            "paper_topics",
            "papers",
            "rejects",
            "repairs",
            "similar_papers",
        ],
    ),
    "warehouse": ("publish", ["release"]),
}
EXPECTED_CHECKS = {
    ("listing_entries", "listing_entries_error_suite"): True,
    ("listing_entries", "listing_entries_warn_suite"): False,
    # the run's circuit breaker: blocking, though it fails as an ERROR only over its threshold
    ("listing_entries", "reject_share"): True,
    ("papers", "papers_error_suite"): True,
    ("papers", "papers_warn_suite"): False,
    ("observations", "observations_error_suite"): True,
    ("code_links", "code_links_error_suite"): True,
    ("paper_aliases", "paper_aliases_error_suite"): True,
    ("claims", "claims_error_suite"): True,
    ("paper_topics", "paper_topics_error_suite"): True,
    ("paper_embeddings", "paper_embeddings_error_suite"): True,
    ("similar_papers", "similar_papers_error_suite"): True,
    ("listing_files", "listing_files_error_suite"): True,
    ("rejects", "rejects_error_suite"): True,
    ("repairs", "repairs_error_suite"): True,
}


def test_definitions_load_and_the_graph_is_as_documented() -> None:
    graph = defs.resolve_asset_graph()
    actual = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        parents = sorted(parent.to_user_string() for parent in node.parent_keys)
        actual[key.to_user_string()] = (node.group_name, parents)
    assert actual == EXPECTED_GRAPH


def test_every_asset_has_a_description_and_owners() -> None:
    for spec in defs.resolve_all_asset_specs():
        assert spec.description and len(spec.description) > 40, spec.key
        assert spec.owners, spec.key
        assert spec.kinds, spec.key


def test_error_suites_block_and_warn_suites_report() -> None:
    graph = defs.resolve_asset_graph()
    checks = {
        (key.asset_key.to_user_string(), key.name): graph.get_check_spec(key).blocking
        for key in graph.asset_check_keys
    }
    # ERROR suites block publishing, WARN suites only report
    assert checks == EXPECTED_CHECKS


def test_jobs_sensor_and_workspace() -> None:
    assert defs.resolve_job_def("build_dataset") is not None
    assert defs.resolve_job_def("publish_dataset") is not None
    assert defs.resolve_job_def("fetch_daily_papers") is not None
    # the daily fetch asks nothing but the daily API; the look-ups are a job of their own
    fetch_job = defs.resolve_job_def("fetch_daily_papers")
    assert [node.name for node in fetch_job.nodes_in_topological_order] == ["daily_papers_fetch"]
    lookups = defs.resolve_schedule_def("daily_title_lookup_schedule")
    assert (lookups.job_name, lookups.default_status) == (
        "look_up_titles",
        dg.DefaultScheduleStatus.STOPPED,
    )
    schedule = defs.resolve_schedule_def("daily_fetch_schedule")
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    # once a week, everything again: the same data, checked from scratch
    weekly = defs.resolve_schedule_def("weekly_full_build_schedule")
    assert weekly.job_name == "publish_dataset"
    assert weekly.default_status == dg.DefaultScheduleStatus.STOPPED
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 12, 6, 3, 0))
    requests = weekly.evaluate_tick(context).run_requests or []
    assert [request.tags.get("trending_papers/full_build") for request in requests] == ["true"]
    sensor = defs.resolve_sensor_def("landing_folder_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    workspace = (REPO / "workspace.yaml").read_text()
    assert "module_name: pipelines.definitions" in workspace


def test_the_pure_logic_does_not_import_dagster() -> None:
    for module in sorted((REPO / "pipelines" / "core").glob("*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {
            (node.module or "").split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
        }
        assert "dagster" not in imported, Path(module).name
