"""The data dictionary: what each published table means and what each of its columns holds.

One source for the warehouse's ``COMMENT ON``, the asset descriptions in the Dagster UI and the
README's data dictionary, so the three never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TableDoc:
    name: str
    key: tuple[str, ...]
    description: str
    columns: dict[str, str]


TABLES: dict[str, TableDoc] = {
    doc.name: doc
    for doc in [
        TableDoc(
            name="papers",
            key=("paper_id",),
            description=(
                "One row per paper that appeared in any listing, however many days and sources "
                "listed it. Descriptive fields come from its most authoritative, most recent "
                "listing (an API entry over a page capture); history fields summarise observations."
            ),
            columns={
                "paper_id": "Stable key: the versionless arXiv id, or 'title:<normalised title>' "
                "while no source has given the paper's arXiv id.",
                "arxiv_id": "Versionless arXiv id (2405.15738, hep-th/9901001); null when unknown.",
                "id_source": "How the arXiv id was found: 'api' (an API listing's own id), "
                "'capture_link' (a paper link in a page capture), 'title_match' (the title of an "
                "API listing), 'manual' (pinned by an operator in the look-up ledger), 'lookup' "
                "(a title look-up, trending-papers resolve); null when unknown.",
                "title": "Title, white space collapsed, Unicode NFC.",
                "abstract": "Abstract, hard line breaks unwrapped, white space collapsed, NFC.",
                "authors": "Author names in listed order (API listings only).",
                "published_at": "When the paper was published on arXiv (UTC), per the API.",
                "first_listed_on": "First listing date; null when only undated captures list it.",
                "last_listed_on": "Latest listing date.",
                "times_listed": "Number of observations (listing appearances) of the paper.",
                "days_listed": "Number of distinct dates on which the paper was listed.",
                "best_rank": "Best (lowest) position the paper reached on any listing.",
                "peak_upvotes": "Highest upvote count observed.",
                "latest_upvotes": "Upvote count at the most recent observation that showed one.",
                "ai_keywords": "Keywords the Hugging Face API attached to the paper, when present.",
                "source_formats": "Kinds of source that listed the paper (hf_daily_api, "
                "hf_papers_page).",
                "code_promised": "The abstract promises code, models or data ('will be "
                "released', 'available online') but no link to them is known.",
            },
        ),
        TableDoc(
            name="observations",
            key=("paper_id", "source_file", "listed_on"),
            description=(
                "Every appearance of a paper in a listing: one row per (paper, source file, "
                "listing date). The history no public source keeps; re-ingesting a file replaces "
                "its rows, never duplicates them."
            ),
            columns={
                "paper_id": "The paper (papers.paper_id).",
                "source_file": "Key of the landed file the appearance comes from "
                "(listing_files.file_key).",
                "listed_on": "Listing date; null when a capture's year is unknown.",
                "listed_month_day": "Month and day of the listing (MM-DD), known even when the "
                "year is not.",
                "source_format": "hf_daily_api (API response) or hf_papers_page (page capture).",
                "page_kind": "Which page was listed: daily, trending, search or unknown.",
                "rank": "Position on the page or in the API response (1 = first).",
                "upvotes": "Upvotes shown at that time, when the source shows them.",
                "comments": "Comment count shown at that time, when the source shows it.",
                "github_stars": "Stars of the linked repository shown at that time, if shown.",
            },
        ),
        TableDoc(
            name="code_links",
            key=("paper_id", "url"),
            description=(
                "Code, data and project links of each paper, one row per (paper, link), from the "
                "API's githubRepo and projectPage fields and from links in the abstract."
            ),
            columns={
                "paper_id": "The paper (papers.paper_id).",
                "url": "Normalised link: https, no trailing punctuation; GitHub and GitLab links "
                "reduced to https://host/owner/repo.",
                "host": "Host name, lower case, without www.",
                "owner": "Repository owner (or github.io user), lower case, for matching.",
                "repo": "Repository name, lower case, for matching.",
                "owner_display": "Owner as written in the source.",
                "repo_display": "Repository name as written in the source.",
                "kind": "repository, profile, project_page, dataset, model or demo.",
                "provenance": "Most authoritative place the link was found: api_githubRepo, "
                "api_projectPage, capture_link or abstract.",
                "provenances": "Every place the link was found.",
                "first_seen_on": "First listing date on which the link was seen.",
            },
        ),
        TableDoc(
            name="paper_aliases",
            key=("alias_kind", "alias", "paper_id"),
            description=(
                "Every key and title variant that points to a paper: its arXiv id, versioned "
                "arXiv ids seen, its title keys and every title as listed. A paper first published "
                "under a title key and later merged into its arXiv-keyed row stays findable here."
            ),
            columns={
                "alias": "The alternative key or title.",
                "alias_kind": "arxiv_id, arxiv_id_versioned, title_key or title.",
                "paper_id": "The paper it points to (papers.paper_id).",
            },
        ),
        TableDoc(
            name="claims",
            key=("paper_id", "claim_index"),
            description=(
                "Numeric results stated in abstracts (value, unit, metric, benchmark), each with "
                "the exact evidence span, so every claim can be audited against its text. "
                "Extracted for precision over recall: a missing claim is likelier than a wrong one."
            ),
            columns={
                "paper_id": "The paper (papers.paper_id).",
                "claim_index": "Order of the claim in the abstract (1 = first).",
                "value": "The number as stated (87.1 for 87.1%).",
                "unit": "%, % gain, points, x speedup, FPS, AP, mAP, mIoU, BLEU, FID, FVD, F1, "
                "PPL, dB or score.",
                "metric": "What is measured (top-1 accuracy, pass@1...), when stated.",
                "dataset": "The benchmark or dataset, when named next to the number.",
                "span_start": "Start of the evidence in papers.abstract (0-based, characters).",
                "span_end": "End of the evidence in papers.abstract (exclusive).",
                "evidence": "The text of the claim: abstract[span_start:span_end].",
            },
        ),
        TableDoc(
            name="paper_topics",
            key=("paper_id", "topic", "source"),
            description=(
                "Topics of each paper: task and modality tags of the curated taxonomy "
                "(pipelines/core/curate/taxonomy.toml) matched on title and abstract, and the "
                "keywords the Hugging Face API attached, each with its source."
            ),
            columns={
                "paper_id": "The paper (papers.paper_id).",
                "topic": "Taxonomy slug (object-detection) or API keyword, lower case.",
                "topic_name": "Display name of the topic.",
                "kind": "task, modality or keyword.",
                "source": "taxonomy_title, taxonomy_abstract or api_ai_keywords.",
            },
        ),
        TableDoc(
            name="paper_embeddings",
            key=("paper_id",),
            description=(
                "One row per paper: a 256-number vector of its title and abstract, made offline "
                "by the model the wheel of WordLlama ships (l2_supercat). Papers whose texts are "
                "close in meaning have vectors at a small angle: rank by the dot product (the "
                "vectors have unit length, so it is their cosine similarity)."
            ),
            columns={
                "paper_id": "The paper (papers.paper_id).",
                "model": "The model and its version that made the vector; vectors of different "
                "models are not comparable.",
                "vector": "Unit vector of 256 float32 (DuckDB FLOAT[256]); null when the text "
                "has no word the model knows.",
            },
        ),
        TableDoc(
            name="similar_papers",
            key=("paper_id", "rank"),
            description=(
                "For each paper, the 10 papers whose embeddings are nearest to its own, best "
                "first; ties go to the smaller id. Every pair is compared up to 50,000 papers; "
                "above, a first listing takes 32 candidates per paper from an HNSW graph "
                "(recall@10 0.999 against every pair at 100,000 papers), and papers added "
                "later are compared with every paper."
            ),
            columns={
                "paper_id": "The paper (papers.paper_id).",
                "rank": "1 for the nearest paper, up to 10.",
                "similar_paper_id": "The near paper (papers.paper_id).",
                "score": "Cosine similarity of the two papers' vectors, from -1 to 1.",
            },
        ),
        TableDoc(
            name="listing_files",
            key=("file_key",),
            description=(
                "Every landed raw listing file and what became of it: ingested, quarantined "
                "(unreadable, with the reason) or duplicate (same bytes as another file). "
                "For each file, entries read = kept + rejected."
            ),
            columns={
                "file_key": "Path of the file relative to the landing folder.",
                "sha256": "SHA-256 of the bytes that were read.",
                "size": "Size in bytes.",
                "source_format": "hf_daily_api or hf_papers_page; null when unreadable.",
                "page_kind": "daily, trending, search or unknown.",
                "status": "ingested, quarantined or duplicate.",
                "reason": "Why the file was quarantined or is a duplicate.",
                "entries_read": "Entries found in the file.",
                "entries_kept": "Entries kept in the curated tables.",
                "entries_rejected": "Entries rejected (see rejects).",
                "licence": "Licence of the file's content: declared by its sidecar "
                "(<file>.meta.json), else the default of its kind of source.",
            },
        ),
        TableDoc(
            name="rejects",
            key=("source_file", "position"),
            description=(
                "Every entry that was not kept and every file that could not be read, with the "
                "reason in words an operator can act on. Nothing read is dropped silently."
            ),
            columns={
                "source_file": "The landed file (listing_files.file_key).",
                "source_sha256": "SHA-256 of the file's bytes.",
                "position": "Position of the entry in the file (1 = first); null for a whole file.",
                "field": "The field whose value made the entry unusable; null when the entry or "
                "the file as a whole is.",
                "rule": "The rule that refused it (title.missing, file.not_a_listing...), to group "
                "and count by; docs/reliability.md lists them all.",
                "reason": "What was wrong.",
                "raw_excerpt": "The start of the rejected entry as written, for inspection.",
            },
        ),
        TableDoc(
            name="repairs",
            key=("source_file", "position", "field", "rule"),
            description=(
                "Every change the pipeline made to a value from upstream in a published entry: a "
                "value repaired (invisible characters removed, a link's line break removed, a "
                "count sent as text read as a number) or an unusable optional value dropped, "
                "with the rule, the value before and after. The field contracts that decide "
                "them are in docs/reliability.md."
            ),
            columns={
                "source_file": "The landed file (listing_files.file_key).",
                "position": "Position of the entry in the file (1 = first).",
                "field": "The field of the entry (title, arxiv_id, upvotes, github_repo_raw...).",
                "rule": "The rule that changed it (title.invisible, upvotes.negative...).",
                "action": "repaired (the value was fixed) or dropped (the field was emptied, "
                "the entry kept).",
                "value_before": "The value before the rule, as text, cut to 200 characters.",
                "value_after": "The value after the rule, as text; null when dropped.",
            },
        ),
    ]
}

# not a curated table: each release's row-level diff against the previous one (diff.parquet),
# loaded into the warehouse as release_diff
RELEASE_DIFF = TableDoc(
    name="release_diff",
    key=("table", "key"),
    description=(
        "What changed in this release against the previous one: one row per added, removed or "
        "changed row of each table, with the columns that changed."
    ),
    columns={
        "table": "The table the row belongs to.",
        "key": "The row's key values as a JSON array, in the order of the table's key columns.",
        "change": "added, removed or changed.",
        "changed_columns": "For a changed row, the columns whose values differ.",
    },
)


DICTIONARY_START = "<!-- data dictionary: generated from pipelines/core/publish/catalog.py -->"
DICTIONARY_END = "<!-- end of data dictionary -->"


def data_dictionary_markdown() -> str:
    """The data dictionary as Markdown: per table its meaning and key, one line per column."""
    lines = [DICTIONARY_START, ""]
    for doc in (*TABLES.values(), RELEASE_DIFF):
        lines += [
            f"### `{doc.name}`",
            "",
            f"{doc.description} Key: {', '.join(f'`{k}`' for k in doc.key)}.",
            "",
            "| column | meaning |",
            "| --- | --- |",
            *(f"| `{name}` | {text.replace('|', '/')} |" for name, text in doc.columns.items()),
            "",
        ]
    return "\n".join([*lines, DICTIONARY_END])


def update_readme(readme: Path) -> bool:
    """Replace the data dictionary section of ``readme``; return whether it changed."""
    return replace_generated_section(
        readme, DICTIONARY_START, DICTIONARY_END, data_dictionary_markdown()
    )


def replace_generated_section(document: Path, start: str, end: str, section: str) -> bool:
    """Replace what lies from the ``start`` marker to the ``end`` marker of ``document`` with
    ``section`` (which holds both markers); return whether the document changed."""
    text = document.read_text(encoding="utf-8")
    first, last = text.index(start), text.index(end) + len(end)
    updated = text[:first] + section + text[last:]
    if updated != text:
        document.write_text(updated, encoding="utf-8")
    return updated != text


if __name__ == "__main__":
    # python -m pipelines.core.publish.catalog README.md: refresh the README's data dictionary
    import sys

    update_readme(Path(sys.argv[1] if len(sys.argv) > 1 else "README.md"))
