"""Text normalisation as Polars expressions, applied to whole columns at once."""

from __future__ import annotations

import re

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


# characters that end a sentence or close a bracket rather than belong to a link in running text
# (Markdown emphasis too: _link_); a closing parenthesis is one when it balances none in the link
TRAILING_IN_TEXT = ".,;:!?'\")]}>*_"
# the same, for a link given in a field of its own (a repository may end with an underscore)
TRAILING_IN_FIELD = ".,;:!?'\")]}>*"


def without_trailing_punctuation(links: pl.Expr, characters: str) -> pl.Expr:
    """Links without the punctuation after them: a sentence's full stop, a closing bracket
    around the link (``(see https://github.com/o/r).``). A closing parenthesis that balances one
    inside the link stays (``wiki/Foo_(bar)``)."""
    others = re.escape(characters.replace(")", ""))
    trailing = f"[{others}]+$"
    stripped = links.str.replace(trailing, "")
    if ")" not in characters:
        return stripped
    for _ in range(2):  # "…r))." has two unbalanced parentheses at most in practice
        unbalanced = stripped.str.ends_with(")") & (
            stripped.str.count_matches(r"\)") > stripped.str.count_matches(r"\(")
        )
        stripped = (
            pl.when(unbalanced)
            .then(stripped.str.strip_suffix(")").str.replace(trailing, ""))
            .otherwise(stripped)
        )
    return stripped
