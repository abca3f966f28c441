"""``CHANGELOG.md``: the diff of a release summarised for people: rows per table, the columns
that changed, the new papers and the new source files."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import polars as pl

from pipelines.core.publish.diff import ADDED, CHANGED, REMOVED, key_values

# how many new papers the changelog lists by name before "... and N more"
NEW_PAPERS_LIMIT = 50
# how many (table, column) pairs the "most often changed columns" section shows
CHANGED_COLUMNS_LIMIT = 10
UNKNOWN_TITLE = "(title unknown)"


def paper_titles(papers: pl.DataFrame) -> dict[str, str]:
    """``paper_id`` -> title of a ``papers`` frame, for :func:`changelog_markdown`."""
    return dict(papers.select("paper_id", pl.col("title").fill_null(UNKNOWN_TITLE)).iter_rows())


def changelog_markdown(
    release_id: str,
    previous_id: str | None,
    diff: pl.DataFrame,
    row_counts: Mapping[str, int],
    sources_added: Sequence[str],
    *,
    titles: Mapping[str, str] | None = None,
    new_papers_limit: int = NEW_PAPERS_LIMIT,
) -> str:
    """``CHANGELOG.md`` of a release: what a reader of the previous release finds different.

    Per table the rows now published and how many were added, removed and changed; the columns
    that changed most often; the new papers (rows added to ``papers``) by id and title, at most
    ``new_papers_limit`` of them then "... and N more"; the source files new in this release.

    Args:
        release_id: The new release.
        previous_id: The release compared against; None for the first release.
        diff: The output of :func:`diff_tables`.
        row_counts: Rows per table in the new release (``PublishedRelease.row_counts``).
        sources_added: Source file keys new in this release (see :func:`new_source_files`).
        titles: ``paper_id`` -> title for the new papers (see :func:`paper_titles`); a paper
            missing from it is listed as "(title unknown)".
        new_papers_limit: How many new papers are listed by name.
    """
    titles = titles or {}
    lines = [f"# Release {release_id}", ""]
    if previous_id is None:
        lines += ["First release: every row is new.", ""]
    else:
        lines += [f"Changes since release {previous_id}.", ""]

    counts = (
        diff.group_by("table", "change").len().pivot("change", index="table", values="len")
        if diff.height
        else pl.DataFrame(schema={"table": pl.String()})
    )
    by_table = {row["table"]: row for row in counts.iter_rows(named=True)}
    lines += [
        "## Tables",
        "",
        "| table | rows | added | removed | changed |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for table in sorted(set(row_counts) | set(by_table)):
        row = by_table.get(table, {})
        cells = [str(row.get(change) or 0) for change in (ADDED, REMOVED, CHANGED)]
        rows = row_counts.get(table)
        lines.append(f"| {table} | {'' if rows is None else rows} | {' | '.join(cells)} |")
    lines.append("")

    lines += _changed_columns_section(diff)
    lines += _new_papers_section(diff, titles, new_papers_limit)

    lines += [f"## New source files ({len(sources_added)})", ""]
    lines += [f"- `{key}`" for key in sorted(sources_added)] or ["None."]
    lines.append("")
    return "\n".join(lines)


def _changed_columns_section(diff: pl.DataFrame) -> list[str]:
    changed = (
        diff.filter(pl.col("change") == CHANGED)
        .select("table", pl.col("changed_columns").alias("column"))
        .explode("column")
        .group_by("table", "column")
        .len()
        .sort(["len", "table", "column"], descending=[True, False, False])
    )
    lines = ["## Most often changed columns", ""]
    if not changed.height:
        return [*lines, "No row changed.", ""]
    lines += ["| table | column | rows changed |", "| --- | --- | ---: |"]
    lines += [
        f"| {table} | {column} | {count} |"
        for table, column, count in changed.head(CHANGED_COLUMNS_LIMIT).iter_rows()
    ]
    if changed.height > CHANGED_COLUMNS_LIMIT:
        lines.append(f"| ... and {changed.height - CHANGED_COLUMNS_LIMIT} more columns | | |")
    return [*lines, ""]


def _new_papers_section(diff: pl.DataFrame, titles: Mapping[str, str], limit: int) -> list[str]:
    added = diff.filter((pl.col("table") == "papers") & (pl.col("change") == ADDED))
    lines = [f"## New papers ({added.height})", ""]
    if not added.height:
        return [*lines, "None.", ""]
    # only the listed keys are decoded one by one: at most `limit` of them
    for key in added.get_column("key").head(limit).to_list():
        paper_id = str(key_values(key)[0])
        title = titles.get(paper_id) or UNKNOWN_TITLE
        lines.append(f"- `{paper_id}` {_escape_markdown(title)}")
    if added.height > limit:
        lines.append(f"- ... and {added.height - limit} more")
    return [*lines, ""]


def _escape_markdown(text: str) -> str:
    # a title is text, not markup: keep *, _, [, <, ` and | from being read as formatting
    return re.sub(r"([\\`*_\[\]<>|#])", r"\\\1", " ".join(text.split()))
