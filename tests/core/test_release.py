"""Releases: byte-identical, immutable, verified, with an atomic latest pointer; the warehouse."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.core.build import build_everything
from pipelines.core.ingest.landing import sha256_file
from pipelines.core.ops.settings import Paths
from pipelines.core.publish import release as release_module
from pipelines.core.publish.parts import changed_part_files, manifest_parts
from pipelines.core.publish.release import (
    LATEST,
    MANIFEST,
    RELEASED,
    latest_release,
    next_release_id,
    publish_release,
    verify_release,
    write_table,
)
from pipelines.core.publish.site import INDEX_HTML, INDEX_JSON
from tests.conftest import copy_sample, release_table


@pytest.fixture
def built(tmp_paths: Paths, monkeypatch: pytest.MonkeyPatch) -> Paths:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01
    copy_sample(tmp_paths.landing_dir)
    build_everything(tmp_paths)
    return tmp_paths


def _digests(release_dir: Path) -> dict[str, str]:
    """The sha256 of every part of every table, by part file."""
    manifest = json.loads((release_dir / MANIFEST).read_text())
    return {
        part["file"]: part["sha256"]
        for table in manifest["tables"].values()
        for part in table["parts"]
    }


def test_the_same_inputs_give_byte_identical_parquet_files(
    built: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = Paths(landing_dir=built.landing_dir, data_dir=tmp_path / "second")
    build_everything(other)
    first = latest_release(built.releases_dir)
    second = latest_release(other.releases_dir)
    assert first is not None and second is not None
    assert _digests(first) == _digests(second)
    for part in _digests(first):
        assert (first / part).read_bytes() == (second / part).read_bytes()


def test_release_tables_are_copies_of_the_curated_files_with_the_bytes_of_a_fresh_write(
    built: Paths, tmp_path: Path
) -> None:
    release_dir = latest_release(built.releases_dir)
    assert release_dir is not None
    for part in _digests(release_dir):
        released = release_dir / part
        curated = built.curated_dir / part
        # a copy, not a link: the release shares nothing with the mutable data folder
        assert released.stat().st_ino != curated.stat().st_ino
        assert released.read_bytes() == curated.read_bytes()
        write_table(pl.read_parquet(curated), tmp_path / "fresh.parquet")
        assert (tmp_path / "fresh.parquet").read_bytes() == released.read_bytes()


def test_release_layout_manifest_and_latest_pointer(built: Paths) -> None:
    release_dir = built.releases_dir / "2026-01-01"
    assert os.readlink(built.releases_dir / LATEST) == "2026-01-01"
    manifest = json.loads((release_dir / MANIFEST).read_text())
    assert manifest["release_id"] == "2026-01-01"
    assert len(manifest["sources"]) == 21
    papers = manifest["tables"]["papers"]
    assert papers["files"] == "papers/*.parquet"
    assert papers["rows"] == release_table(release_dir, "papers").height == 380
    # one part per month in which the sample's papers were first listed
    assert [part["file"] for part in papers["parts"]] == [
        f"papers/{month}.parquet"
        for month in ("2024-05", "2024-12", "2025-01", "2025-03", "undated")
    ]
    assert sum(part["rows"] for part in papers["parts"]) == 380
    assert papers["bytes"] == sum(
        (release_dir / part["file"]).stat().st_size for part in papers["parts"]
    )
    assert [part["file"] for part in manifest["tables"]["listing_files"]["parts"]] == [
        "listing_files/all.parquet"
    ]
    assert {"name": "paper_id", "type": "large_string"} in papers["schema"]
    assert verify_release(release_dir) == []


def test_an_unchanged_build_makes_no_new_release_and_a_changed_one_a_suffixed_id(
    built: Paths,
) -> None:
    build_everything(built)
    assert sorted(p.name for p in built.releases_dir.iterdir()) == sorted(
        ["2026-01-01", LATEST, RELEASED, INDEX_HTML, INDEX_JSON]
    )
    (built.landing_dir / "hf-daily-api" / "2024-05-29.json").unlink()
    extra = built.landing_dir / "hf-daily-api" / "2024-06-03.json"
    extra.write_text(
        '[{"paper": {"id": "2406.00001", "title": "A New Paper", "upvotes": 1}}]', encoding="utf-8"
    )
    summary = build_everything(built)
    assert summary.release is not None and summary.release.release_id == "2026-01-01.2"
    assert os.readlink(built.releases_dir / LATEST) == "2026-01-01.2"
    # removing a landed file does not remove its history: it was ingested and stays
    assert summary.tables["papers"] == 381
    assert next_release_id(built.releases_dir, date(2026, 1, 1)) == "2026-01-01.3"


def test_verify_names_a_corrupted_file(built: Paths) -> None:
    release_dir = built.releases_dir / "2026-01-01"
    target = release_dir / "observations" / "2024-12.parquet"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.chmod(0o644)
    target.write_bytes(bytes(data))
    assert verify_release(release_dir) == [
        "observations/2024-12.parquet: sha256 does not match the manifest"
    ]


def test_a_failed_publish_leaves_the_previous_release_untouched(
    built: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Boom(Exception):
        pass

    written: list[Path] = []

    def explodes_on_the_second_part(frame: pl.DataFrame, path: Path) -> None:
        written.append(path)
        if len(written) == 2:
            raise Boom("disk full")
        write_table(frame, path)

    monkeypatch.setattr(release_module, "write_table", explodes_on_the_second_part)
    papers = pl.DataFrame(
        {"paper_id": ["x", "y"], "first_listed_on": [date(2025, 1, 1), date(2025, 2, 1)]}
    )
    with pytest.raises(Boom):
        publish_release(
            {"papers": papers},
            built.releases_dir,
            sources=[],
            code_version="test",
            build_date=date(2026, 1, 2),
        )
    assert sorted(p.name for p in built.releases_dir.iterdir()) == sorted(
        ["2026-01-01", LATEST, RELEASED, INDEX_HTML, INDEX_JSON]
    )
    assert verify_release(built.releases_dir / LATEST) == []


def test_the_warehouse_holds_the_release_tables_with_comments(built: Paths) -> None:
    release_dir = built.releases_dir / "2026-01-01"
    with duckdb.connect(str(built.warehouse_path), read_only=True) as connection:
        for name in (
            "papers",
            "observations",
            "code_links",
            "paper_aliases",
            "listing_files",
            "rejects",
        ):
            # DuckDB names the session's UTC "Etc/UTC"; the instants are the same
            in_duckdb = (
                connection.sql(f"SELECT * FROM {name}")
                .pl()
                .with_columns(pl.col(pl.Datetime("us", "Etc/UTC")).dt.convert_time_zone("UTC"))
            )
            in_release = release_table(release_dir, name)
            assert in_duckdb.equals(in_release), name
        comment = connection.execute(
            "SELECT comment FROM duckdb_columns() WHERE table_name = 'papers' "
            "AND column_name = 'arxiv_id'"
        ).fetchall()
        assert comment[0][0].startswith("Versionless arXiv id")
        missing = connection.execute(
            "SELECT table_name, column_name FROM duckdb_columns() "
            "WHERE NOT internal AND (comment IS NULL OR comment = '')"
        ).fetchall()
        assert missing == []
        tables = connection.execute(
            "SELECT table_name FROM duckdb_tables() "
            "WHERE NOT internal AND (comment IS NULL OR comment = '')"
        ).fetchall()
        assert tables == []


def test_a_release_holds_its_documents_and_the_manifest_covers_them(built: Paths) -> None:
    release_dir = built.releases_dir / "2026-01-01"
    manifest = json.loads((release_dir / MANIFEST).read_text())
    assert sorted(manifest["documents"]) == [
        "CHANGELOG.md", "CITATION.cff", "README.md",
        "charts/code-share.csv", "charts/code-share.svg",
        "charts/papers-per-day.csv", "charts/papers-per-day.svg",
        "charts/top-owners.csv", "charts/top-owners.svg",
        "charts/top-repositories.csv", "charts/top-repositories.svg",
        "charts/topic-trends.csv", "charts/topic-trends.svg",
        "croissant.json", "diff.parquet", "index.html", "validation.json",
    ]  # fmt: skip
    assert manifest["created_at"] == "2026-01-01T00:00:00+00:00"
    assert manifest["diff_base"] is None
    # a first release: every row is new
    diff = pl.read_parquet(release_dir / "diff.parquet")
    assert diff.filter(pl.col("table") == "papers")["change"].unique().to_list() == ["added"]
    assert diff.filter(pl.col("table") == "papers").height == 380
    card = (release_dir / "README.md").read_text()
    assert card.startswith("---\n") and 'config_name: "papers"' in card
    files = release_table(release_dir, "listing_files")
    assert files["licence"].unique().sort().to_list() == [
        "Apache-2.0", "unknown (Hugging Face terms of service)",
    ]  # fmt: skip


def test_the_diff_of_a_second_release_lists_exactly_the_new_file(built: Paths) -> None:
    new_day = built.landing_dir / "hf-daily-api" / "2025-04-01.json"
    items = [
        {"paper": {"id": "2504.00001", "title": "A First New Paper", "upvotes": 3}},
        {"paper": {"id": "2504.00002", "title": "A Second New Paper", "upvotes": 1}},
    ]
    new_day.write_text(json.dumps(items), encoding="utf-8")
    summary = build_everything(built)
    assert summary.release is not None
    release_dir = summary.release.path
    diff = pl.read_parquet(release_dir / "diff.parquet")
    papers = diff.filter(pl.col("table") == "papers")
    assert papers.select("key", "change").rows() == [
        ('["2504.00001"]', "added"),
        ('["2504.00002"]', "added"),
    ]
    assert set(diff["change"].unique()) == {"added"}
    changelog = (release_dir / "CHANGELOG.md").read_text()
    assert "2504.00001" in changelog and "hf-daily-api/2025-04-01.json" in changelog
    assert json.loads((release_dir / MANIFEST).read_text())["diff_base"] == "2026-01-01"


def test_a_corrupt_previous_release_is_not_taken_as_the_diff_base(built: Paths) -> None:
    target = built.releases_dir / "2026-01-01" / "papers" / "2024-05.parquet"
    data = bytearray(target.read_bytes())
    data[100] ^= 0xFF
    target.write_bytes(bytes(data))
    (built.landing_dir / "hf-daily-api" / "2025-04-01.json").write_text(
        json.dumps([{"paper": {"id": "2504.00001", "title": "A New Paper"}}]), encoding="utf-8"
    )
    summary = build_everything(built)
    assert summary.release is not None
    manifest = json.loads((summary.release.path / MANIFEST).read_text())
    assert manifest["diff_base"] is None
    assert manifest["diff_base_problems"] == [
        "papers/2024-05.parquet: sha256 does not match the manifest"
    ]
    changelog = (summary.release.path / "CHANGELOG.md").read_text()
    assert "The previous release 2026-01-01 failed verification" in changelog


def test_retention_keeps_the_newest_releases(built: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERS_KEEP_RELEASES", "2")
    for day in range(1, 4):
        path = built.landing_dir / "hf-daily-api" / f"2025-04-0{day}.json"
        path.write_text(
            json.dumps([{"paper": {"id": f"2504.0000{day}", "title": f"Paper {day}"}}]),
            encoding="utf-8",
        )
        build_everything(built)
    assert sorted(p.name for p in built.releases_dir.iterdir()) == sorted(
        ["2026-01-01.3", "2026-01-01.4", LATEST, RELEASED, INDEX_HTML, INDEX_JSON]
    )
    # a deleted release's id is never given again
    assert next_release_id(built.releases_dir, date(2026, 1, 1)) == "2026-01-01.5"
    assert os.readlink(built.releases_dir / LATEST) == "2026-01-01.4"


def test_reingesting_a_changed_file_replaces_its_observations(built: Paths) -> None:
    path = built.landing_dir / "hf-daily-api" / "2024-05-29.json"
    items = json.loads(path.read_text())
    for item in items:
        item["paper"]["upvotes"] = 999
    path.write_text(json.dumps(items))
    summary = build_everything(built)
    assert summary.release is not None
    observations = release_table(summary.release.path, "observations")
    assert observations.height == 380
    day = observations.filter(pl.col("source_file") == "hf-daily-api/2024-05-29.json")
    assert day.height == 8 and day["upvotes"].unique().to_list() == [999]


def test_a_new_release_shares_the_parts_that_did_not_change(built: Paths) -> None:
    first = built.releases_dir / "2026-01-01"
    (built.landing_dir / "hf-daily-api" / "2025-04-01.json").write_text(
        # a title close to a paper of May 2024's, so that it enters that paper's neighbours
        json.dumps(
            [{"paper": {"id": "2504.00001", "title": "AutoCoder: Code Large Language Model"}}]
        )
    )
    summary = build_everything(built)
    assert summary.release is not None
    second = summary.release.path
    before, after = _digests(first), _digests(second)
    # the new paper makes a part of its own; the file ledger gained a row
    assert sorted(set(after) - set(before)) == [
        "observations/2025-04.parquet",
        "paper_aliases/2025-04.parquet",
        "paper_embeddings/2025-04.parquet",
        "paper_topics/2025-04.parquet",
        "papers/2025-04.parquet",
        "similar_papers/2025-04.parquet",
    ]  # the paper has no links or claims
    # and it entered the neighbour lists of some papers, in their own parts
    entered = (
        release_table(second, "similar_papers")
        .filter(pl.col("similar_paper_id") == "2504.00001")
        .join(release_table(second, "papers"), on="paper_id")
        .select(pl.col("first_listed_on").dt.strftime("similar_papers/%Y-%m.parquet"))
        .unique()
        .to_series()
        .to_list()
    )
    assert entered == ["similar_papers/2024-05.parquet"]
    changed = sorted(part for part in before if after.get(part) != before[part])
    assert changed == sorted(["listing_files/all.parquet", *entered])
    for part in before:
        same_file = (first / part).stat().st_ino == (second / part).stat().st_ino
        assert same_file == (part not in changed), part
    # the earlier release is whole and unchanged
    assert verify_release(first) == []
    assert _digests(first) == before


def test_a_release_made_before_parts_reads_as_one_part_per_table(tmp_path: Path) -> None:
    # the layout of releases published before tables were split: one file per table
    write_table(pl.DataFrame({"paper_id": ["a", "b"]}), tmp_path / "papers.parquet")
    digest = sha256_file(tmp_path / "papers.parquet")
    size = (tmp_path / "papers.parquet").stat().st_size
    entry = {"file": "papers.parquet", "rows": 2, "bytes": size, "sha256": digest}
    (tmp_path / MANIFEST).write_text(json.dumps({"tables": {"papers": {**entry, "schema": []}}}))
    assert manifest_parts(entry) == [entry]
    assert verify_release(tmp_path) == []
    parted = {"parts": [{**entry, "file": "papers/2024-05.parquet"}], "rows": 2}
    # against a release in parts, its one file differs from every part: the diff reads both
    assert changed_part_files({"papers": entry}, {"papers": parted}) == {
        "papers": (["papers.parquet"], ["papers/2024-05.parquet"])
    }
