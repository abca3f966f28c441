"""Title look-up decisions: precision first, on real papers of ../shared/data with the candidate
lists a search returns (the true paper among near-misses, or only near-misses).

Formats: the Hugging Face papers search answers a JSON list of items shaped like the daily papers
API's (``paper.id``, ``paper.title``, ``paper.authors[].name``, ``paper.publishedAt``), so the
answers here are real daily items; the arXiv answers follow the Atom layout of the arXiv API
(``feed/entry`` with ``id``, ``published``, ``title``, ``author/name``, ``arxiv:comment``).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import orjson
import pytest

from pipelines.core.ops.title_lookup import (
    ACCEPTED,
    ARXIV_API,
    HF_SEARCH,
    UNRESOLVED,
    Candidate,
    ListedTitle,
    LookupAnswerError,
    decide,
    parse_arxiv_atom,
    parse_hf_search,
    title_keys,
)
from tests.conftest import SAMPLE_LANDING, SHARED_DATA

SHARED_API = SHARED_DATA / "hf-daily-api"

FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">
  <title type="html">ArXiv Query: search_query=ti:"Transformers are SSMs"</title>
  <entry>
    <id>http://arxiv.org/abs/2405.21060v1</id>
    <updated>2024-05-31T17:50:01Z</updated>
    <published>2024-05-31T17:50:01Z</published>
    <title>Transformers are SSMs: Generalized Models and Efficient Algorithms
  Through Structured State Space Duality</title>
    <summary>While Transformers have been the main architecture ...</summary>
    <author><name>Tri Dao</name></author>
    <author><name>Albert Gu</name></author>
    <arxiv:comment>ICML 2024; code at https://github.com/state-spaces/mamba</arxiv:comment>
  </entry>
  <entry>
    <id>http://arxiv.org/abs/2312.00752v2</id>
    <published>2023-12-01T18:01:34Z</published>
    <title>Mamba: Linear-Time Sequence Modeling with Selective State Spaces</title>
    <author><name>Albert Gu</name></author>
  </entry>
</feed>
"""


def _real_papers() -> list[dict[str, Any]]:
    """Every distinct paper of the real API files (the shared archive, else the bundled sample),
    with the first day it was listed, in a fixed order."""
    folder = SHARED_API if SHARED_API.is_dir() else SAMPLE_LANDING / "hf-daily-api"
    papers: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            document = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError:
            continue
        items = document.get("data") if isinstance(document, dict) else document
        for item in items if isinstance(items, list) else []:
            paper = item.get("paper") if isinstance(item, dict) else None
            if not isinstance(paper, dict) or not isinstance(paper.get("title"), str):
                continue
            paper = {**paper, "listed_on": date.fromisoformat(path.stem)}
            papers.setdefault(str(paper.get("id")), paper)
    return [papers[key] for key in sorted(papers)]


def _candidate(paper: dict[str, Any], **changes: Any) -> Candidate:
    published = str(paper.get("publishedAt") or "")[:10]
    fields: dict[str, Any] = {
        "arxiv_id": paper["id"],
        "title": paper["title"],
        "source": HF_SEARCH,
        "authors": tuple(a["name"] for a in paper.get("authors") or [] if isinstance(a, dict)),
        "submitted_on": date.fromisoformat(published) if published else None,
    }
    return Candidate(**{**fields, **changes})


def _typo(title: str, rng: random.Random) -> str:
    """The title with one letter of a long word doubled: one edit."""
    words = title.split()
    index = max(range(len(words)), key=lambda i: (sum(c.isalpha() for c in words[i]), -i))
    word = words[index]
    # a letter, not a hyphen or a digit: the matching form folds punctuation away
    at = rng.choice([i for i, character in enumerate(word) if character.isalpha()])
    words[index] = word[: at + 1] + word[at] + word[at + 1 :]
    return " ".join(words)


def _labelled_cases() -> list[tuple[str, ListedTitle, list[Candidate], str | None]]:
    """(scenario, listed title, candidates, the true id when it is among them).

    Three scenarios in turn, each with realistic near-misses: the other real paper whose title
    shares most words, a later paper under the same title, a workshop version:
    - ``present``: the listed title as published, the true paper among the near-misses;
    - ``absent``: the true paper missing; one near-miss is the title one letter off, by other
      authors, submitted before the listing (the trap a loose matcher falls into);
    - ``typo``: the listing misspells one letter and shows the authors; the true paper among the
      near-misses.
    """
    rng = random.Random(7)
    papers = [p for p in _real_papers() if len(title_keys([p["title"]])[0]) >= 20]
    words = [set(title_keys([p["title"]])[0].split()) for p in papers]
    cases = []
    for index, paper in enumerate(papers):
        others = [j for j in range(len(papers)) if j != index]
        nearest = max(others, key=lambda j: (len(words[index] & words[j]), -j))
        listed_on = paper["listed_on"]
        near_misses = [
            _candidate(papers[nearest]),
            _candidate(
                paper,
                arxiv_id=f"2999.{index:05d}",
                authors=("Someone Else",),
                submitted_on=listed_on + timedelta(days=40),
            ),
            _candidate(
                paper,
                arxiv_id=f"2998.{index:05d}",
                title=f"{paper['title']} (Workshop Version)",
                submitted_on=listed_on - timedelta(days=300),
            ),
        ]
        truth = _candidate(paper, source=ARXIV_API if index % 2 else HF_SEARCH)
        scenario = ("present", "absent", "typo")[index % 3]
        if scenario == "present":
            listed = ListedTitle(paper["title"], listed_on)
            candidates = [*near_misses[:2], truth, near_misses[2]]
            cases.append((scenario, listed, candidates, paper["id"]))
        elif scenario == "absent":
            one_off = _candidate(
                paper,
                arxiv_id=f"2997.{index:05d}",
                title=_typo(paper["title"], rng),
                authors=("Other Person",),
                submitted_on=listed_on - timedelta(days=20),
            )
            listed = ListedTitle(paper["title"], listed_on)
            cases.append((scenario, listed, [*near_misses, one_off], None))
        else:
            authors = truth.authors[:2]
            listed = ListedTitle(_typo(paper["title"], rng), listed_on, authors=authors)
            cases.append((scenario, listed, [near_misses[0], truth, *near_misses[1:]], paper["id"]))
    return cases


def test_precision_on_real_titles_among_near_misses_is_at_least_099() -> None:
    cases = _labelled_cases()
    assert len(cases) >= 150
    accepted = correct = findable = 0
    by_scenario: dict[str, list[int]] = {}
    for scenario, listed, candidates, truth in cases:
        decision = decide(listed, candidates)
        counts = by_scenario.setdefault(scenario, [0, 0, 0])
        counts[0] += 1
        findable += truth is not None
        if decision.outcome == ACCEPTED:
            accepted += 1
            counts[1] += 1
            correct += decision.arxiv_id == truth
            counts[2] += decision.arxiv_id == truth
    precision = correct / accepted
    recall = correct / findable
    assert precision >= 0.99, (precision, by_scenario)
    # every paper whose listing carries its exact title or its authors is found; none is
    # accepted when the true paper is missing
    assert by_scenario["absent"][1] == 0
    assert recall == 1.0, (recall, by_scenario)


def test_a_later_paper_and_a_workshop_version_of_the_same_title_are_set_aside() -> None:
    listed = ListedTitle("Attention Is All You Need", date(2017, 7, 1))
    true = Candidate("1706.03762", "Attention is All you Need", ARXIV_API, (), date(2017, 6, 12))
    later = Candidate("2401.00001", "Attention Is All You Need", HF_SEARCH, (), date(2024, 1, 1))
    workshop = Candidate(
        "1707.00002", "Attention Is All You Need (Workshop)", HF_SEARCH, (), date(2017, 6, 1)
    )
    decision = decide(listed, [later, workshop, true])
    assert (decision.outcome, decision.arxiv_id) == (ACCEPTED, "1706.03762")
    assert dict(decision.verdicts) == {
        "2401.00001": "submitted after the listing",
        "1707.00002": "too far",
        "1706.03762": "exact",
    }


def test_two_papers_under_one_title_stay_unresolved_unless_the_authors_tell_them_apart() -> None:
    one = Candidate("2101.00001", "Deep Learning", HF_SEARCH, ("Ada Lovelace",), date(2021, 1, 1))
    two = Candidate("2102.00002", "Deep Learning", ARXIV_API, ("Alan Turing",), date(2021, 2, 1))
    unsure = decide(ListedTitle("Deep learning", date(2021, 3, 1)), [one, two])
    assert (unsure.outcome, unsure.arxiv_id) == (UNRESOLVED, None)
    assert unsure.reason == "2 papers match: 2101.00001, 2102.00002"
    told = decide(ListedTitle("Deep learning", date(2021, 3, 1), ("A. Turing",)), [one, two])
    assert (told.outcome, told.arxiv_id) == (ACCEPTED, "2102.00002")
    assert dict(told.verdicts)["2101.00001"] == "no author in common"


def test_a_near_title_needs_an_author_or_the_repository_to_agree() -> None:
    paper = Candidate(
        "2405.21060",
        "Transformers are SSMs: Generalized Models",
        ARXIV_API,
        ("Tri Dao", "Albert Gu"),
        date(2024, 5, 31),
        "https://github.com/state-spaces/mamba",
    )
    listed = "Transformer are SSMs: Generalized Models"
    alone = decide(ListedTitle(listed, date(2024, 6, 3)), [paper])
    assert (alone.outcome, alone.verdicts) == (
        UNRESOLVED,
        (("2405.21060", "near, no other signal"),),
    )
    by_repository = decide(
        ListedTitle(listed, github="https://github.com/State-Spaces/mamba.git"), [paper]
    )
    assert (by_repository.arxiv_id, by_repository.reason) == (
        "2405.21060",
        "one paper matches: near, same repository",
    )
    by_author = decide(ListedTitle(listed, authors=("Albert Gu",)), [paper])
    assert by_author.verdicts == (("2405.21060", "near, an author in common"),)
    assert decide(ListedTitle(listed), []).reason == "no candidate"


def test_the_hf_search_answer_is_read_from_real_daily_items() -> None:
    items = orjson.loads((SAMPLE_LANDING / "hf-daily-api" / "2024-05-31.json").read_bytes())
    candidates = parse_hf_search(orjson.dumps(items), "transformers")
    first = items[0]["paper"]
    assert len(candidates) == len(items)
    assert candidates[0].arxiv_id == first["id"]
    assert candidates[0].title == first["title"]
    assert candidates[0].authors == tuple(author["name"] for author in first["authors"])
    assert candidates[0].submitted_on == date.fromisoformat(first["publishedAt"][:10])
    with pytest.raises(LookupAnswerError, match=r"hf_search 'q': expected a JSON list, got dict"):
        parse_hf_search(b'{"error": "rate limited"}', "q")
    with pytest.raises(LookupAnswerError, match=r"hf_search 'q': not JSON"):
        parse_hf_search(b"<html>502</html>", "q")


def test_the_arxiv_feed_is_read_without_versions_and_with_its_repository() -> None:
    first, second = parse_arxiv_atom(FEED, "ti:SSMs")
    assert first == Candidate(
        "2405.21060",
        "Transformers are SSMs: Generalized Models and Efficient Algorithms Through Structured "
        "State Space Duality",
        ARXIV_API,
        ("Tri Dao", "Albert Gu"),
        date(2024, 5, 31),
        "https://github.com/state-spaces/mamba",
    )
    assert (second.arxiv_id, second.github) == ("2312.00752", None)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        # billion laughs: entities that expand to gigabytes
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            b'<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol2;</title></feed>',
            "refused feed",
        ),
        # an external entity reading a local file
        (
            b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<feed xmlns="http://www.w3.org/2005/Atom"><title>&x;</title></feed>',
            "refused feed",
        ),
        (b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>', "not a readable feed"),
        (b"<html><body>Rate exceeded.</body></html>", "expected an Atom feed, got <html>"),
    ],
)
def test_a_hostile_or_broken_feed_is_an_error_naming_the_query(body: bytes, message: str) -> None:
    with pytest.raises(LookupAnswerError, match=rf"arxiv_api 'ti:x': {message}"):
        parse_arxiv_atom(body, "ti:x")
