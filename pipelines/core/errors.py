"""The one error type raised for input the pipeline cannot read."""

from __future__ import annotations


class ListingError(ValueError):
    """A raw listing file (or one entry of it) cannot be read.

    The message is written for an operator: it names the file, the entry when there is one, and
    what was wrong, e.g. ``hf-daily-api/2025-01-10.json, entry 3: title is missing``.
    """

    def __init__(self, file_key: str, reason: str, position: int | None = None) -> None:
        self.file_key = file_key
        self.reason = reason
        self.position = position
        where = file_key if position is None else f"{file_key}, entry {position}"
        super().__init__(f"{where}: {reason}")
