"""Code and project links: found in abstracts or given by the API, normalised as whole columns.

GitHub and GitLab links are reduced to their repository (``https://github.com/sail-sg/volo.`` and
``github.com/sail-sg/volo/tree/main`` are both ``sail-sg/volo``); owner and repo are lower-cased
for matching and kept in their original case for display. A ``github.io`` page is a project page.
"""

from __future__ import annotations

import polars as pl

from pipelines.core.text import TRAILING_IN_TEXT, without_trailing_punctuation

# a link in running text: with a scheme, starting with www., or a bare code-host or github.io name
URL_IN_TEXT = (
    r"(?i)(?:\bhttps?://|\bwww\.|\b(?:github|gitlab)\.com/|\b[a-z0-9-]+\.github\.io\b)"
    r"[^\s<>\"'`\]\[{}|\\^]*"
)

CODE_HOSTS = ("github.com", "gitlab.com")
# links that identify the paper itself, not its code or data
_NOT_A_CODE_LINK = r"^(arxiv\.org|doi\.org|dx\.doi\.org|huggingface\.co/papers|openreview\.net)"

PROVENANCE_PRIORITY = {"api_githubRepo": 0, "api_projectPage": 1, "capture_link": 2, "abstract": 3}


def urls_in_text(column: str) -> pl.Expr:
    """Every link in a text column, as a list of strings in order of appearance."""
    return pl.col(column).str.extract_all(URL_IN_TEXT)


def normalise_links(
    links: pl.DataFrame | pl.LazyFrame, url_column: str = "url_raw"
) -> pl.LazyFrame:
    """Add ``url``, ``host``, ``owner``, ``repo`` (+ display forms) and ``kind`` to links.

    Rows whose link is not a usable code or project link (arXiv, DOI, a bare host) are dropped.
    """
    trimmed = (
        pl.col(url_column)
        .str.strip_chars()
        .pipe(without_trailing_punctuation, TRAILING_IN_TEXT)
        .str.replace(r"(?i)^(?:https?://)?(?:www\.)?", "")
    )
    host = trimmed.str.extract(r"^([^/?#:]+)", 1).str.to_lowercase()
    path = trimmed.str.extract(r"^[^/?#]+(/[^?#]*)?", 1).fill_null("").str.replace(r"/+$", "")
    first = path.str.extract(r"^/([^/]+)", 1)
    second = path.str.extract(r"^/[^/]+/([^/]+)", 1).str.replace(r"(?i)\.git$", "")
    lazy = links.lazy().with_columns(
        host.alias("host"),
        path.alias("_path"),
        first.alias("_first"),
        second.alias("_second"),
        trimmed.alias("_trimmed"),
    )
    is_code_host = pl.col("host").is_in(CODE_HOSTS)
    is_hf = pl.col("host") == "huggingface.co"
    hf_kind = (
        pl.when(pl.col("_first") == "datasets")
        .then(pl.lit("dataset"))
        .when(pl.col("_first") == "spaces")
        .then(pl.lit("demo"))
        .when(pl.col("_first").is_in(["papers", "docs", "blog", "collections", "models"]))
        .then(pl.lit(None))
        .otherwise(pl.lit("model"))
    )
    hf_owner = (
        pl.when(pl.col("_first").is_in(["datasets", "spaces"]))
        .then(pl.col("_path").str.extract(r"^/[^/]+/([^/]+)", 1))
        .otherwise(pl.col("_first"))
    )
    hf_repo = (
        pl.when(pl.col("_first").is_in(["datasets", "spaces"]))
        .then(pl.col("_path").str.extract(r"^/[^/]+/[^/]+/([^/]+)", 1))
        .otherwise(pl.col("_second"))
    )
    owner_display = (
        pl.when(is_code_host)
        .then(pl.col("_first"))
        .when(is_hf)
        .then(hf_owner)
        .when(pl.col("host").str.ends_with(".github.io"))
        .then(pl.col("_trimmed").str.extract(r"^([^.]+)\.", 1))
        .otherwise(None)
    )
    repo_display = pl.when(is_code_host).then(pl.col("_second")).when(is_hf).then(hf_repo)
    kind = (
        pl.when(is_code_host & pl.col("_second").is_not_null())
        .then(pl.lit("repository"))
        .when(is_code_host)
        .then(pl.lit("profile"))
        .when(is_hf)
        .then(hf_kind)
        .otherwise(pl.lit("project_page"))
    )
    url = (
        pl.when(is_code_host & pl.col("_second").is_not_null())
        .then(pl.format("https://{}/{}/{}", pl.col("host"), pl.col("_first"), pl.col("_second")))
        .otherwise(pl.concat_str([pl.lit("https://"), pl.col("host"), pl.col("_path")]))
    )
    return (
        lazy.with_columns(
            kind.alias("kind"),
            url.alias("url"),
            owner_display.alias("owner_display"),
            repo_display.alias("repo_display"),
        )
        .with_columns(
            pl.col("owner_display").str.to_lowercase().alias("owner"),
            pl.col("repo_display").str.to_lowercase().alias("repo"),
            # GitHub and GitLab paths are case-insensitive, so one repository is one link
            pl.when(pl.col("host").is_in(CODE_HOSTS))
            .then(pl.col("url").str.to_lowercase())
            .otherwise(pl.col("url"))
            .alias("url_key"),
        )
        .filter(
            pl.col("host").is_not_null()
            & pl.col("host").str.contains(r"\.")
            & pl.col("kind").is_not_null()
            & ~pl.concat_str([pl.col("host"), pl.col("_path")]).str.contains(_NOT_A_CODE_LINK)
            # a bare github.com or gitlab.com names no repository or owner
            & ~(pl.col("host").is_in(CODE_HOSTS) & pl.col("owner").is_null())
        )
        .drop("_path", "_first", "_second", "_trimmed")
    )
