"""Curating only what changed, with the same result as curating everything.

Every curated table is made of rows that belong to one paper, and a paper's rows depend only on
the entries that resolve to it (``model.curate``). What a build changes is known file by file:
a file new, changed, read again by new parsing rules, or no longer kept (quarantined or found
to duplicate another) holds the only entries whose content may differ. An entry's paper may
change too without its file changing: an entry that only has a title takes the arXiv id of the
one paper with that title, so a new file listing the title with an id moves it.

So a build keeps, beside the curated tables, the *curation state*: every kept entry's place
(file, position), arXiv id, title key and the paper it resolved to, and every file's version.
The next build resolves all entries again from those narrow columns (cheap: no text), and the
papers to curate again are exactly

- the papers of the entries of changed files, before and after the change, and
- the papers, before and after, of every entry whose paper changed.

Their entries, read from the files that hold them, are curated as in a full build with the
resolution of the whole history; their old rows are replaced in the parts that held them and in
the parts that hold them now (``publish/parts.py``), each part sorted as a full build sorts it.
Since the other papers' entries are the same and resolve to the same papers, their rows are the
same, and the spliced tables equal the tables of a full build, row for row and in the same order
(``tests/core/test_incremental.py`` builds a month day by day against one full build).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from pipelines.core.curate.model import ENTRY_KEY, CuratedTables, in_order, resolve_paper_ids
from pipelines.core.publish.parts import paper_parts, split

# what the state holds of each kept entry: enough to resolve it again without its text
STATE_ENTRY_COLUMNS = [*ENTRY_KEY, "arxiv_id", "title_key"]
FILE_VERSION_COLUMNS = ["file_key", "ingest_sequence", "status"]


@dataclass(frozen=True)
class CurationState:
    """What a build leaves for the next one to curate incrementally.

    ``entries``: one row per kept entry: ``source_file``, ``position``, ``arxiv_id``,
    ``title_key`` and the ``paper_id`` it resolved to. ``files``: one row per ingested file:
    ``file_key``, ``ingest_sequence`` (a new one each time the file is stored) and ``status``.
    """

    entries: pl.DataFrame
    files: pl.DataFrame


@dataclass(frozen=True)
class Increment:
    """What an incremental build curates again: the files whose entries changed, the papers
    those changes touch, the files holding those papers' entries, and the resolution of every
    entry of the history."""

    changed_files: list[str]
    papers: pl.DataFrame
    files_to_read: list[str]
    resolution: pl.DataFrame
    state: CurationState


def changed_files(before: pl.DataFrame, after: pl.DataFrame) -> list[str]:
    """The files added, stored again, or whose status changed, and those no longer recorded."""
    joined = before.join(after, on="file_key", how="full", coalesce=True, suffix="_after")
    differs = pl.col("ingest_sequence").ne_missing(pl.col("ingest_sequence_after")) | pl.col(
        "status"
    ).ne_missing(pl.col("status_after"))
    return joined.filter(differs)["file_key"].sort().to_list()


def plan_increment(
    previous: CurationState,
    files_now: pl.DataFrame,
    changed: list[str],
    changed_entries: pl.DataFrame,
    looked_up: pl.DataFrame | None = None,
) -> Increment:
    """Which papers to curate again, and from which files.

    Args:
        previous: the state the previous build left.
        files_now: the file versions of this build (:func:`file_versions`).
        changed: :func:`changed_files` of the two.
        changed_entries: ``STATE_ENTRY_COLUMNS`` of the kept entries of the changed files that
            are ingested now (none of a file quarantined or a duplicate now).
        looked_up: the look-up ledger's ids (``resolve_paper_ids``); an entry it gives another
            paper than before is one whose paper changed.
    """
    changed_list = pl.Series(changed, dtype=pl.String).implode()
    kept_before = previous.entries.filter(~pl.col("source_file").is_in(changed_list))
    narrow = pl.concat(
        [kept_before.select(STATE_ENTRY_COLUMNS), changed_entries.select(STATE_ENTRY_COLUMNS)]
    )
    resolution = (
        resolve_paper_ids(narrow.lazy(), looked_up)
        .select(*ENTRY_KEY, "arxiv_id", "title_key", "paper_id", "resolved_arxiv_id", "id_found_by")
        .collect()
    )
    before = previous.entries.select(*ENTRY_KEY, pl.col("paper_id").alias("paper_before"))
    compared = resolution.select(*ENTRY_KEY, "paper_id").join(
        before, on=ENTRY_KEY, how="full", coalesce=True
    )
    moved = compared.filter(
        pl.col("source_file").is_in(changed_list)
        | pl.col("paper_id").ne_missing(pl.col("paper_before"))
    )
    papers = (
        pl.concat([moved["paper_id"], moved["paper_before"]])
        .drop_nulls()
        .unique()
        .sort()
        .to_frame("paper_id")
    )
    holding = resolution.join(papers, on="paper_id", how="semi")
    state = CurationState(
        entries=resolution.select(*STATE_ENTRY_COLUMNS, "paper_id").sort(ENTRY_KEY),
        files=files_now,
    )
    return Increment(
        changed_files=changed,
        papers=papers,
        files_to_read=holding["source_file"].unique().sort().to_list(),
        resolution=holding.select(*ENTRY_KEY, "paper_id", "resolved_arxiv_id", "id_found_by"),
        state=state,
    )


def splice(
    previous: Mapping[str, Mapping[str, pl.DataFrame]],
    fresh: CuratedTables,
    papers: pl.DataFrame,
    labels: set[str],
) -> dict[str, pl.DataFrame]:
    """The previous paper tables, given by part, with the rows of ``papers`` replaced by
    ``fresh`` ones, in the published order.

    Only the parts ``labels`` (those of ``papers`` before and after the change) are touched and
    sorted: every other part is the previous one as it is, already in order.
    """
    fresh_labels = paper_parts(fresh.papers)
    spliced = {}
    for name, rows in fresh.as_dict().items():
        parts = dict(previous[name])
        columns = next(iter(parts.values())).columns if parts else rows.columns
        new_rows = {} if rows.is_empty() else split(name, rows, fresh_labels)
        for label in labels:
            pieces = []
            if label in parts:
                pieces.append(parts[label].join(papers, on="paper_id", how="anti"))
            if label in new_rows:
                pieces.append(new_rows[label].select(columns))
            parts[label] = in_order(name, pl.concat(pieces)) if pieces else rows.clear()
        # a table with no row has one empty part (``WHOLE``); parts left empty are gone
        kept = [parts[label] for label in sorted(parts) if parts[label].height]
        spliced[name] = pl.concat(kept) if kept else rows.clear().select(columns)
    return spliced


def state_from_full(resolved_index: pl.DataFrame, files_now: pl.DataFrame) -> CurationState:
    """The state after a full build, from its resolved entries."""
    return CurationState(
        entries=resolved_index.select(*STATE_ENTRY_COLUMNS, "paper_id").sort(ENTRY_KEY),
        files=files_now,
    )


def summarise(increment: Increment, files_total: int, papers_total: int) -> str:
    """One progress line: how much of the history this build curates again."""
    return (
        f"incremental: {len(increment.changed_files):,} changed files of {files_total:,}; "
        f"{increment.papers.height:,} papers of {papers_total:,} curated again "
        f"from {len(increment.files_to_read):,} files"
    )
