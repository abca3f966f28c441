"""Bad input gets a clear reason and loses nothing; the rest of the batch still goes through."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipelines.core.build import build_everything, read_curated
from pipelines.core.ingest.entries import IngestOptions, parse_file
from pipelines.core.ingest.landing import sha256_hex
from pipelines.core.ops.settings import Paths
from tests.conftest import REPO, copy_sample

GOOD_DAY = "hf-daily-api/2024-05-29.json"


def _parse(data: bytes, key: str = "landing/file.json", **options: int) -> object:
    return parse_file(data, key, sha256_hex(data), options=IngestOptions(**options))


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.json", b"", "file is empty"),
        ("blank.txt", b"  \n\n\t ", "file is empty"),
        ("truncated.json", b'[{"paper": {"id": "2405.15738", "title": "Con', "not valid JSON"),
        ("latin1.json", '[{"title": "Caf\u00e9"}]'.encode("latin-1"),
         "not UTF-8 text: byte 0xe9 at offset 15 is invalid"),
        ("error.json", b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>",
         "an HTML page (an error page?) saved as a listing"),
        ("image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file (it contains NUL"),
        ("prose.json", b"this is not json", "a .json file that is not a JSON list"),
        ("object.json", b'{"error": "Rate limit reached"}', "without a 'data' list"),
        ("number.json", b"42", "not a JSON list or object of papers"),
    ],
)  # fmt: skip
def test_an_unreadable_file_is_refused_with_a_reason(name: str, data: bytes, reason: str) -> None:
    parsed = _parse(data, f"landing/{name}")
    assert parsed.file_error is not None and reason in parsed.file_error  # type: ignore[attr-defined]
    assert parsed.entries.height == 0  # type: ignore[attr-defined]
    assert parsed.rejects["position"].to_list() == [None]  # type: ignore[attr-defined]


def test_a_byte_order_mark_is_fine(sample_landing: Path) -> None:
    data = b"\xef\xbb\xbf" + (sample_landing / GOOD_DAY).read_bytes()
    parsed = _parse(data, GOOD_DAY)
    assert parsed.file_error is None and parsed.entries.height == 8  # type: ignore[attr-defined]


def test_a_file_over_the_size_limit_is_refused_unread() -> None:
    parsed = _parse(b"[" + b" " * 2000 + b"]", max_file_bytes=1000)
    assert parsed.file_error == "file is 2,002 bytes, over the limit of 1,000 bytes"  # type: ignore[attr-defined]


def test_half_good_half_broken_entries_keep_the_good_half(sample_landing: Path) -> None:
    items = json.loads((sample_landing / GOOD_DAY).read_bytes())[:4]
    broken = json.loads(json.dumps(items))
    broken[0]["paper"]["title"] = None
    del broken[0]["title"]
    broken[1]["paper"]["id"] = "not-an-id"
    broken[2]["paper"].update(id="2405.19991", upvotes=-3)
    broken[3]["paper"].update(id="2405.19992", upvotes="many")
    data = json.dumps(items + broken + ["{'paper': {'id': "]).encode()
    parsed = parse_file(data, "day/2024-05-29.json", sha256_hex(data))
    # an unusable count is dropped, and its entry kept; a missing title or id rejects the entry
    assert parsed.entries["position"].to_list() == [1, 2, 3, 4, 7, 8]
    assert parsed.entries["upvotes"].to_list()[4:] == [None, None]
    assert parsed.rejects.select("position", "rule", "reason").rows() == [
        (5, "title.missing", "title is missing"),
        (6, "arxiv_id.invalid", "arxiv_id: not an arXiv id ('not-an-id')"),
        (9, "entry.undecodable", "entry is a string that is not a Python literal ('{' was never "
            "closed (<unknown>, line 1))"),
    ]  # fmt: skip
    assert parsed.repairs.select(
        "position", "field", "rule", "action", "value_before", "value_after"
    ).rows() == [
        (7, "upvotes", "upvotes.negative", "dropped", "-3", None),
        (8, "upvotes", "upvotes.not_a_number", "dropped", "many", None),
    ]
    assert parsed.entries_read == 9 == parsed.entries.height + parsed.entry_rejects


def test_a_repr_entry_over_the_size_cap_is_rejected_not_evaluated() -> None:
    huge = "{'paper': {'id': '2501.00001', 'title': '" + "x" * 1_000_001 + "'}}"
    data = json.dumps([huge]).encode()
    parsed = parse_file(data, "day/2025-01-02.json", sha256_hex(data))
    assert parsed.entries.height == 0
    assert parsed.rejects["reason"].to_list() == [
        "entry is a string of 1,000,045 characters, over the limit"
    ]


def test_the_batch_goes_on_and_everything_is_accounted_for(
    tmp_paths: Paths, sample_landing: Path
) -> None:
    copy_sample(tmp_paths.landing_dir)
    bad = tmp_paths.landing_dir / "bad"
    bad.mkdir()
    (bad / "empty.json").write_bytes(b"")
    (bad / "error.json").write_text("<html><body>Too Many Requests</body></html>")
    build_everything(tmp_paths)
    # the same bytes landed again under a second name are one listing, not two
    shutil.copy(sample_landing / GOOD_DAY, bad / "copy-of-2024-05-29.json")
    summary = build_everything(tmp_paths)
    files = read_curated(tmp_paths)["listing_files"]
    statuses = dict(files.select("file_key", "status").iter_rows())
    assert statuses["bad/empty.json"] == "quarantined"
    assert statuses["bad/error.json"] == "quarantined"
    assert statuses["bad/copy-of-2024-05-29.json"] == "duplicate"
    assert list(statuses.values()).count("ingested") == 21
    assert (files["entries_read"] == files["entries_kept"] + files["entries_rejected"]).all()
    assert summary.tables["papers"] == 380
    rejects = read_curated(tmp_paths)["rejects"]
    assert rejects.select("source_file", "reason").rows() == [
        ("bad/copy-of-2024-05-29.json", "same content as hf-daily-api/2024-05-29.json"),
        ("bad/empty.json", "file is empty"),
        ("bad/error.json", "an HTML page (an error page?) saved as a listing"),
    ]
    quarantined = sorted(p.parent.name for p in tmp_paths.quarantine_dir.glob("*/reason.txt"))
    assert len(quarantined) == 2
    reason = next(tmp_paths.quarantine_dir.glob("bad_error.json*/reason.txt")).read_text()
    assert "file: bad/error.json" in reason and "HTML page" in reason


def test_a_fixed_quarantined_file_is_ingested_normally(
    tmp_paths: Paths, sample_landing: Path
) -> None:
    target = tmp_paths.landing_dir / "hf-daily-api" / "2024-05-29.json"
    target.parent.mkdir(parents=True)
    target.write_bytes((sample_landing / GOOD_DAY).read_bytes()[:500])
    build_everything(tmp_paths)
    assert list(tmp_paths.quarantine_dir.iterdir())
    target.write_bytes((sample_landing / GOOD_DAY).read_bytes())
    summary = build_everything(tmp_paths)
    assert summary.files_quarantined == 0 and summary.tables["papers"] == 8
    assert list(tmp_paths.quarantine_dir.iterdir()) == []
    assert summary.tables["rejects"] == 0


def test_a_text_capture_that_starts_with_a_bracket_is_read_as_a_capture() -> None:
    # a text browser writes its links as "[1]Hugging Face": not a JSON list without a .json name
    data = (REPO / "tests" / "fixtures" / "captures" / "lynx_dump_daily.txt").read_bytes()
    assert data.lstrip().startswith(b"[")
    parsed = _parse(data, "captures/lynx_dump_daily.txt")
    assert parsed.file_error is None  # type: ignore[attr-defined]
    assert parsed.entries["arxiv_id"].to_list() == [  # type: ignore[attr-defined]
        "2503.09566", "2503.09151", "2503.09573", "2503.09402"
    ]  # fmt: skip
    # a response without a .json name is still read as one
    response = b'[{"paper": {"id": "2503.09566", "title": "A title"}}]'
    assert _parse(response, "inbox/response").source_format == "hf_daily_api"  # type: ignore[attr-defined]
