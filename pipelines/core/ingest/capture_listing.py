"""Whether a text file is a capture of a Hugging Face papers page at all.

Text files land beside the listings that are not listings: the licence of an archive, its
README, a CSV export, a log, a chat transcript, an article. Parsed as page captures, their
paragraphs would become "papers". A capture is read only when it shows enough of the marks of a
papers page; the page-capture parser gathers the marks (see ``page_capture.listing_evidence``)
and this module weighs them.

Each mark adds points to a score, and a text is a listing when the score reaches
``LISTING_SCORE``. The weights say how much each mark alone tells:

* marks only a papers page has are decisive on their own (``DECISIVE``): the capturing tool's
  URL of a ``huggingface.co/papers`` listing, a sentence of the page's own header ("Get trending
  papers in your email inbox", "by AK and the research community", the page title "Trending
  Papers - Hugging Face"), and the title/abstract rhythm of a plain capture over many papers;
* the page's bare headline ("Trending Papers", "Daily Papers") is worth ``PAGE_HEADLINE`` (2),
  not more: a README of a papers project is titled that way too;
* a link to a paper page on the site (``huggingface.co/papers/<id>``, or its upvote button) is
  worth ``SITE_PAPER_LINK`` (2) per paper, and an arXiv link on a line of its own
  ``ARXIV_PAPER_LINK`` (1), at most ``MAX_ARXIV_LINKS_SCORE`` (2) for all of them: any text
  about papers cites arXiv (a README, a reading list), only a papers page links to the site;
* a line of a paper card's metadata ("Submitted by", "Published on", "12 authors",
  "34 upvotes", "[GitHub 1.2k]") is worth ``CARD_METADATA`` (1) per line;
* a listing date line ("Mar 12") is worth ``LISTING_DATE`` (1), the site's navigation or footer
  ``SITE_CHROME`` (1) when at least ``MIN_SITE_CHROME_LABELS`` of its labels show, and a short
  rhythm of two title/abstract pairs with next to nothing else ``SHORT_RHYTHM`` (1).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

# three points: one strong mark and a weak one, or three weak ones that agree (a date line, the
# site's navigation and two title/abstract pairs), make a listing; a weak mark alone, or a
# strong one alone, does not
LISTING_SCORE = 3
# a mark no other text has: enough alone
DECISIVE = LISTING_SCORE
# strong marks: a sign of the site or of a papers page, which other texts show now and then
PAGE_HEADLINE = 2
SITE_PAPER_LINK = 2
# weak marks: what a paper card has, but any text about papers may have once or twice
ARXIV_PAPER_LINK = 1
CARD_METADATA = 1
LISTING_DATE = 1
SITE_CHROME = 1
SHORT_RHYTHM = 1
# any document about papers cites arXiv: arXiv links alone never make a listing
MAX_ARXIV_LINKS_SCORE = LISTING_SCORE - 1
# a word alone ("Models", "Docs") is a heading of many a document: three of the site's
# navigation or footer labels together are its chrome
MIN_SITE_CHROME_LABELS = 3
# a plain capture's rhythm: at least this many title/abstract pairs...
MIN_RHYTHM_PAIRS = 3
# ...with abstracts of at least this many characters (real abstracts run 500 to 2,000; a README
# section or an article's paragraph under a heading is often shorter)...
MIN_RHYTHM_ABSTRACT_CHARS = 250
# ...making up at least this share of the text's paragraphs (an article has several paragraphs
# under each heading, a plain capture one abstract under each title)
MIN_RHYTHM_SHARE = 0.8
# a short rhythm: this many pairs, and no more than one paragraph outside them (a title cut
# off at the end)
SHORT_RHYTHM_PAIRS = 2
SHORT_RHYTHM_SPARE = 1

# lines read when telling what a refused text looks like: enough to see its shape, bounded
_LOOKS_LIKE_LINES = 200


@dataclass
class ListingEvidence:
    """The marks of a papers page found in a text, and the score they add up to."""

    page_url: bool = False
    page_phrases: set[str] = field(default_factory=set)
    page_headlines: set[str] = field(default_factory=set)
    site_paper_ids: set[str] = field(default_factory=set)
    arxiv_paper_ids: set[str] = field(default_factory=set)
    card_metadata_lines: int = 0
    date_line: bool = False
    site_chrome_labels: set[str] = field(default_factory=set)
    rhythm_pairs: int = 0
    long_rhythm_pairs: int = 0
    paragraphs: int = 0

    @property
    def score(self) -> int:
        """The marks' points added up, at most ``DECISIVE``."""
        if self.page_url or self.page_phrases or self._long_rhythm():
            return DECISIVE
        arxiv_only = self.arxiv_paper_ids - self.site_paper_ids
        score = (
            (PAGE_HEADLINE if self.page_headlines else 0)
            + SITE_PAPER_LINK * len(self.site_paper_ids)
            + min(ARXIV_PAPER_LINK * len(arxiv_only), MAX_ARXIV_LINKS_SCORE)
            + CARD_METADATA * self.card_metadata_lines
            + (LISTING_DATE if self.date_line else 0)
            + (SITE_CHROME if len(self.site_chrome_labels) >= MIN_SITE_CHROME_LABELS else 0)
            + (SHORT_RHYTHM if self._short_rhythm() else 0)
        )
        return min(score, DECISIVE)

    @property
    def is_listing(self) -> bool:
        return self.score >= LISTING_SCORE

    def _long_rhythm(self) -> bool:
        return (
            self.long_rhythm_pairs >= MIN_RHYTHM_PAIRS
            and self.paragraphs > 0
            and 2 * self.long_rhythm_pairs >= MIN_RHYTHM_SHARE * self.paragraphs
        )

    def _short_rhythm(self) -> bool:
        return (
            self.rhythm_pairs >= SHORT_RHYTHM_PAIRS
            and 2 * self.rhythm_pairs + SHORT_RHYTHM_SPARE >= self.paragraphs
        )

    def found(self) -> list[str]:
        """The marks found, in words, strongest first."""
        marks = []
        if self.page_headlines:
            marks.append(f"the headline {sorted(self.page_headlines)[0]!r}")
        papers = len(self.site_paper_ids | self.arxiv_paper_ids)
        if papers:
            marks.append(f"{papers} paper link{'s' if papers > 1 else ''}")
        if self.card_metadata_lines:
            marks.append(f"{self.card_metadata_lines} line(s) of paper metadata")
        if self.date_line:
            marks.append("a date line")
        if len(self.site_chrome_labels) >= MIN_SITE_CHROME_LABELS:
            marks.append("the site's navigation")
        if self._short_rhythm():
            marks.append(f"{self.rhythm_pairs} title/abstract pairs")
        return marks


def not_a_listing_reason(evidence: ListingEvidence, lines: list[str]) -> str:
    """The reason given for refusing a text that is no listing: what is missing, what it is."""
    found = evidence.found()
    if found:
        missing = (
            f"too few marks of a papers page ({', '.join(found)}: score {evidence.score}, "
            f"{LISTING_SCORE} needed)"
        )
    else:
        missing = (
            "none of the marks of a papers page (the site's header, paper links, a listing "
            "date, paper metadata, title/abstract pairs)"
        )
    return f"not a listing: {missing}; it looks like {looks_like(lines)}"


_LICENCE_WORDS = re.compile(
    r"(?i)\b(?:licen[sc]e|copyright|permission is hereby granted|all rights reserved)\b"
)
# a licence names itself in its first lines ("Apache License", "MIT License", "Copyright (c)")
_LICENCE_HEAD_LINES = 3
_TIMESTAMP = re.compile(
    r"^\s*\[?(?:\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\d{2}:\d{2}:\d{2}|\d{2}/\d{2}/\d{4})"
    r"|^\s*\[?(?:DEBUG|INFO|WARN(?:ING)?|ERROR|CRITICAL|TRACE)\b"
)
# "alice: hi", "**bob:** yes", "[10:42] carol: ok", "### User"
_SPEAKER = re.compile(
    r"(?i)^\s*(?:\[[^\]]{1,20}\]\s*)?(?:\*\*|__)?[\w .'@-]{1,30}(?:\*\*|__)?:(?:\*\*|__)?\s+\S"
    r"|^\s*#{1,4}\s*(?:user|assistant)\b"
)
_MARKDOWN_BLOCK = re.compile(r"^\s*(?:#{1,6}\s|```|~~~|[-*+]\s|\d{1,3}\.\s|>)")
# a share of a text's lines that makes it a table, a log or a chat
_MOSTLY = 0.6
# a header and two rows: fewer lines with commas are a sentence or two, not a table
_MIN_TABLE_ROWS = 3
# a share of Markdown block lines (headings, lists, fences) that makes a document of a text
_MARKDOWN_SHARE = 0.2


def looks_like(lines: list[str]) -> str:
    """What a text that is no listing looks like, for the operator who reads the refusal."""
    sample = [line for line in lines[: _LOOKS_LIKE_LINES * 4] if line.strip()][:_LOOKS_LIKE_LINES]
    if not sample:
        return "an empty text"
    if _LICENCE_WORDS.search("\n".join(sample[:_LICENCE_HEAD_LINES])):
        return "a licence"
    share = 1 / len(sample)
    if sum(1 for line in sample if _TIMESTAMP.match(line)) * share >= _MOSTLY:
        return "a log"
    for delimiter, name in ((",", "CSV"), ("\t", "TSV"), (";", "CSV")):
        # a table: most lines hold the same number of delimiters (quoted cells aside)
        common, rows = Counter(line.count(delimiter) for line in sample).most_common(1)[0]
        if len(sample) >= _MIN_TABLE_ROWS and common >= 1 and rows * share >= _MOSTLY:
            return f"a {name} table"
    if sum(1 for line in sample if _SPEAKER.match(line)) * share >= _MOSTLY:
        return "a chat transcript"
    if sum(1 for line in sample if _MARKDOWN_BLOCK.match(line)) * share >= _MARKDOWN_SHARE:
        return "a Markdown document such as a README"
    return "prose"
