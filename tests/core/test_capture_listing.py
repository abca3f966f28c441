"""A text file that is no papers page is refused as a whole, never parsed into papers.

tests/fixtures/captures/not_listings holds texts that land beside listings: the licence of the
daily papers archive (the real Apache-2.0 text that came with it), a README of such an archive,
a CSV export, a fetch log, a chat and an article about trending papers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.core.errors import ListingError
from pipelines.core.ingest import capture_listing
from pipelines.core.ingest.entries import parse_file
from pipelines.core.ingest.landing import sha256_hex
from pipelines.core.ingest.page_capture import CaptureContext, listing_evidence, parse_page_capture
from tests.conftest import CAPTURE_NAME, SAMPLE_LANDING

CAPTURES = Path(__file__).resolve().parent.parent / "fixtures" / "captures"
NOT_LISTINGS = CAPTURES / "not_listings"

# each text that is no listing, and what the refusal says it looks like
LOOKS_LIKE = {
    "LICENSE": "a licence",
    "README.md": "a Markdown document such as a README",
    "papers.csv": "a CSV table",
    "fetch.log": "a log",
    "chat.md": "a chat transcript",
    "article.txt": "prose",
}


def test_every_text_that_is_no_listing_is_listed() -> None:
    assert sorted(LOOKS_LIKE) == sorted(path.name for path in NOT_LISTINGS.iterdir())


@pytest.mark.parametrize("name", sorted(LOOKS_LIKE))
def test_a_text_that_is_no_listing_is_refused_as_a_whole(name: str) -> None:
    text = (NOT_LISTINGS / name).read_text(encoding="utf-8")
    with pytest.raises(ListingError) as refused:
        parse_page_capture(text, CaptureContext(f"hf-daily-api/{name}"))
    assert refused.value.rule == "file.not_a_listing"
    assert refused.value.reason.startswith("not a listing: ")
    assert refused.value.reason.endswith(f"; it looks like {LOOKS_LIKE[name]}")
    assert not listing_evidence(text).is_listing


def test_the_licence_beside_the_archive_lands_as_a_refused_file() -> None:
    data = (NOT_LISTINGS / "LICENSE").read_bytes()
    parsed = parse_file(data, "hf-daily-api/LICENSE", sha256_hex(data))
    assert parsed.entries.height == 0
    assert parsed.file_error is not None
    assert parsed.file_error.startswith("not a listing: none of the marks of a papers page")
    assert parsed.rejects["rule"].to_list() == ["file.not_a_listing"]


def test_the_readme_of_a_papers_archive_shows_its_headline_and_no_more() -> None:
    evidence = listing_evidence((NOT_LISTINGS / "README.md").read_text(encoding="utf-8"))
    # "# Daily Papers" is the page's headline, and a README's title too: not enough alone
    assert evidence.page_headlines == {"daily papers"}
    assert evidence.score == capture_listing.PAGE_HEADLINE < capture_listing.LISTING_SCORE


@pytest.mark.parametrize("name", sorted(path.name for path in CAPTURES.glob("*.*")))
def test_every_capture_fixture_is_a_listing(name: str) -> None:
    assert listing_evidence((CAPTURES / name).read_text(encoding="utf-8")).is_listing


def test_the_real_capture_is_a_listing_by_its_header_and_by_its_rhythm_alone() -> None:
    text = (SAMPLE_LANDING / "trending-page" / CAPTURE_NAME).read_text(encoding="utf-8")
    evidence = listing_evidence(text)
    assert evidence.page_phrases  # "Get trending papers in your email inbox!", "byAK and ..."
    assert evidence.long_rhythm_pairs == 69
    # without the site's header: 69 title/abstract pairs and nothing else are a listing
    body = text[text.index("Sensitivity-Aware") :]
    assert listing_evidence(body).is_listing


@pytest.mark.parametrize(
    ("text", "score"),
    [
        # the headline alone (2), and with a date line (1)
        ("# Trending Papers\n\nSome text.\n", 2),
        ("# Trending Papers\n\nMar 12\n\nSome text.\n", 3),
        # a link to a paper page on the site (2) and a line of card metadata (1)
        ("[A Paper](https://huggingface.co/papers/2503.01234)\n\nSome text.\n", 2),
        ("[A Paper](https://huggingface.co/papers/2503.01234)\n\n5 authors\n", 3),
        # arXiv links on lines of their own: one each
        ("[A](https://arxiv.org/abs/2503.01234)\n\n[B](https://arxiv.org/abs/2503.01235)\n", 2),
        # a reading list of arXiv links: any text about papers cites arXiv, two points at most
        (
            "- [A](https://arxiv.org/abs/2503.01234)\n- [B](https://arxiv.org/pdf/2503.01235)\n"
            "- [C](https://arxiv.org/abs/2503.01236)\n",
            2,
        ),
        # an arXiv link inside a sentence is no mark
        ("See [our paper](https://arxiv.org/abs/2503.01234) and [that one][1].\n", 0),
        # the page's own sentences and a papers URL in the tool header are decisive
        ("Get trending papers in your email inbox!\n\nSome text.\n", 3),
        ("**URL:** https://huggingface.co/papers/trending\n\nSome text.\n", 3),
        # a single paper's page is not a listing's URL
        ("**URL:** https://huggingface.co/papers/2503.01234\n\nSome text.\n", 0),
        # three of the site's navigation labels: one point, not a listing
        ("Models\nDatasets\nSpaces\n\nSome text.\n", 1),
    ],
)
def test_each_mark_adds_its_weight(text: str, score: int) -> None:
    assert listing_evidence(text).score == score


def test_the_mark_lines_must_stand_alone() -> None:
    # the page's header words inside sentences, as a chat quotes them, are no mark
    text = (
        'The page says it is curated "by AK and the research community".\n\n'
        "I read Trending Papers every day, and Daily Papers on Mondays.\n"
    )
    assert listing_evidence(text).score == 0
