"""The page-capture parser on the layouts in which people save Hugging Face papers pages.

The sample captures in tests/fixtures/captures mirror real ones: a capturing tool's header, site
navigation and footer, titles as headings or paper links, per-paper metadata lines, hard-wrapped
abstracts, repeated blocks and captures cut off in the middle.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.core.curate.links import normalise_links, urls_in_text
from pipelines.core.errors import ListingError, RejectedEntry
from pipelines.core.ingest import page_capture as pc
from pipelines.core.ingest.entries import parse_file
from pipelines.core.ingest.page_capture import CaptureContext, parse_page_capture
from pipelines.core.schema import PARSED_ENTRY_SCHEMA
from tests.conftest import CAPTURE_NAME, SAMPLE_LANDING, SHARED_DATA

CAPTURES = Path(__file__).resolve().parent.parent / "fixtures" / "captures"
# the real sample: the shared archive's copy when present, else the bundled one
REAL_CAPTURE = next(
    capture
    for capture in (
        folder / "trending-page" / CAPTURE_NAME for folder in (SHARED_DATA, SAMPLE_LANDING)
    )
    if capture.exists()
)


def _parse(
    text: str, captured_on: date | None = None, capture_year: int | None = None
) -> tuple[pl.DataFrame, list[RejectedEntry]]:
    return parse_page_capture(text, CaptureContext("trending-page/x.md", captured_on, capture_year))


def _fixture(name: str, captured_on: date | None = None) -> pl.DataFrame:
    frame, rejects = _parse((CAPTURES / name).read_text(encoding="utf-8"), captured_on)
    assert rejects == []
    return frame


def _midnight(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


# --- the real sample ------------------------------------------------------------------------------


def test_the_real_plain_text_capture_gives_69_entries() -> None:
    frame, rejects = _parse(REAL_CAPTURE.read_text(encoding="utf-8"))
    assert rejects == []
    assert frame.height == 69
    assert dict(frame.schema) == PARSED_ENTRY_SCHEMA
    assert frame["position"].to_list() == list(range(1, 70))
    assert frame["title_raw"][0] == "Sensitivity-Aware Visual Parameter-Efficient Fine-Tuning"
    assert frame["title_raw"][-1] == (
        "Scalable Attentive Sentence-Pair Modeling via Distilled Sentence Embedding"
    )
    assert frame["listed_month_day"].unique().to_list() == ["03-12"]
    assert frame["listed_on"].null_count() == 69  # the page shows no year
    assert frame["page_kind"].unique().to_list() == ["trending"]
    # abstracts are never taken for titles: every title is short, every abstract long prose
    assert (frame["title_raw"].str.len_chars() < 200).all()
    assert (frame["abstract_raw"].str.len_chars() > 500).all()
    assert not frame["title_raw"].str.contains("\n").any()
    # the raw form keeps the block the entry came from
    first = frame.row(0, named=True)
    assert first["raw_entry"] == f"{first['title_raw']}\n\n{first['abstract_raw']}"


def test_17_abstracts_of_the_real_capture_hold_a_github_link() -> None:
    frame, _ = _parse(REAL_CAPTURE.read_text(encoding="utf-8"))
    assert frame["abstract_raw"].str.contains("github.com").sum() == 17
    links = normalise_links(
        frame.select("title_raw", urls_in_text("abstract_raw").alias("url_raw")).explode("url_raw")
    ).collect()
    assert links.filter(pl.col("kind") == "repository")["title_raw"].n_unique() == 17


def test_the_real_capture_takes_its_year_from_the_capture_date() -> None:
    frame, _ = _parse(REAL_CAPTURE.read_text(encoding="utf-8"), captured_on=date(2025, 3, 12))
    assert frame["listed_on"].unique().to_list() == [date(2025, 3, 12)]


# --- the capturing tool's header, site navigation and footer --------------------------------------


def test_a_fenced_page_under_a_web_source_header() -> None:
    frame = _fixture("trending_fenced_web_source.md")
    # navigation, the page header and the footer are not papers
    assert frame["title_raw"].to_list() == [
        "Visual Agents That Plan Ahead",
        "Sparse Mixtures for Long Context",
    ]
    assert frame["page_kind"].unique().to_list() == ["trending"]
    # no date line and no captured_on: the capture time of the header dates the listing
    assert frame["listed_on"].unique().to_list() == [date(2025, 3, 14)]
    assert frame["listed_month_day"].unique().to_list() == ["03-14"]
    assert "System theme" not in frame["abstract_raw"][1]


def test_the_context_capture_date_wins_over_the_header() -> None:
    frame = _fixture("trending_fenced_web_source.md", captured_on=date(2025, 3, 15))
    assert frame["listed_on"].unique().to_list() == [date(2025, 3, 15)]


def test_yaml_front_matter_and_a_daily_url_date_the_listing() -> None:
    frame = _fixture("daily_front_matter.md")
    assert frame["page_kind"].unique().to_list() == ["daily"]
    assert frame["listed_on"].unique().to_list() == [date(2025, 3, 12)]
    # "Published on Mar 12": the capture time 2025-03-13T01:30+02:00 is 2025-03-12 in UTC
    assert frame["published_at"][0] == _midnight(2025, 3, 12)


_NAVIGATION = "Hugging Face\nModels\nDatasets\nSpaces\nDocs\nPricing\nLog In\nSign Up\n\n"
_TWO_PAPERS = "First Paper\n\nAbstract one.\n\nSecond Paper\n\nAbstract two.\n"


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("Get trending papers in your email inbox once a day!\n\nSubscribe\n\n", "trending"),
        ("# Trending Papers\n\n", "trending"),
        ("# Daily Papers\n\nby AK and the research community\n\n", "daily"),
        ("by AK and the research community\n\n", "unknown"),
    ],
)
@pytest.mark.parametrize("date_line", ["Mar 12\n\n", ""])
def test_the_page_header_varies(header: str, kind: str, date_line: str) -> None:
    frame, rejects = _parse(header + date_line + _TWO_PAPERS)
    assert rejects == []
    assert frame["title_raw"].to_list() == ["First Paper", "Second Paper"]
    assert frame["abstract_raw"].to_list() == ["Abstract one.", "Abstract two."]
    assert frame["page_kind"].unique().to_list() == [kind]
    assert frame["listed_month_day"].unique().to_list() == (["03-12"] if date_line else [None])


def test_the_site_navigation_and_a_date_line_make_two_pairs_a_listing() -> None:
    frame, rejects = _parse(_NAVIGATION + "Mar 12\n\n" + _TWO_PAPERS)
    assert (frame["title_raw"].to_list(), rejects) == (["First Paper", "Second Paper"], [])
    assert frame["page_kind"].unique().to_list() == ["unknown"]


@pytest.mark.parametrize("header", ["", "Mar 12\n\n", _NAVIGATION])
def test_two_short_pairs_with_too_few_other_marks_are_no_listing(header: str) -> None:
    with pytest.raises(ListingError) as refused:
        _parse(header + _TWO_PAPERS)
    assert refused.value.rule == "file.not_a_listing"
    assert refused.value.reason.startswith("not a listing: too few marks of a papers page")


def test_jina_style_header_lines() -> None:
    text = (
        "Title: Trending Papers - Hugging Face\n\n"
        "URL Source: https://huggingface.co/papers/trending\n\n"
        "Markdown Content:\n"
        "[Models](https://huggingface.co/models)\n[Log In](https://huggingface.co/login)\n\n"
        "### [A Paper](https://huggingface.co/papers/2503.01234)\n\nIts abstract.\n"
    )
    frame, _ = _parse(text)
    assert frame.select("page_kind", "title_raw", "arxiv_id_raw").row(0) == (
        "trending",
        "A Paper",
        "2503.01234",
    )


# --- titles ---------------------------------------------------------------------------------------


def test_titles_as_headings_links_and_reference_links_also_wrapped() -> None:
    frame = _fixture("daily_front_matter.md")
    titles = parse_file((CAPTURES / "daily_front_matter.md").read_bytes(), "daily.md", "x").entries[
        "title"
    ]
    # a reference-style link wrapped over two lines, and a heading wrapped over two lines
    assert titles.to_list() == [
        "Reasoning Traces Are Cheap Supervision",
        "Compact Video Tokenizers for Long Clips",
    ]
    assert frame["arxiv_id_raw"].to_list() == ["2503.08888", "2503.09999"]
    # an abstract of two paragraphs is one abstract
    assert frame["abstract_raw"][0].endswith(
        "See https://github.com/example/cheap-traces for the code."
    )


def test_a_plain_title_wrapped_over_two_lines() -> None:
    entries = parse_file((CAPTURES / "plain_with_metadata.txt").read_bytes(), "p.txt", "x").entries
    assert entries["title"][0] == (
        "Scalable Attentive Sentence-Pair Modeling via Distilled Sentence Embedding"
    )


# --- per-paper metadata ---------------------------------------------------------------------------


def test_metadata_lines_of_a_paper_card() -> None:
    frame = _fixture("trending_fenced_web_source.md")
    first, second = frame.drop("raw_entry").rows(named=True)
    assert first["submitted_by"] == "akhaliq"
    assert first["published_at"] == _midnight(2025, 3, 12)
    assert (first["upvotes"], first["comments"]) == (42, 3)
    assert (first["author_count"], first["organization"]) == (5, "Monash University")
    assert first["github_stars"] == 11_300
    assert first["capture_links"] == ["https://github.com/example-lab/plan-ahead"]
    assert first["arxiv_id_raw"] == "2503.01234"
    # "-" is no upvote count; "[LINK: GitHub 2.1k](...)"; "Published on Mar 11" takes the
    # year of the capture date
    assert (second["upvotes"], second["comments"]) == (None, None)
    assert second["github_stars"] == 2_100
    assert second["capture_links"] == ["https://github.com/deeplab/sparse-moe"]
    assert second["published_at"] == _midnight(2025, 3, 11)
    assert (second["author_count"], second["organization"]) == (12, "DeepLab")
    # image placeholders are skipped
    assert not frame["abstract_raw"].str.contains("Image|!\\[").any()


def test_plain_titles_with_metadata_and_a_published_date_without_a_year() -> None:
    frame = _fixture("plain_with_metadata.txt")
    first, second = frame.rows(named=True)
    assert first["page_kind"] == "unknown"
    assert (first["upvotes"], first["comments"], first["author_count"]) == (17, 2, 3)
    assert (first["organization"], first["submitted_by"]) == ("Microsoft", "oren")
    # [GitHub](https://github.com/...) without a star count is a code link, not the site footer
    assert first["capture_links"] == ["https://github.com/microsoft/Distilled-Sentence-Embedding"]
    assert first["github_stars"] is None
    assert first["arxiv_id_raw"] == "1908.05161"
    # "Published on Mar 12" with no capture date: the year is unknown, so no date
    assert first["published_at"] is None
    assert second["published_at"] == _midnight(2024, 3, 11)
    assert (second["upvotes"], second["organization"]) == (None, None)
    assert first["raw_entry"].startswith("Scalable Attentive Sentence-Pair Modeling via\n")
    assert first["raw_entry"].endswith("compare with a dot product.")
    dated = _fixture("plain_with_metadata.txt", captured_on=date(2025, 3, 20))
    assert dated["published_at"][0] == _midnight(2025, 3, 12)


def test_metadata_before_the_title_belongs_to_that_title() -> None:
    frame = _fixture("search_leading_metadata.md")
    assert frame.select("arxiv_id_raw", "upvotes", "comments").rows() == [
        ("2212.09748", 88, 5),
        ("2401.11605", 31, 2),
    ]
    assert frame["page_kind"].unique().to_list() == ["search"]


def test_the_arxiv_id_comes_from_links_and_loses_its_version() -> None:
    text = (
        "# Trending Papers\n\n## A Paper\n\n[arXiv Page](https://arxiv.org/abs/2503.01234v3)\n\n"
        "Its abstract.\n"
    )
    frame, _ = _parse(text)
    assert frame["arxiv_id_raw"].to_list() == ["2503.01234v3"]
    entries = parse_file(text.encode(), "t.md", "x").entries
    assert entries.select("arxiv_id", "arxiv_version").row(0) == ("2503.01234", 3)


def test_hard_wrapped_abstracts_lose_markdown_line_breaks() -> None:
    frame = _fixture("trending_fenced_web_source.md")
    assert frame["abstract_raw"][0] == (
        "We study agents that plan ahead. Our method looks several steps\n"
        "into the future and picks the action with the best outcome.\n"
        "Code and models are released."
    )
    entries = parse_file((CAPTURES / "trending_fenced_web_source.md").read_bytes(), "t.md", "x")
    assert "\\" not in entries.entries["abstract"][0]
    assert "  " not in entries.entries["abstract"][0]


# --- repeats, cuts and dates ----------------------------------------------------------------------


def test_repeated_blocks_are_emitted_and_counted_once() -> None:
    frame = _fixture("repeated_blocks.md")
    assert frame["position"].to_list() == [1, 2, 3, 4]
    assert frame["title_raw"].to_list() == ["Paper One", "Paper One", "Paper Two", "Paper Two"]
    parsed = parse_file((CAPTURES / "repeated_blocks.md").read_bytes(), "repeated.md", "x")
    assert parsed.entries.select("arxiv_id", "rank").rows() == [
        ("2501.00001", 1),
        ("2501.00002", 2),
    ]
    assert parsed.rejects["reason"].to_list() == ["repeats an earlier entry of the same file"] * 2


def test_plain_blocks_repeated_in_a_row_count_once() -> None:
    block = "Same Paper\n\nThe same abstract.\n\n"
    parsed = parse_file(f"Trending Papers\n\nMar 12\n\n{block}{block}".encode(), "t.txt", "x")
    assert parsed.entries["title"].to_list() == ["Same Paper"]
    assert parsed.rejects["position"].to_list() == [2]


def test_a_truncation_marker_rejects_the_cut_entry() -> None:
    frame, rejects = _parse((CAPTURES / "truncated_marker.md").read_text(encoding="utf-8"))
    assert frame["title_raw"].to_list() == ["Complete Paper"]
    assert [(r.position, r.excerpt) for r in rejects] == [(2, "Cut Paper")]
    assert "cut off" in rejects[0].reason and rejects[0].rule == "capture.cut_off"


def test_a_truncation_marker_after_a_complete_entry_keeps_it() -> None:
    text = "# Trending Papers\n\n## One\n\nAbstract one.\n\n## Two\n\nAbstract two.\n\n"
    frame, rejects = _parse(text + "[Content truncated]\n")
    assert (frame.height, rejects) == (2, [])
    frame, rejects = _parse(text + "## Three\n\n[Content truncated: 2,000 characters]\n")
    assert frame.height == 2
    assert [(r.position, "cut off" in r.reason) for r in rejects] == [(3, True)]


def test_a_capture_that_ends_after_a_title_and_its_metadata() -> None:
    frame, rejects = _parse((CAPTURES / "truncated_end.txt").read_text(encoding="utf-8"))
    assert frame["title_raw"].to_list() == ["A Complete Paper"]
    assert [(r.position, r.excerpt) for r in rejects] == [(2, "A Paper Cut Off")]
    assert "cut off" in rejects[0].reason and rejects[0].rule == "capture.cut_off"


@pytest.mark.parametrize(
    ("url", "kind", "listed_on"),
    [
        ("https://huggingface.co/papers/trending", "trending", None),
        ("https://huggingface.co/papers", "daily", None),
        ("https://huggingface.co/papers/date/2025-01-10", "daily", date(2025, 1, 10)),
        ("https://huggingface.co/papers?date=2025-01-10", "daily", date(2025, 1, 10)),
        ("https://huggingface.co/papers?q=video+generation", "search", None),
        ("https://example.org/reading-list", "unknown", None),
    ],
)
def test_the_page_kind_comes_from_the_url(url: str, kind: str, listed_on: date | None) -> None:
    paper = "## [A Paper](https://huggingface.co/papers/2503.01234)\n\nSubmitted by someone\n\n"
    frame, _ = _parse(f"**URL:** {url}\n\n{paper}Its abstract.\n")
    assert frame.select("page_kind", "listed_on").row(0) == (kind, listed_on)


def test_a_year_is_never_guessed() -> None:
    text = "Trending Papers\n\nMar 12\n\nA Paper\n\nIts abstract.\n"
    undated, _ = _parse(text)
    assert undated.select("listed_on", "listed_month_day").row(0) == (None, "03-12")
    by_setting, _ = _parse(text, capture_year=2024)
    assert by_setting["listed_on"][0] == date(2024, 3, 12)
    # a date line later than the capture is from the year before (a "Dec 31" page read on Jan 2)
    new_year, _ = _parse(text.replace("Mar 12", "Dec 31"), captured_on=date(2026, 1, 2))
    assert new_year["listed_on"][0] == date(2025, 12, 31)
    last_day, _ = _parse(text.replace("Mar 12", "Dec 30"), captured_on=date(9999, 12, 31))
    assert last_day["listed_on"][0] == date(9999, 12, 30)


def test_the_tiny_capture_of_the_curation_tests_still_parses() -> None:
    text = "Trending Papers\n\nMar 12\n\nA\n\nAn abstract about a.\n\nB Title\n\nAbout b.\n\n"
    frame, rejects = _parse(text)
    assert rejects == []
    assert frame.select("title_raw", "abstract_raw").rows() == [
        ("A", "An abstract about a."),
        ("B Title", "About b."),
    ]


def test_text_with_no_paper_is_refused() -> None:
    with pytest.raises(ListingError, match="no paper found"):
        _parse("Hugging Face\n\nModels\n\nTrending Papers\n\nMar 12\n\nSystem theme\n")
    with pytest.raises(ListingError, match="no paper found"):
        _parse("---\nurl: https://huggingface.co/papers/trending\n---\n")


def test_every_fixture_returns_the_parsed_entry_schema() -> None:
    for path in sorted(CAPTURES.glob("*.*")):
        frame, _ = _parse(path.read_text(encoding="utf-8"))
        assert dict(frame.schema) == PARSED_ENTRY_SCHEMA, path.name


# --- any text -------------------------------------------------------------------------------------

_PIECES = st.sampled_from(
    [
        "\n", "\n\n", "# Trending Papers", "### [T](https://huggingface.co/papers/2503.01234)",
        "[arXiv Page](https://arxiv.org/abs/2503.01234v2)", "[GitHub 11.3k](https://github.com/a/b)",
        "Submitted by x", "Published on Feb 29", "Published on Mar 12, 2025", "42", "-",
        "5 authors", "Mar 12", "Dec 31", "---", "```", "[Content truncated]", "[1]: https://x",
        "[T][1]", "![](i.png)", "**URL:** https://huggingface.co/papers?q=a", "A title", "Text.",
        # tools' own ways with links, widgets and chrome
        "[12]Title", "References", "  12. https://huggingface.co/papers/2503.01234", "[", "](x)",
        "](https://huggingface.co/papers/2503.01235)", "https://huggingface.co/papers/2503.01234",
        "[21](https://huggingface.co/login?next=%2Fpapers%2F2503.01234)", "·", "Upvote", "Mar 3",
        "Mar 12[4](https://huggingface.co/papers/2503.01234#community)", "> [!info] What is it?",
        "[- 3 authors](/papers/2503.01234)", "Get trending papers in your email inbox!",
    ]
)  # fmt: skip


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.one_of(
        st.text(max_size=400),
        st.lists(st.one_of(_PIECES, st.text(max_size=20)), max_size=40).map("\n".join),
    ),
    captured_on=st.one_of(st.none(), st.dates(date(1990, 1, 1), date(2100, 12, 31))),
    # most texts show no mark of a papers page and are refused before any paper is read: a
    # header sentence of the page makes the rest read as a listing, whatever it holds
    page_header=st.sampled_from(["", "Get trending papers in your email inbox!\n\n"]),
)
def test_any_text_parses_to_the_schema_or_is_refused(
    text: str, captured_on: date | None, page_header: str
) -> None:
    text = page_header + text
    try:
        frame, rejects = _parse(text, captured_on)
    except ListingError as error:
        assert str(error).startswith("trending-page/x.md: ")
        return
    assert dict(frame.schema) == PARSED_ENTRY_SCHEMA
    assert frame.height + len(rejects) > 0
    positions = sorted([*frame["position"].to_list(), *(r.position for r in rejects)])
    assert positions == list(range(1, len(positions) + 1))
    again, again_rejects = _parse(text, captured_on)
    assert again.equals(frame) and again_rejects == rejects


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(
        st.sampled_from(
            ["[", "]", "](x)", "][1]", "[a](b)", "- [", "### [T", "text", "", "[[", "]]"]
        ),
        max_size=200,
    )
)
def test_links_spread_over_lines_are_joined_within_bounds(lines: list[str]) -> None:
    closings = pc._link_closings(lines, 0, len(lines))
    reach = -1
    for opened, closed in sorted(closings.items()):
        assert reach < opened < closed <= opened + pc.MAX_LINK_LINES
        assert "](" in lines[closed] or "][" in lines[closed]
        reach = closed
