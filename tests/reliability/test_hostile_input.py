"""Hostile files in the landing folder are refused, quarantined, or stored verbatim and safely."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import duckdb

from pipelines.core.build import build_everything, read_curated
from pipelines.core.ingest.entries import parse_file
from pipelines.core.ingest.landing import scan_landing, sha256_hex
from pipelines.core.ingest.store import load_raw_record, read_snapshot, snapshot_landed
from pipelines.core.ops.settings import Paths
from tests.conftest import release_table

HOSTILE_TEXT = {
    "sql": "Robert'); DROP TABLE papers; --",
    "html": "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "control": "Null\x00byte and bell\x07 and escape\x1b[31m red",
    "bidi": "Right\u202eto\u202cleft override",
}


def _day(items: list[dict[str, object]]) -> bytes:
    return json.dumps(items).encode()


def _paper(arxiv_id: str, title: str, summary: str = "An abstract.") -> dict[str, object]:
    return {"paper": {"id": arxiv_id, "title": title, "summary": summary, "upvotes": 1}}


def test_hostile_names_are_keys_not_paths(tmp_paths: Paths) -> None:
    landing = tmp_paths.landing_dir
    names = ["..evil.json", "a..b.json", "$(touch pwned); `id` | x.json", "bell\x07name.json"]
    for number, name in enumerate(names, start=1):
        (landing / name).write_bytes(_day([_paper(f"2501.0000{number}", f"Paper {number}")]))
    outside = tmp_paths.data_dir.parent / "outside.json"
    outside.write_bytes(_day([_paper("2501.09999", "Outside")]))
    (landing / "link.json").symlink_to(outside)
    files, refused = scan_landing(landing)
    keys = sorted(f.file_key for f in files)
    assert "bell_name.json" in keys  # control characters never reach a key or a file name
    assert [(r.file_key, r.reason.split(",")[0]) for r in refused] == [
        ("..evil.json", "hidden name: treated as a file still being written"),
        ("link.json", f"symbolic link to {outside}"),
    ]
    summary = build_everything(tmp_paths)
    assert summary.tables["papers"] == 3
    # nothing was executed, and everything written stayed inside the data folder
    assert not (Path.cwd() / "pwned").exists() and not (landing / "pwned").exists()
    written = [p.resolve() for p in tmp_paths.data_dir.rglob("*")]
    assert all(p.is_relative_to(tmp_paths.data_dir.resolve()) for p in written)


def test_a_file_replaced_while_being_read_is_read_as_one_version(tmp_paths: Paths) -> None:
    target = tmp_paths.landing_dir / "2025-01-02.json"
    first = _day([_paper("2501.00001", "First Version")])
    target.write_bytes(first)
    [landed], _ = scan_landing(tmp_paths.landing_dir)
    record = snapshot_landed(tmp_paths, landed)
    target.write_bytes(_day([_paper("2501.00002", "Second Version")]))
    # parsing reads the snapshot, whose sha256 is the one recorded: never half of each
    snapshot = read_snapshot(tmp_paths, load_raw_record(tmp_paths, landed.file_key))
    assert snapshot == first and record.sha256 == sha256_hex(first)


def test_bombs_are_refused_with_a_reason(tmp_paths: Paths) -> None:
    landing = tmp_paths.landing_dir
    (landing / "bomb.json.gz").write_bytes(gzip.compress(b"[" + b" " * 50_000_000 + b"]"))
    (landing / "deep.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    repr_bomb = "{'paper': " * 50_000 + "1" + "}" * 50_000
    (landing / "2025-01-03.json").write_text(json.dumps([repr_bomb]))
    (landing / "huge.json").write_bytes(b'["' + b"x" * 3_000_000 + b'"]')
    build_everything(tmp_paths)
    tables = read_curated(tmp_paths)
    statuses = dict(tables["listing_files"].select("file_key", "status").iter_rows())
    assert statuses == {
        "2025-01-03.json": "ingested",
        "bomb.json.gz": "quarantined",
        "deep.json": "quarantined",
        "huge.json": "ingested",
    }
    reasons = dict(tables["rejects"].select("source_file", "reason").iter_rows())
    assert reasons["bomb.json.gz"].startswith("binary file")
    assert "not valid JSON" in reasons["deep.json"]
    assert reasons["2025-01-03.json"].startswith("entry is a string that is not a Python literal")
    assert reasons["huge.json"] == "entry is a string of 3,000,000 characters, over the limit"


def test_hostile_text_is_stored_verbatim_and_safely(tmp_paths: Paths) -> None:
    items = [
        _paper(f"2501.0000{n}", f"Title {kind}: {text}", summary=f"Abstract with {text}.")
        for n, (kind, text) in enumerate(HOSTILE_TEXT.items(), start=1)
    ]
    items.append(_paper("2501.00009", "T" * 1_000_001))
    data = _day(items)
    (tmp_paths.landing_dir / "2025-01-02.json").write_bytes(data)
    build_everything(tmp_paths)
    papers = read_curated(tmp_paths)["papers"]
    titles = dict(papers.select("paper_id", "title").iter_rows())
    # SQL and HTML are data: kept as written, never run (every query is parameterised)
    assert titles["2501.00001"] == f"Title sql: {HOSTILE_TEXT['sql']}"
    assert titles["2501.00002"] == f"Title html: {HOSTILE_TEXT['html']}"
    # control characters and direction overrides leave the normalised text...
    assert titles["2501.00003"] == "Title control: Nullbyte and bell and escape[31m red"
    assert titles["2501.00004"] == "Title bidi: Righttoleft override"
    # ...but the raw column keeps them, as read
    entries = parse_file(data, "2025-01-02.json", sha256_hex(data)).entries
    raw = dict(entries.select("arxiv_id", "title_raw").iter_rows())
    assert raw["2501.00003"] == f"Title control: {HOSTILE_TEXT['control']}"
    # a 1 MB title is rejected, with its reason
    rejects = read_curated(tmp_paths)["rejects"]
    assert rejects["reason"].to_list() == [
        f"title is 1000001 characters long, over the limit ({'T' * 80})"
    ]
    assert rejects["rule"].to_list() == ["title.too_long"]
    with duckdb.connect(str(tmp_paths.warehouse_path), read_only=True) as connection:
        stored = connection.execute(
            "SELECT title FROM papers WHERE paper_id = ?", ["2501.00001"]
        ).fetchall()
        assert stored == [(f"Title sql: {HOSTILE_TEXT['sql']}",)]
        assert connection.execute("SELECT count(*) FROM papers").fetchall() == [(4,)]
    assert os.path.exists(tmp_paths.warehouse_path)
    assert release_table(tmp_paths.releases_dir / "latest", "papers").height == 4
