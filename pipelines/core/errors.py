"""What the parsers say about input they cannot use: a whole file, or one entry of it.

Every refusal carries a *rule*: a short dotted name (``file.not_json``, ``title.missing``) that
the rejects table, the build summary and the Dagster UI group by, and ``docs/reliability.md``
lists with what triggers it. The reason beside it is the sentence an operator reads.
"""

from __future__ import annotations

from typing import NamedTuple

# the rule of a file refused for a reason that names no more specific rule
FILE_UNREADABLE = "file.unreadable"


class ListingError(ValueError):
    """A raw listing file (or one entry of it) cannot be read.

    The message is written for an operator: it names the file, the entry when there is one, and
    what was wrong, e.g. ``hf-daily-api/2025-01-10.json, entry 3: title is missing``.
    """

    def __init__(
        self,
        file_key: str,
        reason: str,
        position: int | None = None,
        *,
        rule: str = FILE_UNREADABLE,
    ) -> None:
        self.file_key = file_key
        self.reason = reason
        self.position = position
        self.rule = rule
        where = file_key if position is None else f"{file_key}, entry {position}"
        super().__init__(f"{where}: {reason}")


class RejectedEntry(NamedTuple):
    """One entry of a file that a parser could not turn into a listing entry."""

    position: int
    rule: str
    reason: str
    excerpt: str
