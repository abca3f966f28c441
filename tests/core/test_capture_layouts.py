"""Captures made by tools whose layouts differ most from the site's Markdown: a text browser, a
crawler, a note-taking clipper, a notebook exporter, a reader mode's "Save as Markdown", and a
plain copy of the rendered page.

Each fixture in tests/fixtures/captures is written from what its tool really outputs (card
structure of the papers pages as crawlers and browsers render them) with real papers of the
daily papers archive, so the expected ids and titles below are the real ones.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from pipelines.core.ingest.page_capture import CaptureContext, parse_page_capture

CAPTURES = Path(__file__).resolve().parent.parent / "fixtures" / "captures"


def _parse(
    name: str, captured_on: date | None = None
) -> tuple[pl.DataFrame, list[tuple[int, str, str]]]:
    text = (CAPTURES / name).read_text(encoding="utf-8")
    frame, rejects = parse_page_capture(text, CaptureContext(f"captures/{name}", captured_on))
    return frame, [(reject.position, reject.rule, reject.excerpt) for reject in rejects]


def _day(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


# the rejects of every fixture: only its genuinely broken entries
BROKEN_ENTRIES: dict[str, list[tuple[int, str, str]]] = {
    "daily_front_matter.md": [],
    "plain_with_metadata.txt": [],
    "repeated_blocks.md": [],
    "search_leading_metadata.md": [],
    "trending_fenced_web_source.md": [],
    "truncated_end.txt": [(2, "capture.cut_off", "A Paper Cut Off")],
    "truncated_marker.md": [(2, "capture.cut_off", "Cut Paper")],
    "lynx_dump_daily.txt": [],
    "firecrawl_search.md": [],
    "obsidian_clipper_trending.md": [],
    "notebook_export_search.md": [
        (4, "capture.cut_off", "MoM: Linear Sequence Modeling with Mixture-of-Memories")
    ],
    "markdownload_daily.md": [],
    # the copy's selection ends right after the fifth card's title
    "browser_copy_trending.txt": [
        (
            5,
            "capture.cut_off",
            "SegAgent: Exploring Pixel Understanding Capabilities in MLLMs by Imitating Human "
            "Annotator Trajectories",
        )
    ],
}


def test_every_fixture_is_listed_with_its_broken_entries() -> None:
    assert sorted(BROKEN_ENTRIES) == sorted(path.name for path in CAPTURES.glob("*.*"))


@pytest.mark.parametrize("name", sorted(BROKEN_ENTRIES))
def test_the_rejects_of_a_fixture_are_exactly_its_broken_entries(name: str) -> None:
    frame, rejects = _parse(name)
    assert rejects == BROKEN_ENTRIES[name]
    # every entry read is kept or rejected: positions run from 1 without a gap
    positions = sorted([*frame["position"].to_list(), *(position for position, _, _ in rejects)])
    assert positions == list(range(1, len(positions) + 1))


@pytest.mark.parametrize("name", sorted(BROKEN_ENTRIES))
def test_each_entry_keeps_the_lines_of_its_own_card(name: str) -> None:
    frame, _ = _parse(name)
    heads = [title[:24] for title in frame["title_raw"].to_list()]
    ids = [paper or "no id" for paper in frame["arxiv_id_raw"].to_list()]
    for head, paper, raw in zip(heads, ids, frame["raw_entry"].to_list(), strict=True):
        assert head in raw
        assert not any(other in raw for other in heads if other != head), (name, head)
        assert not any(other in raw for other in ids if other[:10] != paper[:10]), (name, head)


# --- a text browser: lynx -dump --------------------------------------------------------------


def test_a_text_browser_dump_reads_its_numbered_links() -> None:
    frame, _ = _parse("lynx_dump_daily.txt")
    assert frame["arxiv_id_raw"].to_list() == [
        "2503.09566",
        "2503.09151",
        "2503.09573",
        "2503.09402",
    ]
    # titles wrapped at the browser's 80 columns are whole again
    assert frame["title_raw"].to_list() == [
        "TPDiff: Temporal Pyramid Video Diffusion Model",
        "Reangle-A-Video: 4D Video Generation as Video-to-Video Translation",
        "Block Diffusion: Interpolating Between Autoregressive and Diffusion Language Models",
        "VLog: Video-Language Models by Generative Retrieval of Narration Vocabulary",
    ]
    assert frame["page_kind"].unique().to_list() == ["daily"]
    assert frame.select("listed_on", "listed_month_day").unique().rows() == [(None, "03-13")]
    # each card's upvote count, author count, organisation and comments stay with it
    assert frame.select("upvotes", "author_count", "organization", "comments").rows() == [
        (21, 2, None, 1),
        (18, 3, None, 1),
        (11, None, "Cornell University", 1),
        (2, 2, "Show Lab", 1),
    ]
    assert frame["abstract_raw"][1].endswith("https://hyeonho99.github.io/reangle-a-video/")
    assert not frame["abstract_raw"].str.contains(r"\[\d+\]|References|System theme").any()


def test_a_text_browser_dump_dates_with_the_capture_date() -> None:
    frame, _ = _parse("lynx_dump_daily.txt", captured_on=date(2025, 3, 13))
    assert frame["listed_on"].unique().to_list() == [date(2025, 3, 13)]
    # "·" / "Mar 12" under each card: its publication date
    assert frame["published_at"].unique().to_list() == [_day(2025, 3, 12)]


# --- a crawler: Firecrawl Markdown ---------------------------------------------------------


def test_a_crawler_capture_anchors_each_card_on_its_paper_links() -> None:
    frame, _ = _parse("firecrawl_search.md")
    assert frame["arxiv_id_raw"].to_list() == [
        "2503.09566",
        "2503.05978",
        "2503.08605",
        "2503.09151",
    ]
    # the crawler's line breaks inside titles ("Words and\\  Voice") are spaces again
    assert frame["title_raw"].to_list() == [
        "TPDiff: Temporal Pyramid Video Diffusion Model",
        "MagicInfinite: Generating Infinite Talking Videos with Your Words and Voice",
        "Tuning-Free Multi-Event Long Video Generation via Synchronized Coupled Sampling",
        "Reangle-A-Video: 4D Video Generation as Video-to-Video Translation",
    ]
    assert frame["page_kind"].unique().to_list() == ["search"]
    # the page's date line, with the year of the scrape time in the tool header
    assert frame["listed_on"].unique().to_list() == [date(2025, 3, 13)]
    # upvotes (a login link before the title) and the rest of the card (after its abstract)
    assert frame.select("upvotes", "author_count", "organization", "comments").rows() == [
        (21, 2, None, 1),
        (16, 13, None, None),
        (13, None, "KAIST AI", 1),
        (18, 3, None, 1),
    ]
    assert frame["published_at"].to_list() == [
        _day(2025, 3, 12),
        _day(2025, 3, 7),
        _day(2025, 3, 11),
        _day(2025, 3, 12),
    ]


def test_an_abstract_written_as_a_link_keeps_its_lines_without_line_breaks() -> None:
    frame, _ = _parse("firecrawl_search.md")
    first = frame["abstract_raw"][0]
    assert first.startswith("The development of video diffusion models unveils a significant")
    assert first.endswith("improvement in inference efficiency.")
    assert "\\" not in first and "](" not in first
    assert first.count("\n") == 15  # the arXiv abstract's 16 lines


def test_chrome_of_a_crawled_page_is_no_paper_and_no_text_of_one() -> None:
    frame, rejects = _parse("firecrawl_search.md")
    assert rejects == []
    text = " ".join(frame["abstract_raw"].to_list() + frame["title_raw"].to_list())
    for chrome in ("cookies", "Trending Papers ranked", "Previous", "System theme", "Subscribe"):
        assert chrome not in text


# --- a note-taking clipper: Obsidian Web Clipper ------------------------------------------------


def test_a_clipper_note_with_properties_and_callouts() -> None:
    frame, _ = _parse("obsidian_clipper_trending.md")
    assert frame["arxiv_id_raw"].to_list() == [
        "2503.08638",
        "2503.07920",
        "2503.07536",
        "2503.08625",
    ]
    assert frame["title_raw"].to_list() == [
        "YuE: Scaling Open Foundation Models for Long-Form Music Generation",
        "Crowdsource, Crawl, or Generate? Creating SEA-VL, a Multicultural Vision-Language "
        "Dataset for Southeast Asia",
        "LMM-R1: Empowering 3B LMMs with Strong Reasoning Abilities Through Two-Stage "
        "Rule-Based RL",
        "SegAgent: Exploring Pixel Understanding Capabilities in MLLMs by Imitating Human "
        "Annotator Trajectories",
    ]
    assert frame["page_kind"].unique().to_list() == ["trending"]
    # no date line on the trending page: the clipper's "created" property dates the listing
    assert frame["listed_on"].unique().to_list() == [date(2025, 3, 12)]
    # "Submitted by" stands above each title; the organisation, date, votes and stars below
    assert frame.select("submitted_by", "organization", "upvotes", "github_stars").rows() == [
        ("akhaliq", "Multimodal Art Projection", 34, None),
        ("seavl-team", None, 29, None),
        ("lmm-r1-author", None, 20, 1_050),
        ("segagent-author", "AIM@ZJU", 18, 156),
    ]
    assert frame["author_count"].to_list() == [None, 92, 10, None]
    assert frame["capture_links"][2].to_list() == ["https://github.com/TideDra/lmm-r1"]


def test_callouts_and_the_notes_of_a_clipper_are_skipped() -> None:
    frame, rejects = _parse("obsidian_clipper_trending.md")
    assert rejects == []
    text = " ".join(frame["abstract_raw"].to_list())
    for note in ("What are Trending Papers", "Reading list", "My notes", "licence"):
        assert note not in text


# --- a notebook exporter: each link's text, then its URL -----------------------------------------


def test_a_notebook_export_reads_text_then_url_as_links() -> None:
    frame, rejects = _parse("notebook_export_search.md")
    assert frame["arxiv_id_raw"].to_list() == ["2502.13923", "2502.13128", "2502.13347"]
    assert frame["title_raw"].to_list() == [
        "Qwen2.5-VL Technical Report",
        "SongGen: A Single Stage Auto-regressive Transformer for Text-to-Song Generation",
        "Craw4LLM: Efficient Web Crawling for LLM Pretraining",
    ]
    assert frame["page_kind"].unique().to_list() == ["search"]
    # "Feb 20" with the year of the export date
    assert frame["listed_on"].unique().to_list() == [date(2025, 2, 20)]
    assert frame.select("upvotes", "author_count", "organization", "comments").rows() == [
        (32, None, "Qwen", 1),
        (16, 9, None, 1),
        (13, 3, None, 1),
    ]
    assert frame["published_at"].to_list() == [
        _day(2025, 2, 19),
        _day(2025, 2, 18),
        _day(2025, 2, 19),
    ]
    assert frame["abstract_raw"][0].startswith("We introduce Qwen2.5-VL, the latest flagship")
    # the export stops after the fourth card's title: that entry is cut off
    assert [(position, rule) for position, rule, _ in rejects] == [(4, "capture.cut_off")]


# --- a reader mode's "Save as Markdown": MarkDownload -----------------------------------------


def test_a_reader_mode_export_of_a_daily_page_without_abstracts() -> None:
    frame, _ = _parse("markdownload_daily.md")
    assert frame["arxiv_id_raw"].to_list() == [
        "2503.22675",
        "2503.22230",
        "2503.19693",
        "2503.22194",
    ]
    assert frame["title_raw"].to_list() == [
        "Think Before Recommend: Unleashing the Latent Reasoning Power for Sequential "
        "Recommendation",
        "Exploring Data Scaling Trends and Effects in Reinforcement Learning from Human Feedback",
        "AdaptiVocab: Enhancing LLM Efficiency in Focused Domains through Lightweight Vocabulary "
        "Adaptation",
        "ORIGEN: Zero-Shot 3D Orientation Grounding in Text-to-Image Generation",
    ]
    assert frame["page_kind"].unique().to_list() == ["daily"]
    assert frame["listed_on"].unique().to_list() == [date(2025, 3, 31)]
    # a card element wrapped in one link over several lines ("[", "", "19", "", "](...)")
    assert frame.select("upvotes", "author_count", "organization", "comments").rows() == [
        (19, 8, None, 1),
        (13, 8, "ByteDance Seed", 1),
        (13, 5, None, 1),
        (12, 5, "KAIST AI", 2),
    ]
    # the daily page shows no abstracts, and the blurb after the last card is none
    assert frame["abstract_raw"].to_list() == [None] * 4


# --- a plain copy of the rendered page ------------------------------------------------------


def test_a_plain_copy_of_the_page_pairs_titles_and_abstracts() -> None:
    frame, _ = _parse("browser_copy_trending.txt")
    assert frame["arxiv_id_raw"].to_list() == [None] * 4  # a copy has no links
    assert frame["title_raw"].to_list() == [
        "YuE: Scaling Open Foundation Models for Long-Form Music Generation",
        "Seedream 2.0: A Native Chinese-English Bilingual Image Generation Foundation Model",
        "LMM-R1: Empowering 3B LMMs with Strong Reasoning Abilities Through Two-Stage "
        "Rule-Based RL",
        "Implicit Reasoning in Transformers is Reasoning through Shortcuts",
    ]
    assert frame["page_kind"].unique().to_list() == ["trending"]
    assert frame.select("listed_on", "listed_month_day").unique().rows() == [(None, None)]
    # the lines after an abstract belong to its card until the next "Submitted by"
    assert frame.select("submitted_by", "organization", "upvotes", "github_stars").rows() == [
        ("akhaliq", "Multimodal Art Projection", 34, 4_100),
        ("seedream-team", "ByteDance Seed", 20, None),
        ("lmm-r1-author", None, 20, 1_050),
        ("reasoning-author", None, 14, 42),
    ]
    assert frame["author_count"].to_list() == [None, None, 10, 4]
    assert frame["published_at"].to_list() == [
        _day(2025, 3, 11),
        _day(2025, 3, 10),
        _day(2025, 3, 10),
        _day(2025, 3, 10),
    ]
    assert (frame["abstract_raw"].str.len_chars() > 1_000).all()
