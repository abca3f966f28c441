"""Every kind of dirt in the catalogue, injected into real records of ../shared/data at once (each
kind into an entry of its own), built with `trending-papers build` beside a clean build of the
same records: the dirty build publishes; each damaged entry is repaired (and recorded in
`repairs`), has a field dropped (recorded), or is rejected with its file and position, or its
file is quarantined; every other row equals the clean build's."""

from __future__ import annotations

import ast
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from pipelines.core.ops.settings import Paths
from pipelines.core.publish.release import LATEST
from tests.conftest import CAPTURE_NAME, REPO, SHARED_DATA, release_table
from tests.dirt.catalogue import (
    CATALOGUE,
    CATALOGUE_END,
    CATALOGUE_START,
    DROPPED,
    KEPT,
    QUARANTINED,
    REJECTED,
    REPAIRED,
    Dirt,
    catalogue_markdown,
)
from tests.test_build_cli import run_build

# real files the entry kinds are injected into: JSON lists, Python-repr strings and the wrapper
BASE_FILES = ("2025-03-25.json", "2025-03-27.json", "2025-03-28.json", "2024-12-11.json",
              "2025-01-10.json")  # fmt: skip
CAPTURE_KEY = f"trending-page/{CAPTURE_NAME}"
# the papers of the capture that its kinds of dirt damage
CAPTURE_TITLES = {
    "capture-zero-width-title": "Sensitivity-Aware Visual Parameter-Efficient Fine-Tuning",
    "capture-entity-abstract": "Squeezeformer: An Efficient Transformer for Automatic Speech "
    "Recognition",
}
TABLES_BY_PAPER = ("papers", "observations", "code_links", "paper_aliases", "claims",
                   "paper_topics")  # fmt: skip


@dataclass(frozen=True)
class Placed:
    """Where a kind of dirt was put: the file, the damaged entry's position, its paper."""

    file_key: str
    position: int | None
    arxiv_id: str | None
    # a captured paper has no arXiv id: it is found by its title
    title: str | None = None


@dataclass(frozen=True)
class Builds:
    clean: dict[str, pl.DataFrame]
    dirty: dict[str, pl.DataFrame]
    placed: dict[str, Placed]
    dirty_output: str
    dirty_paths: Paths


def _load(path: Path) -> tuple[Any, list[Any], bool]:
    """A response's document, its list of items (decoded), and whether items are repr strings."""
    document = json.loads(path.read_text(encoding="utf-8"))
    items = document["data"] if isinstance(document, dict) else document
    as_repr = bool(items) and isinstance(items[0], str)
    return document, [ast.literal_eval(i) if as_repr else i for i in items], as_repr


def _encoded(item: Any, as_repr: bool) -> Any:
    return repr(item) if as_repr and isinstance(item, dict) else item


def _inject(landing: Path) -> dict[str, Placed]:
    """Land the base files with every entry kind in an entry of its own, the damaged capture and
    the damaged whole files; return where each kind went."""
    loaded = {name: _load(SHARED_DATA / "hf-daily-api" / name) for name in BASE_FILES}
    # entries in turn from each file, so that no file gets more than a few rejects
    slots = [
        (name, index)
        for index in range(max(len(items) for _, items, _ in loaded.values()))
        for name, (_, items, _) in loaded.items()
        if index < len(items)
    ]
    kinds = [dirt for dirt in CATALOGUE if dirt.target == "api"]
    assert len(kinds) <= len(slots)
    damaged: dict[str, dict[int, Dirt]] = {name: {} for name in BASE_FILES}
    for dirt, (name, index) in zip(kinds, slots, strict=False):
        damaged[name][index] = dirt
    placed: dict[str, Placed] = {}
    for name, (document, items, as_repr) in loaded.items():
        out: list[Any] = []
        for index, item in enumerate(items):
            dirt = damaged[name].get(index)
            if dirt is None:
                out.append(_encoded(item, as_repr))
                continue
            arxiv_id = item["paper"]["id"]
            replaced = dirt.damage(json.loads(json.dumps(item)))  # type: ignore[arg-type]
            for new in replaced if isinstance(replaced, list) else [replaced]:
                out.append(_encoded(new, as_repr))
            placed[dirt.name] = Placed(f"hf-daily-api/{name}", len(out), arxiv_id)
        if isinstance(document, dict):
            document["data"] = out
        else:
            document = out
        target = landing / "hf-daily-api" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    capture = (SHARED_DATA / "trending-page" / CAPTURE_NAME).read_text(encoding="utf-8")
    for dirt in CATALOGUE:
        if dirt.target == "capture":
            changed = dirt.damage(capture)  # type: ignore[arg-type]
            assert changed != capture, dirt.name
            capture = changed
            placed[dirt.name] = Placed(CAPTURE_KEY, None, None, CAPTURE_TITLES[dirt.name])
        elif dirt.target == "file":
            source = SHARED_DATA / "hf-daily-api" / Path(dirt.file_name).name
            if not source.exists():
                source = SHARED_DATA / "hf-daily-api" / "2025-03-24.json"
            target = landing / dirt.file_name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(dirt.damage(source.read_text(encoding="utf-8")), encoding="utf-8")  # type: ignore[arg-type]
            placed[dirt.name] = Placed(dirt.file_name, None, None)
    (landing / "trending-page").mkdir(parents=True, exist_ok=True)
    (landing / CAPTURE_KEY).write_text(capture, encoding="utf-8")
    return placed


def _land_clean(landing: Path) -> None:
    for name in BASE_FILES:
        target = landing / "hf-daily-api" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SHARED_DATA / "hf-daily-api" / name, target)
    (landing / "trending-page").mkdir(parents=True, exist_ok=True)
    shutil.copy(SHARED_DATA / "trending-page" / CAPTURE_NAME, landing / CAPTURE_KEY)


def _released(paths: Paths) -> dict[str, pl.DataFrame]:
    release = (paths.releases_dir / LATEST).resolve()
    tables = json.loads((release / "manifest.json").read_text())["tables"]
    return {
        **{name: release_table(release, name) for name in tables},
        "diff": pl.read_parquet(release / "diff.parquet"),
    }


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    if not (SHARED_DATA / "hf-daily-api").is_dir():
        pytest.skip("../shared/data is not present")
    clean_dir, dirty_dir = tmp_path_factory.mktemp("clean"), tmp_path_factory.mktemp("dirty")
    clean = Paths(landing_dir=clean_dir / "landing", data_dir=clean_dir / "data")
    dirty = Paths(landing_dir=dirty_dir / "landing", data_dir=dirty_dir / "data")
    _land_clean(clean.landing_dir)
    placed = _inject(dirty.landing_dir)
    # the same build date and time for both, so only the data can differ
    env = {"SOURCE_DATE_EPOCH": "1764547200"}
    clean_run = run_build(clean, env=env)
    assert clean_run.returncode == 0, clean_run.stderr
    dirty_run = run_build(dirty, env=env)
    assert dirty_run.returncode == 0, dirty_run.stdout + dirty_run.stderr
    return Builds(_released(clean), _released(dirty), placed, dirty_run.stdout, dirty)


def test_the_catalogue_has_thirty_kinds_and_the_docs_show_it() -> None:
    assert len(CATALOGUE) >= 30
    assert len({dirt.name for dirt in CATALOGUE}) == len(CATALOGUE)
    docs = (REPO / "docs" / "reliability.md").read_text(encoding="utf-8")
    assert CATALOGUE_START in docs and CATALOGUE_END in docs
    assert catalogue_markdown() in docs, (
        "docs/reliability.md's dirt catalogue is stale: run "
        "`.venv/bin/python -m tests.dirt.catalogue docs/reliability.md`"
    )


def test_the_dirty_build_publishes_and_says_what_it_did(builds: Builds) -> None:
    assert "summary" in builds.dirty_output
    assert "repairs:" in builds.dirty_output and "rejects:" in builds.dirty_output
    files = builds.dirty["listing_files"]
    quarantined = files.filter(pl.col("status") == "quarantined")["file_key"].sort().to_list()
    expected = sorted(d.file_name for d in CATALOGUE if d.outcome == QUARANTINED)
    assert quarantined == expected


@pytest.mark.parametrize("dirt", CATALOGUE, ids=lambda dirt: dirt.name)
def test_each_kind_has_its_outcome(builds: Builds, dirt: Dirt) -> None:
    where = builds.placed[dirt.name]
    repairs, rejects = builds.dirty["repairs"], builds.dirty["rejects"]
    at_entry = (pl.col("source_file") == where.file_key) & (
        pl.col("position") == where.position if where.position is not None else pl.lit(True)
    )
    papers = builds.dirty["papers"]
    paper_id = where.arxiv_id or _paper_with_title(builds.clean, where.title)
    if dirt.outcome in (REPAIRED, DROPPED):
        recorded = repairs.filter(at_entry & (pl.col("rule") == dirt.rule))
        assert recorded.height == 1, repairs.filter(at_entry)
        action = recorded.row(0, named=True)
        assert action["action"] == ("repaired" if dirt.outcome == REPAIRED else "dropped")
        assert (action["value_after"] is None) == (dirt.outcome == DROPPED)
        if dirt.after is not None:
            assert action["value_after"] == dirt.after
        assert rejects.filter(at_entry).height == 0
        if where.arxiv_id is not None:
            assert where.arxiv_id in papers["paper_id"].to_list()
    elif dirt.outcome == KEPT:
        assert repairs.filter(at_entry).height == 0 and rejects.filter(at_entry).height == 0
        assert where.arxiv_id in papers["paper_id"].to_list()
    elif dirt.outcome == REJECTED:
        rejected = rejects.filter(at_entry & (pl.col("rule") == dirt.rule))
        assert rejected.height == 1, rejects.filter(at_entry)
        assert rejected["reason"][0]
        if dirt.rule != "entry.repeat":
            # the paper was listed in this entry only
            assert where.arxiv_id not in papers["paper_id"].to_list()
    else:
        assert dirt.outcome == QUARANTINED
        file_row = rejects.filter(
            (pl.col("source_file") == where.file_key) & pl.col("position").is_null()
        )
        assert file_row["rule"].to_list() == [dirt.rule]
    if dirt.recovers:
        assert paper_id is not None
        for name in TABLES_BY_PAPER:
            clean = builds.clean[name].filter(pl.col("paper_id") == paper_id)
            dirty = builds.dirty[name].filter(pl.col("paper_id") == paper_id)
            assert dirty.equals(clean), (name, dirty.to_dicts(), clean.to_dicts())
        assert builds.dirty["papers"].filter(pl.col("paper_id") == paper_id).height == 1


def _paper_with_title(tables: dict[str, pl.DataFrame], title: str | None) -> str | None:
    if title is None:
        return None
    found = tables["papers"].filter(pl.col("title") == title)["paper_id"].to_list()
    assert len(found) == 1, title
    return found[0]


def test_every_other_row_equals_the_clean_build(builds: Builds) -> None:
    damaged = {p.arxiv_id for p in builds.placed.values() if p.arxiv_id is not None}
    damaged |= {_paper_with_title(builds.clean, title) for title in CAPTURE_TITLES.values()}
    for name in TABLES_BY_PAPER:
        clean = builds.clean[name].filter(~pl.col("paper_id").is_in(list(damaged)))
        dirty = builds.dirty[name].filter(~pl.col("paper_id").is_in(list(damaged)))
        assert dirty.equals(clean), name
    damaged_files = {p.file_key for p in builds.placed.values()}
    for name in ("listing_files",):
        key = "file_key"
        clean = builds.clean[name].filter(~pl.col(key).is_in(list(damaged_files)))
        dirty = builds.dirty[name].filter(~pl.col(key).is_in(list(damaged_files)))
        assert dirty.equals(clean), name
    assert builds.clean["rejects"].height == 0 and builds.clean["repairs"].height == 0


def test_the_card_and_the_warehouse_show_the_repairs(builds: Builds) -> None:
    release = (builds.dirty_paths.releases_dir / LATEST).resolve()
    card = (release / "README.md").read_text(encoding="utf-8")
    assert "## Repairs and rejects" in card
    assert "| repaired | `github_repo_raw.whitespace` | 1 |" in card
    assert "| rejected | `title.missing` | 16 |" in card
    repairs = builds.dirty["repairs"]
    with duckdb.connect(str(builds.dirty_paths.warehouse_path), read_only=True) as connection:
        count = connection.execute("SELECT count(*) FROM repairs").fetchone()
        assert count is not None and count[0] == repairs.height
