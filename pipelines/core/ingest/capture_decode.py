"""Rewrite the links of captures whose tools write links their own way into Markdown links.

The page-capture parser reads links as Markdown (``[label](url)``). Two kinds of tools write a
link otherwise, and their captures are rewritten here before the parser reads them:

* **Text browsers** (``lynx -dump``, ``w3m`` with link numbers) put a number before each link's
  text (``[16]TPDiff: Temporal Pyramid...``) and list the URLs under a ``References`` heading at
  the end (``  16. https://huggingface.co/papers/2503.09566``). A numbered paragraph short enough
  to be a link's text (a title, an upvote count, "2 authors"; a title wrapped onto the next
  lines) becomes ``[text](url)``; a longer one (an abstract that is itself a link) and a number
  inside a line only lose the number. The
  ``References`` list is blanked: it has been read.
* **Notebook and note exporters** write each link as its text, a blank line, then its URL alone
  on a line. When a capture has at least ``MIN_TEXT_THEN_URL`` such pairs, each pair becomes
  ``[text](url)`` and the URL line is blanked.

The rewriting is line for line: the result has exactly as many lines as the input, so the
parser's line numbers still point into the original text (its raw entries are cut from it).
Each pass is one scan of the lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# lynx and w3m: "References" (lynx) or "Visible links" / "Hidden links:" (lynx -listonly), then
# "  12. https://..." lines
_REFERENCES_HEADING = frozenset({"references", "visible links", "visible links:", "hidden links:"})
_REFERENCE = re.compile(r"^\s*(?P<number>\d{1,6})\.\s+(?P<url>\S+)\s*$")
# "[12]" before a link's text; a bullet may come first ("  * [2]Models")
_MARKER = re.compile(r"\[(?P<number>\d{1,6})\]")
_LEADING_MARKER = re.compile(
    r"^(?P<indent>\s*(?:[*+\-#o]\s+)?)\[(?P<number>\d{1,6})\](?P<rest>.*)$"
)
# lynx writes an image as its alt text in brackets: "[28][cornell] Cornell University"
_IMAGE_ALT = re.compile(r"^\[[^\[\]\d][^\[\]]*\]\s*")
# a link's text is at most a title: a longer numbered paragraph is an abstract (or prose) that
# happens to be a link, and keeps its text without the number. The value is the parser's
# longest title (see page_capture.MAX_TITLE_CHARS), so that what is read here as a link's text
# can be read there as a title
MAX_LINK_TEXT_CHARS = 400
# a title wraps over at most three lines at a text browser's 80 columns
MAX_LINK_TEXT_LINES = 3
# a text browser fills a line to about 76 of its 80 columns before wrapping: a line shorter than
# this ended with its text (the next line is a new element), a longer one may have wrapped
WRAPPED_LINE_CHARS = 60

_BARE_URL_LINE = re.compile(r"^\s*<?(?P<url>https?://[^\s<>]+)>?\s*$")
# pairs a capture must hold before it is read as "text, blank line, URL": one or two such pairs
# also occur in ordinary Markdown (a sentence, then a link pasted on its own line), while an
# exporter writes one per link, dozens per page
MIN_TEXT_THEN_URL = 3


def decode_tool_links(lines: list[str], start: int, end: int) -> list[str]:
    """``lines`` with the links of text browsers and exporters written as Markdown links.

    Only ``lines[start:end]`` (the page inside the tool's header and footer) is read and
    rewritten; the result is a new list of the same length.
    """
    decoded = list(lines)
    _decode_numbered_references(decoded, start, end)
    _decode_text_then_url(decoded, start, end)
    return decoded


def _decode_numbered_references(lines: list[str], start: int, end: int) -> None:
    """Rewrite a text-browser dump's ``[12]text`` links with the URLs of its reference list."""
    heading = _references_heading(lines, start, end)
    if heading is None:
        return
    urls: dict[str, str] = {}
    for index in range(heading + 1, end):
        reference = _REFERENCE.match(lines[index])
        if reference:
            urls.setdefault(reference["number"], reference["url"])
        lines[index] = ""  # the list has been read; its lines are no part of the page
    lines[heading] = ""
    index = start
    while index < heading:
        line = lines[index]
        marker = _LEADING_MARKER.match(line)
        if marker is None or marker["number"] not in urls:
            if "[" in line:
                lines[index] = _MARKER.sub(_keep_unknown(urls), line)
            index += 1
            continue
        # the link's text: this line's rest, and the lines it wraps onto
        paragraph_end = index + 1
        while (
            paragraph_end < heading
            and len(lines[paragraph_end - 1].rstrip()) >= WRAPPED_LINE_CHARS
            and lines[paragraph_end].strip()
            and _LEADING_MARKER.match(lines[paragraph_end]) is None
        ):
            paragraph_end += 1
        rest = _IMAGE_ALT.sub("", marker["rest"].strip())
        words = [rest, *(lines[i].strip() for i in range(index + 1, paragraph_end))]
        text = " ".join(word for word in words if word)
        url = urls[marker["number"]]
        if (
            text
            and len(text) <= MAX_LINK_TEXT_CHARS
            and paragraph_end - index <= MAX_LINK_TEXT_LINES
            and "[" not in text
            and "]" not in text
        ):
            lines[index] = f"{marker['indent']}[{text}]({url})"
            for continued in range(index + 1, paragraph_end):
                lines[continued] = ""
        else:
            # an abstract (or prose) that is a link: its text without the number
            lines[index] = _MARKER.sub(_keep_unknown(urls), f"{marker['indent']}{marker['rest']}")
            for continued in range(index + 1, paragraph_end):
                lines[continued] = _MARKER.sub(_keep_unknown(urls), lines[continued])
        index = paragraph_end


def _references_heading(lines: list[str], start: int, end: int) -> int | None:
    """The line of a dump's reference list: a ``References`` heading followed only by numbered
    URLs (and blank lines) to the end of the page; None when there is none."""
    numbered = 0
    for index in range(end - 1, start - 1, -1):
        stripped = lines[index].strip()
        if not stripped:
            continue
        if stripped.lower() in _REFERENCES_HEADING:
            if numbered == 0:
                return None
            # lynx -listonly writes "Visible links" and "Hidden links:": the first one heads it
            earlier = _references_heading(lines, start, index)
            if earlier is not None and _only_references(lines, earlier, index):
                return earlier
            return index
        if _REFERENCE.match(lines[index]) is None:
            return None
        numbered += 1
    return None


def _only_references(lines: list[str], first: int, last: int) -> bool:
    return all(
        not line.strip() or _REFERENCE.match(line) is not None for line in lines[first + 1 : last]
    )


def _keep_unknown(urls: dict[str, str]) -> Callable[[re.Match[str]], str]:
    """A ``re.sub`` callback: drop a link number whose URL is listed, keep other brackets."""

    def replace(match: re.Match[str]) -> str:
        return "" if match["number"] in urls else match[0]

    return replace


def _decode_text_then_url(lines: list[str], start: int, end: int) -> None:
    """Rewrite "text, blank line, URL alone on a line" as ``[text](url)``.

    The text is a paragraph of one line (a blank line or the page's start before it) that is not
    itself a URL or a Markdown link, so that a hard-wrapped paragraph ending in a URL is not
    mistaken for a link.
    """
    pairs: list[tuple[int, int, str]] = []
    for index in range(start + 2, end):
        url = _BARE_URL_LINE.match(lines[index])
        if url is None or lines[index - 1].strip():
            continue
        text_index = index - 2
        text = lines[text_index].strip()
        if (
            not text
            or (text_index > start and lines[text_index - 1].strip())
            or _BARE_URL_LINE.match(text) is not None
            or "](" in text
            or text.count("[") != text.count("]")
        ):
            continue
        pairs.append((text_index, index, url["url"]))
    if len(pairs) < MIN_TEXT_THEN_URL:
        return
    for text_index, url_index, url in pairs:
        lines[text_index] = f"[{lines[text_index].strip()}]({url})"
        lines[url_index] = ""
