"""Deterministic synthetic landing folders for the benchmarks, grown from the real raw listings.

The real archive (daily papers API responses and a Trending Papers page capture) is small; the
benchmarks need five years of it, or a million entries. This module reads the real files once and
synthesises a landing folder of any size that keeps what makes the real input costly to ingest:

- the same formats in the real proportions: JSON lists of objects (indented by 4 or 2 spaces,
  UTF-8 left raw), lists of Python-repr strings of the objects, and the wrapped
  ``{"status", "date", "count", "data"}`` response (its items repr strings, like the real one);
- real records as templates (their field sets change over time, and so do the synthetic ones), with
  a new arXiv-style id ``YYMM.NNNNN`` consistent with the publication day, perturbed titles
  (unique, hard-wrapped like arXiv's when long) and abstracts (sentences shuffled: real lengths);
- repetition: a paper stays listed for 1-7 days (geometric), its upvotes and comments growing, and
  about a third of the papers new on a trending page are papers of the API files, with the same
  title on one line;
- trending-page captures in the real plain-text layout: the site's header lines, a date line such
  as ``Mar 12``, then title, blank line, one-line abstract, blank line per paper.

Same source files and same seed give the same bytes. Every corpus also gets the *next* day (one API
file and one capture) in a separate folder, for the incremental-build measurement.

CLI: ``python -m bench.corpus --shape stress --seed 1 --out DIR [--next-day DIR2]``.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import os
import random
import re
import shutil
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parent.parent
# generated corpora are cached here (git-ignored): bench/.corpus/<shape>-<seed>/{landing,next-day}
CACHE_DIR = REPO / "bench" / ".corpus"
# bump whenever the bytes generated for a given seed change, so cached corpora are regenerated
GENERATOR_VERSION = 2
MANIFEST_NAME = ".corpus.json"  # hidden: scan_landing, the floor and dlt all skip it
START_DAY = date(2021, 1, 4)
API_FOLDER = "hf-daily-api"
CAPTURE_FOLDER = "trending-page"
# a paper stays listed for 1..MAX_LISTED_DAYS days, geometric with this success probability
MAX_LISTED_DAYS = 7
LISTING_STOP_PROBABILITY = 0.45
# share of the papers new on a trending page that are papers of the API files (same title)
SHARED_WITH_API = 0.3
# API papers that a trending page can pick up: those listed in the last week
RECENT_API_DAYS = 7
# arXiv hard-wraps long titles at about this width
TITLE_WRAP_WIDTH = 70
THUMBNAIL_URL = "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{}.png"
_KEY_CHARS = re.compile(r"[^a-z0-9]+")
# orjson indents by 2 only; the older real files are indented by 4: double every indentation
_INDENT = re.compile(rb"\n( +)")


@dataclass(frozen=True)
class Shape:
    """How big a corpus is: days of API files and of captures, and mean entries per file."""

    name: str
    days: int
    api_entries: int
    captures: int
    capture_entries: int


SHAPES: dict[str, Shape] = {
    # CI smoke: seconds to generate and to build
    "tiny": Shape("tiny", days=10, api_entries=20, captures=5, capture_entries=30),
    # five years of daily files at today's volume
    "years": Shape("years", days=1800, api_entries=20, captures=1800, capture_entries=60),
    # a million listing entries in 2,000 files (a quarter of them API entries, as in `years`)
    "stress": Shape("stress", days=1000, api_entries=250, captures=1000, capture_entries=750),
}


@dataclass
class Source:
    """What is sampled from the real files: record templates, texts, and the format mix."""

    folder: Path
    digest: str
    records: list[dict[str, Any]]
    title_words: list[str]
    titles: list[str]
    abstracts: list[list[str]]  # each abstract split into sentences (hard wraps kept)
    entry_counts: list[int]
    upvotes: list[int]
    comments: list[int]
    header_lines: list[str]
    repr_share: float
    wrapped_share: float
    indent4_share: float
    long_title_wrapped_share: float


@dataclass
class Paper:
    """One synthetic paper and how long it stays listed."""

    title: str  # as the API gives it (may hold arXiv's hard wrap)
    abstract: str
    listed_days: int
    arxiv_id: str | None = None
    template: dict[str, Any] = field(default_factory=dict)
    published: datetime | None = None
    submitted: datetime | None = None
    discussion_id: str | None = None
    final_upvotes: int = 0
    final_comments: int = 0
    shown: int = 0  # listings so far (API days or capture days)
    on_pages: bool = False  # an API paper already picked up by the trending pages


@dataclass(frozen=True)
class CorpusPaths:
    """A generated corpus: the landing folder and the next day's files."""

    root: Path
    landing: Path
    next_day: Path


def default_source_dir() -> Path:
    """The real raw listings: $BENCH_SOURCE_DIR, shared/data (beside or above the repo), or the
    bundled sample in data/landing when the shared archive is absent."""
    candidates = [
        os.environ.get("BENCH_SOURCE_DIR"),
        "/work/shared/data",
        str(REPO.parent / "shared" / "data"),
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / API_FOLDER).is_dir():
            return Path(candidate)
    return REPO / "data" / "landing"


def load_source(folder: Path) -> Source:
    """Read and decode every real file once; derive the distributions to sample from."""
    api_files = sorted((folder / API_FOLDER).glob("*.json"))
    capture_files = sorted((folder / CAPTURE_FOLDER).glob("*.txt"))
    if not api_files:
        raise FileNotFoundError(f"no API files under {folder / API_FOLDER}")
    digest = hashlib.sha256()
    records: list[dict[str, Any]] = []
    entry_counts: list[int] = []
    repr_files = wrapped_files = indent4_files = 0
    for path in api_files:
        data = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(data).digest())
        document = orjson.loads(data)
        if isinstance(document, dict):
            wrapped_files += 1
            items = document["data"]
        else:
            items = document
            if any(isinstance(item, str) for item in items):
                repr_files += 1
            elif data.startswith(b"[\n    "):
                indent4_files += 1
        entry_counts.append(len(items))
        for item in items:
            record = ast.literal_eval(item) if isinstance(item, str) else item
            if isinstance(record, dict) and isinstance(record.get("paper"), dict):
                records.append(record)
    titles = [r["paper"]["title"] for r in records if isinstance(r["paper"].get("title"), str)]
    abstracts = [r["paper"]["summary"] for r in records if r["paper"].get("summary")]
    header_lines: list[str] = []
    for path in capture_files:
        text = path.read_text(encoding="utf-8")
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(text.encode()).digest())
        head, entries = _split_capture(text)
        header_lines = header_lines or head
        titles += entries[0::2]
        abstracts += entries[1::2]
    long_titles = [t for t in titles if len(" ".join(t.split())) > TITLE_WRAP_WIDTH]
    plain = len(api_files) - repr_files - wrapped_files
    return Source(
        folder=folder,
        digest=digest.hexdigest(),
        records=records,
        # the vocabulary that perturbed titles draw on: real title words, no short glue words
        title_words=[w for t in titles for w in t.split() if len(w) > 3 and w.isalpha()],
        # a real title has a few words; one-word "titles" make no realistic page
        titles=[" ".join(t.split()) for t in titles if len(t.split()) >= 3],
        abstracts=[_sentences(a) for a in abstracts],
        entry_counts=entry_counts,
        upvotes=[_int(r["paper"].get("upvotes")) for r in records],
        comments=[_int(r.get("numComments")) for r in records],
        header_lines=header_lines or _DEFAULT_HEADER,
        repr_share=repr_files / len(api_files),
        wrapped_share=wrapped_files / len(api_files),
        indent4_share=indent4_files / plain if plain else 0.0,
        long_title_wrapped_share=(
            sum("\n" in t for t in long_titles) / len(long_titles) if long_titles else 0.0
        ),
    )


_DEFAULT_HEADER = [
    "new",
    "",
    "Get trending papers in your email inbox!",
    "",
    "Subscribe",
    "",
    "byAK and the research community",
    "",
]


def _split_capture(text: str) -> tuple[list[str], list[str]]:
    """Header lines (up to the date line) and the title/abstract paragraphs of a real capture."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if re.fullmatch(r"[A-Z][a-z]{2,8}\.? \d{1,2}(, \d{4})?", line.strip()):
            paragraphs = [p.strip() for p in "\n".join(lines[index + 1 :]).split("\n\n")]
            return lines[:index], [p for p in paragraphs if p]
    return [], []


def _sentences(abstract: str) -> list[str]:
    return [s.strip(". \n") for s in abstract.strip().split(". ") if s.strip(". \n")]


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class Generator:
    """Synthesises one corpus day by day; all randomness comes from one seeded ``random.Random``."""

    def __init__(self, source: Source, shape: Shape, seed: int) -> None:
        self.source = source
        self.shape = shape
        self.rng = random.Random(f"{shape.name}:{seed}")
        self.title_keys: set[str] = set()
        self.arxiv_numbers: dict[str, int] = {}
        self.mean_real_count = sum(source.entry_counts) / len(source.entry_counts)
        rng = self.rng
        n_repr = _share_count(shape.days, source.repr_share)
        n_wrapped = _share_count(shape.days, source.wrapped_share)
        special = rng.sample(range(shape.days), min(shape.days, n_repr + n_wrapped))
        self.wrapped_days = frozenset(special[:n_wrapped])
        self.repr_days = frozenset(special[n_wrapped:])
        step = max(1, shape.days // max(1, shape.captures))
        # captures on the last days, one every `step` days, like a crawler that started later
        self.capture_days = frozenset(range(shape.days - 1, -1, -step)[: shape.captures])
        self.stats = {"api_files": 0, "api_entries": 0, "captures": 0, "capture_entries": 0}

    # --- papers -------------------------------------------------------------------------------

    def _listed_days(self) -> int:
        days = 1
        while days < MAX_LISTED_DAYS and self.rng.random() > LISTING_STOP_PROBABILITY:
            days += 1
        return days

    def _title(self) -> str:
        """A real title with words swapped for other real title words; unique by its key."""
        rng = self.rng
        words = rng.choice(self.source.titles).split()
        for attempt in range(20):
            candidate = list(words)
            # the first word stays: it keeps the title capitalised like a real one
            for _ in range(1 + attempt // 4 + (len(words) > 6)):
                candidate[rng.randrange(1, len(candidate))] = rng.choice(self.source.title_words)
            title = " ".join(candidate)
            key = _KEY_CHARS.sub("", title.lower())
            if key and key not in self.title_keys:
                self.title_keys.add(key)
                return title
        raise RuntimeError("could not make a unique title")  # not seen: the space is huge

    def _abstract(self) -> str:
        sentences = list(self.rng.choice(self.source.abstracts))
        self.rng.shuffle(sentences)
        return ". ".join(sentences) + "."

    def _api_title(self, title: str) -> str:
        # arXiv titles over ~70 characters carry a hard wrap ("\n  ") in the API, most of them
        if (
            len(title) > TITLE_WRAP_WIDTH
            and self.rng.random() < self.source.long_title_wrapped_share
        ):
            cut = title.rfind(" ", 0, TITLE_WRAP_WIDTH)
            if cut > 0:
                return title[:cut] + "\n  " + title[cut + 1 :]
        return title

    def _arxiv_id(self, published: datetime) -> str:
        month = published.strftime("%y%m")
        number = self.arxiv_numbers.get(month)
        number = self.rng.randint(1, 9000) if number is None else number + self.rng.randint(1, 4)
        self.arxiv_numbers[month] = number
        return f"{month}.{number:05d}"

    def new_api_paper(self, day: date) -> Paper:
        rng = self.rng
        published = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(
            days=rng.randint(0, 3), seconds=rng.randint(0, 86_399)
        )
        return Paper(
            title=self._api_title(self._title()),
            abstract=self._abstract(),
            listed_days=self._listed_days(),
            arxiv_id=self._arxiv_id(published),
            template=rng.choice(self.source.records),
            published=published,
            submitted=datetime(day.year, day.month, day.day, tzinfo=UTC)
            + timedelta(seconds=rng.randint(0, 36_000), milliseconds=rng.randint(0, 999)),
            discussion_id=f"{rng.getrandbits(96):024x}",
            final_upvotes=rng.choice(self.source.upvotes),
            final_comments=rng.choice(self.source.comments),
        )

    def new_capture_paper(self, recent_api: list[Paper]) -> Paper:
        if recent_api and self.rng.random() < SHARED_WITH_API:
            shared = recent_api.pop(self.rng.randrange(len(recent_api)))
            shared.on_pages = True
            return Paper(
                title=shared.title, abstract=shared.abstract, listed_days=shared.listed_days
            )
        return Paper(
            title=self._title(), abstract=self._abstract(), listed_days=self._listed_days()
        )

    def _entry_count(self) -> int:
        scale = self.shape.api_entries / self.mean_real_count
        return max(1, round(self.rng.choice(self.source.entry_counts) * scale))

    # --- files --------------------------------------------------------------------------------

    def api_file(self, day_index: int, day: date, papers: list[Paper]) -> bytes:
        records = [self._api_record(paper, day) for paper in papers]
        rng = self.rng
        if day_index in self.wrapped_days:
            items: list[Any] = [repr(record) for record in records]
            document: Any = {
                "status": "success",
                "date": day.isoformat(),
                "count": len(items),
                "data": items,
            }
            indent4 = True
        elif day_index in self.repr_days:
            document, indent4 = [repr(record) for record in records], True
        else:
            document, indent4 = records, rng.random() < self.source.indent4_share
        data = orjson.dumps(document, option=orjson.OPT_INDENT_2)
        if indent4:
            data = _INDENT.sub(lambda m: b"\n" + m.group(1) * 2, data)
        return data

    def _api_record(self, paper: Paper, day: date) -> dict[str, Any]:
        # shallow copies: the template's nested values (authors, users) are shared, never changed
        template = paper.template
        record = dict(template)
        item = dict(template["paper"])
        listing = paper.shown
        upvotes = round(paper.final_upvotes * listing / paper.listed_days)
        assert paper.published is not None and paper.submitted is not None
        item["id"] = paper.arxiv_id
        item["title"] = paper.title
        item["summary"] = paper.abstract
        item["publishedAt"] = _iso(paper.published)
        item["upvotes"] = upvotes
        if "submittedOnDailyAt" in item:
            item["submittedOnDailyAt"] = _iso(paper.submitted)
        if "discussionId" in item:
            item["discussionId"] = paper.discussion_id
        record["paper"] = item
        if "title" in record:
            record["title"] = paper.title
        if "summary" in record:
            record["summary"] = paper.abstract
        if "publishedAt" in record:
            record["publishedAt"] = _iso(paper.published)
        if "numComments" in record:
            record["numComments"] = round(paper.final_comments * listing / paper.listed_days)
        if record.get("thumbnail"):
            record["thumbnail"] = THUMBNAIL_URL.format(paper.arxiv_id)
        return record

    def capture_file(self, day: date, papers: list[Paper]) -> bytes:
        lines = list(self.source.header_lines)
        lines += [f"{day:%b} {day.day}", ""]
        for paper in papers:
            lines += [" ".join(paper.title.split()), "", " ".join(paper.abstract.split()), ""]
        return "\n".join(lines).rstrip("\n").encode("utf-8")

    # --- the day loop -------------------------------------------------------------------------

    def run(self, landing: Path, next_day: Path | None) -> dict[str, int]:
        """Write every day's files; the day after the last goes to ``next_day`` (if given)."""
        for folder in (landing / API_FOLDER, landing / CAPTURE_FOLDER):
            folder.mkdir(parents=True, exist_ok=True)
        rng = self.rng
        api_listed: list[Paper] = []
        capture_listed: list[Paper] = []
        recent_api: deque[list[Paper]] = deque(maxlen=RECENT_API_DAYS)
        for day_index in range(self.shape.days + 1):
            is_next = day_index == self.shape.days
            if is_next and next_day is None:
                break
            root = next_day if is_next and next_day is not None else landing
            day = START_DAY + timedelta(days=day_index)

            api_listed = [p for p in api_listed if p.shown < p.listed_days]
            new_api = [
                self.new_api_paper(day)
                for _ in range(max(0, self._entry_count() - len(api_listed)))
            ]
            api_listed += new_api
            rng.shuffle(api_listed)
            for paper in api_listed:
                paper.shown += 1
            recent_api.append(new_api)
            _write(
                root / API_FOLDER / f"{day.isoformat()}.json",
                self.api_file(day_index, day, api_listed),
            )
            self.stats["api_files"] += not is_next
            self.stats["api_entries"] += 0 if is_next else len(api_listed)

            if is_next or day_index in self.capture_days:
                capture_listed = [p for p in capture_listed if p.shown < p.listed_days]
                target = max(1, round(self.shape.capture_entries * rng.uniform(0.8, 1.2)))
                candidates = [p for papers in recent_api for p in papers if not p.on_pages]
                capture_listed += [
                    self.new_capture_paper(candidates)
                    for _ in range(max(0, target - len(capture_listed)))
                ]
                rng.shuffle(capture_listed)
                # capture papers are objects of their own (a shared paper is copied), so they
                # count their listings on pages independently of the API's
                for paper in capture_listed:
                    paper.shown += 1
                _write(
                    root / CAPTURE_FOLDER / f"trending-{day.isoformat()}.txt",
                    self.capture_file(day, capture_listed),
                )
                self.stats["captures"] += not is_next
                self.stats["capture_entries"] += 0 if is_next else len(capture_listed)
        return self.stats


def _share_count(total: int, share: float) -> int:
    # at least one file of each real format, so even `tiny` exercises every parser path
    return max(1, round(total * share)) if share > 0 and total >= 3 else 0


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def generate(
    shape: Shape | str,
    seed: int,
    out: Path,
    next_day: Path | None = None,
    source_dir: Path | None = None,
) -> dict[str, Any]:
    """Generate a corpus into ``out`` (and the next day into ``next_day``); return its manifest.

    ``out`` must not hold listing files already: it is written from scratch.
    """
    shape = SHAPES[shape] if isinstance(shape, str) else shape
    source = load_source(source_dir or default_source_dir())
    started = time.perf_counter()
    stats = Generator(source, shape, seed).run(out, next_day)
    manifest: dict[str, Any] = {
        "generator_version": GENERATOR_VERSION,
        "shape": shape.name,
        "seed": seed,
        "source_sha256": source.digest,
        "source_records": len(source.records),
        **stats,
    }
    # the manifest is part of the deterministic output: no timings, no absolute paths in it
    (out / MANIFEST_NAME).write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    manifest["seconds"] = round(time.perf_counter() - started, 2)
    return manifest


def ensure_corpus(shape: str, seed: int, cache_dir: Path = CACHE_DIR) -> CorpusPaths:
    """The cached corpus of ``shape`` and ``seed``, generated first when missing or outdated."""
    root = cache_dir / f"{shape}-{seed}"
    paths = CorpusPaths(root, root / "landing", root / "next-day")
    source_dir = default_source_dir()
    marker = paths.landing / MANIFEST_NAME
    if marker.is_file():
        manifest = orjson.loads(marker.read_bytes())
        if (
            manifest.get("generator_version") == GENERATOR_VERSION
            and manifest.get("source_sha256") == load_source(source_dir).digest
            and (paths.next_day / API_FOLDER).is_dir()
        ):
            return paths
    if root.exists():
        shutil.rmtree(root)
    # written under a temporary name first, so an interrupted generation is never taken as done
    partial = root.with_name(f"{root.name}.partial-{os.getpid()}")
    if partial.exists():
        shutil.rmtree(partial)
    manifest = generate(shape, seed, partial / "landing", partial / "next-day", source_dir)
    try:
        partial.rename(root)
    except OSError:
        # another process generated the same corpus meanwhile: same seed, same bytes; keep theirs
        shutil.rmtree(partial, ignore_errors=True)
    print(
        f"corpus {shape}-{seed}: {manifest['api_files']} API files ({manifest['api_entries']:,} "
        f"entries), {manifest['captures']} captures ({manifest['capture_entries']:,} entries) "
        f"in {manifest['seconds']} s -> {root}",
        file=sys.stderr,
    )
    return paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="landing folder to write (default: the cache)")
    parser.add_argument("--next-day", type=Path, help="folder for the following day's files")
    parser.add_argument("--source", type=Path, help="real raw listings to sample from")
    parser.add_argument("--cache", type=Path, default=CACHE_DIR, help="cache of generated corpora")
    args = parser.parse_args(argv)
    if args.out is None:
        paths = ensure_corpus(args.shape, args.seed, args.cache)
        print(paths.landing)
        return
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"{args.out} is not empty")
    manifest = generate(args.shape, args.seed, args.out, args.next_day, args.source)
    print(orjson.dumps(manifest, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
