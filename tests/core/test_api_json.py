"""The daily papers API parser against the real archived responses."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pipelines.core.errors import ListingError
from pipelines.core.ingest.api_json import listing_date_from_name, parse_api_json
from pipelines.core.ingest.entries import parse_file
from pipelines.core.ingest.landing import sha256_hex

# records per day of the bundled sample, counted in the files by hand (json / literal_eval)
SAMPLE_COUNTS = {
    "2024-05-27": 13, "2024-05-28": 15, "2024-05-29": 8, "2024-05-30": 12, "2024-05-31": 11,
    "2024-12-10": 12, "2024-12-11": 26, "2024-12-12": 18, "2024-12-13": 23, "2024-12-16": 16,
    "2025-01-07": 16, "2025-01-08": 15, "2025-01-09": 13, "2025-01-10": 9, "2025-03-24": 13,
    "2025-03-25": 22, "2025-03-26": 16, "2025-03-27": 19, "2025-03-28": 19, "2025-03-31": 15,
}  # fmt: skip


def _parse(path: Path) -> pl.DataFrame:
    frame, rejects, repairs = parse_api_json(
        path.read_text(encoding="utf-8"), f"hf-daily-api/{path.name}"
    )
    assert rejects == [] and repairs.height == 0
    return frame


def test_per_day_record_counts_of_the_bundled_sample(sample_landing: Path) -> None:
    files = sorted((sample_landing / "hf-daily-api").glob("*.json"))
    counts = {path.stem: _parse(path).height for path in files}
    assert counts == SAMPLE_COUNTS


def test_the_whole_archive_gives_2993_records_with_2993_unique_ids(shared_data: Path) -> None:
    frames = []
    for path in sorted((shared_data / "hf-daily-api").glob("*.json")):
        data = path.read_bytes()
        parsed = parse_file(data, f"hf-daily-api/{path.name}", sha256_hex(data))
        assert parsed.file_error is None and parsed.rejects.height == 0, path.name
        frames.append(parsed.entries)
    entries = pl.concat(frames)
    assert entries.height == 2993
    assert entries["arxiv_id"].n_unique() == 2993
    assert entries["listed_on"].n_unique() == 219
    assert entries.filter(pl.col("arxiv_id").is_null()).height == 0


def test_first_record_of_the_first_day(sample_landing: Path) -> None:
    first = _parse(sample_landing / "hf-daily-api" / "2024-05-27.json").row(0, named=True)
    assert first["arxiv_id_raw"] == "2405.15738"
    # the API serves titles hard-wrapped; the raw column keeps them as served
    assert first["title_raw"] == (
        "ConvLLaVA: Hierarchical Backbones as Visual Encoder for Large Multimodal\n  Models"
    )
    assert first["listed_on"] == date(2024, 5, 27)
    assert first["authors"][:2] == ["Chunjiang Ge", "Sijie Cheng"]
    # times stay text until their contracts read them
    assert first["published_at"] == "2024-05-24T17:34:15.000Z"
    assert first["position"] == 1


def test_normalised_title_and_abstract_are_unwrapped(sample_landing: Path) -> None:
    data = (sample_landing / "hf-daily-api" / "2024-05-27.json").read_bytes()
    first = parse_file(data, "hf-daily-api/2024-05-27.json", sha256_hex(data)).entries.row(
        0, named=True
    )
    assert first["title"] == (
        "ConvLLaVA: Hierarchical Backbones as Visual Encoder for Large Multimodal Models"
    )
    assert "\n" not in first["abstract"] and "  " not in first["abstract"]
    assert "\n" in first["abstract_raw"]


def test_python_repr_items_parse_like_json_items(sample_landing: Path) -> None:
    frame = _parse(sample_landing / "hf-daily-api" / "2024-12-11.json")
    assert frame.height == 26
    assert frame["arxiv_id_raw"].null_count() == 0
    assert frame["raw_entry"][0].startswith("{")


def test_wrapped_response_of_2025_01_10(sample_landing: Path) -> None:
    frame = _parse(sample_landing / "hf-daily-api" / "2025-01-10.json")
    assert frame.height == 9
    assert frame["listed_on"].unique().to_list() == [date(2025, 1, 10)]
    assert frame["arxiv_id_raw"][0] == "2501.05441"


def test_listing_date_comes_from_the_file_name_then_the_wrapper_then_the_submission_day() -> None:
    assert listing_date_from_name("hf-daily-api/2024-05-27.json") == date(2024, 5, 27)
    assert listing_date_from_name("daily/latest.json") is None
    wrapped = '{"date": "2025-01-10", "data": [{"paper": {"id": "2501.00001", "title": "A b c"}}]}'
    assert parse_api_json(wrapped, "x.json")[0]["listed_on"][0] == date(2025, 1, 10)
    # midnight UTC of the listing day stays that day, whatever the reader's time zone
    item = (
        '[{"paper": {"id": "2501.00001", "title": "A b c", '
        '"submittedOnDailyAt": "2025-01-10T00:00:00.000Z"}}]'
    )
    assert parse_api_json(item, "x.json")[0]["listed_on"][0] == date(2025, 1, 10)


def test_a_response_that_is_not_a_list_is_a_listing_error() -> None:
    with pytest.raises(ListingError, match=r"x\.json: a JSON object without a 'data' list"):
        parse_api_json('{"error": "rate limited"}', "x.json")
    with pytest.raises(ListingError, match="not valid JSON"):
        parse_api_json('[{"paper": ', "x.json")


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "America/Los_Angeles", "UTC"])
def test_the_listing_date_does_not_shift_in_any_time_zone(
    sample_landing: Path, monkeypatch: pytest.MonkeyPatch, zone: str
) -> None:
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        item = (
            '[{"paper": {"id": "2501.00001", "title": "A b c", '
            '"submittedOnDailyAt": "2025-01-10T00:00:00.000Z"}}]'
        )
        assert parse_api_json(item, "x.json")[0]["listed_on"][0] == date(2025, 1, 10)
        frame = _parse(sample_landing / "hf-daily-api" / "2025-03-31.json")
        assert frame["listed_on"].unique().to_list() == [date(2025, 3, 31)]
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
