"""Reading a capture costs time in proportion to its size, whatever the layout.

Every step of the page-capture parser is one pass over the lines (joining a link spread over
lines included): four times the text must take about four times as long, not sixteen. The test
compares sizes rather than a fixed time, so a slow machine does not fail it, and takes the best
of a few runs, so a busy one does not either.
"""

from __future__ import annotations

import time
from pathlib import Path

from pipelines.core.ingest.page_capture import CaptureContext, parse_page_capture

CAPTURES = Path(__file__).resolve().parent.parent / "fixtures" / "captures"
# a linear parser reads 4x the text in about 4x the time; a quadratic one in 16x
GROWTH = 4
MAX_TIME_RATIO = 8
RUNS = 3
# large enough that the parse, not the clock, is measured
BASE_BYTES = 400_000


def _page_of_every_layout() -> str:
    """The pages of all the capture fixtures (without their tool headers and truncation
    markers, which would end the page), one after another."""
    pages = []
    for path in sorted(CAPTURES.glob("*.*")):
        lines = path.read_text(encoding="utf-8").splitlines()
        start = lines.index("---", 1) + 1 if lines and lines[0] == "---" else 0
        pages.append("\n".join(line.replace("[Content truncated]", "") for line in lines[start:]))
    return "Get trending papers in your email inbox!\n\n" + "\n\n".join(pages)


def _best_time(text: str) -> float:
    best = float("inf")
    for _ in range(RUNS):
        started = time.perf_counter()
        frame, _ = parse_page_capture(text, CaptureContext("trending-page/big.md"))
        best = min(best, time.perf_counter() - started)
        assert frame.height > 0
    return best


def test_a_capture_four_times_larger_takes_about_four_times_as_long() -> None:
    page = _page_of_every_layout()
    small = "\n\n".join([page] * (BASE_BYTES // len(page) + 1))
    large = "\n\n".join([small] * GROWTH)
    assert _best_time(large) < MAX_TIME_RATIO * _best_time(small)
