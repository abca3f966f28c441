"""Arbitrary values in any field of either source never make an ERROR suite fail, and the build
publishes: dirt from upstream is the contracts' business, an ERROR suite only sees the pipeline's
own invariants.

Each example damages real records of ../shared/data (API fields set to values drawn per field
type, plus the values of the dirt catalogue) or inserts arbitrary text into the real capture,
builds with the library path, and runs every blocking suite on what was built. In CI a few
examples per test run (a build and the suites take seconds); ``HYPOTHESIS_PROFILE=fuzz`` runs
hundreds.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expectations import suites
from expectations.validation import validate
from pipelines.core.build import build_everything, read_curated
from pipelines.core.ingest.store import load_file_records, scan_entries
from pipelines.core.ops.settings import Paths
from pipelines.core.publish.release import verify_release
from tests.conftest import CAPTURE_NAME, SHARED_DATA

FUZZ = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"
EXAMPLES = 400 if FUZZ else 6
# CI runs the same examples every time (a red build names a bug, never a new draw); the fuzz
# profile explores, and saves what it finds in .hypothesis/ to be replayed first
DERANDOMIZE = not FUZZ
BASE_FILES = ("2025-03-25.json", "2025-03-27.json", "2025-03-28.json")
# damaged entries per file at most: fewer than half, so a file full of rejected titles is not
# quarantined whole and its other damaged values still reach the published tables
DAMAGED_PER_FILE = 8

# every field the API parser reads, by where it sits in an entry
API_FIELDS = (
    ("paper", "id"), ("paper", "title"), (None, "title"), ("paper", "summary"), (None, "summary"),
    ("paper", "authors"), ("paper", "publishedAt"), (None, "publishedAt"), ("paper", "upvotes"),
    (None, "numComments"), ("paper", "githubRepo"), ("paper", "projectPage"),
    ("paper", "ai_keywords"), ("paper", "submittedOnDailyAt"), ("paper", "githubStars"),
    ("paper", "organization"), (None, "organization"), (None, "submittedBy"),
    ("paper", "submittedOnDailyBy"),
)  # fmt: skip

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["name", "fullname", "url", "x", ""]), children, max_size=3
        )
    ),
    max_leaves=8,
)
# text that upstream really sends: white space, invisible and control characters, markup,
# entities, links, ids, numbers and times in other spellings
_PIECES = st.sampled_from(
    [
        " ", "\n", "\t", "\u200b", "\u202e", "\u0007", "\x00", "\ufeff", "<b>", "</p>", "&amp;",
        "&#8211;", "**", "# ", "[x](", ")", "https://", "github.com/", "owner/repo", "www.",
        "arXiv:", "2503.17359", "v2", "１２", "$\\alpha$", "محمد", "1,234", "1.2k", "-5",
        "2025-02-30", "T17:59:22", "+02:00", "Z", "N/A", "null", "[", "]", "'", '"', "{", "}",
    ]
)  # fmt: skip
_DIRTY_TEXT = st.lists(_PIECES | st.text(max_size=12), max_size=12).map("".join)
_VALUES = (
    _JSON
    | _DIRTY_TEXT
    | st.integers(min_value=-(10**15), max_value=10**15)
    | st.text(min_size=1_000, max_size=12_000, alphabet="ab \n")
)


def _suites_pass(paths: Paths) -> None:
    tables = read_curated(paths)
    for spec in suites.CURATED_SUITES:
        if spec.blocking:
            outcome = validate(tables[spec.table], spec, tables)
            assert outcome.success, outcome.describe()
    entries = scan_entries(paths, load_file_records(paths)).collect()
    outcome = validate(entries, suites.LISTING_ENTRIES)
    assert outcome.success, outcome.describe()


def _build_and_check(landing_files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        paths = Paths(landing_dir=Path(folder) / "landing", data_dir=Path(folder) / "data")
        for key, text in landing_files.items():
            target = paths.landing_dir / key
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        summary = build_everything(paths)
        assert summary.release is not None
        assert verify_release(summary.release.path) == []
        _suites_pass(paths)


@pytest.fixture(autouse=True)
def _accept_any_share(monkeypatch: pytest.MonkeyPatch) -> None:
    # the run's breaker is tested on its own; here every value must reach the suites
    monkeypatch.setenv("PAPERS_MAX_REJECT_SHARE", "1")
    if not (SHARED_DATA / "hf-daily-api").is_dir():
        pytest.skip("../shared/data is not present")


_DAMAGE = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=DAMAGED_PER_FILE - 1),
        st.sampled_from(API_FIELDS),
        _VALUES,
    ),
    min_size=1,
    max_size=DAMAGED_PER_FILE * len(BASE_FILES),
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=DERANDOMIZE,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(damage=_DAMAGE, spread=st.integers(min_value=0, max_value=len(BASE_FILES) - 1))
def test_any_values_in_api_fields_never_break_an_error_suite(
    damage: list[tuple[int, tuple[str | None, str], Any]], spread: int
) -> None:
    files: dict[str, list[dict[str, Any]]] = {
        name: json.loads((SHARED_DATA / "hf-daily-api" / name).read_text(encoding="utf-8"))
        for name in BASE_FILES
    }
    for number, (entry, (holder, key), value) in enumerate(damage):
        name = BASE_FILES[(number + spread) % len(BASE_FILES)]
        record = files[name][entry]
        (record["paper"] if holder == "paper" else record)[key] = value
    _build_and_check(
        {f"hf-daily-api/{name}": json.dumps(items, default=str) for name, items in files.items()}
    )


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=DERANDOMIZE,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    inserts=st.lists(
        st.tuples(st.integers(min_value=0, max_value=400), _DIRTY_TEXT | st.text(max_size=300)),
        min_size=1,
        max_size=12,
    )
)
def test_any_text_in_a_capture_never_breaks_an_error_suite(inserts: list[tuple[int, str]]) -> None:
    lines = (SHARED_DATA / "trending-page" / CAPTURE_NAME).read_text(encoding="utf-8").splitlines()
    for where, text in inserts:
        lines.insert(min(where, len(lines)), text)
    _build_and_check({f"trending-page/{CAPTURE_NAME}": "\n".join(lines) + "\n"})
