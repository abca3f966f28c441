"""An incremental build is the full build: a month of real days built one at a time, with files
changed, removed, duplicated and fixed on the way, publishes the tables one full build of the
same files publishes, byte for byte, and loads the same warehouse."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.core.build import (
    PUBLISHED_TABLES,
    build_everything,
    curate_store,
    finish_ingest,
    judge_run,
    read_curated,
    rows_to_validate,
    snapshot_files,
    store_files,
)
from pipelines.core.curate.incremental import changed_files
from pipelines.core.ingest.batches import parse_files
from pipelines.core.ingest.entries import IngestOptions
from pipelines.core.ingest.landing import scan_landing
from pipelines.core.ingest.store import pending_files
from pipelines.core.ops.settings import Paths
from pipelines.core.publish.parts import labels_of
from pipelines.core.publish.release import latest_release
from pipelines.core.publish.warehouse import held_release
from tests.conftest import copy_sample

API = "hf-daily-api"
CAPTURES = "trending-page"
DAYS = 32


def _api_days(shared: Path) -> list[Path]:
    """The first ``DAYS`` real API files that are plain JSON lists of objects."""
    days = []
    for path in sorted((shared / API).glob("*.json")):
        items = json.loads(path.read_bytes())
        if isinstance(items, list) and items and all(isinstance(item, dict) for item in items):
            days.append(path)
    return days[:DAYS]


def _titles(path: Path) -> list[str]:
    return [" ".join(item["paper"]["title"].split()) for item in json.loads(path.read_bytes())]


def _capture(titles: list[str]) -> str:
    """A Trending Papers page listing ``titles`` (no links: each is matched by its title)."""
    lines = ["Trending Papers", "", "byAK and the research community", "", "Jun 3", ""]
    for title in titles:
        lines += [title, "", f"An abstract about {title.lower()}, long enough to be one.", ""]
    return "\n".join(lines)


def _land(paths: Paths, relative: str, data: bytes | str) -> None:
    target = paths.landing_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data.encode() if isinstance(data, str) else data)


def _changed_day(path: Path) -> bytes:
    """A day's file as upstream sent it again: one paper gone, one retitled, counts grown."""
    items = json.loads(path.read_bytes())
    del items[1]
    items[0]["paper"]["title"] = items[0]["paper"]["title"] + " (revised)"
    for item in items:
        item["paper"]["upvotes"] = int(item["paper"].get("upvotes") or 0) + 7
    return json.dumps(items, indent=2).encode()


def _published(paths: Paths) -> dict[str, bytes]:
    """Every part of every published table, by its path under the curated folder."""
    return {
        str(part.relative_to(paths.curated_dir)): part.read_bytes()
        for name in PUBLISHED_TABLES
        for part in sorted((paths.curated_dir / name).glob("*.parquet"))
    }


def _warehouse(paths: Paths) -> dict[str, list[tuple[object, ...]]]:
    with duckdb.connect(str(paths.warehouse_path), read_only=True) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT table_name FROM duckdb_tables() ORDER BY table_name"
            ).fetchall()
        ]
        # the diff against the previous release differs by nature (day by day, it is a day's),
        # and so do the release ids
        return {
            table: connection.execute(f'SELECT * FROM "{table}" ORDER BY ALL').fetchall()
            for table in tables
            if table not in {"release_diff", "warehouse_release"}
        }


@pytest.fixture(scope="module")
def month(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Paths]:
    """The same files built day by day and at once."""
    days = _api_days(shared_data)
    assert len(days) == DAYS
    root = tmp_path_factory.mktemp("month")
    daily = Paths(root / "landing", root / "daily")
    # a page listing titles that API files of later days give an arXiv id to, and two titles
    # no API file lists: each later day moves some of its entries from a title key to a paper
    only_here = ["A Paper Only This Page Lists", "Another Paper Nobody Else Lists"]
    capture = _capture([*_titles(days[9])[:3], *_titles(days[20])[:2], *only_here])
    removed = f"{API}/{days[4].name}"
    duplicate = f"{API}/copy-of-{days[8].name}"
    curations, loads = [], []
    for index, day in enumerate(days):
        _land(daily, f"{API}/{day.name}", day.read_bytes())
        if index == 2:
            _land(daily, f"{CAPTURES}/trending-2024-06-03.txt", capture)
        if index == 12:
            # the same bytes under another name: a duplicate, kept out of the tables
            _land(daily, duplicate, days[8].read_bytes())
        if index == 14:
            _land(daily, f"{API}/{days[7].name}", _changed_day(days[7]))
        if index == 16:
            # the original changes: its copy is not a duplicate any more and enters the tables
            _land(daily, f"{API}/{days[8].name}", _changed_day(days[8]))
        if index == 18:
            (daily.landing_dir / removed).unlink()
        if index == 22:
            _land(daily, f"{API}/unreadable.json", b'[{"paper": ')
        if index == 24:
            # fixed: the same papers as another day, written another way
            _land(daily, f"{API}/unreadable.json", json.dumps(json.loads(days[3].read_bytes())))
        summary = build_everything(daily)
        curations.append(summary.curation.split(":")[0])
        loads.append(summary.warehouse_load)
    # only the first build curated everything and loaded the warehouse from scratch
    assert curations == ["full"] + ["incremental"] * (DAYS - 1)
    assert loads == ["rebuilt"] + ["updated"] * (DAYS - 1)
    # the full build lands every file in its last version; a file that left the landing folder
    # keeps its history (it was ingested), so it is landed too
    at_once = Paths(root / "landing-at-once", root / "at-once")
    shutil.copytree(daily.landing_dir, at_once.landing_dir)
    shutil.copy(days[4], at_once.landing_dir / removed)
    build_everything(at_once)
    return {"daily": daily, "at_once": at_once}


def test_a_month_built_day_by_day_publishes_the_tables_of_one_full_build(
    month: dict[str, Paths],
) -> None:
    daily, at_once = _published(month["daily"]), _published(month["at_once"])
    assert sorted(daily) == sorted(at_once)
    assert [part for part in daily if daily[part] != at_once[part]] == []
    # papers first listed over three months: three parts per paper table
    months = {part.split("/")[1] for part in daily if part.startswith("papers/")}
    assert months == {"2024-05.parquet", "2024-06.parquet", "2024-07.parquet"}
    papers = read_curated(month["daily"])["papers"]
    # the history the scenario made: titles resolved by later days, the duplicate and the
    # repaired file entered, the removed file kept
    assert papers.filter(pl.col("paper_id").str.starts_with("title:")).height == 2
    # the revised title of the 8th day; the 9th day's copy still lists its paper as first sent
    assert papers.filter(pl.col("title").str.ends_with("(revised)")).height == 1


def test_the_releases_hold_the_same_files(month: dict[str, Paths]) -> None:
    def table_digests(paths: Paths) -> dict[str, list[dict[str, object]]]:
        release = latest_release(paths.releases_dir)
        assert release is not None
        manifest = json.loads((release / "manifest.json").read_text())
        return {name: info["parts"] for name, info in manifest["tables"].items()}

    assert table_digests(month["daily"]) == table_digests(month["at_once"])


def test_the_warehouses_hold_the_same_rows(month: dict[str, Paths]) -> None:
    daily, at_once = _warehouse(month["daily"]), _warehouse(month["at_once"])
    assert sorted(daily) == sorted(at_once)
    assert [name for name in daily if daily[name] != at_once[name]] == []


def test_the_warehouses_have_the_same_layout(month: dict[str, Paths]) -> None:
    daily, at_once = (held_release(month[name].warehouse_path) for name in ("daily", "at_once"))
    assert daily is not None and at_once is not None
    assert daily[1] == at_once[1]


def test_a_build_with_nothing_new_curates_nothing_again(month: dict[str, Paths]) -> None:
    curation = curate_store(month["daily"])
    assert curation.increment is not None
    assert curation.increment.changed_files == []
    assert curation.increment.papers.height == 0
    stored = read_curated(month["daily"])
    for name in PUBLISHED_TABLES:
        assert curation.tables[name].equals(stored[name]), name
    # the release is the latest one, which the warehouse already holds
    again = build_everything(month["daily"])
    assert again.release is not None and not again.release.created
    assert again.warehouse_load == "unchanged"


def test_a_forced_full_build_gives_the_same_tables(month: dict[str, Paths]) -> None:
    forced = curate_store(month["daily"], full=True)
    assert forced.increment is None
    incremental = curate_store(month["daily"])
    for name in PUBLISHED_TABLES:
        assert forced.tables[name].equals(incremental.tables[name]), name


def test_changed_files_are_the_new_the_stored_again_the_moved_and_the_gone() -> None:
    before = pl.DataFrame(
        {"file_key": ["a", "b", "c", "d"], "ingest_sequence": [1, 2, 3, 4],
         "status": ["ingested", "ingested", "ingested", "quarantined"]}
    )  # fmt: skip
    after = pl.DataFrame(
        {"file_key": ["a", "b", "d", "e"], "ingest_sequence": [1, 5, 4, 6],
         "status": ["duplicate", "ingested", "quarantined", "ingested"]}
    )  # fmt: skip
    assert changed_files(before, after) == ["a", "b", "c", "e"]


def _ingest_landed(paths: Paths) -> None:
    """Ingest the new landed files, as a build's first steps do, without curating."""
    landed, _ = scan_landing(paths.landing_dir)
    raw = snapshot_files(paths, [item for item, _ in pending_files(paths, landed)])
    parsed = parse_files(paths, raw, IngestOptions())
    finish_ingest(paths, judge_run(parsed.files), store_files(paths, parsed))


def test_an_incremental_build_validates_the_rows_of_the_papers_it_curated_again(
    tmp_paths: Paths,
) -> None:
    copy_sample(tmp_paths.landing_dir)
    build_everything(tmp_paths)
    # close to a paper of May 2024 (a code LLM): it enters that paper's list
    title = "AutoCoder: Code Large Language Model"
    late = [{"paper": {"id": "2407.99999", "title": title, "upvotes": 1}}]
    _land(tmp_paths, f"{API}/late.json", json.dumps(late))
    _ingest_landed(tmp_paths)
    curation = curate_store(tmp_paths)
    papers, scope = rows_to_validate(curation, "papers")
    assert papers["paper_id"].to_list() == ["2407.99999"]
    assert scope == "the 1 papers curated again, of 381 rows"
    aliases, _ = rows_to_validate(curation, "paper_aliases")
    assert set(aliases["paper_id"]) == {"2407.99999"}
    # the neighbour lists: the new paper's and those it entered, no other
    assert curation.relisted is not None
    neighbours, scope = rows_to_validate(curation, "similar_papers")
    entered = curation.tables["similar_papers"].filter(pl.col("similar_paper_id") == "2407.99999")
    assert set(neighbours["paper_id"]) == {"2407.99999", *entered["paper_id"]}
    assert scope == f"the {len(set(neighbours['paper_id']))} papers listed again, of 3,810 rows"
    # only the new paper's part gets a vector; lists changed in the parts of the papers they
    # belong to
    assert entered["paper_id"].to_list() == ["2405.14906"]
    assert curation.changed_parts is not None
    new_part = curation.changed_parts["papers"]
    assert curation.changed_parts["paper_embeddings"] == new_part
    assert curation.changed_parts["similar_papers"] == new_part | labels_of(
        curation.tables["papers"], entered.select("paper_id")
    )
    # and the vectors of the same papers (only the new one's is new)
    vectors, _ = rows_to_validate(curation, "paper_embeddings")
    assert set(vectors["paper_id"]) == set(neighbours["paper_id"])
    # the file tables are small: validated whole
    files, scope = rows_to_validate(curation, "listing_files")
    assert files.equals(curation.tables["listing_files"]) and scope == "all rows"
    # a full curation validates every row
    full = curate_store(tmp_paths, full=True)
    assert rows_to_validate(full, "papers")[0].equals(full.tables["papers"])
