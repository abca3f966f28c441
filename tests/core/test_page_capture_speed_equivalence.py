"""The page-capture parser's shortcuts give what the definitions they skip would give.

The parser spares long lines of prose its slowest steps by tests that each slow step implies
(see pipelines/core/ingest/page_capture.py); these properties check those implications on text
made of the characters that matter to them.
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from pipelines.core.ingest import page_capture as pc

# pieces of Markdown, chrome, dates and facts, glued with the characters the patterns care about
_PIECES = st.sampled_from(
    [
        "[", "]", "(", ")", "<", ">", "h", "https://github.com/a/b", "](https://x.y/z)", "][1]",
        "**", "_", "#", "## ", "- ", "* ", "· ", "•", "|", ",", " ", "  ", "\t", "\u00a0",
        "Models", "Log In", "Trending Papers", "Mar 12", "Sept. 3, 2025", "İ", "Σ", "ß",
        "Submitted by", "Published on", "42", "1.2k", "-", "—", "upvotes", "💬 3", "GitHub",
        "ſubmitted", "5 authors", "a long line of prose that is neither chrome nor a date. " * 3,
    ]
)  # fmt: skip
_LINES = st.lists(_PIECES | st.text(max_size=4), max_size=12).map("".join)


@given(text=_LINES)
def test_a_short_label_is_the_label_and_only_a_long_one_is_left_out(text: str) -> None:
    label = pc._label(text)
    short = pc._short_label(text)
    if short is None:
        assert len(label) > pc._MAX_SHORT_LABEL
        assert label not in pc._CHROME and pc._DATE_LINE.match(label) is None
    else:
        assert short == label


def _links_only_by_definition(text: str) -> list[tuple[str, str]] | None:
    found: list[tuple[str, str]] = []

    def link(match: re.Match[str]) -> str:
        found.append((match["label"], ""))
        return " "

    def bare(match: re.Match[str]) -> str:
        found.append(("", match["url"]))
        return " "

    rest = pc._BARE_URL.sub(bare, pc._REF_LINK.sub(link, pc._INLINE_LINK.sub(link, text)))
    return found if found and pc._SEPARATORS.fullmatch(rest) else None


@given(text=_LINES)
def test_a_line_of_links_is_found_whatever_it_starts_with(text: str) -> None:
    expected = _links_only_by_definition(text)
    got = pc._links_only(text, {})
    assert (got is None) == (expected is None)
    if got is not None and expected is not None:
        assert [label for label, _ in got] == [label for label, _ in expected]


@given(part=_LINES)
def test_every_fact_starts_as_the_quick_test_expects(part: str) -> None:
    if pc._read_fact(part, pc._Facts()):
        assert pc._FACT_START.match(part) is not None
