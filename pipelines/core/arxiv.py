"""arXiv identifiers as Polars expressions: versionless id and version, both id styles."""

from __future__ import annotations

import polars as pl

# new style since 2007 (0704.0001, 2501.00663) and old style (hep-th/9901001, math.GT/0309136),
# optionally prefixed by "arXiv:" or given as an abs/pdf/papers URL, optionally versioned (v2)
_ARXIV = (
    r"(?i)^\s*(?:arxiv:|https?://(?:www\.)?(?:arxiv\.org/(?:abs|pdf)|huggingface\.co/papers)/)?"
    r"(?P<id>\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)*(?:\.[a-z]{2})?/\d{7})"
    r"(?:v(?P<version>\d+))?(?:\.pdf)?/?\s*$"
)
# four digits after the dot from 0704 to 1412, five from 1501 on
_NEW_STYLE = (
    r"(?:0[7-9]|1[0-4])(?:0[1-9]|1[0-2])\.\d{4}"
    r"|(?:1[5-9]|[2-9]\d)(?:0[1-9]|1[0-2])\.\d{5}"
)
_OLD_STYLE = r"[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7}"
NEW_STYLE_ID = f"^(?:{_NEW_STYLE})$"
OLD_STYLE_ID = f"^(?:{_OLD_STYLE})$"
# a well-formed versionless id of either style, anchored
VERSIONLESS_ID = f"^(?:{_NEW_STYLE}|{_OLD_STYLE})$"


def arxiv_id(column: str | pl.Expr) -> pl.Expr:
    """The versionless arXiv id, or null when the text is not an arXiv id.

    Old-style archive names are lower case and their subject class upper case (math.GT/0309136).
    """
    expr = pl.col(column) if isinstance(column, str) else column
    found = expr.str.extract(_ARXIV, 1)
    archive = found.str.extract(r"^([^/.]+)", 1).str.to_lowercase()
    subject = found.str.extract(r"^[^/.]+(\.[^/]+)/", 1).str.to_uppercase()
    number = found.str.extract(r"/(\d{7})$", 1)
    # new-style ids name a real month, and have 4 digits after the dot until 2014, 5 from 2015
    year_month = found.str.slice(0, 4)
    digits = found.str.extract(r"\.(\d+)$", 1).str.len_chars()
    month = found.str.slice(2, 2).cast(pl.Int32, strict=False)
    new_style_ok = month.is_between(1, 12) & (
        ((year_month >= "1501") & (digits == 5)) | ((year_month < "1501") & (digits == 4))
    )
    return (
        pl.when(found.str.contains("/"))
        .then(pl.concat_str([archive, subject.fill_null(""), pl.lit("/"), number]))
        .when(new_style_ok)
        .then(found)
        .otherwise(None)
    )


def arxiv_version(column: str | pl.Expr) -> pl.Expr:
    """The version number of an arXiv id (2 for 2501.00663v2), null when none is given."""
    expr = pl.col(column) if isinstance(column, str) else column
    return expr.str.extract(_ARXIV, 2).cast(pl.Int32)
