"""A clock for tests of waiting: it moves only when something sleeps on it."""

from __future__ import annotations


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it; the sleeps are recorded."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
