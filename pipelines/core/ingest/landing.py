"""The landing folder: which raw listing files are there, under which stable key, and which changed.

A file is identified by its path relative to the landing folder (its *file key*, which is also its
Dagster partition key) and versioned by the sha256 of its bytes. A file whose sha256 equals the one
recorded when it was last ingested is not ingested again.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# files in the landing folder that describe other files rather than being listings themselves
SIDECAR_SUFFIX = ".meta.json"

_UNSAFE_KEY_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class LandedFile:
    """One raw listing file found in the landing folder."""

    file_key: str
    path: Path
    size: int
    # size, modification and change times, inode: any write to the file changes the change
    # time, so an equal signature means the bytes ingested before, and the file need not be read
    stat_signature: str = ""


@dataclass(frozen=True)
class RefusedPath:
    """A path in the landing folder that is not read, and why."""

    file_key: str
    reason: str


def file_key_for(relative: Path) -> str:
    """The stable key of a landed file: its relative POSIX path, without control characters.

    Dagster rejects partition keys holding control characters or ``...``, so those are replaced.
    """
    key = _UNSAFE_KEY_CHARS.sub("_", relative.as_posix())
    return key.replace("...", "_._")


def storage_stem(file_key: str) -> str:
    """A file-system-safe, collision-free name for everything stored about one file key."""
    readable = _UNSAFE_NAME_CHARS.sub("_", file_key).strip("._")[:80] or "file"
    digest = hashlib.sha1(file_key.encode("utf-8")).hexdigest()[:10]
    return f"{readable}.{digest}"


def is_sidecar(path: Path) -> bool:
    return path.name.endswith(SIDECAR_SUFFIX)


# the ledger of title look-ups (ops/resolve.py) in the landing folder: input, but not listings
RESOLUTIONS_FOLDER = "resolutions"


def scan_landing(landing_dir: Path) -> tuple[list[LandedFile], list[RefusedPath]]:
    """List the listing files under ``landing_dir``, sorted by key.

    Hidden files, sidecars and the title look-up's ledger (``resolutions/``) are not listings.
    Symbolic links that lead outside the landing folder are refused rather than followed, so a
    link cannot make the pipeline read arbitrary files.
    """
    root = landing_dir.resolve()
    files: list[LandedFile] = []
    refused: list[RefusedPath] = []
    if not root.is_dir():
        raise FileNotFoundError(f"landing folder {landing_dir} does not exist or is not a folder")
    for path in sorted(_walk(root)):
        relative = path.relative_to(root)
        if is_sidecar(path) or relative.parts[0] == RESOLUTIONS_FOLDER:
            continue
        key = file_key_for(relative)
        if any(part.startswith(".") for part in relative.parts):
            # writers (the live fetch among them) land files under a hidden temporary name
            refused.append(RefusedPath(key, "hidden name: treated as a file still being written"))
            continue
        if path.is_symlink():
            target = path.resolve()
            if not target.is_relative_to(root):
                refused.append(
                    RefusedPath(key, f"symbolic link to {target}, outside the landing folder")
                )
                continue
        if not path.is_file():
            refused.append(RefusedPath(key, "not a regular file"))
            continue
        stat = path.stat()
        signature = f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}:{stat.st_ino}"
        files.append(LandedFile(key, path, stat.st_size, signature))
    return files, refused


def _walk(root: Path) -> Iterable[Path]:
    # os.walk-like, without following directory symlinks out of the landing folder
    stack = [root]
    while stack:
        folder = stack.pop()
        for child in folder.iterdir():
            if child.is_dir() and not child.is_symlink():
                stack.append(child)
            else:
                yield child


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """The sha256 of a file, read a megabyte at a time (release parts, mirrored objects)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sidecar_for(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)
