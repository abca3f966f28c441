"""One writer at a time per data folder, and named points where a test can kill a build.

Two builds writing the same data folder could interleave their ingest records or publish the
same release id twice. Every writer takes an exclusive lock on ``<data folder>/.build.lock``
(an advisory ``flock``: the kernel drops it when the holder dies, even by SIGKILL, so a crash
never leaves a stale lock). The lock is re-entrant within a process, because the CLI holds it
for a whole build while the assets it runs in-process take it again.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

LOCK_NAME = ".build.lock"
# how often a waiting writer retries the lock
POLL_SECONDS = 0.2
# the environment variable naming the crash point a reliability test wants to die at
CRASH_AT_VARIABLE = "PAPERS_CRASH_AT"

# (lock path, thread) -> (descriptor, depth): re-entrant within a thread only, so a second
# thread of the same process waits like a second process would
_held: dict[tuple[Path, int], tuple[int, int]] = {}
_guard = threading.Lock()


class BuildLocked(RuntimeError):
    """Another process is writing the same data folder."""


@contextmanager
def exclusive_build(data_dir: Path, *, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the data folder's writer lock for the duration of the block.

    Args:
        data_dir: the data folder.
        wait_seconds: how long to wait for another writer to finish; 0 fails at once.

    Raises:
        BuildLocked: when another process holds the lock past ``wait_seconds``; the message
            names that process and since when it has been writing.
    """
    path = (data_dir / LOCK_NAME).absolute()
    holder = (path, threading.get_ident())
    with _guard:
        if holder in _held:
            descriptor, depth = _held[holder]
            _held[holder] = (descriptor, depth + 1)
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            _release(holder)
        return

    data_dir.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = _holder(descriptor)
                os.close(descriptor)
                raise BuildLocked(
                    f"another build is writing {data_dir} ({holder}); "
                    "wait for it to finish, then run again"
                ) from None
            time.sleep(POLL_SECONDS)
    os.ftruncate(descriptor, 0)
    os.pwrite(
        descriptor,
        json.dumps(
            {"pid": os.getpid(), "since": datetime.now(UTC).isoformat(timespec="seconds")}
        ).encode(),
        0,
    )
    with _guard:
        _held[holder] = (descriptor, 1)
    try:
        yield
    finally:
        _release(holder)


def _release(holder: tuple[Path, int]) -> None:
    with _guard:
        descriptor, depth = _held[holder]
        if depth > 1:
            _held[holder] = (descriptor, depth - 1)
            return
        del _held[holder]
    fcntl.flock(descriptor, fcntl.LOCK_UN)
    os.close(descriptor)


def _holder(descriptor: int) -> str:
    try:
        info = json.loads(os.pread(descriptor, 4096, 0) or b"{}")
        return f"process {info['pid']}, since {info['since']}"
    except (ValueError, KeyError, OSError):
        return "a process that did not say who it is"


def crash_point(name: str) -> None:
    """Die here, as by a power cut, when a reliability test asks for it by name.

    Only the tests set ``PAPERS_CRASH_AT``; without it this does nothing.
    """
    if os.environ.get(CRASH_AT_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)
