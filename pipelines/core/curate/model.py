"""The curated model: one row per paper across all listings, its appearances, and its code.

Input is every kept listing entry of every ingested file. Everything here is Polars over whole
columns; the same entries always give the same tables, row for row, in the same order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from pipelines.core.curate.claims import extract_claims
from pipelines.core.curate.links import PROVENANCE_PRIORITY, normalise_links, urls_in_text
from pipelines.core.curate.topics import tag_topics
from pipelines.core.ingest.entries import API_FORMAT, TITLE_KEY_PREFIX


@dataclass(frozen=True)
class CuratedTables:
    """The published tables, each sorted by its key."""

    papers: pl.DataFrame
    observations: pl.DataFrame
    code_links: pl.DataFrame
    paper_aliases: pl.DataFrame
    claims: pl.DataFrame
    paper_topics: pl.DataFrame

    def as_dict(self) -> dict[str, pl.DataFrame]:
        return {
            "papers": self.papers,
            "observations": self.observations,
            "code_links": self.code_links,
            "paper_aliases": self.paper_aliases,
            "claims": self.claims,
            "paper_topics": self.paper_topics,
        }


# phrasing that promises code without giving where it is
CODE_PROMISE = (
    r"(?i)\b(?:code|codes|source code|implementation|models?|weights|data(?:set)?s?)"
    r"(?:\s+(?:and|&)\s+\w+)*\s+"
    r"(?:(?:will|would|is going to|are going to)\s+be|(?:is|are)\s+to\s+be|"
    r"(?:is|are|has been|have been)\s+made)\s+(?:made\s+)?(?:publicly\s+|freely\s+|openly\s+)?"
    r"(?:released|available|open[- ]sourced|published|public)"
    r"|\b(?:code|implementation)\s+(?:is\s+)?(?:available|released)\s+online\b"
    r"|\bcoming soon\b"
)


# how a paper's arXiv id was found (papers.id_source), most authoritative first: an API entry's
# own id, a paper link in a capture, the title of an API entry, an operator's pin, a look-up
ID_API, ID_CAPTURE_LINK, ID_TITLE_MATCH, ID_MANUAL, ID_LOOKUP = (
    "api",
    "capture_link",
    "title_match",
    "manual",
    "lookup",
)
ID_SOURCES = (ID_API, ID_CAPTURE_LINK, ID_TITLE_MATCH, ID_MANUAL, ID_LOOKUP)

# the title look-up ledger as curation reads it: per title key, the arXiv id pinned by hand and
# the one a look-up accepted (ops/resolve.ledger_ids)
LOOKED_UP_SCHEMA = {"title_key": pl.String(), "pinned_id": pl.String(), "looked_up_id": pl.String()}


def resolve_paper_ids(entries: pl.LazyFrame, looked_up: pl.DataFrame | None = None) -> pl.LazyFrame:
    """Give every entry its ``paper_id``.

    An entry with an arXiv id is keyed by it. An entry without one (a page capture) takes, in
    this order: the id an operator pinned to its title by hand; the arXiv id of the papers whose
    title has the same matching form, when exactly one arXiv id has that title; the id a title
    look-up accepted. Otherwise it keeps the deterministic key ``title:<matching form>``.
    ``looked_up`` (``LOOKED_UP_SCHEMA``, one row per title key) holds the pinned and looked-up
    ids of the look-up ledger.
    """
    known_titles = (
        entries.filter(pl.col("arxiv_id").is_not_null())
        .group_by("title_key")
        .agg(pl.col("arxiv_id").unique().alias("_candidates"))
        .filter(pl.col("_candidates").list.len() == 1)
        .select("title_key", pl.col("_candidates").list.first().alias("_matched_id"))
    )
    ledger = pl.DataFrame(schema=LOOKED_UP_SCHEMA) if looked_up is None else looked_up
    found = pl.coalesce(
        pl.col("arxiv_id"), pl.col("pinned_id"), pl.col("_matched_id"), pl.col("looked_up_id")
    )
    return (
        entries.join(known_titles, on="title_key", how="left")
        .join(ledger.lazy(), on="title_key", how="left")
        .with_columns(
            pl.coalesce(
                found, pl.concat_str([pl.lit(TITLE_KEY_PREFIX), pl.col("title_key")])
            ).alias("paper_id"),
            found.alias("resolved_arxiv_id"),
            # how an entry without an arXiv id of its own got one (id_source of the papers)
            pl.when(pl.col("arxiv_id").is_not_null())
            .then(None)
            .when(pl.col("pinned_id").is_not_null())
            .then(pl.lit(ID_MANUAL))
            .when(pl.col("_matched_id").is_not_null())
            .then(pl.lit(ID_TITLE_MATCH))
            .when(pl.col("looked_up_id").is_not_null())
            .then(pl.lit(ID_LOOKUP))
            .alias("id_found_by"),
        )
        .drop("_matched_id", "pinned_id", "looked_up_id")
    )


def build_observations(resolved: pl.LazyFrame) -> pl.LazyFrame:
    """Every appearance of a paper in a listing: one row per (paper, source file, listing date)."""
    return (
        resolved.select(
            "paper_id",
            "source_file",
            "listed_on",
            "listed_month_day",
            "source_format",
            "page_kind",
            "rank",
            "upvotes",
            "comments",
            "github_stars",
        )
        # a file lists a paper once (repeats are rejected at parsing); keep the best place anyway
        .sort("paper_id", "source_file", "listed_on", "rank", nulls_last=True)
        .unique(["paper_id", "source_file", "listed_on"], keep="first", maintain_order=True)
    )


# an entry of the history: its file and its place in it
ENTRY_KEY = ["source_file", "position"]

# the row order of each paper table (a unique key each), and whether nulls sort last
CURATED_ORDER: dict[str, tuple[list[str], bool]] = {
    "papers": (["paper_id"], False),
    "observations": (["paper_id", "listed_on", "source_file"], True),
    "code_links": (["paper_id", "url"], False),
    "paper_aliases": (["alias_kind", "alias", "paper_id"], False),
    "claims": (["paper_id", "claim_index"], False),
    "paper_topics": (["paper_id", "topic", "source"], False),
}
# the tables derived from all papers at once (``similarity.py``): split in parts like the others
NEIGHBOUR_ORDER: dict[str, tuple[list[str], bool]] = {
    "paper_embeddings": (["paper_id"], False),
    "similar_papers": (["paper_id", "rank"], False),
}
PAPER_TABLE_ORDER = CURATED_ORDER | NEIGHBOUR_ORDER


def in_order(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` sorted in the order of the paper table ``table``."""
    columns, nulls_last = PAPER_TABLE_ORDER[table]
    return frame.sort(columns, nulls_last=nulls_last)


def choose_entries(resolved: pl.LazyFrame) -> pl.LazyFrame:
    """Per paper, the entry its descriptive fields come from (its most authoritative, most recent
    one) and the facts taken from the first entry that has them.

    The order is decided on narrow columns and only the chosen entries' text is fetched after
    (``build_papers``), so the history's text is never sorted or copied as a whole.
    """
    # an API entry (it carries the arXiv id) beats a capture; then the latest listing wins
    own_id = pl.col("arxiv_id").is_not_null()
    id_source = (
        pl.when(own_id & (pl.col("source_format") == API_FORMAT))
        .then(pl.lit(ID_API))
        .when(own_id)
        .then(pl.lit(ID_CAPTURE_LINK))
        .otherwise(pl.col("id_found_by"))
    )
    preferred = resolved.select(
        "paper_id",
        "resolved_arxiv_id",
        "published_at",
        *ENTRY_KEY,
        "source_format",
        "listed_on",
        pl.col("ai_keywords").is_not_null().alias("_has_keywords"),
        # an enum orders the sources as ID_SOURCES lists them: a paper's least is its best
        id_source.cast(pl.Enum(ID_SOURCES)).alias("_id_source"),
    ).sort(
        pl.col("source_format") == API_FORMAT,
        pl.col("listed_on"),
        pl.col("source_file"),
        pl.col("position"),
        descending=[True, True, True, False],
        nulls_last=True,
    )
    return preferred.group_by("paper_id").agg(
        pl.col("resolved_arxiv_id").drop_nulls().first().alias("arxiv_id"),
        pl.col("source_file").first(),
        pl.col("position").first(),
        pl.col("published_at").drop_nulls().first(),
        pl.col("source_file").filter("_has_keywords").first().alias("_keywords_file"),
        pl.col("position").filter("_has_keywords").first().alias("_keywords_position"),
        pl.col("source_format").unique().sort().alias("source_formats"),
        pl.col("_id_source").min().cast(pl.String).alias("id_source"),
    )


def build_papers(
    chosen: pl.LazyFrame, texts: pl.LazyFrame, observations: pl.LazyFrame
) -> pl.LazyFrame:
    """One row per paper, its descriptive fields from the entries ``choose_entries`` chose.

    ``texts`` holds ``ENTRY_KEY``, ``title``, ``abstract``, ``authors`` and ``ai_keywords`` of
    (at least) the chosen entries.
    """
    keywords = texts.select(
        pl.col("source_file").alias("_keywords_file"),
        pl.col("position").alias("_keywords_position"),
        "ai_keywords",
    )
    descriptive = chosen.join(texts.drop("ai_keywords"), on=ENTRY_KEY, how="left").join(
        keywords, on=["_keywords_file", "_keywords_position"], how="left"
    )
    latest_first = observations.sort(
        "listed_on", "source_file", descending=[True, True], nulls_last=True
    )
    history = latest_first.group_by("paper_id").agg(
        pl.col("listed_on").min().alias("first_listed_on"),
        pl.col("listed_on").max().alias("last_listed_on"),
        pl.len().cast(pl.Int32).alias("times_listed"),
        pl.col("listed_on").drop_nulls().n_unique().cast(pl.Int32).alias("days_listed"),
        pl.col("rank").min().alias("best_rank"),
        pl.col("upvotes").max().alias("peak_upvotes"),
        pl.col("upvotes").drop_nulls().first().alias("latest_upvotes"),
    )
    return (
        descriptive.join(history, on="paper_id", how="left")
        .select(
            "paper_id",
            "arxiv_id",
            "id_source",
            "title",
            "abstract",
            "authors",
            "published_at",
            "first_listed_on",
            "last_listed_on",
            "times_listed",
            "days_listed",
            "best_rank",
            "peak_upvotes",
            "latest_upvotes",
            "ai_keywords",
            "source_formats",
        )
        .sort("paper_id")
    )


def build_code_links(resolved: pl.LazyFrame, abstract_links: pl.LazyFrame) -> pl.LazyFrame:
    """One row per (paper, link), with where the link was found and when it was first seen.

    ``abstract_links`` holds ``ENTRY_KEY`` and ``abstract_links`` (the URLs in the entry's
    abstract) of the entries whose abstract has any.
    """
    base = resolved.select(
        "paper_id",
        "listed_on",
        *ENTRY_KEY,
        "github_repo_raw",
        "project_page_raw",
        "capture_links",
    ).join(abstract_links, on=ENTRY_KEY, how="left")
    candidates = pl.concat(
        [
            base.select(
                "paper_id",
                "listed_on",
                pl.col("github_repo_raw").alias("url_raw"),
                pl.lit("api_githubRepo").alias("provenance"),
            ),
            base.select(
                "paper_id",
                "listed_on",
                pl.col("project_page_raw").alias("url_raw"),
                pl.lit("api_projectPage").alias("provenance"),
            ),
            base.select(
                "paper_id",
                "listed_on",
                pl.col("capture_links").alias("url_raw"),
                pl.lit("capture_link").alias("provenance"),
            ).explode("url_raw"),
            base.select(
                "paper_id",
                "listed_on",
                pl.col("abstract_links").alias("url_raw"),
                pl.lit("abstract").alias("provenance"),
            ).explode("url_raw"),
        ]
    ).filter(pl.col("url_raw").is_not_null() & (pl.col("url_raw").str.strip_chars() != ""))
    links = normalise_links(candidates).with_columns(
        pl.col("provenance")
        .replace_strict(PROVENANCE_PRIORITY, return_dtype=pl.Int8)
        .alias("_priority")
    )
    first_seen = links.group_by("paper_id", "url_key").agg(
        pl.col("listed_on").min().alias("first_seen_on"),
        pl.col("provenance").unique().sort().alias("provenances"),
    )
    return (
        links.sort("paper_id", "url_key", "_priority", "url")
        .unique(["paper_id", "url_key"], keep="first", maintain_order=True)
        .join(first_seen, on=["paper_id", "url_key"], how="left")
        .select(
            "paper_id",
            "url",
            "host",
            "owner",
            "repo",
            "owner_display",
            "repo_display",
            "kind",
            "provenance",
            "provenances",
            "first_seen_on",
        )
        .sort("paper_id", "url")
    )


def build_paper_aliases(resolved: pl.LazyFrame) -> pl.LazyFrame:
    """Every key and title variant that points to a paper, so a published key stays findable.

    A paper first known by its title (``title:...``) and merged later into its arXiv-keyed row
    keeps its title key here; versioned arXiv ids and every title variant seen point to it too.
    """
    versioned = resolved.filter(pl.col("arxiv_version").is_not_null()).select(
        pl.format("{}v{}", pl.col("arxiv_id"), pl.col("arxiv_version")).alias("alias"),
        pl.lit("arxiv_id_versioned").alias("alias_kind"),
        "paper_id",
    )
    return (
        pl.concat(
            [
                resolved.filter(pl.col("resolved_arxiv_id").is_not_null()).select(
                    pl.col("resolved_arxiv_id").alias("alias"),
                    pl.lit("arxiv_id").alias("alias_kind"),
                    "paper_id",
                ),
                versioned,
                resolved.select(
                    pl.concat_str([pl.lit(TITLE_KEY_PREFIX), pl.col("title_key")]).alias("alias"),
                    pl.lit("title_key").alias("alias_kind"),
                    "paper_id",
                ),
                resolved.select(
                    pl.col("title").alias("alias"), pl.lit("title").alias("alias_kind"), "paper_id"
                ),
            ]
        )
        .unique()
        .sort("alias_kind", "alias", "paper_id")
    )


def flag_code_promises(papers: pl.DataFrame, code_links: pl.DataFrame) -> pl.DataFrame:
    """``code_promised``: the abstract promises code (\"will be released\") and gives no link."""
    # a promise that comes with a link, or a paper whose repository is known, promises nothing
    with_link = code_links.filter(
        (pl.col("kind") == "repository") | pl.col("provenances").list.contains("abstract")
    )["paper_id"].unique()
    return papers.with_columns(
        (
            pl.col("abstract").str.contains(CODE_PROMISE).fill_null(False)
            & ~pl.col("paper_id").is_in(with_link.implode())
        ).alias("code_promised")
    )


def _derived_per_paper(
    papers: pl.DataFrame,
    inputs: list[str],
    derive: Callable[[pl.DataFrame], pl.DataFrame],
    previous: PreviousBuild | None,
    table: str,
    key: list[str],
) -> pl.DataFrame:
    """Rows derived from each paper's text (claims, topics), re-derived only for papers whose
    inputs changed since the previous build; the rest are taken from it. Derivation is a pure
    function of the inputs, so the result equals a full re-derivation, row for row.

    A paper's inputs are compared through a 64-bit hash of them (nulls included), so the
    previous papers' text is streamed, never held next to the current one; a hash collision
    could keep one changed paper's old rows, a chance of about one in 10^13 for a million
    papers.
    """
    if previous is None or table not in previous.tables:
        return _derive_in_chunks(derive, papers.select("paper_id", *inputs), key)
    digest = pl.struct(inputs).hash(seed=0).alias("_inputs_hash")
    before = previous.papers.select("paper_id", digest).collect(engine="streaming")
    same = (
        papers.select("paper_id", digest)
        .join(before, on=["paper_id", "_inputs_hash"], how="semi")
        .select("paper_id")
    )
    kept = previous.tables[table].join(same, on="paper_id", how="semi")
    fresh = _derive_in_chunks(
        derive, papers.join(same, on="paper_id", how="anti").select("paper_id", *inputs), key
    )
    return pl.concat([kept, fresh]).sort(key)


# papers whose text is derived at once: the working frames of claim extraction are several
# times the size of the abstracts, so a whole history at once would set the build's peak memory
DERIVE_CHUNK_PAPERS = 50_000


def _derive_in_chunks(
    derive: Callable[[pl.DataFrame], pl.DataFrame], papers: pl.DataFrame, key: list[str]
) -> pl.DataFrame:
    """``derive`` over ``papers`` (one row per paper), a chunk of papers at a time; a paper's
    rows depend on that paper alone, so the result is the same as deriving all at once."""
    if papers.height <= DERIVE_CHUNK_PAPERS:
        return derive(papers)
    ordered = papers.sort("paper_id")
    parts = [
        derive(ordered.slice(start, DERIVE_CHUNK_PAPERS))
        for start in range(0, ordered.height, DERIVE_CHUNK_PAPERS)
    ]
    return pl.concat(parts).sort(key)


# what curation reads of each kept listing entry
CURATION_COLUMNS = [
    "source_file", "source_format", "page_kind", "position", "rank", "listed_on",
    "listed_month_day", "arxiv_id", "arxiv_version", "title", "title_key", "published_at",
    "upvotes", "comments", "github_repo_raw", "project_page_raw", "ai_keywords", "github_stars",
    "capture_links",
]  # fmt: skip


def _copied(text: pl.Expr) -> pl.Expr:
    """The same strings in buffers of their own (null stays null)."""
    return pl.concat_str([text, pl.lit("")])


@dataclass(frozen=True)
class PreviousBuild:
    """The curated tables of the previous build of the same code, for incremental derivation:
    its papers (scanned, read only to compare inputs) and its derived tables by name."""

    papers: pl.LazyFrame
    tables: dict[str, pl.DataFrame]


def curate(
    entries: pl.LazyFrame,
    previous: PreviousBuild | None = None,
    resolution: pl.DataFrame | None = None,
) -> CuratedTables:
    """Build the curated tables from all kept listing entries.

    With ``previous`` (the last build's tables, by the same code), claims and topics are only
    derived again for papers whose text changed. With ``resolution`` (``ENTRY_KEY``,
    ``paper_id``, ``resolved_arxiv_id``: :func:`resolve_paper_ids` over the whole history),
    only the entries it holds are curated, with the papers it gives them: how an incremental
    build curates some papers from the files that hold them.
    """
    # the raw columns (the entry's original JSON above all) are for audit, not for curation:
    # leaving them out of the scan keeps memory flat however long the history. The longest
    # text, abstracts and author lists, is read apart and by streaming: the URLs of every
    # abstract, then the text of the one entry chosen per paper
    narrow = entries.select(CURATION_COLUMNS)
    if resolution is None:
        resolved_plan = resolve_paper_ids(narrow)
    else:
        resolved_plan = narrow.join(resolution.lazy(), on=ENTRY_KEY, how="inner")
    resolved = resolved_plan.collect(engine="streaming").lazy()
    abstract_links = (
        entries.select(*ENTRY_KEY, urls_in_text("abstract").alias("abstract_links"))
        .filter(pl.col("abstract_links").list.len() > 0)
        .collect(engine="streaming")
    )
    # one table at a time from the resolved entries: what one needs is freed before the next
    chosen_df = choose_entries(resolved).collect()
    observations_df = build_observations(resolved).collect()
    links_df = build_code_links(resolved, abstract_links.lazy()).collect()
    aliases_df = build_paper_aliases(resolved).collect()
    del resolved, abstract_links
    wanted = pl.concat(
        [
            chosen_df.select(ENTRY_KEY),
            chosen_df.select(
                pl.col("_keywords_file").alias("source_file"),
                pl.col("_keywords_position").alias("position"),
            ).drop_nulls(),
        ]
    ).unique()
    # the kept rows' strings would point into the buffers of every entry read: copied as they
    # stream by, the whole history's text is never held (a third of it is kept)
    texts = (
        entries.select(*ENTRY_KEY, "title", "abstract", "authors", "ai_keywords")
        .join(wanted.lazy(), on=ENTRY_KEY, how="semi")
        .with_columns(
            _copied(pl.col("title")),
            _copied(pl.col("abstract")),
            pl.col("authors").list.eval(_copied(pl.element())),
            pl.col("ai_keywords").list.eval(_copied(pl.element())),
        )
        .collect(engine="streaming")
    )
    papers_df = build_papers(chosen_df.lazy(), texts.lazy(), observations_df.lazy()).collect()
    papers_df = flag_code_promises(papers_df, links_df)
    return CuratedTables(
        papers=papers_df,
        observations=in_order("observations", observations_df),
        code_links=links_df,
        paper_aliases=aliases_df,
        claims=_derived_per_paper(
            papers_df, ["abstract"], extract_claims, previous, "claims", ["paper_id", "claim_index"]
        ),
        paper_topics=_derived_per_paper(
            papers_df,
            ["title", "abstract", "ai_keywords"],
            tag_topics,
            previous,
            "paper_topics",
            ["paper_id", "topic", "source"],
        ),
    )
