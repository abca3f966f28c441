"""What tests read of the generated pages and of validation results."""

from __future__ import annotations

from dataclasses import asdict
from html.parser import HTMLParser
from typing import Any

from expectations.validation import FailedExpectation, SuiteOutcome


class Links(HTMLParser):
    """Every href and src of a page, and every element id (the targets of its fragments)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)
            elif name == "id" and value:
                self.ids.add(value)


def links_in(text: str) -> Links:
    parser = Links()
    parser.feed(text)
    return parser


def three_suite_results(warn_suite: str) -> list[dict[str, Any]]:
    """Validation results as a release keeps them: a passed ERROR suite, a suite recorded in the
    raw form of Great Expectations, and a failed WARN suite named ``warn_suite``."""
    passed = SuiteOutcome(
        suite="papers.error", severity="error", success=True, evaluated=14, rows=380
    )
    failed = SuiteOutcome(
        suite=warn_suite,
        severity="warning",
        success=False,
        evaluated=5,
        rows=172,
        failures=[FailedExpectation("expect_column_values_to_match_regex", "url", 1, 172, [])],
    )
    raw = {
        "success": True,
        "suite_name": "observations.error",
        "statistics": {"evaluated_expectations": 9, "unsuccessful_expectations": 0},
        "results": [{"result": {"element_count": 380}}, {"result": {}}],
    }
    return [asdict(passed), raw, asdict(failed)]
