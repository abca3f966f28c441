"""Text normalisation as Polars expressions, applied to whole columns at once."""

from __future__ import annotations

import polars as pl

# white space to fold into one space: a run of two or more, or a single character that is not
# the space itself (folding a lone space into a space only costs time: most are lone spaces)
_FOLDABLE_SPACE = r"\s{2,}|[^\S ]"
# C0/C1 control characters (but tab and newline, folded below), zero-width and bidirectional
# overrides: they change how text renders or compares without being content
INVISIBLE = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]"


def clean_text(column: str | pl.Expr) -> pl.Expr:
    """Readable single-line text: invisible characters removed, hard wraps unwrapped, white space
    collapsed, Unicode NFC. Markdown line-break artefacts (a trailing backslash) are dropped."""
    expr = pl.col(column) if isinstance(column, str) else column
    return fold_text(expr.str.replace_all(INVISIBLE, ""))


def fold_text(column: str | pl.Expr) -> pl.Expr:
    """``clean_text`` of a text without invisible characters (the field contracts remove them
    first, and record it): hard wraps unwrapped, white space collapsed, Unicode NFC."""
    expr = pl.col(column) if isinstance(column, str) else column
    return (
        expr.str.replace_all(r"\\\r?\n", "\n")
        # a word broken by a hyphen at a line end is kept as one hyphenated word
        .str.replace_all(r"(\w)-\r?\n\s*(\w)", "${1}-${2}")
        .str.replace_all(_FOLDABLE_SPACE, " ")
        .str.strip_chars()
        .str.normalize("NFC")
    )


def title_key(column: str | pl.Expr) -> pl.Expr:
    """The matching form of a title: NFKC, lower case, LaTeX markup, dashes and punctuation folded.

    Two titles with the same key are the same title; the key is also the readable part of the
    deterministic ``title:`` paper key given to papers that no source has given an arXiv id.
    """
    expr = pl.col(column) if isinstance(column, str) else column
    return (
        expr.str.normalize("NFKC")
        .str.to_lowercase()
        # LaTeX: \textbf{x} -> x, $x$ -> x, escaped characters -> the character
        .str.replace_all(r"\\[a-z]+\s*\{([^{}]*)\}", "${1}")
        .str.replace_all(r"\\([%&_#$])", "${1}")
        .str.replace_all(r"[$\\{}]", "")
        # '--', en dash, em dash and the hyphen are one separator
        .str.replace_all(r"[-\u2010-\u2015\u2212]+", " ")
        .str.replace_all(r"[^\p{L}\p{N}\s]", "")
        .str.replace_all(_FOLDABLE_SPACE, " ")
        .str.strip_chars()
    )
