"""The documents of a release: row diff, changelog, Croissant metadata, dataset card, licences."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
import yaml
from polars.testing import assert_frame_equal

from pipelines.core.build import build_everything
from pipelines.core.ops.settings import Paths
from pipelines.core.publish.card import dataset_card, readable_type
from pipelines.core.publish.catalog import TABLES
from pipelines.core.publish.changelog import changelog_markdown, paper_titles
from pipelines.core.publish.croissant import (
    CROISSANT_1_0,
    croissant_data_type,
    croissant_metadata,
    validate_croissant,
)
from pipelines.core.publish.diff import (
    _KEY,
    _diff_loaded,
    _json_key,
    diff_tables,
    key_values,
    new_source_files,
)
from pipelines.core.publish.licences import SOURCE_LICENCES, source_licences
from pipelines.core.publish.release import MANIFEST, latest_release, publish_release
from tests.conftest import copy_sample
from tests.support.pages import three_suite_results

KEYS = {name: doc.key for name, doc in TABLES.items()}
SMALL_KEYS = {"papers": ("paper_id",), "observations": ("paper_id", "source_file", "listed_on")}
URL = "https://huggingface.co/datasets/example/trending-papers"


def _papers(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "paper_id": pl.String(),
            "title": pl.String(),
            "authors": pl.List(pl.String()),
            "best_rank": pl.Int32(),
        },
    )


PREVIOUS_PAPERS = _papers(
    [
        {"paper_id": "2401.00001", "title": "Kept", "authors": ["A"], "best_rank": 1},
        {"paper_id": "2401.00002", "title": "Old title", "authors": ["B"], "best_rank": 2},
        {"paper_id": "2401.00003", "title": "Removed", "authors": None, "best_rank": None},
        {"paper_id": "2401.00004", "title": "Nulls", "authors": None, "best_rank": None},
    ]
)
NEW_PAPERS = _papers(
    [
        {"paper_id": "2401.00001", "title": "Kept", "authors": ["A"], "best_rank": 1},
        {"paper_id": "2401.00002", "title": "New title", "authors": ["B", "C"], "best_rank": 2},
        {"paper_id": "2401.00004", "title": "Nulls", "authors": [], "best_rank": None},
        {"paper_id": "2401.00005", "title": "Added *bold* [x]", "authors": ["D"], "best_rank": 5},
    ]
)


def _expected_diff(rows: list[tuple[str, str, str, list[str]]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "table": pl.String(),
            "key": pl.String(),
            "change": pl.String(),
            "changed_columns": pl.List(pl.String()),
        },
        orient="row",
    )


def _release_dir(tmp_path: Path, tables: dict[str, pl.DataFrame]) -> Path:
    folder = tmp_path / "previous"
    folder.mkdir()
    for name, frame in tables.items():
        frame.write_parquet(folder / f"{name}.parquet")
    return folder


# --- diff ----------------------------------------------------------------------------------------


def test_diff_of_identical_tables_is_empty(tmp_path: Path) -> None:
    previous = _release_dir(tmp_path, {"papers": PREVIOUS_PAPERS})

    diff = diff_tables(previous, {"papers": PREVIOUS_PAPERS}, SMALL_KEYS)

    assert_frame_equal(diff, _expected_diff([]))


def test_diff_finds_the_added_the_removed_and_the_changed_columns(tmp_path: Path) -> None:
    previous = _release_dir(tmp_path, {"papers": PREVIOUS_PAPERS})

    diff = diff_tables(previous, {"papers": NEW_PAPERS}, SMALL_KEYS)

    # an empty author list is not a missing one; two nulls are equal
    assert_frame_equal(
        diff,
        _expected_diff(
            [
                ("papers", '["2401.00005"]', "added", []),
                ("papers", '["2401.00002"]', "changed", ["title", "authors"]),
                ("papers", '["2401.00004"]', "changed", ["authors"]),
                ("papers", '["2401.00003"]', "removed", []),
            ]
        ),
    )


def test_first_release_and_new_tables_are_all_added(tmp_path: Path) -> None:
    observations = pl.DataFrame(
        {
            "paper_id": ["2401.00001", "2401.00001"],
            "source_file": ['trending/"odd",name.txt', "hf-daily-api/2024-01-02.json"],
            "listed_on": [None, date(2024, 1, 2)],
            "rank": [3, 1],
        }
    )
    previous = _release_dir(tmp_path, {"papers": PREVIOUS_PAPERS})  # no observations file
    expected = _expected_diff(
        [
            (
                "observations",
                '["2401.00001","hf-daily-api/2024-01-02.json","2024-01-02"]',
                "added",
                [],
            ),
            ("observations", '["2401.00001","trending/\\"odd\\",name.txt",null]', "added", []),
        ]
    )

    first = diff_tables(None, {"observations": observations}, SMALL_KEYS)
    new_table = diff_tables(
        previous, {"papers": PREVIOUS_PAPERS, "observations": observations}, SMALL_KEYS
    )

    assert_frame_equal(first, expected)
    assert_frame_equal(new_table, expected)
    assert key_values(first["key"][1]) == ["2401.00001", 'trending/"odd",name.txt', None]


def test_a_null_key_part_matches_across_releases(tmp_path: Path) -> None:
    observations = pl.DataFrame(
        {"paper_id": ["p"], "source_file": ["f"], "listed_on": [None], "rank": [1]},
        schema_overrides={"listed_on": pl.Date()},
    )
    previous = _release_dir(tmp_path, {"observations": observations})

    diff = diff_tables(
        previous, {"observations": observations.with_columns(rank=pl.lit(2))}, SMALL_KEYS
    )

    assert_frame_equal(
        diff, _expected_diff([("observations", '["p","f",null]', "changed", ["rank"])])
    )


def test_a_table_no_longer_published_is_all_removed(tmp_path: Path) -> None:
    previous = _release_dir(tmp_path, {"papers": PREVIOUS_PAPERS.head(2)})

    diff = diff_tables(previous, {}, SMALL_KEYS)

    assert diff.select("key", "change").rows() == [
        ('["2401.00001"]', "removed"),
        ('["2401.00002"]', "removed"),
    ]


def test_schema_changes_between_releases(tmp_path: Path) -> None:
    previous = _release_dir(tmp_path, {"papers": PREVIOUS_PAPERS.head(2)})
    # best_rank widened to int64 with the same values, title dropped, a new column filled once
    new = PREVIOUS_PAPERS.head(2).select(
        "paper_id",
        "authors",
        pl.col("best_rank").cast(pl.Int64()),
        pl.Series("venue", ["NeurIPS", None]),
    )

    diff = diff_tables(previous, {"papers": new}, SMALL_KEYS)

    assert_frame_equal(
        diff,
        _expected_diff(
            [
                ("papers", '["2401.00001"]', "changed", ["venue", "title"]),
                ("papers", '["2401.00002"]', "changed", ["title"]),
            ]
        ),
    )


def test_a_column_changing_kind_is_changed_wherever_it_has_a_value(tmp_path: Path) -> None:
    previous = _release_dir(tmp_path, {"papers": PREVIOUS_PAPERS.head(3)})
    # titles become structs (not comparable to text); author lists are unchanged but cast to
    # categorical items, which compare equal to the text they hold
    new = PREVIOUS_PAPERS.head(3).with_columns(
        title=pl.Series([{"text": "Kept"}, {"text": "Old title"}, None]),
        authors=pl.col("authors").cast(pl.List(pl.Categorical())),
    )

    diff = diff_tables(previous, {"papers": new}, SMALL_KEYS)

    assert diff.select("key", "changed_columns").rows() == [
        ('["2401.00001"]', ["title"]),
        ('["2401.00002"]', ["title"]),
        ('["2401.00003"]', ["title"]),
    ]


def test_a_repeated_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="repeat a key"):
        diff_tables(None, {"papers": pl.concat([NEW_PAPERS, NEW_PAPERS])}, SMALL_KEYS)
    with pytest.raises(ValueError, match="no key columns"):
        diff_tables(None, {"other": NEW_PAPERS}, SMALL_KEYS)


def test_diff_is_deterministic_whatever_the_row_order(tmp_path: Path) -> None:
    previous = _release_dir(tmp_path, {"papers": PREVIOUS_PAPERS})

    first = diff_tables(previous, {"papers": NEW_PAPERS}, SMALL_KEYS)
    shuffled = diff_tables(previous, {"papers": NEW_PAPERS.reverse()}, SMALL_KEYS)

    assert_frame_equal(first, shuffled)


def test_new_source_files_are_new_keys_and_new_bytes() -> None:
    previous = [{"file_key": "a.json", "sha256": "1"}, {"file_key": "b.json", "sha256": "2"}]
    current = [
        {"file_key": "a.json", "sha256": "1"},
        {"file_key": "b.json", "sha256": "3"},
        {"file_key": "c.json", "sha256": "4"},
    ]

    assert new_source_files(previous, current) == ["b.json", "c.json"]
    assert new_source_files([], current) == ["a.json", "b.json", "c.json"]


# --- changelog -----------------------------------------------------------------------------------


def test_changelog_counts_columns_new_papers_and_sources(tmp_path: Path) -> None:
    previous = _release_dir(tmp_path, {"papers": PREVIOUS_PAPERS})
    diff = diff_tables(previous, {"papers": NEW_PAPERS}, SMALL_KEYS)

    def changelog() -> str:
        return changelog_markdown(
            "2026-01-02",
            "2026-01-01",
            diff,
            {"papers": 4, "observations": 0},
            ["hf-daily-api/2026-01-02.json"],
            titles=paper_titles(NEW_PAPERS),
        )

    text = changelog()

    assert text == "\n".join(
        [
            "# Release 2026-01-02",
            "",
            "Changes since release 2026-01-01.",
            "",
            "## Tables",
            "",
            "| table | rows | added | removed | changed |",
            "| --- | ---: | ---: | ---: | ---: |",
            "| observations | 0 | 0 | 0 | 0 |",
            "| papers | 4 | 1 | 1 | 2 |",
            "",
            "## Most often changed columns",
            "",
            "| table | column | rows changed |",
            "| --- | --- | ---: |",
            "| papers | authors | 2 |",
            "| papers | title | 1 |",
            "",
            "## New papers (1)",
            "",
            "- `2401.00005` Added \\*bold\\* \\[x\\]",
            "",
            "## New source files (1)",
            "",
            "- `hf-daily-api/2026-01-02.json`",
            "",
        ]
    )
    assert changelog() == text


def test_changelog_of_a_first_release_lists_a_limited_number_of_papers() -> None:
    diff = diff_tables(None, {"papers": NEW_PAPERS}, SMALL_KEYS)

    text = changelog_markdown("2026-01-01", None, diff, {"papers": 4}, [], new_papers_limit=2)

    assert "First release: every row is new." in text
    assert "| papers | 4 | 4 | 0 | 0 |" in text
    assert "No row changed." in text
    assert (
        "## New papers (4)\n\n- `2401.00001` (title unknown)\n- `2401.00002` (title unknown)\n"
        "- ... and 2 more\n" in text
    )
    assert "## New source files (0)\n\nNone.\n" in text


# --- licences ------------------------------------------------------------------------------------


def test_source_licences_by_format_with_an_override() -> None:
    listing_files = pl.DataFrame(
        {
            "file_key": ["b.txt", "a.json", "c.bin", "d.json"],
            "source_format": ["hf_papers_page", "hf_daily_api", None, "hf_daily_api"],
            "status": ["ingested", "ingested", "quarantined", "ingested"],
        }
    )
    expected = pl.DataFrame(
        {
            "file_key": ["a.json", "b.txt", "c.bin", "d.json"],
            "source_format": ["hf_daily_api", "hf_papers_page", None, "hf_daily_api"],
            "licence": [
                "Apache-2.0",
                "unknown (Hugging Face terms of service)",
                "unknown",
                "Apache-2.0",
            ],
        }
    )

    assert_frame_equal(source_licences(listing_files), expected)
    overridden = listing_files.with_columns(
        licence=pl.Series([None, None, None, "Hugging Face terms of service (fetched)"])
    )
    assert source_licences(overridden)["licence"].to_list() == [
        "Apache-2.0",
        SOURCE_LICENCES["hf_papers_page"],
        "unknown",
        "Hugging Face terms of service (fetched)",
    ]


# --- on a real release ---------------------------------------------------------------------------


@pytest.fixture
def release(tmp_paths: Paths, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample data built and published as release 2026-01-01."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01
    copy_sample(tmp_paths.landing_dir)
    build_everything(tmp_paths)
    folder = latest_release(tmp_paths.releases_dir)
    assert folder is not None
    return folder


def _manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / MANIFEST).read_text())


def _tables(folder: Path) -> dict[str, pl.DataFrame]:
    return {
        name: pl.read_parquet(folder / info["files"])
        for name, info in _manifest(folder)["tables"].items()
    }


def test_real_release_diff_and_changelog_of_a_second_release(release: Path) -> None:
    tables = _tables(release)
    assert diff_tables(release, tables, KEYS).height == 0

    papers = tables["papers"]
    removed_id, changed_id = papers["paper_id"][0], papers["paper_id"][1]
    added = papers.head(1).with_columns(
        paper_id=pl.lit("2612.99999"), title=pl.lit("A paper from the future")
    )
    new_papers = pl.concat(
        [
            papers.filter(pl.col("paper_id") != removed_id).with_columns(
                best_rank=pl.when(pl.col("paper_id") == changed_id)
                .then(pl.lit(999, pl.Int32()))
                .otherwise(pl.col("best_rank"))
            ),
            added,
        ]
    ).sort("paper_id")
    second = publish_release(
        {**tables, "papers": new_papers},
        release.parent,
        sources=_manifest(release)["sources"],
        code_version="test",
        build_date=date(2026, 1, 2),
        created_at=datetime(2026, 1, 2),
    )

    diff = diff_tables(release, {**tables, "papers": new_papers}, KEYS)
    text = changelog_markdown(
        second.release_id,
        release.name,
        diff,
        second.row_counts,
        [],
        titles=paper_titles(new_papers),
    )

    assert_frame_equal(
        diff,
        _expected_diff(
            [
                ("papers", '["2612.99999"]', "added", []),
                ("papers", json.dumps([changed_id]), "changed", ["best_rank"]),
                ("papers", json.dumps([removed_id]), "removed", []),
            ]
        ),
    )
    assert second.release_id == "2026-01-02"
    assert f"| papers | {papers.height} | 1 | 1 | 1 |" in text
    assert f"| observations | {tables['observations'].height} | 0 | 0 | 0 |" in text
    assert "| papers | best_rank | 1 |" in text
    assert "- `2612.99999` A paper from the future" in text


def test_croissant_of_a_real_release(release: Path) -> None:
    manifest = _manifest(release)

    document = croissant_metadata(release.name, manifest, TABLES, license="apache-2.0", url=URL)

    assert validate_croissant(document) == []
    assert document["conformsTo"] == CROISSANT_1_0
    assert document["version"] == "2026-01-01"
    assert document["license"] == "https://www.apache.org/licenses/LICENSE-2.0"
    # per table, a FileSet of its parts and every part with its sha256; the diff
    # (diff.parquet) is a document of the release, not a table
    files = {item["@id"]: item for item in document["distribution"]}
    parts = [part for info in manifest["tables"].values() for part in info["parts"]]
    assert sorted(files) == sorted(
        [f"{name}-files" for name in manifest["tables"]] + [part["file"] for part in parts]
    )
    for part in parts:
        assert files[part["file"]]["@type"] == "cr:FileObject"
        assert files[part["file"]]["sha256"] == part["sha256"]
        assert files[part["file"]]["encodingFormat"] == "application/x-parquet"
    for name in manifest["tables"]:
        assert files[f"{name}-files"]["@type"] == "cr:FileSet"
        assert files[f"{name}-files"]["includes"] == f"{name}/*.parquet"
    record_sets = {item["@id"]: item for item in document["recordSet"]}
    assert sorted(record_sets) == sorted(manifest["tables"])
    for name, record_set in record_sets.items():
        schema = pq.read_schema(release / manifest["tables"][name]["parts"][0]["file"])
        assert [field["name"] for field in record_set["field"]] == schema.names
        for field, arrow_field in zip(record_set["field"], schema, strict=True):
            data_type, repeated = croissant_data_type(str(arrow_field.type))
            assert field["dataType"] == data_type
            assert field.get("repeated", False) is repeated
            assert field["source"] == {
                "fileSet": {"@id": f"{name}-files"},
                "extract": {"column": arrow_field.name},
            }
        assert record_set["key"] == [{"@id": f"{name}/{column}"} for column in TABLES[name].key]
    authors = next(f for f in record_sets["papers"]["field"] if f["name"] == "authors")
    assert (authors["dataType"], authors["repeated"]) == ("sc:Text", True)
    paper = next(f for f in record_sets["observations"]["field"] if f["name"] == "paper_id")
    assert paper["references"] == {"field": {"@id": "papers/paper_id"}}
    # JSON round trip and a second call give the same document
    assert json.loads(json.dumps(document)) == croissant_metadata(
        release.name, manifest, TABLES, license="apache-2.0", url=URL
    )


def test_croissant_data_types() -> None:
    assert [
        croissant_data_type(arrow)
        for arrow in (
            "large_string",
            "int32",
            "int64",
            "double",
            "bool",
            "date32[day]",
            "timestamp[us, tz=UTC]",
            "large_list<element: large_string>",
            "list<item: int64>",
        )
    ] == [
        ("sc:Text", False),
        ("sc:Integer", False),
        ("sc:Integer", False),
        ("sc:Float", False),
        ("sc:Boolean", False),
        ("sc:Date", False),
        ("sc:DateTime", False),
        ("sc:Text", True),
        ("sc:Integer", True),
    ]
    with pytest.raises(ValueError, match="no Croissant dataType"):
        croissant_data_type("struct<a: int64>")
    assert readable_type("large_list<element: large_string>") == "list of string"
    assert readable_type("timestamp[us, tz=UTC]") == "timestamp (UTC)"


def test_croissant_validator_reports_structural_problems(release: Path) -> None:
    document = croissant_metadata(
        release.name, _manifest(release), TABLES, license="apache-2.0", url=None
    )
    broken = copy.deepcopy(document)
    del broken["distribution"][1]["sha256"]
    broken["recordSet"][0]["field"][0]["source"]["fileSet"] = {"@id": "missing-files"}
    broken["recordSet"][0]["field"][1]["dataType"] = "sc:Nothing"
    broken["recordSet"][0]["key"] = [{"@id": "papers/nope"}]
    broken["recordSet"][1]["field"][0]["references"] = {"field": {"@id": "papers/nope"}}
    broken["conformsTo"] = "http://mlcommons.org/croissant/0.8"
    del broken["license"]

    assert validate_croissant(document) == []
    assert validate_croissant(broken) == [
        "conformsTo: expected http://mlcommons.org/croissant/1.0, got "
        "'http://mlcommons.org/croissant/0.8'",
        "license: missing",
        f"{broken['distribution'][1]['@id']}: sha256 missing or not 64 hex digits",
        "papers/paper_id: source names 'missing-files', which is no FileObject or FileSet",
        "papers/arxiv_id: dataType ['sc:Nothing'] has no atomic type",
        "papers: key 'papers/nope' is not one of its fields",
        "observations/paper_id: references 'papers/nope', which is no field",
    ]


def test_dataset_card_of_a_real_release(release: Path) -> None:
    manifest = _manifest(release)
    sources = source_licences(_tables(release)["listing_files"]).join(
        _tables(release)["listing_files"].select("file_key", "status"), on="file_key"
    )
    card = dataset_card(
        release.name,
        manifest,
        TABLES,
        three_suite_results("code_links.warning"),
        license="apache-2.0",
        sources=sources.to_dicts(),
    )

    assert card.startswith("---\n")
    front, body = card[4:].split("\n---\n", 1)
    meta = yaml.safe_load(front)
    assert meta["license"] == "apache-2.0"
    assert meta["pretty_name"] == "Trending papers on Hugging Face"
    largest = max(info["rows"] for info in manifest["tables"].values())
    assert meta["size_categories"] == ["n<1K" if largest < 1000 else "1K<n<10K"]
    # the data dictionary's order, papers first
    order = [name for name in TABLES if name in manifest["tables"]]
    assert order[0] == "papers" and sorted(order) == sorted(manifest["tables"])
    assert meta["configs"] == [
        {
            "config_name": name,
            "data_files": [{"split": "train", "path": f"{name}/*.parquet"}],
            **({"default": True} if name == "papers" else {}),
        }
        for name in order
    ]
    for name, info in manifest["tables"].items():
        doc = TABLES[name]
        assert f"| {name} | {info['rows']} | {', '.join(doc.key)} | `{info['files']}` |" in body
        for column in info["schema"]:
            assert sum(line.startswith(f"| `{column['name']}` |") for line in body.splitlines())
    column_lines = [line for line in body.splitlines() if line.startswith("| `")]
    assert len(column_lines) == sum(len(info["schema"]) for info in manifest["tables"].values())
    assert "| hf_daily_api | Apache-2.0 | 20 | 20 |" in body
    assert "| hf_papers_page | unknown (Hugging Face terms of service) | 1 | 1 |" in body
    assert "| code_links.warning | warning | failed | 4 | 1 | 172 |" in body
    assert "| observations.error |  | passed | 9 | 0 | 380 |" in body
    assert "| papers.error | error | passed | 14 | 0 | 380 |" in body
    assert body.index("code_links.warning") < body.index("observations.error")
    assert 'load_dataset("parquet", data_files={"train": "papers/*.parquet"}' in body
    assert "trending-papers verify 2026-01-01" in body
    for info in manifest["tables"].values():
        for part in info["parts"]:
            assert f"{part['sha256']}  {part['file']}" in body
    # the same inputs give the same text
    assert card == dataset_card(
        release.name,
        manifest,
        TABLES,
        three_suite_results("code_links.warning"),
        license="apache-2.0",
        sources=sources.to_dicts(),
    )


def test_dataset_card_with_a_licence_the_hub_does_not_know(release: Path) -> None:
    card = dataset_card(
        release.name, _manifest(release), TABLES, [], license="Mixed, see sources", sources=[]
    )

    meta = yaml.safe_load(card[4:].split("\n---\n", 1)[0])

    assert (meta["license"], meta["license_name"]) == ("other", "mixed-see-sources")
    assert "No validation results were recorded for this release." in card


def test_the_streamed_diff_of_unchanged_columns_equals_the_diff_in_memory(tmp_path: Path) -> None:
    # values that compare equal or not in subtle ways: null against empty, NaN, -0.0, lists
    schema = {
        "id": pl.Int64,
        "text": pl.String,
        "tags": pl.List(pl.String),
        "score": pl.Float64,
        "day": pl.Date,
    }
    previous = pl.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6, 7, 8],
            "text": ["a", None, "", "b", "c", "d", "e", "gone"],
            "tags": [["x"], None, [], ["x", "y"], [""], None, ["z"], []],
            "score": [1.0, float("nan"), 0.0, -0.0, 2.5, None, 3.0, 1.0],
            "day": [date(2024, 5, 1)] * 7 + [None],
        },
        schema=schema,
    )
    new = pl.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6, 7, 9],
            "text": ["a", "", None, "b", "c", "d", "E", "new"],
            "tags": [["x"], [], None, ["y", "x"], [""], None, ["z"], None],
            "score": [1.0, float("nan"), 0.0, 0.0, 2.5, 0.0, 3.0, None],
            "day": [date(2024, 5, 1)] * 6 + [date(2024, 5, 2), None],
        },
        schema=schema,
    )
    previous.write_parquet(tmp_path / "things.parquet")
    streamed = diff_tables(tmp_path, {"things": new}, {"things": ("id",)})
    keyed = new.with_columns(_json_key(("id",)).alias(_KEY))
    in_memory = _diff_loaded("things", previous, keyed, ("id",)).sort("table", "change", "key")
    assert_frame_equal(streamed, in_memory)
    assert streamed.select("key", "change", "changed_columns").rows() == [
        ("[9]", "added", []),
        ("[2]", "changed", ["text", "tags"]),
        ("[3]", "changed", ["text", "tags"]),
        # the order of a list is part of its value; -0.0 equals 0.0 and NaN equals NaN
        ("[4]", "changed", ["tags"]),
        ("[6]", "changed", ["score"]),
        ("[7]", "changed", ["text", "day"]),
        ("[8]", "removed", []),
    ]
