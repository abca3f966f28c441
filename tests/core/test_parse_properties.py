"""Property tests: any bytes either parse or are refused with the project's own error."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.core.errors import ListingError
from pipelines.core.ingest.api_json import parse_api_json
from pipelines.core.ingest.entries import parse_file
from pipelines.core.ingest.landing import sha256_hex
from pipelines.core.schema import ENTRY_SCHEMA, REJECT_SCHEMA
from tests.conftest import SAMPLE_LANDING

REAL_FILES = [
    SAMPLE_LANDING / "hf-daily-api" / "2024-05-29.json",
    SAMPLE_LANDING / "hf-daily-api" / "2025-01-10.json",
    SAMPLE_LANDING / "trending-page" / "000_5f781be605d9922b.txt",
]
# examples per test come from the profile (tests/conftest.py): 150 in CI, 20,000 with fuzz
BUDGET = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(data: bytes, key: str) -> None:
    parsed = parse_file(data, key, sha256_hex(data))
    assert dict(parsed.entries.schema) == ENTRY_SCHEMA
    assert dict(parsed.rejects.schema) == REJECT_SCHEMA
    # every entry read is either kept or rejected, and a refused file keeps nothing
    assert parsed.entries_read == parsed.entries.height + parsed.entry_rejects
    if parsed.file_error is not None:
        assert parsed.entries.height == 0
    again = parse_file(data, key, sha256_hex(data))
    assert again.entries.equals(parsed.entries) and again.rejects.equals(parsed.rejects)


@BUDGET
@given(data=st.binary(max_size=2048), key=st.sampled_from(["x/a.json", "x/b.txt", "c"]))
def test_arbitrary_bytes_never_crash_the_parser(data: bytes, key: str) -> None:
    _check(data, key)


@BUDGET
@given(
    which=st.integers(0, len(REAL_FILES) - 1),
    cuts=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 64), st.binary(max_size=16)),
                  max_size=4),
)  # fmt: skip
def test_mutated_real_files_never_crash_the_parser(
    which: int, cuts: list[tuple[float, int, bytes]]
) -> None:
    path = REAL_FILES[which]
    data = bytearray(path.read_bytes())
    for where, length, replacement in cuts:
        start = int(where * len(data))
        data[start : start + length] = replacement
    _check(bytes(data), f"{path.parent.name}/{path.name}")


@BUDGET
@given(text=st.text(max_size=512))
def test_the_api_parser_returns_rows_or_raises_a_listing_error(text: str) -> None:
    try:
        frame, rejects = parse_api_json(text, "x/2024-05-27.json")
    except ListingError as error:
        assert str(error).startswith("x/2024-05-27.json: ")
        return
    assert isinstance(frame, pl.DataFrame)
    assert all(isinstance(position, int) for position, _, _ in rejects)


def test_the_real_files_parse_cleanly() -> None:
    for path in REAL_FILES:
        data = Path(path).read_bytes()
        parsed = parse_file(data, f"{path.parent.name}/{path.name}", sha256_hex(data))
        assert parsed.file_error is None and parsed.rejects.height == 0
