"""The dirt catalogue: kinds of damage real scraped and API data shows, each with an example and
what the pipeline does with it. ``test_dirt.py`` injects every kind into real records of
``../shared/data`` and checks the outcome; ``docs/reliability.md`` shows the table this module
renders (``python -m tests.dirt.catalogue docs/reliability.md`` regenerates it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

REPAIRED = "repaired"
KEPT = "kept as written"
DROPPED = "field dropped"
REJECTED = "entry rejected"
QUARANTINED = "file quarantined"

Record = dict[str, Any]


@dataclass(frozen=True)
class Dirt:
    """One kind of damage and its expected outcome."""

    name: str
    what: str
    example: str
    outcome: str
    rule: str
    # entry kinds: the damaged record(s) that replace one real record (the last is the damaged
    # one); file kinds: the damaged text of a whole real file
    damage: Callable[[Record], Any] | Callable[[str], str]
    target: str = "api"  # api (one entry of an API file), capture (the capture), file (a file)
    # the value the rule leaves, when it is known (value_after in the repairs table)
    after: str | None = None
    # the repair gives back exactly the clean value: the paper's rows equal the clean build's
    recovers: bool = False
    # file kinds: the name the damaged file is landed under
    file_name: str = ""


def _paper(**values: Any) -> Callable[[Record], Record]:
    """Set fields of the paper object (a callable value is applied to the field's old value)."""

    def damage(record: Record) -> Record:
        paper = record["paper"]
        for key, value in values.items():
            paper[key] = value(paper.get(key)) if callable(value) else value
        return record

    return damage


def _title(value: Any) -> Callable[[Record], Record]:
    """Set the title where the API writes it twice (paper.title and the entry's title)."""

    def damage(record: Record) -> Record:
        for holder in (record["paper"], record):
            holder["title"] = value(holder.get("title")) if callable(value) else value
        return record

    return damage


def _without(*keys: str) -> Callable[[Record], Record]:
    def damage(record: Record) -> Record:
        for key in keys:
            record["paper"].pop(key, None)
            record.pop(key, None)
        return record

    return damage


def _repeat_with_other_upvotes(record: Record) -> list[Record]:
    copy = json.loads(json.dumps(record))
    copy["paper"]["upvotes"] = (record["paper"].get("upvotes") or 0) + 7
    return [record, copy]


def _wrap_again(text: str) -> str:
    items = json.loads(text)
    return json.dumps({"data": {"papers": items if isinstance(items, list) else items["data"]}})


def _other_wrapper(text: str) -> str:
    return json.dumps({"results": json.loads(text), "page": 1})


def _rename_title_field(text: str) -> str:
    return text.replace('"title":', '"name":')


def _flat_papers(text: str) -> str:
    return json.dumps([item["paper"] for item in json.loads(text)])


def _cut(text: str) -> str:
    return text[: len(text) // 2]


def _licence(_text: str) -> str:
    return (
        "                                 Apache License\n"
        "                           Version 2.0, January 2004\n"
        "                        http://www.apache.org/licenses/\n\n"
        "   TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION\n\n"
        "   1. Definitions.\n\n"
        '      "License" shall mean the terms and conditions for use, reproduction,\n'
        "      and distribution as defined by Sections 1 through 9 of this document.\n"
    )


def _error_page(_text: str) -> str:
    return "<!DOCTYPE html><html><head><title>502</title></head><body>Bad Gateway</body></html>"


_REPO = "https://github.com/owner/repo"
CATALOGUE: tuple[Dirt, ...] = (
    # links
    Dirt("url-line-break", "a line break inside a link", '"githubRepo": "https://github.com/owner/\\nrepo"',
         REPAIRED, "github_repo_raw.whitespace", _paper(githubRepo="https://github.com/owner/\nrepo"),
         after=_REPO),
    Dirt("url-padded", "white space around a link", '"projectPage": "  https://a.github.io/p  "',
         REPAIRED, "project_page_raw.whitespace", _paper(projectPage="  https://a.github.io/p  "),
         after="https://a.github.io/p"),
    Dirt("url-no-scheme", "a link without a scheme", '"githubRepo": "github.com/owner/repo"',
         REPAIRED, "github_repo_raw.scheme_added", _paper(githubRepo="github.com/owner/repo"),
         after=_REPO),
    Dirt("url-trailing-punctuation", "a sentence's punctuation after a link",
         '"githubRepo": "https://github.com/owner/repo)."', REPAIRED,
         "github_repo_raw.trailing_punctuation", _paper(githubRepo=_REPO + ")."), after=_REPO),
    Dirt("url-markdown", "a Markdown link where an address belongs",
         '"githubRepo": "[code](https://github.com/owner/repo)"', REPAIRED,
         "github_repo_raw.link_syntax", _paper(githubRepo=f"[code]({_REPO})"), after=_REPO),
    Dirt("url-placeholder", "a placeholder instead of a link", '"projectPage": "N/A"', DROPPED,
         "project_page_raw.unusable", _paper(projectPage="N/A")),
    Dirt("url-other-scheme", "a link of another scheme", '"projectPage": "javascript:alert(1)"',
         DROPPED, "project_page_raw.unusable", _paper(projectPage="javascript:alert(1)")),
    Dirt("url-object", "an object where a link belongs", '"githubRepo": {"url": "..."}', DROPPED,
         "github_repo_raw.wrong_type", _paper(githubRepo={"url": _REPO})),
    # counts
    Dirt("count-as-text", "a number sent as text", '"upvotes": "42"', REPAIRED,
         "upvotes.number_as_text", _paper(upvotes=str), recovers=True),
    Dirt("count-with-separator", "a number with a thousands separator", '"upvotes": "1,234"',
         REPAIRED, "upvotes.number_as_text", _paper(upvotes="1,234"), after="1234"),
    Dirt("count-as-float", "a whole number with a decimal point", '"upvotes": 12.0', REPAIRED,
         "upvotes.whole_float", _paper(upvotes=float), recovers=True),
    Dirt("count-negative", "a negative count", '"upvotes": -5', DROPPED, "upvotes.negative",
         _paper(upvotes=-5)),
    Dirt("count-huge", "a huge count", '"upvotes": 1000000000000', DROPPED, "upvotes.implausible",
         _paper(upvotes=10**12)),
    Dirt("count-boolean", "true or false where a count belongs", '"upvotes": true', DROPPED,
         "upvotes.not_a_number", _paper(upvotes=True)),
    Dirt("count-word", "a word where a count belongs", '"upvotes": "many"', DROPPED,
         "upvotes.not_a_number", _paper(upvotes="many")),
    # titles
    Dirt("title-null", "a null title", '"title": null', REJECTED, "title.missing", _title(None)),
    Dirt("title-blank", "a title of white space only", '"title": "   "', REJECTED, "title.empty",
         _title("   ")),
    Dirt("title-html", "HTML tags in a title", '"title": "<b>Title</b>"', REPAIRED, "title.markup",
         _title(lambda t: f"<b>{t}</b>"), recovers=True),
    Dirt("title-entities", "HTML entities in a title", '"title": "Q&amp;A"', REPAIRED,
         "title.entities", _title(lambda t: t.replace(" ", " &#32;", 1)), recovers=True),
    Dirt("title-zero-width", "a zero-width space inside a word", '"title": "Dif\\u200bfusion"',
         REPAIRED, "title.invisible", _title(lambda t: t[:3] + "\u200b" + t[3:]), recovers=True),
    Dirt("title-control", "a control character", '"title": "Title\\u0007"', REPAIRED,
         "title.invisible", _title(lambda t: t + "\u0007"), recovers=True),
    Dirt("title-direction-override", "a right-to-left override hiding text",
         '"title": "\\u202eTitle"', REPAIRED, "title.invisible", _title(lambda t: "\u202e" + t),
         recovers=True),
    Dirt("title-markdown", "Markdown emphasis around a title", '"title": "**Title**"', REPAIRED,
         "title.markup", _title(lambda t: f"**{t}**"), recovers=True),
    Dirt("title-latex", "LaTeX in a title (arXiv's own markup)", '"title": "$\\alpha$-Nets"',
         KEPT, "", _title(lambda t: f"$\\alpha$-{t}")),
    Dirt("title-huge", "a title of 5,000 characters", '"title": "xxxx...x"', REJECTED,
         "title.too_long", _title("x" * 5_000)),
    Dirt("title-no-letters", "a title of punctuation only", '"title": "???"', REJECTED,
         "title.no_letters", _title("???")),
    Dirt("title-number", "a number where a title belongs", '"title": 2024', REPAIRED,
         "title.text_from_number", _title(2024), after="2024"),
    Dirt("title-object", "an object where a title belongs", '"title": {"en": "..."}', REJECTED,
         "title.wrong_type", _title(lambda t: {"en": t})),
    # arXiv ids
    Dirt("id-prefixed", "an id with its 'arXiv:' prefix", '"id": "arXiv:2503.17359"', REPAIRED,
         "arxiv_id.respelled", _paper(id=lambda i: f"arXiv:{i}"), recovers=True),
    Dirt("id-as-link", "an id given as its abs link, versioned",
         '"id": "https://arxiv.org/abs/2503.17359v2"', REPAIRED, "arxiv_id.respelled",
         _paper(id=lambda i: f"https://arxiv.org/abs/{i}v2")),
    Dirt("id-inner-space", "white space inside an id", '"id": "2503. 17359"', REPAIRED,
         "arxiv_id.whitespace", _paper(id=lambda i: i.replace(".", ". ")), recovers=True),
    Dirt("id-full-width", "full-width digits", '"id": "２５０３.１７３５９"', REPAIRED,
         "arxiv_id.respelled",
         _paper(id=lambda i: i.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})),
         recovers=True),
    Dirt("id-invalid", "an id that is not an arXiv id", '"id": "not-an-id"', REJECTED,
         "arxiv_id.invalid", _paper(id="not-an-id")),
    Dirt("id-missing", "no id", "(no paper.id)", REJECTED, "arxiv_id.missing", _without("id")),
    # times
    Dirt("date-other-format", "a time without the T and the Z",
         '"publishedAt": "2025-03-21 17:59:22"',
         REPAIRED, "published_at.other_format",
         _paper(publishedAt=lambda t: t.replace("T", " ").replace(".000Z", "")), recovers=True),
    Dirt("date-offset", "a time with a UTC offset", '"publishedAt": "2025-03-21T19:59:22+02:00"',
         REPAIRED, "published_at.other_format",
         _paper(publishedAt=lambda t: t.replace(".000Z", "+00:00")), recovers=True),
    Dirt("date-epoch", "seconds since 1970", '"publishedAt": 1742579962', REPAIRED,
         "published_at.epoch", _paper(publishedAt=1742579962)),
    Dirt("date-impossible", "a day that does not exist",
         '"publishedAt": "2025-02-30T00:00:00.000Z"',
         DROPPED, "published_at.unparsable", _paper(publishedAt="2025-02-30T00:00:00.000Z")),
    Dirt("date-future", "a publication date after the listing",
         '"publishedAt": "2099-01-01T00:00:00.000Z"',
         DROPPED, "published_at.out_of_range", _paper(publishedAt="2099-01-01T00:00:00.000Z")),
    Dirt("date-before-arxiv", "a publication date before arXiv opened",
         '"publishedAt": "1970-01-01T00:00:00.000Z"', DROPPED, "published_at.out_of_range",
         _paper(publishedAt="1970-01-01T00:00:00.000Z")),
    Dirt("date-words", "words where a time belongs", '"publishedAt": "yesterday"', DROPPED,
         "published_at.unparsable", _paper(publishedAt="yesterday")),
    # lists and names
    Dirt("authors-as-text", "a list sent as the text of a JSON list",
         '"authors": "[{\\"name\\": ...}]"',
         REPAIRED, "authors.list_as_text", _paper(authors=json.dumps), recovers=True),
    Dirt("authors-plain-names", "names instead of author objects", '"authors": ["Ada", "Alan"]',
         REPAIRED, "authors.item_as_text", _paper(authors=lambda a: [x["name"] for x in a]),
         recovers=True),
    Dirt("authors-one-text", "one text where a list belongs", '"authors": "Ada and Alan"', DROPPED,
         "authors.not_a_list", _paper(authors="Ada and Alan")),
    Dirt("authors-junk-items", "items that are not authors", '"authors": [{...}, 5, {"x": 1}]',
         REPAIRED, "authors.item_unusable", _paper(authors=lambda a: [*a, 5, {"x": 1}]),
         recovers=True),
    Dirt("keywords-python-repr", "a list sent as the text of a Python list",
         "\"ai_keywords\": \"['a', 'b']\"", REPAIRED, "ai_keywords.list_as_text",
         _paper(ai_keywords=lambda k: repr(k or ["video generation"]))),
    Dirt("name-mixed-script", "a name in another script with a bidirectional mark",
         '"submittedBy": {"fullname": "\\u200fمحمد"}', REPAIRED, "submitted_by.invisible",
         lambda r: {**r, "submittedBy": {"fullname": "\u200fمحمد"}}, after="محمد"),
    # abstracts
    Dirt("abstract-huge", "a whole page pasted as the abstract", '"summary": "x" * 50,000', DROPPED,
         "abstract.too_long", _paper(summary="lorem ipsum " * 5_000)),
    Dirt("abstract-html", "HTML paragraphs in an abstract", '"summary": "<p>We ...</p>"',
         REPAIRED, "abstract.markup", _paper(summary=lambda s: f"<p>{s}</p>"), recovers=True),
    Dirt("abstract-empty", "an empty abstract", '"summary": ""', DROPPED, "abstract.empty",
         lambda r: {**r, "summary": " ", "paper": {**r["paper"], "summary": " "}}),
    Dirt("abstract-list", "a list where an abstract belongs", '"summary": ["We", "study"]',
         DROPPED, "abstract.wrong_type",
         lambda r: {**r, "summary": ["We"], "paper": {**r["paper"], "summary": ["We", "study"]}}),
    # entries
    Dirt("entry-not-an-object", "a number where an entry belongs", "42", REJECTED,
         "entry.not_an_entry", lambda _r: 42),
    Dirt("entry-without-paper", "an entry without its paper object", '{"title": "..."}', REJECTED,
         "entry.not_an_entry", lambda r: {"title": r["title"]}),
    Dirt("entry-broken-repr", "an entry that is the text of a cut Python literal",
         "\"{'paper': {\"",
         REJECTED, "entry.undecodable", lambda _r: "{'paper': {'id': "),
    Dirt("entry-repeated", "the same paper twice in a file, with other counts",
         "(the entry again, 7 more upvotes)", REJECTED, "entry.repeat", _repeat_with_other_upvotes),
    # captures
    Dirt("capture-zero-width-title", "a zero-width space in a captured title",
         "Sensitivity-Aware Visual\\u200b Parameter-Efficient Fine-Tuning", REPAIRED,
         "title.invisible",
         lambda text: text.replace("Aware Visual", "Aware Visual\u200b", 1),
         target="capture", recovers=True),
    Dirt("capture-entity-abstract", "an HTML entity in a captured abstract",
         "the Conformer architecture&#39;s design", REPAIRED, "abstract.entities",
         lambda text: text.replace("architecture's design", "architecture&#39;s design", 1),
         target="capture", recovers=True),
    # whole files
    Dirt("file-nested-wrapper", "a new wrapper around the list", '{"data": {"papers": [...]}}',
         QUARANTINED, "file.unknown_shape", _wrap_again, target="file",
         file_name="dirt/2025-03-24.json"),
    Dirt("file-other-wrapper", "the list under another key", '{"results": [...], "page": 1}',
         QUARANTINED, "file.unknown_shape", _other_wrapper, target="file",
         file_name="dirt/2025-03-26.json"),
    Dirt("file-renamed-field", "a required field renamed in every entry",
         '"name": "..." for "title"',
         QUARANTINED, "file.too_many_rejects", _rename_title_field, target="file",
         file_name="dirt/2025-03-31.json"),
    Dirt("file-flat-papers", "paper objects without the entry around them",
         '[{"id": ..., "title": ...}]',
         QUARANTINED, "file.unknown_shape", _flat_papers, target="file",
         file_name="dirt/2025-03-20.json"),
    Dirt("file-truncated", "a response cut off in the middle", '[{"paper": {"id": "25',
         QUARANTINED, "file.not_json", _cut, target="file", file_name="dirt/2025-03-21.json"),
    Dirt("file-licence", "a licence text landed with the listings", "Apache License ...",
         QUARANTINED, "file.not_a_listing", _licence, target="file", file_name="dirt/LICENSE"),
    Dirt("file-error-page", "an HTML error page saved as a response", "<!DOCTYPE html>...502...",
         QUARANTINED, "file.html_page", _error_page, target="file",
         file_name="dirt/2025-03-19.json"),
)  # fmt: skip

CATALOGUE_START = "<!-- dirt catalogue: generated from tests/dirt/catalogue.py -->"
CATALOGUE_END = "<!-- end of dirt catalogue -->"


def catalogue_markdown() -> str:
    """The catalogue as a Markdown table between its markers."""
    lines = [
        CATALOGUE_START,
        "",
        "| kind | example | outcome | rule |",
        "| --- | --- | --- | --- |",
    ]
    for dirt in CATALOGUE:
        example = dirt.example.replace("|", "\\|")
        lines.append(f"| {dirt.what} | `{example}` | {dirt.outcome} | `{dirt.rule}` |")
    return "\n".join([*lines, "", CATALOGUE_END])


if __name__ == "__main__":
    import sys
    from pathlib import Path

    from pipelines.core.publish.catalog import replace_generated_section

    replace_generated_section(
        Path(sys.argv[1]), CATALOGUE_START, CATALOGUE_END, catalogue_markdown()
    )
