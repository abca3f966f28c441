"""Parser for text captures of Hugging Face papers pages (Trending Papers, Daily Papers, search).

A capture is what a person or a tool saved of the rendered page. The layouts seen in practice:

* **Tool header.** Capturing tools put their own lines before the page: YAML front matter
  (``--- ... ---``, also the properties of note-taking clippers), ``**URL:** ...`` /
  ``**Page Title:** ...`` lines, jina-style ``Title:`` / ``URL Source:`` / ``Markdown Content:``
  lines, or a ``# Web source`` list with the capture time; the page itself may sit inside a
  fenced ```` ``` ```` block. The header gives the page URL (and so the kind of page, and the
  date of a ``/papers/date/YYYY-MM-DD`` page) and the capture date.
* **Links written their own way.** Text browsers (``lynx -dump``) number their links and list
  the URLs at the end; notebook exporters write a link's text and then its URL on a line of its
  own; crawlers and reader modes wrap a whole card element (an upvote box, an abstract, an
  author list) in one link spread over many lines. The first two are rewritten as Markdown links
  (``capture_decode``), the third is read as one logical line.
* **Site chrome.** Navigation (``Models``, ``Log In``...), the page's own header (``# Trending
  Papers``, ``Get trending papers in your email inbox once a day!``, ``by AK and the research
  community``), tabs (``Daily``/``Weekly``/``Monthly``), an optional date line (``Mar 12``, often
  without the year), pagination, explainer boxes (``What is ...?``), cookie banners, notes and
  callouts quoted by a clipper (``> [!info]``), separators and the footer (``System theme``,
  ``TOS``...). Chrome is skipped wherever it is.
* **Paper cards.** Per paper a title, metadata and the abstract. Titles are plain lines
  (possibly wrapped over two lines), ``#`` headings, links to ``huggingface.co/papers/<id>``
  (inline, reference-style, relative ``/papers/<id>``, numbered by a text browser). Metadata:
  ``Submitted by X``, ``Published on Mar 12[, 2025]`` (or a bare date after a ``·``), an upvote
  count (``-`` for none; also the upvote button, a link to ``/login?next=/papers/<id>``),
  ``N authors``, an organisation name or link, a comment count (``[4](.../papers/<id>#community)``),
  ``[GitHub 11.3k](https://github.com/o/r)``, ``[arXiv Page](https://arxiv.org/abs/<id>)`` and
  image placeholders.

**Whether it is a listing at all.** A text that shows too few of the marks of a papers page (a
licence, a README, a CSV, a log, a chat, an article) is refused as a whole with the rule
``file.not_a_listing``, before anything is read as a paper (see ``capture_listing`` for the
marks and their weights, ``listing_evidence`` for gathering them).

**Three reading modes**, chosen by what identifies the papers of the capture:

* *Anchored* (the capture has title links to papers): a paper is anchored on its paper link.
  Each title link to a paper starts a paper; a heading without a link starts one only if a link
  to a paper follows in its card (an ``arXiv Page`` link), and is dropped otherwise (an explainer
  box, a clipper's own notes). Text that is attached to no paper (before the first, or after a
  paper's metadata has closed its card) is skipped: it is never a paper and never a reject.
  Metadata that carries a paper id (an upvote button, a comment count, an author list linking to
  the paper) goes to that paper, wherever it is written.
* *Headings* (titles are headings, no paper links): only headings start a paper; everything else
  is metadata or abstract, so an abstract may span several paragraphs.
* *Plain* (no headings, no links, as in the real sample): a paper is a title paragraph followed
  by one abstract paragraph, and the paragraph after the abstract is the next title: pairing is
  the only signal a plain capture has, so abstracts are never taken for titles.

In every mode, a card's metadata may come before its title (an upvote count, "Submitted by" above
the title) or after its abstract (the organisation, the date, the stars). The first card tells
which: the kinds of metadata written before the first title are the page's leading kinds, and
later, after an abstract, metadata of a leading kind starts the next card while other metadata
still belongs to the card it follows.

A capture cut off in the middle (a ``[Content truncated]`` marker, or text that ends after a title
or its metadata) keeps its complete papers and rejects the cut one. A reject is always a paper
entry that is broken. Repeated blocks are all emitted; ``entries.normalise_entries`` rejects the
repeats by identity.

The year of a date without one is never guessed: it comes from the capture date (the context's
``captured_on``, else the time in the tool header), or an operator's ``capture_year``; otherwise
``listed_on`` stays empty and ``listed_month_day`` keeps month and day.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import unquote

import polars as pl

from pipelines.core.errors import ListingError, RejectedEntry
from pipelines.core.ingest.capture_decode import decode_tool_links
from pipelines.core.ingest.capture_listing import (
    MIN_RHYTHM_ABSTRACT_CHARS,
    ListingEvidence,
    not_a_listing_reason,
)
from pipelines.core.schema import PARSED_ENTRY_SCHEMA

_MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
# full names, three-letter abbreviations and the common "Sept"
MONTHS = {
    **{name: number for number, name in enumerate(_MONTH_NAMES, start=1)},
    **{name[:3]: number for number, name in enumerate(_MONTH_NAMES, start=1)},
    "sept": 9,
}
_MONTH_DAY = r"(?P<month>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2})(?:,?\s+(?P<year>\d{4}))?"
_DATE_LINE = re.compile(rf"^{_MONTH_DAY}$")
_PUBLISHED = re.compile(rf"(?i)^published\s+on:?\s+{_MONTH_DAY}$")
# an ISO date, optionally with a time and an offset (a capture time such as 2025-03-12T22:10Z)
_ISO_DATE_TIME = re.compile(
    r"(?<!\d)\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?\s?(?:Z|[+-]\d{2}:?\d{2})?)?"
)
_WRITTEN_DATE = re.compile(rf"(?i)\b{_MONTH_DAY}\b")
# a date line later than the capture by more than this belongs to the year before: a page shows
# no future dates, but a page in a time zone ahead of the capturing clock may show tomorrow
_FUTURE_SLACK = timedelta(days=7)

# the page's own header sentences: no other text has them on a line of their own
_PAGE_PHRASES = frozenset(
    {
        "get trending papers in your email inbox!",
        "get trending papers in your email inbox once a day!",
        "byak and the research community",
        "by ak and the research community",
        "trending papers - hugging face",
        "daily papers - hugging face",
        "papers - hugging face",
    }
)
# the page's headline: also the title of many a README about papers
_PAGE_HEADLINES = frozenset({"trending papers", "daily papers"})
# the site's navigation and footer
_SITE_CHROME = frozenset(
    {
        "hugging face", "hugging face's logo", "models", "datasets", "spaces", "community",
        "docs", "documentation", "enterprise", "pricing", "log in", "login", "sign up", "signup",
        "posts", "collections", "solutions", "search models, datasets, users...", "system theme",
        "light theme", "dark theme", "company", "tos", "terms of service", "privacy", "about",
        "jobs", "careers", "website", "blog", "learn", "discord", "forum", "changelog", "status",
        "press", "brand assets", "inference endpoints", "inference providers", "hf store",
        "use cases", "tasks", "chat", "resources", "community forums",
    }
)  # fmt: skip
# lines of the site around the listing, compared by their label (see _label)
_CHROME = _PAGE_PHRASES | _PAGE_HEADLINES | _SITE_CHROME | frozenset(
    {
        # the papers pages' own navigation, tabs, widgets and pagination
        "papers", "search", "search papers", "search any paper", "search any paper...",
        "daily", "weekly", "monthly", "trending", "previous", "next", "submit", "submit paper",
        "view all", "show more", "load more", "upvote", "upvoted", "arxiv page", "paper page",
        "new", "subscribe", "github", "twitter", "linkedin", "by", "ak", "by ak",
        "and the research community", "excerpt", "comments", "share",
        "trending papers ranked by github stars activity",
    }
)  # fmt: skip
# chrome that closes the card before it: the site's navigation and footer, the page's header
# and pagination (a card's own widgets, "arXiv Page", "Upvote", may stand before its abstract)
_CLOSING_CHROME = (
    _SITE_CHROME | _PAGE_PHRASES | _PAGE_HEADLINES | {"previous", "next", "view all", "load more"}
)
# the longest label that can be site chrome or a date line ("september. 12, 2025"): a line with a
# longer label is neither, and prose is not folded into a label until something asks for it
_MAX_SHORT_LABEL = max(*(len(label) for label in _CHROME), len("september. 12, 2025"))
# sentences of chrome that vary in their wording, recognised by how they start: cookie banners,
# sign-in prompts and the questions of explainer boxes ("What is Daily Papers?")
_CHROME_SENTENCE = re.compile(
    r"(?i)^\W{0,3}(?:we use cookies|this (?:web)?site uses cookies|(?:accept|reject|manage) "
    r"(?:all )?cookies|cookie (?:settings|preferences|policy)|(?:sign|log) in to |"
    r"join the (?:hugging face )?community|what (?:is|are) (?:the )?(?:hugging face |hf )?"
    r"(?:daily |trending )?papers?\b)"
)
# labels that say which page this is, in the order they are trusted
_KIND_LABELS = {
    "trending papers": "trending",
    "trending papers - hugging face": "trending",
    "daily papers": "daily",
    "daily papers - hugging face": "daily",
}
_EMAIL_LINE = "get trending papers in your email inbox"
_SEARCH_LABEL = re.compile(r"^(?:search results|results for\b|papers matching\b)")

# Markdown: [label](url "title"), [label][ref], [ref]: url, images, headings, list bullets
_LABEL = r"\[(?P<label>(?:[^\[\]]|\[[^\[\]]*\])*)\]"
_INLINE_LINK = re.compile(
    _LABEL + r"\(\s*<?(?P<url>[^\s()<>]*(?:\([^\s()]*\)[^\s()<>]*)*)>?(?:\s+\"[^\"]*\")?\s*\)"
)
_REF_LINK = re.compile(_LABEL + r"\[(?P<ref>[^\[\]]+)\]")
_REF_DEF = re.compile(r"^\s{0,3}\[(?P<ref>[^\[\]]+)\]:\s*<?(?P<url>\S+?)>?(?:\s+[\"'(].*)?$")
_BARE_URL = re.compile(r"<?(?P<url>https?://[^\s<>]+)>?")
# ![alt](src), and the placeholders tools write instead of images: [Image: alt], [Image 3]
_IMAGE = re.compile(r"(?i)!\[[^\[\]]*\]\([^()]*\)|\[image(?:\s*\d+)?(?:\s*:[^\[\]]*)?\]")
_HEADING = re.compile(r"^(?P<marks>#{1,6})\s+(?P<text>.*?)(?:\s+#+)?$")
_BULLET = re.compile(r"^(?:[-*+]\s+|[·•]\s*)+")
_EMPHASIS = re.compile(r"^(\*\*|__|\*|_)(?P<text>.+)\1$")
_FENCE = re.compile(r"^\s{0,3}(?P<fence>`{3,}|~{3,})\s*[\w+-]*\s*$")
_TRUNCATED = re.compile(r"(?i)\[\s*(?:content|output|text|page)?\s*truncated\b[^\]]*\]")
_SEPARATORS = re.compile(r"[\s·•|,]*")
# a thematic break ("---", "* * *"), also as a list item ("- * * *")
_THEMATIC_BREAK = re.compile(r"^(?:[-*_+]\s*){3,}$")
# a quoted line: a clipper's callout ("> [!info]"), a tool's excerpt, a note
_QUOTE = re.compile(r"^\s{0,3}>")
# Markdown line breaks at the end of a line: a trailing backslash (trailing spaces are stripped)
_LINE_BREAK = re.compile(r"\s*\\+$")
# a Markdown line break inside a link's text ("Scholars Engage\  with"), written by crawlers
_INNER_LINE_BREAK = re.compile(r"\\+(?=\s)")
_HEADING_MARKS = re.compile(r"^#{1,6}\s+")
_FACT_SEPARATOR = re.compile(r"\s*[·•]\s*")
_LETTER = re.compile(r"[^\W\d_]")
# a line that opens a link it does not close: a heading or list mark may come before the "["
_OPENS_LINK = re.compile(r"^\s*(?:#{1,6}\s+|[-*+]\s+)?!?\[")
# a card element wrapped in one link spreads over this many lines at most: a crawler's abstract
# link holds the abstract's 15 to 30 arXiv lines; the bound keeps a stray "[" from swallowing
# the page
MAX_LINK_LINES = 60

# paper identifiers in links: huggingface.co/papers/<id> (also relative) and arxiv.org/abs/<id>
_PAPER_URL = re.compile(r"(?i)(?:^|huggingface\.co)/papers/(?P<id>\d{4}\.\d{4,5}(?:v\d{1,3})?)\b")
_ARXIV_URL = re.compile(
    r"(?i)arxiv\.org/(?:abs|pdf|html)/"
    r"(?P<id>\d{4}\.\d{4,5}(?:v\d{1,3})?|[a-z]+(?:-[a-z]+)*(?:\.[a-z]{2})?/\d{7}(?:v\d{1,3})?)"
)
# the upvote button of a card, for a visitor who is not signed in: /login?next=/papers/<id>
_VOTE_URL = re.compile(r"(?i)/login\?next=(?P<next>[^\s#&]+)")
_VOTED_PAPER = re.compile(r"(?i)^/papers/(?P<id>\d{4}\.\d{4,5})\b")
# the version an arXiv link may add to a paper's id
_VERSION = re.compile(r"v\d{1,3}$")
_GITHUB_REPO = re.compile(r"(?i)^https?://(?:www\.)?github\.com/[^/\s?#]+/[^/\s?#]+")
# huggingface.co/<account>: a submitter or an organisation (not a site section)
_HF_ACCOUNT = re.compile(r"(?i)^https?://(?:www\.)?huggingface\.co/(?P<name>[\w.-]+)/?$")
_HF_SECTIONS = frozenset(
    {
        "models", "datasets", "spaces", "docs", "papers", "pricing", "enterprise", "login",
        "join", "blog", "learn", "posts", "collections", "settings", "new", "search", "chat",
        "terms-of-service", "privacy", "huggingface", "organizations", "tasks", "inference",
    }
)  # fmt: skip
# the site's own pages and assets: chrome, never a link of the paper's
_HF_SITE_URL = re.compile(
    r"(?i)^(?:https?://(?:www\.)?huggingface\.co)?/(?:login|join|logout|settings|front/|avatars/|"
    r"papers(?:/(?:trending|date|week|month|submit)\b|/?(?:[?#]|$))|"
    r"(?:models|datasets|spaces|docs|pricing|enterprise|blog|posts|privacy|terms-of-service)"
    r"/?(?:[?#]|$))|^https?://cdn-(?:avatars|thumbnails|uploads)\.huggingface\.co/"
)

# counts: 42, 1,234, 1.2k; a dash where a card has no upvote count
_COUNT = r"(?:\d{1,3}(?:,\d{3})+|\d{1,9}|\d{1,6}(?:\.\d{1,2})?[kKmM])"
_BARE_COUNT = re.compile(rf"^(?P<n>{_COUNT})$")
_NO_COUNT = re.compile(r"^[-–—]$")
_UPVOTES = re.compile(
    rf"(?i)^(?:(?:upvotes?|▲|⬆|👍)\s*:?\s*(?P<a>{_COUNT})|(?P<b>{_COUNT})\s+upvotes?)$"
)
_COMMENTS = re.compile(
    rf"(?i)^(?:(?:comments?|💬)\s*:?\s*(?P<a>{_COUNT})|(?P<b>{_COUNT})\s+comments?)$"
)
_AUTHORS = re.compile(r"(?i)^(?P<n>\d{1,6})\s+authors?$")
_SUBMITTED = re.compile(r"(?i)^submitted\s+by\b:?\s*(?P<who>.*)$")
_GITHUB_LABEL = re.compile(rf"(?i)^github(?:\s*(?:stars?)?\s*:?\s*(?P<stars>{_COUNT}))?$")
# how each fact above can start: a part that starts otherwise is none, without trying them all
_FACT_START = re.compile(r"(?i)submitted|published|upvote|comment|github|[\d▲⬆👍💬\-–—]")
# widgets written as a label on one line and their count on the next ("Upvote" / "34")
_COUNTED_WIDGETS = frozenset({"upvote", "upvotes", "github", "comments"})
# icons a tool writes as bracketed text inside a widget's label ("[-] 32")
_BRACKETED = re.compile(r"\[[^\[\]]*\]")
_LINK_PREFIX = re.compile(r"(?i)^(?:link|url)\s*:\s*")
# labels of links to a paper that are not its title
_NOT_TITLES = frozenset(
    {"arxiv page", "arxiv", "paper page", "paper", "pdf", "view", "view paper", "read more",
     "discuss", "comments", "comment", "abstract", "more"}
)  # fmt: skip

# the tool header: "**Key:** value", "Key: value" and list items of a "# Web source" section
_TOOL_KEY_VALUE = re.compile(
    r"^(?:[-*+]\s+|\d{1,3}[.)]\s+)?(?:\*\*|__)?(?P<key>[A-Za-z][A-Za-z _-]{0,30}?)"
    r"\s*(?::(?:\*\*|__)|(?:\*\*|__):|:)\s*(?P<value>.*)$"
)
_URL_KEYS = frozenset({"url", "url source", "source", "source url", "page url", "link", "address"})
_TITLE_KEYS = frozenset({"title", "page title"})
_DATE_KEYS = re.compile(
    r"^(?:captur|sav|fetch|retriev|access|crawl|clip|creat|download|export|scrap|date|time"
    r"|timestamp)"
)
_BARE_KEYS = frozenset({"markdown content", "content", "page content", "text", "page"})
_OTHER_KEYS = frozenset({"description", "author", "tags", "site", "site name", "language"})
_SOURCE_HEADINGS = frozenset({"web source", "web sources", "source", "sources", "capture"})
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")

# a title is one short line (two when wrapped); anything longer than this is prose, not a title
MAX_TITLE_CHARS = 400
MAX_ORGANISATION_CHARS = 80
# a link to a paper whose text ends a sentence and is at least this long is the paper's abstract
# (or its one-sentence summary on the trending page), not its title: titles are 30 to 150
# characters and do not end with a full stop
MIN_SUMMARY_CHARS = 100
CUT_OFF = "the capture is cut off inside this entry"
NOT_A_LISTING = "file.not_a_listing"


@dataclass(frozen=True)
class CaptureContext:
    """What is known about a capture besides its text."""

    file_key: str
    captured_on: date | None = None
    capture_year: int | None = None


def parse_page_capture(
    text: str, context: CaptureContext
) -> tuple[pl.DataFrame, list[RejectedEntry]]:
    """Parse one capture into parsed entries plus its rejected entries.

    Raises:
        ListingError: when the text is no papers page (rule ``file.not_a_listing``), or when it
            is one but holds no paper at all (``capture.no_paper``).
    """
    lines = text.splitlines()
    header, body = _read_page(lines)
    evidence = _gather_evidence(header, body)
    if not evidence.is_listing:
        page_lines = lines[header.body_start : header.body_end] or lines
        raise ListingError(
            context.file_key, not_a_listing_reason(evidence, page_lines), rule=NOT_A_LISTING
        )
    reader = _Reader(_reading_mode(body))
    for line in body:
        reader.feed(line)
    blocks, preamble = reader.finish()
    page = _Page.resolve(header, preamble, context)

    rows: list[dict[str, object]] = []
    rejects: list[RejectedEntry] = []
    with_abstract = sum(1 for block in blocks if block.abstract)
    for position, block in enumerate(blocks, start=1):
        raw = "\n".join(lines[block.first : block.last + 1])
        title = "\n".join(block.title)
        reason = _reject_reason(
            block,
            is_last=position == len(blocks),
            cut=header.truncated is not None,
            cut_mid_entry=header.truncated is True,
            others_have_abstracts=with_abstract > (1 if block.abstract else 0),
        )
        if reason is not None:
            rejects.append(RejectedEntry(position, *reason, (title or raw)[:300]))
            continue
        rows.append(_row(block, position, title, raw, page))
    if not rows and not rejects:
        raise ListingError(
            context.file_key, "no paper found in this page capture", rule="capture.no_paper"
        )
    return pl.DataFrame(rows, schema=PARSED_ENTRY_SCHEMA), rejects


def listing_evidence(text: str) -> ListingEvidence:
    """The marks of a papers page that ``text`` shows (see ``capture_listing``): what
    ``parse_page_capture`` weighs before reading any paper."""
    header, body = _read_page(text.splitlines())
    return _gather_evidence(header, body)


def _read_page(lines: list[str]) -> tuple[_ToolHeader, list[_Line]]:
    """The tool's header, and the page's lines classified (``lines`` loses a truncation marker
    that shares a line with text)."""
    header = _read_tool_header(lines)
    decoded = decode_tool_links(lines, header.body_start, header.body_end)
    return header, _logical_lines(decoded, header.body_start, header.body_end, header.refs)


# --- the capturing tool's header --------------------------------------------------------------


@dataclass
class _ToolHeader:
    """What the capturing tool wrote around the page, and where the page itself is."""

    body_start: int
    body_end: int
    url: str | None = None
    page_title: str | None = None
    captured_on: date | None = None
    refs: dict[str, str] = field(default_factory=dict)
    # None: not cut off; False: cut at a line boundary; True: cut inside a line or paragraph
    truncated: bool | None = None

    def take(self, key: str, value: str) -> bool:
        """Record one ``key: value`` of the header; False when it is not a header line."""
        key = re.sub(r"[_-]+", " ", key.strip().lower())
        value = value.strip().strip("\"'").strip()
        if key in _URL_KEYS:
            found = _BARE_URL.search(value)
            if found is None:
                return False
            self.url = self.url or found["url"]
            return True
        if key in _TITLE_KEYS:
            self.page_title = self.page_title or value
            return bool(value)
        if _DATE_KEYS.match(key):
            found = _date_in(value)
            if found is None:
                return False
            self.captured_on = self.captured_on or found
            return True
        return (key in _BARE_KEYS and not value) or (key in _OTHER_KEYS and bool(value))

    def take_any(self, line: str) -> None:
        """Harvest what a free-form header line holds (a list item of a web-source section)."""
        found = _TOOL_KEY_VALUE.match(line.strip())
        if found and self.take(found["key"], found["value"]):
            return
        url = _BARE_URL.search(line)
        if url and self.url is None:
            self.url = url["url"]
        if self.captured_on is None:
            self.captured_on = _date_in(line)


def _read_tool_header(lines: list[str]) -> _ToolHeader:
    """Find the page inside what the capturing tool wrote: front matter, meta lines, a fence.

    The header ends at the first line that is none of these; a capture without one starts its
    page at line 0. ``lines`` loses a truncation marker that shares a line with text.
    """
    header = _ToolHeader(body_start=0, body_end=len(lines))
    index = _skip_blank(lines, 0)
    if index < len(lines) and lines[index].strip() == "---":
        closing = next(
            (i for i in range(index + 1, len(lines)) if lines[i].strip() in ("---", "...")), None
        )
        if closing is not None:
            for line in lines[index + 1 : closing]:
                header.take_any(line)
            index = closing + 1
    in_source_list = False
    while True:
        index = _skip_blank(lines, index)
        if index >= len(lines):
            header.body_start = len(lines)  # the tool's header and nothing else
            break
        stripped = lines[index].strip()
        fence = _FENCE.match(lines[index])
        if fence:
            header.body_start = index + 1
            header.body_end = next(
                (i for i in range(index + 1, len(lines)) if lines[i].strip() == fence["fence"]),
                len(lines),
            )
            break
        heading = _HEADING.match(stripped)
        if heading and _label(heading["text"]) in _SOURCE_HEADINGS:
            in_source_list = True
        elif in_source_list and _LIST_ITEM.match(stripped):
            header.take_any(stripped)
        else:
            key_value = _TOOL_KEY_VALUE.match(stripped)
            if key_value is None or not header.take(key_value["key"], key_value["value"]):
                header.body_start = index
                break
            in_source_list = False
        index += 1
    _find_truncation(lines, header)
    for line in lines[header.body_start : header.body_end]:
        definition = _REF_DEF.match(line)
        if definition:
            header.refs.setdefault(definition["ref"].strip().lower(), definition["url"])
    return header


def _skip_blank(lines: list[str], index: int) -> int:
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index


def _find_truncation(lines: list[str], header: _ToolHeader) -> None:
    """End the body at a truncation marker, in the page or in the tool's footer after it."""
    for index in range(header.body_start, len(lines)):
        marker = _TRUNCATED.search(lines[index])
        if marker is None:
            continue
        if index >= header.body_end:
            # after the fenced page: the page was cut where its fence ends
            last = header.body_end - 1
            header.truncated = last >= header.body_start and bool(lines[last].strip())
            return
        before = lines[index][: marker.start()]
        if before.strip():
            # text and marker share the line: keep the text, the line is cut in the middle
            lines[index] = before
            header.body_end = index + 1
            header.truncated = True
        else:
            header.body_end = index
            header.truncated = index > header.body_start and bool(lines[index - 1].strip())
        return


def _date_in(value: str) -> date | None:
    """The first date written in ``value``: ISO (converted to UTC when it has an offset) or
    ``Mar 12, 2025``; None without one."""
    iso = _ISO_DATE_TIME.search(value)
    if iso:
        written = iso[0].replace(" ", "T", 1) if len(iso[0]) > 10 else iso[0]
        try:
            moment = datetime.fromisoformat(written.replace(" ", ""))
        except ValueError:
            return None
        if moment.tzinfo is not None:
            return moment.astimezone(UTC).date()
        return moment.date()
    for found in _WRITTEN_DATE.finditer(value):
        month = MONTHS.get(found["month"].lower())
        if month is not None and found["year"]:
            try:
                return date(int(found["year"]), month, int(found["day"]))
            except ValueError:
                return None
    return None


def _is_listing_url(url: str | None) -> bool:
    """Whether the tool's URL is a listing of papers on the site (not a single paper's page)."""
    if not url:
        return False
    listing = re.search(r"(?i)huggingface\.co/papers(?P<path>/[^?#\s]*)?(?:[?#]|$|\s)", url)
    if listing is None:
        return False
    path = (listing["path"] or "").rstrip("/")
    return re.match(r"^/\d{4}\.\d{4,5}", path) is None


# --- the marks of a papers page ------------------------------------------------------------------


def _gather_evidence(header: _ToolHeader, body: list[_Line]) -> ListingEvidence:
    """Count the marks of a papers page in a capture's header and classified lines."""
    evidence = ListingEvidence(page_url=_is_listing_url(header.url))
    if header.page_title:
        title = _label(header.page_title)
        if title in _PAGE_PHRASES:
            evidence.page_phrases.add(title)
        elif title in _PAGE_HEADLINES:
            evidence.page_headlines.add(title)
    paragraph: list[_Line] = []
    paragraphs: list[list[_Line]] = []
    for line in body:
        if line.kind == "text" or (line.kind == "title" and line.open_title):
            paragraph.append(line)
            continue
        if paragraph:
            paragraphs.append(paragraph)
            paragraph = []
        if line.kind == "skip" and line.known_label:
            label = line.known_label
            if label in _PAGE_PHRASES or label.startswith(_EMAIL_LINE):
                evidence.page_phrases.add(label)
            elif label in _PAGE_HEADLINES:
                evidence.page_headlines.add(label)
            elif label in _SITE_CHROME:
                evidence.site_chrome_labels.add(label)
        elif line.kind == "date":
            evidence.date_line = True
        elif line.kind in ("title", "meta") and line.facts is not None:
            facts = line.facts
            if facts.arxiv_id is not None:
                on_site = facts.on_site
                (evidence.site_paper_ids if on_site else evidence.arxiv_paper_ids).add(
                    facts.arxiv_id
                )
            if facts.card_metadata():
                evidence.card_metadata_lines += 1
    if paragraph:
        paragraphs.append(paragraph)
    _count_rhythm(paragraphs, evidence)
    return evidence


def _count_rhythm(paragraphs: list[list[_Line]], evidence: ListingEvidence) -> None:
    """Count title/abstract pairs: a title-like paragraph and the prose paragraph after it."""
    evidence.paragraphs = len(paragraphs)
    index = 0
    while index + 1 < len(paragraphs):
        if _is_title_paragraph(paragraphs[index]) and not _is_title_paragraph(
            paragraphs[index + 1]
        ):
            evidence.rhythm_pairs += 1
            length = sum(len(line.text) for line in paragraphs[index + 1])
            if length >= MIN_RHYTHM_ABSTRACT_CHARS:
                evidence.long_rhythm_pairs += 1
            index += 2
        else:
            index += 1


def _is_title_paragraph(paragraph: list[_Line]) -> bool:
    text = " ".join(line.text for line in paragraph)
    return (
        len(paragraph) <= 2
        and len(text) <= MAX_TITLE_CHARS
        and not text.rstrip().endswith((".", "!", "?", ":", ";", ","))
    )


# --- classifying the lines of the page ----------------------------------------------------------


@dataclass
class _Facts:
    """Metadata of one paper, gathered from its metadata lines."""

    arxiv_id: str | None = None
    # the id came from a link to the site (a paper page, an upvote button), not from arXiv
    on_site: bool = False
    upvotes: int | None = None
    upvotes_seen: bool = False
    comments: int | None = None
    # bare counts in order of appearance: the first is the upvote count, the second the comments
    counts: list[int | None] = field(default_factory=list)
    author_count: int | None = None
    organization: str | None = None
    submitted_by: str | None = None
    submitter_follows: bool = False
    account: str | None = None
    published: tuple[int, int, int | None] | None = None
    github_stars: int | None = None
    links: list[str] = field(default_factory=list)
    # the id came from a link that names the paper in its card ("arXiv Page", "Paper page"),
    # not from an upvote button or a thumbnail, which may stand before the next title
    names_paper: bool = False

    def merge(self, other: _Facts) -> None:
        """Take what ``other`` knows and this does not (first value wins)."""
        if self.arxiv_id is None and other.arxiv_id is not None:
            self.arxiv_id, self.on_site = other.arxiv_id, other.on_site
            self.names_paper = other.names_paper
        if other.upvotes_seen and not self.upvotes_seen:
            self.upvotes, self.upvotes_seen = other.upvotes, True
        self.comments = self.comments if self.comments is not None else other.comments
        self.counts.extend(other.counts)
        self.author_count = self.author_count or other.author_count
        self.organization = self.organization or other.organization
        self.submitted_by = self.submitted_by or other.submitted_by
        self.published = self.published or other.published
        self.github_stars = self.github_stars or other.github_stars
        self.links.extend(link for link in other.links if link not in self.links)
        if other.account:
            self.take_name(other.account)
        elif other != _Facts():
            # "Submitted by" names the submitter on the next line, or on none when a fact follows
            self.submitter_follows = other.submitter_follows

    def take_name(self, name: str) -> None:
        """A person or organisation name: the submitter right after "Submitted by", else the
        organisation."""
        if self.submitter_follows:
            self.submitted_by = self.submitted_by or name
            self.submitter_follows = False
        else:
            self.organization = self.organization or name

    def kinds(self) -> frozenset[str]:
        """The kinds of facts known, apart from the paper's id (see _Reader.leading_kinds)."""
        kinds = set()
        if self.upvotes_seen or self.counts:
            kinds.add("votes")
        if self.comments is not None:
            kinds.add("comments")
        if self.author_count is not None:
            kinds.add("authors")
        if self.organization or self.account:
            kinds.add("organization")
        if self.submitted_by or self.submitter_follows:
            kinds.add("submitter")
        if self.published is not None:
            kinds.add("published")
        if self.github_stars is not None or self.links:
            kinds.add("code")
        return frozenset(kinds)

    def card_metadata(self) -> bool:
        """Whether these facts are written as only a paper card writes them (not a bare count,
        a bare link or a name, which other texts have too)."""
        return bool(
            self.submitted_by
            or self.submitter_follows
            or self.published is not None
            or self.author_count is not None
            or self.upvotes_seen
            or self.comments is not None
            or self.github_stars is not None
        )


@dataclass
class _Line:
    """One logical line of the page: original line span, kind and what it says."""

    first: int
    last: int
    kind: str  # blank | skip | date | title | meta | text
    text: str = ""
    facts: _Facts | None = None
    # a heading title without a link may go on over the next line (a wrapped heading)
    open_title: bool = False
    # a metadata line that could also be a line of prose (a bare URL in a wrapped abstract)
    prose_like: bool = False
    # the label (see _label); None until first asked for, then folded from the text
    known_label: str | None = None
    # a text line with no text line right before or after it (an organisation, not a paragraph)
    alone: bool = False
    # a text line followed by a blank line and a text paragraph (a title before its abstract)
    before_paragraph: bool = False
    # a title that is a link (not a heading), and so names its paper
    link_title: bool = False
    # text that is a link to a paper (an abstract written as a link): the paper's id
    anchor: str | None = None
    # a "·" separator line: a bare date after it is a card's publication date
    separator: bool = False
    # the question of an explainer box: the paragraph after it is the explanation
    explainer: bool = False
    # chrome that ends the card before it (see _CLOSING_CHROME)
    closes_card: bool = False

    @property
    def label(self) -> str:
        """The line's label. Only lines before the first paper need one, so a long line of prose
        is folded (the dearest step of classifying it) only when asked."""
        if self.known_label is None:
            self.known_label = _label(self.text)
        return self.known_label


def _logical_lines(lines: list[str], start: int, end: int, refs: dict[str, str]) -> list[_Line]:
    """Classify the page's lines, joining a link whose text spreads over several lines."""
    closing = _link_closings(lines, start, end)
    result: list[_Line] = []
    index = start
    while index < end:
        first, text = index, lines[index]
        close = closing.get(index)
        if close is not None:
            index = close
            text = "\n".join(lines[first : close + 1])
        elif (
            index + 1 < end
            and len(text) < 16  # "Upvote", "GitHub": a widget's label is one short word
            and text.strip().lower() in _COUNTED_WIDGETS
            and _BARE_COUNT.match(lines[index + 1].strip())
        ):
            index += 1  # "Upvote" / "34": one widget, its label and its count
            text = f"{text.strip()} {lines[index].strip()}"
        result.append(_classify(text, refs, first, index))
        index += 1
    for position, line in enumerate(result):
        before = result[position - 1].kind if position > 0 else "blank"
        after = result[position + 1].kind if position + 1 < len(result) else "blank"
        line.alone = line.kind == "text" and "text" not in (before, after)
        line.before_paragraph = (
            line.kind == "text"
            and after == "blank"
            and position + 2 < len(result)
            and result[position + 2].kind == "text"
        )
    return result


def _link_closings(lines: list[str], start: int, end: int) -> dict[int, int]:
    """For each line that opens a link it does not close, the line that closes it.

    A line opens a link when it starts one (``[``, ``![``, after a heading or list mark) and
    holds more ``[`` than ``]``; the link closes on the first later line where the brackets
    balance again, if that line ends the link (``](`` or ``][``) within ``MAX_LINK_LINES``.
    One pass: the open links form a stack whose depths grow towards its top.
    """
    found: dict[int, int] = {}
    depth = 0
    open_links: deque[tuple[int, int]] = deque()  # (line, depth before it)
    for index in range(start, end):
        line = lines[index]
        if "[" not in line and "]" not in line:
            continue
        while open_links and index - open_links[0][0] > MAX_LINK_LINES:
            open_links.popleft()  # too far back to be closed here: never joined
        if not open_links:
            depth = 0  # a stray "]" in prose closes nothing
        before = depth
        depth += line.count("[") - line.count("]")
        while open_links and depth <= open_links[-1][1]:
            opened, _ = open_links.pop()
            if index - opened <= MAX_LINK_LINES and ("](" in line or "][" in line):
                found[opened] = index
        if depth > before and _OPENS_LINK.match(line):
            open_links.append((index, before))
        elif depth > before:
            depth = before  # a stray "[" in prose opens nothing
    # a link opened inside another one that is joined is read with it
    joined: dict[int, int] = {}
    reach = -1
    for opened in sorted(found):
        if opened > reach:
            joined[opened] = reach = found[opened]
    return joined


def _classify(raw: str, refs: dict[str, str], first: int, last: int) -> _Line:
    """Tell what one line of the page is, without looking at its neighbours."""
    # Markdown line breaks: a trailing backslash or two trailing spaces
    stripped = raw.strip()
    if stripped.endswith("\\"):  # the regular expression is slow on long lines without one
        stripped = _LINE_BREAK.sub("", stripped).strip()
    if not stripped:
        return _Line(first, last, "blank")
    if _REF_DEF.match(stripped) or _FENCE.match(stripped) or _QUOTE.match(stripped):
        return _Line(first, last, "skip")
    # every image form has a "[": most lines have none, and need no scan for images
    text = _IMAGE.sub(" ", stripped).strip() if "[" in stripped else stripped
    if (
        not text
        or _SEPARATORS.fullmatch(text)
        or (text != stripped and text in ("-", "*", "+"))  # a list item that held an image
    ):
        return _Line(first, last, "skip", separator="·" in text or "•" in text)
    if len(text) < 40 and _THEMATIC_BREAK.match(text):
        return _Line(first, last, "skip")
    if "\n" in text and text.lstrip().startswith("#"):
        text = " ".join(text.split())  # a heading wrapped inside its link
    heading = _HEADING.match(_BULLET.sub("", text))
    if heading:
        label = _label(text)
        inner = heading["text"].strip()
        links = _links_only(inner, refs)
        if links is not None and len(links) == 1 and _is_title_label(links[0][0]):
            link_label, url = links[0]
            return _title_line(first, last, link_label, url, label)
        if (
            links is None
            and label not in _CHROME
            and _DATE_LINE.match(label) is None
            and _CHROME_SENTENCE.match(label) is None
        ):
            title = _unemphasise(inner)
            if re.search(r"\w", title):
                return _Line(
                    first, last, "title", title, _Facts(), open_title=True, known_label=label
                )
    else:
        label = _short_label(text)  # None: too long to be chrome or a date line
    # a list of links ("- [Models](...)", "* [Title](...)") is links too
    links = _links_only(_BULLET.sub("", text) if text[0] in "-*+·•" else text, refs)
    if links is not None:
        return _link_line(first, last, links, text, _label(text) if label is None else label)
    if label is not None:
        if label in _CHROME:
            return _Line(
                first, last, "skip", known_label=label, closes_card=label in _CLOSING_CHROME
            )
        date_line = _DATE_LINE.match(label)
        if date_line and date_line["month"].lower() in MONTHS:
            return _Line(first, last, "date", text, known_label=label)
    if _CHROME_SENTENCE.match(text):
        explainer = text.rstrip().endswith("?")
        return _Line(first, last, "skip", known_label=label, explainer=explainer)
    facts = _pattern_facts(_BULLET.sub("", text), refs)
    if facts is not None:
        return _Line(first, last, "meta", text, facts, known_label=label)
    return _Line(first, last, "text", text, known_label=label)


def _label(text: str) -> str:
    """The words of a line for comparing with site chrome: no heading marks, bullets, emphasis,
    images or link syntax, lower case, white space folded."""
    return _fold(_label_words(text))


def _short_label(text: str) -> str | None:
    """The label of a line that may be site chrome or a date line; None for a longer one."""
    words = _label_words(text)
    # folding a prefix gives a prefix of the folded whole, and lower case never shortens text:
    # so a long folded prefix is a lower bound that spares folding a long line of prose
    head = _fold(words[: 2 * _MAX_SHORT_LABEL])
    if len(head) > _MAX_SHORT_LABEL:
        return None
    return head if len(words) <= 2 * _MAX_SHORT_LABEL else _fold(words)


def _label_words(text: str) -> str:
    """The words of a label (see _label) before white space is folded and case lowered."""
    text = _BULLET.sub("", text.strip())
    text = _HEADING_MARKS.sub("", text)
    text = _unemphasise(text)
    link = _INLINE_LINK.fullmatch(text) or _REF_LINK.fullmatch(text)
    if link:
        text = _unemphasise(_LINK_PREFIX.sub("", link["label"].strip()))
    if "[" in text:  # links inside the line read as their text ("by [AK](...) and the ...")
        text = _IMAGE.sub(" ", text)
        text = _REF_LINK.sub(_link_text, _INLINE_LINK.sub(_link_text, text))
    return text


def _link_text(link: re.Match[str]) -> str:
    return _IMAGE.sub(" ", link["label"])


def _fold(words: str) -> str:
    return " ".join(words.split()).lower()


def _unemphasise(text: str) -> str:
    found = _EMPHASIS.match(text.strip())
    return found["text"].strip() if found else text.strip()


def _links_only(text: str, refs: dict[str, str]) -> list[tuple[str, str]] | None:
    """The ``(label, url)`` links of a line made only of links (and separators), else None."""
    # A link starts with "[" and a bare URL with "<" or "h", and what precedes the first
    # non-separator is separators only: so that character starts a link, or the line is not
    # links only. This spares prose lines three scans.
    start = _SEPARATORS.match(text)
    if start is None or text[start.end() : start.end() + 1] not in ("[", "<", "h"):
        return None
    found: list[tuple[str, str]] = []

    def inline(match: re.Match[str]) -> str:
        found.append((match["label"], match["url"]))
        return " "

    def reference(match: re.Match[str]) -> str:
        found.append((match["label"], refs.get(match["ref"].strip().lower(), "")))
        return " "

    def bare(match: re.Match[str]) -> str:
        found.append(("", match["url"]))
        return " "

    rest = _BARE_URL.sub(bare, _REF_LINK.sub(reference, _INLINE_LINK.sub(inline, text)))
    return found if found and _SEPARATORS.fullmatch(rest) else None


def _clean_label(label: str) -> str:
    label = _IMAGE.sub(" ", label)
    label = _INNER_LINE_BREAK.sub(" ", label)
    label = _LINK_PREFIX.sub("", label.strip())
    label = _HEADING_MARKS.sub("", label)
    return " ".join(_unemphasise(label).split())


def _label_parts(label: str) -> list[str]:
    """The parts of a link's text written on lines of their own, as a list would be ("- 3
    authors"), without images, bullets and line breaks."""
    parts = []
    for line in _IMAGE.sub(" ", label).splitlines():
        part = _BULLET.sub("", _LINE_BREAK.sub("", line.strip()).strip()).strip()
        if part and part not in ("-", "*", "+"):  # a list item that held only an image
            parts.append(part)
    return parts


def _is_title_label(label: str) -> bool:
    """Whether a link's label is a paper title (not "arXiv Page", a count or an image)."""
    cleaned = _clean_label(label)
    lowered = cleaned.lower()
    return (
        len(cleaned) >= 3
        and _LETTER.search(cleaned) is not None
        and lowered not in _NOT_TITLES
        and lowered not in _CHROME
        and _GITHUB_LABEL.match(cleaned) is None
        and _pattern_facts(cleaned, {}) is None
    )


def _title_line(first: int, last: int, label: str, url: str, line_label: str) -> _Line:
    facts = _Facts()
    facts.arxiv_id, facts.on_site = _paper_id(url)
    return _Line(
        first, last, "title", _clean_label(label), facts, known_label=line_label, link_title=True
    )


def _paper_id(url: str) -> tuple[str | None, bool]:
    """The paper id a link names, and whether it is a link to the site's paper page."""
    found = _PAPER_URL.search(url)
    if found:
        return found["id"], True
    found = _ARXIV_URL.search(url)
    return (found["id"], False) if found else (None, False)


def _voted_paper(url: str) -> str | None:
    """The paper of an upvote button: a link to /login?next=/papers/<id>."""
    vote = _VOTE_URL.search(url)
    if vote is None:
        return None
    voted = _VOTED_PAPER.match(unquote(vote["next"]))
    return voted["id"] if voted else None


def _abstract_text(label: str) -> str:
    """The text of a link that holds a paper's abstract, its lines kept."""
    lines = (_LINE_BREAK.sub("", line.strip()).strip() for line in label.splitlines())
    return "\n".join(line for line in lines if line)


def _link_line(first: int, last: int, links: list[tuple[str, str]], text: str, label: str) -> _Line:
    """A line of links: a paper title, paper identifiers, code and project links, or chrome."""
    facts = _Facts()
    title: str | None = None
    abstract: tuple[str, str] | None = None
    for raw_label, url in links:
        link_label = _clean_label(raw_label)
        paper, on_site = _paper_id(url)
        voted = _voted_paper(url) if paper is None else None
        count = _BARE_COUNT.match(link_label)
        if voted is not None:
            # the upvote button: its label is the count ("21", "-", "Upvote 117", "[-] 32")
            facts.arxiv_id, facts.on_site = facts.arxiv_id or voted, True
            votes = _BRACKETED.sub(" ", link_label).split()
            if votes and (_BARE_COUNT.match(votes[-1]) or _NO_COUNT.match(votes[-1])):
                facts.upvotes_seen = True
                facts.upvotes = _count(votes[-1]) if _BARE_COUNT.match(votes[-1]) else None
            continue
        if count and (paper or "#community" in url or "comment" in url.lower()):
            # [4](https://huggingface.co/papers/2412.14161#community) is the comment count
            facts.comments = _count(count["n"])
        elif count:
            facts.counts.append(_count(count["n"]))
        elif paper and len(link_label) > MAX_TITLE_CHARS:
            abstract = abstract or (_abstract_text(raw_label), paper)
        elif paper and _merge_label_facts(raw_label, facts):
            pass  # a card element that links to the paper: "3 authors", an avatar list
        elif paper and title is None and _is_title_label(link_label):
            title = link_label
        stars = _GITHUB_LABEL.match(link_label)
        if paper:
            if facts.arxiv_id is None:
                facts.arxiv_id, facts.on_site = paper, on_site
            facts.names_paper = facts.names_paper or link_label.lower() in _NOT_TITLES
        elif _GITHUB_REPO.match(url):
            facts.links.append(url)
            if stars and stars["stars"] and facts.github_stars is None:
                facts.github_stars = _count(stars["stars"])
        elif count or link_label.lower() in _CHROME or (not link_label and _HF_SITE_URL.match(url)):
            continue
        elif account := _HF_ACCOUNT.match(url):
            if account["name"].lower() not in _HF_SECTIONS and link_label:
                facts.account = link_label
        elif _HF_SITE_URL.match(url):
            continue
        elif url.lower().startswith(("http://", "https://")):
            facts.links.append(url)
    if title is not None:
        return _Line(first, last, "title", title, facts, known_label=label, link_title=True)
    if abstract is not None:
        return _Line(first, last, "text", abstract[0], known_label=label, anchor=abstract[1])
    if facts == _Facts():
        closes = any(_clean_label(link_label).lower() in _CLOSING_CHROME for link_label, _ in links)
        return _Line(first, last, "skip", known_label=label, closes_card=closes)
    bare_url = _BARE_URL.fullmatch(text.strip()) is not None
    return _Line(first, last, "meta", text, facts, prose_like=bare_url, known_label=label)


def _merge_label_facts(label: str, facts: _Facts) -> bool:
    """Read the facts a link's text holds on its lines ("- 3 authors" under avatar images);
    False when it holds none."""
    found = False
    for part in _label_parts(label):
        label_facts = _pattern_facts(part, {})
        if label_facts is not None:
            facts.merge(label_facts)
            found = True
    return found


def _pattern_facts(text: str, refs: dict[str, str]) -> _Facts | None:
    """Metadata written as words ("Submitted by X", "5 authors", "42"), or None for prose.

    A line may hold several facts separated by ``·`` ("Published on Mar 12 · 5 authors"); a short
    part that is no known fact is then the organisation, a part made of links is read as a line
    of links, and a bare date is the publication date. A date glued to links ("Mar 12[4](...)"),
    as crawlers write a card's last row, is the publication date too.
    """
    text = text.strip()
    # splitting scans the whole line: most lines hold no separator and are one part
    parts = _FACT_SEPARATOR.split(text) if "·" in text or "•" in text else [text]
    if len(parts) == 1 and "[" in text and not text.startswith("["):
        return _dated_links(text, refs)
    if not any(
        _FACT_START.match(part) or (len(parts) > 1 and (part.startswith("[") or _date_part(part)))
        for part in parts
    ):
        return None  # prose: no part can be a fact
    facts = _Facts()
    others: list[str] = []
    known = False
    for part in parts:
        if not part:
            continue
        if _read_fact(part, facts):
            known = True
            continue
        published = _date_part(part) if len(parts) > 1 else None
        links = _links_only(part, refs) if part.startswith("[") else None
        if published is not None:
            facts.published, known = published, True
        elif links is not None:
            link_facts = _link_line(0, 0, links, part, "").facts
            if link_facts is None or link_facts == _Facts():
                continue
            facts.merge(link_facts)
            known = True
        else:
            others.append(part)
    if not known:
        return None
    if others:
        if len(others) > 1 or not _looks_like_name(others[0]):
            return None
        facts.organization = others[0]
    return facts


def _dated_links(text: str, refs: dict[str, str]) -> _Facts | None:
    """ "Mar 12[4](.../papers/<id>#community)": a publication date and the card's links."""
    head, _, tail = text.partition("[")
    published = _date_part(head.strip())
    links = _links_only("[" + tail, refs) if published is not None else None
    if published is None or links is None:
        return None
    facts = _link_line(0, 0, links, text, "").facts or _Facts()
    facts.published = published
    return facts


def _date_part(part: str) -> tuple[int, int, int | None] | None:
    """A bare month and day (and year), as a card writes its publication date after a "·"."""
    found = _DATE_LINE.match(part.strip()) if len(part) <= 24 else None
    month = MONTHS.get(found["month"].lower()) if found else None
    if found is None or month is None or not _is_month_day(month, int(found["day"])):
        return None
    return month, int(found["day"]), int(found["year"]) if found["year"] else None


def _read_fact(part: str, facts: _Facts) -> bool:
    """Read one fact of a metadata line into ``facts``; False when ``part`` is none."""
    if submitted := _SUBMITTED.match(part):
        who = _INLINE_LINK.sub(lambda link: link["label"], submitted["who"]).strip().lstrip("@")
        if who:
            facts.submitted_by = who
        else:
            facts.submitter_follows = True
        return True
    if published := _PUBLISHED.match(part):
        month = MONTHS.get(published["month"].lower())
        if month is None or not _is_month_day(month, int(published["day"])):
            return False
        year = int(published["year"]) if published["year"] else None
        facts.published = (month, int(published["day"]), year)
        return True
    if authors := _AUTHORS.match(part):
        facts.author_count = int(authors["n"])
        return True
    if upvotes := _UPVOTES.match(part):
        facts.upvotes, facts.upvotes_seen = _count(upvotes["a"] or upvotes["b"]), True
        return True
    if comments := _COMMENTS.match(part):
        facts.comments = _count(comments["a"] or comments["b"])
        return True
    if count := _BARE_COUNT.match(part):
        facts.counts.append(_count(count["n"]))
        return True
    if _NO_COUNT.match(part):
        facts.counts.append(None)
        return True
    if (stars := _GITHUB_LABEL.match(part)) and stars["stars"]:
        facts.github_stars = _count(stars["stars"])
        return True
    return False


def _count(written: str) -> int:
    """42, 1,234, 11.3k (11,300), 1.2M."""
    written = written.replace(",", "").replace(" ", "").lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(written[-1], 1)
    number = written.rstrip("km")
    if scale == 1:
        return int(number)
    whole, _, fraction = number.partition(".")
    # exact decimal arithmetic: 11.3k is 11300, not 11299.999...
    return int(whole) * scale + (int(fraction) * scale // 10 ** len(fraction) if fraction else 0)


def _looks_like_name(text: str) -> bool:
    """A short line that names someone or something: an organisation, a submitter."""
    return (
        0 < len(text) <= MAX_ORGANISATION_CHARS
        and len(text.split()) <= 10
        and _LETTER.search(text) is not None
        and not text.rstrip().endswith((".", "!", "?", ":", ";", ","))
        and "://" not in text
    )


def _is_month_day(month: int, day: int) -> bool:
    try:
        date(2000, month, day)  # a leap year: Feb 29 is a month and day
    except ValueError:
        return False
    return True


# --- grouping lines into papers -----------------------------------------------------------------

# the reading modes (see the module docstring)
ANCHORED, HEADINGS, PLAIN = "anchored", "headings", "plain"
# what the page's header links to before the first card: a name, a link; never a card's fact
_HEADER_KINDS = frozenset({"code", "organization"})


def _same_paper(one: str | None, other: str | None) -> bool:
    """Whether two ids name the same paper: "2503.01234v2" (an arXiv link) is "2503.01234"."""
    return (
        one is not None and other is not None and _VERSION.sub("", one) == _VERSION.sub("", other)
    )


def _reading_mode(body: list[_Line]) -> str:
    """Anchored when a title links to a paper, headings when titles are headings, else plain."""
    titles = [line for line in body if line.kind == "title"]
    if any(line.link_title and line.facts and line.facts.arxiv_id for line in titles):
        return ANCHORED
    return HEADINGS if titles else PLAIN


@dataclass
class _Block:
    """The lines of one paper while they are read."""

    first: int
    last: int
    title: list[str]
    facts: _Facts
    abstract: list[str] = field(default_factory=list)
    # title: on the title line(s); head: metadata before the abstract; abstract: in an abstract
    # paragraph; gap: a blank line after abstract text; tail: the card's metadata after its
    # abstract (its text has ended)
    state: str = "title"
    open_title: bool = False
    has_meta: bool = False
    # anchored mode: a heading that is a paper only if a link to a paper follows in its card
    candidate: bool = False


@dataclass
class _Preamble:
    """What the page says about itself before its first paper."""

    date_line: str | None = None
    labels: list[str] = field(default_factory=list)


class _Reader:
    """Groups classified lines into paper blocks (see the module docstring for the modes)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.strong = mode != PLAIN
        self.blocks: list[_Block] = []
        self.current: _Block | None = None
        # metadata seen before a title: it belongs to the next paper
        self.pending: _Facts | None = None
        self.pending_first: int | None = None
        self.preamble = _Preamble()
        # the kinds of metadata a card of this page writes before its title, learned from the
        # first card (None until the first paper starts)
        self.leading_kinds: frozenset[str] | None = None
        # the last line that was not blank was a "·" separator
        self.after_separator = False
        # an explainer box: "" outside one, "question" after its question, "answer" in the
        # paragraph that answers it (skipped, like the question)
        self.explainer = ""

    def feed(self, line: _Line) -> None:
        block = self.current
        if line.kind == "blank":
            if block is not None and block.state == "title":
                block.state = "head"
            elif block is not None and block.state == "abstract":
                block.state = "gap"
            if self.explainer == "answer":
                self.explainer = ""
            return
        after_separator, self.after_separator = self.after_separator, line.separator
        if line.explainer:
            self.explainer = "question"
            return
        if self.explainer and line.kind == "text":
            self.explainer = "answer"
            return
        self.explainer = ""
        if self._in_preamble() and line.kind in ("skip", "date"):
            if line.kind == "date" and self.preamble.date_line is None:
                self.preamble.date_line = line.label
            if line.label:
                self.preamble.labels.append(line.label)
            return
        if line.kind == "date" and after_separator and block is not None:
            # "·" / "Mar 12": the card's publication date
            published = _date_part(line.text)
            if published is not None:
                facts = _Facts()
                facts.published = published
                line = _Line(line.first, line.last, "meta", line.text, facts)
        if line.kind in ("skip", "date"):
            if block is not None and (
                block.state in ("abstract", "gap") or (block.state == "head" and line.closes_card)
            ):
                block.state = "tail"  # chrome after a card's text: the card has ended
            return
        if line.kind == "title":
            self._title(line)
            return
        if line.kind == "meta" and line.facts is not None:
            self._meta(line, line.facts)
            return
        self._text(line)

    def _in_preamble(self) -> bool:
        """No paper has started yet (an anchored page's headings are not papers yet)."""
        block = self.current
        return not self.blocks and (
            block is None or (block.candidate and block.facts.arxiv_id is None)
        )

    def _title(self, line: _Line) -> None:
        block = self.current
        facts = line.facts or _Facts()
        if (
            block is not None
            and _same_paper(facts.arxiv_id, block.facts.arxiv_id)
            and block.state in ("title", "head")
        ):
            # the same paper's link again, inside its card: its summary, or a repeat of its title
            if len(line.text) >= MIN_SUMMARY_CHARS and line.text.endswith("."):
                self._add_text(block, line)
            else:
                block.facts.merge(facts)
                block.last = line.last
            return
        candidate = self.mode == ANCHORED and facts.arxiv_id is None
        self._start(line, line.text, facts, candidate=candidate)

    def _meta(self, line: _Line, facts: _Facts) -> None:
        block = self.current
        if block is None:
            # before the first paper, only what a card writes is held for it: a link or a name
            # there is the page's header ("by [AK](...)")
            if self.blocks or facts.arxiv_id is not None or facts.kinds() - _HEADER_KINDS:
                self._hold(line.first, facts)
            return
        if block.state == "abstract" and line.prose_like and facts.arxiv_id is None:
            self._add_text(block, line)  # a wrapped abstract line that is only a URL
            return
        own = block.facts.arxiv_id
        in_head = block.state in ("title", "head")
        if block.candidate and own is None:
            if in_head and facts.names_paper:
                self._anchor(block, line, facts)  # "[arXiv Page](...)" in the heading's card
            else:
                self._hold(line.first, facts)  # perhaps the next paper link's leading metadata
            return
        if (
            facts.arxiv_id is not None
            and not _same_paper(facts.arxiv_id, own)
            and (own or not in_head)
        ):
            # another paper's (an upvote button or thumbnail before the next title): held for it
            self._hold(line.first, facts)
            return
        if self.pending is not None and facts.arxiv_id is None:
            self._hold(line.first, facts)
            return
        if not in_head and self.leading_kinds and facts.kinds() & self.leading_kinds:
            self._hold(line.first, facts)  # written before a title on this page: the next card
            return
        block.facts.merge(facts)
        block.has_meta, block.last = True, line.last
        block.state = "head" if in_head else "tail"

    def _anchor(self, block: _Block, line: _Line, facts: _Facts) -> None:
        """A heading's card names its paper: the heading is that paper, with the metadata held
        since the last paper when it names no other."""
        block.facts.merge(facts)
        block.has_meta, block.last = True, line.last
        pending = self.pending
        if pending is not None and (
            pending.arxiv_id is None or _same_paper(pending.arxiv_id, facts.arxiv_id)
        ):
            block.facts.merge(pending)
            if self.pending_first is not None:
                block.first = min(block.first, self.pending_first)
            self.pending, self.pending_first = None, None
        if self.leading_kinds is None:
            self.leading_kinds = pending.kinds() if pending is not None else frozenset()

    def _text(self, line: _Line) -> None:
        block = self.current
        if self._submitter(line):
            return
        if line.anchor is not None:
            # an abstract written as a link: it belongs to the paper it links to, and only to it
            if block is not None and _same_paper(block.facts.arxiv_id, line.anchor):
                self._add_text(block, line)
            return
        if block is None:
            if not self.strong:
                self._start(line, line.text, _Facts(), open_title=True)
            elif not self.blocks:
                self.preamble.labels.append(line.label)  # the page's header text
            return
        if block.state in ("title", "head", "abstract"):
            self._add_text(block, line)
            return
        if block.state == "gap" and self.strong:
            self._add_text(block, line)  # the next paragraph of a multi-paragraph abstract
            return
        # the card's text has ended: this is the next title, or trailing text of the card
        if not self.strong and (
            not self.leading_kinds or self.pending is not None or line.before_paragraph
        ):
            self._start(line, line.text, _Facts(), open_title=True)
            return
        if (
            block.facts.organization is None
            and _looks_like_name(line.text)
            and block.state in ("gap", "tail")
            and line.alone
        ):
            block.facts.organization = line.text  # the card's organisation, after its abstract
            block.last = line.last
        block.state = "tail"  # anything else is attached to no paper: skipped

    def _add_text(self, block: _Block, line: _Line) -> None:
        text = line.text
        block.last = line.last
        if block.state == "title":
            if (
                block.open_title
                and len(block.title) == 1
                and not text.endswith(".")
                and len(block.title[0]) + len(text) < MAX_TITLE_CHARS
            ):
                block.title.append(text)  # a title wrapped over two lines
                return
        elif block.state == "head":
            if (
                block.has_meta
                and block.facts.organization is None
                and line.alone
                and _looks_like_name(text)
            ):
                block.facts.organization = text
                return
        elif block.state == "gap":
            block.abstract.append("")  # a paragraph break inside a multi-paragraph abstract
        block.abstract.append(text)
        block.state = "abstract"

    def _submitter(self, line: _Line) -> bool:
        """The line after a bare "Submitted by" names the submitter."""
        for facts in (self.pending, self.current.facts if self.current else None):
            if facts is not None and facts.submitter_follows and _looks_like_name(line.text):
                facts.take_name(line.text.lstrip("@"))
                if self.current is not None and facts is self.current.facts:
                    self.current.last = line.last
                return True
        return False

    def _hold(self, first: int, facts: _Facts) -> None:
        if self.pending is None:
            self.pending, self.pending_first = _Facts(), first
        self.pending.merge(facts)

    def _start(
        self,
        line: _Line,
        title: str,
        facts: _Facts,
        open_title: bool = False,
        candidate: bool = False,
    ) -> None:
        """A new paper starts at its title; metadata held since the last paper is its own.

        A candidate (a heading of an anchored page) takes none: what was held belongs to the
        next paper link.
        """
        self._close()
        first = line.first
        if self.pending is not None and not candidate:
            if self.leading_kinds is None:
                self.leading_kinds = self.pending.kinds()
            facts.merge(self.pending)
            first = self.pending_first if self.pending_first is not None else first
            self.pending, self.pending_first = None, None
        elif self.leading_kinds is None and not candidate:
            self.leading_kinds = frozenset()
        block = _Block(first, line.last, [title], facts, open_title=open_title or line.open_title)
        block.has_meta = facts != _Facts()
        block.state = "title" if block.open_title else "head"
        block.candidate = candidate
        self.current = block

    def _close(self) -> None:
        block = self.current
        self.current = None
        if block is None:
            return
        if block.candidate and block.facts.arxiv_id is None:
            return  # a heading no paper link anchors: an explainer box, a note, a section
        self.blocks.append(block)

    def finish(self) -> tuple[list[_Block], _Preamble]:
        # metadata held after the last paper has no title to go with: it is dropped rather than
        # given to the last paper, whose own metadata came before its abstract
        self._close()
        return self.blocks, self.preamble


# --- from blocks to rows ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Page:
    """What holds for every paper of the page: its kind, date and the capture date."""

    kind: str
    listed_on: date | None
    month_day: str | None
    # the date against which a date without a year is placed (the capture date, else the page's)
    reference: date | None
    capture_year: int | None

    @classmethod
    def resolve(cls, header: _ToolHeader, preamble: _Preamble, context: CaptureContext) -> _Page:
        kind, url_date = _page_kind(header, preamble)
        captured = context.captured_on or header.captured_on
        listed_on: date | None = url_date
        month_day = _month_day(url_date)
        if listed_on is None and preamble.date_line is not None:
            listed_on, month_day = _dated(preamble.date_line, captured, context.capture_year)
        elif listed_on is None:
            listed_on, month_day = captured, _month_day(captured)
        return cls(kind, listed_on, month_day, captured or listed_on, context.capture_year)

    def year_for(self, month: int, day: int) -> int | None:
        if self.reference is not None:
            return _year_near(month, day, self.reference)
        return self.capture_year


def _page_kind(header: _ToolHeader, preamble: _Preamble) -> tuple[str, date | None]:
    """The kind of page from its URL when the capture has one, else from the page's header."""
    url = (header.url or "").lower()
    listing = re.search(r"huggingface\.co/papers(?P<path>/[^?#\s]*)?(?P<query>\?[^#\s]*)?", url)
    if listing:
        path = (listing["path"] or "").rstrip("/")
        query = listing["query"] or ""
        if re.search(r"[?&]q=", query):
            return "search", None
        if path.startswith("/trending"):
            return "trending", None
        dated = re.match(r"^/date/(\d{4}-\d{2}-\d{2})$", path) or re.search(
            r"[?&]date=(\d{4}-\d{2}-\d{2})", query
        )
        if dated:
            return "daily", _date_in(dated[1])
        if not path:
            return "daily", None
    labels = [_label(header.page_title)] if header.page_title else []
    labels += preamble.labels
    for label in labels:
        if _SEARCH_LABEL.match(label):
            return "search", None
        if label in _KIND_LABELS:
            return _KIND_LABELS[label], None
    if any(label.startswith(_EMAIL_LINE) for label in labels):
        return "trending", None
    return "unknown", None


def _dated(line: str, captured: date | None, capture_year: int | None) -> tuple[date | None, str]:
    """The date of a date line, and its month and day; the date is None when no year is known."""
    match = _DATE_LINE.match(line)
    month = MONTHS.get(match["month"].lower()) if match else None
    if match is None or month is None or not _is_month_day(month, int(match["day"])):
        return None, ""
    day = int(match["day"])
    month_day = f"{month:02d}-{day:02d}"
    if match["year"]:
        year: int | None = int(match["year"])
    elif captured is not None:
        year = _year_near(month, day, captured)
    else:
        year = capture_year
    if year is None:
        return None, month_day
    try:
        return date(year, month, day), month_day
    except ValueError:
        return None, month_day


def _year_near(month: int, day: int, reference: date) -> int | None:
    """The year of a month and day seen on a page captured on ``reference``: its year, or the
    year before when the date would be in the future (a "Dec 30" page captured on Jan 2)."""
    for year in (reference.year, reference.year - 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue  # Feb 29 outside a leap year
        if candidate - reference <= _FUTURE_SLACK:  # a difference cannot overflow
            return year
    return None


def _month_day(day: date | None) -> str | None:
    return None if day is None else f"{day.month:02d}-{day.day:02d}"


def _reject_reason(
    block: _Block, *, is_last: bool, cut: bool, cut_mid_entry: bool, others_have_abstracts: bool
) -> tuple[str, str] | None:
    """Why a block is not a complete paper, as ``(rule, reason)``, or None when it is."""
    title = "\n".join(block.title)
    if is_last and cut and (cut_mid_entry or not block.abstract):
        return "capture.cut_off", f"{CUT_OFF} (the capture was truncated)"
    if len(title) > MAX_TITLE_CHARS:
        return (
            "capture.title_too_long",
            f"expected a title line, found {len(title):,} characters of text",
        )
    if block.abstract:
        return None
    if is_last and (others_have_abstracts or not block.has_meta):
        return (
            "capture.cut_off",
            f"{CUT_OFF}: the text ends after its title and metadata, with no abstract",
        )
    # a card without an abstract (a daily listing shows none) is a paper when it has metadata
    return None if block.has_meta else ("capture.no_abstract", "title without an abstract")


def _row(block: _Block, position: int, title: str, raw: str, page: _Page) -> dict[str, object]:
    facts = block.facts
    counts = list(facts.counts)
    upvotes = facts.upvotes if facts.upvotes_seen else (counts.pop(0) if counts else None)
    comments = facts.comments if facts.comments is not None else (counts[0] if counts else None)
    published: datetime | None = None
    if facts.published is not None:
        month, day, year = facts.published
        year = year if year is not None else page.year_for(month, day)
        if year is not None:
            try:
                published = datetime(year, month, day, tzinfo=UTC)
            except ValueError:
                published = None
    abstract = "\n".join(block.abstract).strip() or None
    return {
        "position": position,
        "page_kind": page.kind,
        "listed_on": page.listed_on,
        "listed_month_day": page.month_day or None,
        "arxiv_id_raw": facts.arxiv_id,
        "title_raw": title,
        "abstract_raw": abstract,
        "published_at": published,
        "upvotes": upvotes,
        "comments": comments,
        "github_stars": facts.github_stars,
        "author_count": facts.author_count,
        "organization": facts.organization,
        "submitted_by": facts.submitted_by,
        "capture_links": facts.links or None,
        "raw_entry": raw,
    }
