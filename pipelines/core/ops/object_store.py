"""Folders on an S3-compatible object store, mirrored to a local folder the pipeline works on.

The pipeline reads and writes plain files (Polars, DuckDB, atomic renames, a symbolic link), so a
landing or data folder given as ``s3://bucket/prefix`` is worked on through a local mirror:
:meth:`Mirror.pull` brings the local folder up to date before a build, :meth:`Mirror.push`
publishes what the build changed after it succeeded.

What the mirror guarantees:

- Only what changed moves. Every object this module uploads carries the sha256 of its bytes in
  its metadata; a local index (beside the mirror folder, never inside it) remembers, per file,
  the object's ETag and the local file's size, mtime and inode at the last transfer, so an
  unchanged file costs a stat, not a hash or a request.
- Changes follow what was synchronised, never guesses (a three-way comparison against the
  index): a pull never undoes a local change or deletion that is still to be pushed, and removes
  a local file (when asked to) only when it came from the bucket, was removed there since, and is
  unchanged locally; a push uploads only files changed locally, and deletes an object only when
  this mirror transferred it, its local file is gone since (e.g. a release removed by retention)
  and nobody changed the object meanwhile. A push from an empty or stale cache can therefore
  never wipe a bucket, and an index is discarded when its folder was deleted and made anew.
- Symbolic links (``releases/latest``) are stored as a small object whose body and
  ``symlink-target`` metadata hold the relative target; a pull recreates the link atomically.
- Order: regular files first, deepest folders first and ``manifest.json`` after the files of
  its folder; links after every file; deletions last. A reader of the bucket never finds
  ``latest`` pointing at a release whose files are not all there.
- Hidden files and folders (temporary files, staging folders, the writer lock) are never
  transferred, nor are the top-level folders named in ``exclude``.

What it does not do: lock the bucket. Two machines pushing the same data folder at once are kept
apart by the deployment (one writer at a time, see docs/deploy.md), not by this module.

The endpoint comes from ``PAPERS_S3_ENDPOINT_URL`` or ``AWS_ENDPOINT_URL`` (any S3-compatible
store: MinIO, Ceph, R2, ...; unset means AWS), credentials and region from the usual AWS
variables, files or instance roles.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import mimetypes
import os
import posixpath
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.core.ingest.landing import sha256_file

# boto3 clients are generated at run time; without the (optional) type stubs they are untyped
S3Client = Any

log = logging.getLogger(__name__)

SCHEME = "s3://"
# object metadata (x-amz-meta-*) written by push and read by pull
SHA256_KEY = "sha256"
SYMLINK_KEY = "symlink-target"
ENDPOINT_VARIABLES = ("PAPERS_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL")
# above this size a file goes up in parts (a single PUT is limited to 5 GiB)
MULTIPART_BYTES = 1 << 30
CHUNK_BYTES = 1 << 20
DELETE_BATCH = 1000
# published last within their folder: a manifest found in the bucket describes files already there
LAST_IN_FOLDER = ("manifest.json",)


class MirrorError(RuntimeError):
    """The bucket and the local folder cannot be reconciled (e.g. a file where a folder is)."""


def is_remote(location: str | os.PathLike[str]) -> bool:
    """Whether ``location`` names a folder on an object store (``s3://bucket[/prefix]``)."""
    return str(location).lower().startswith(SCHEME)


@dataclass(frozen=True)
class ObjectUrl:
    """A bucket and a key prefix (no leading or trailing slash; empty for the whole bucket)."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> ObjectUrl:
        if not is_remote(url):
            raise ValueError(f"{url!r} is not an s3:// URL")
        bucket, _, prefix = url[len(SCHEME) :].partition("/")
        if not bucket:
            raise ValueError(f"{url!r} names no bucket")
        return cls(bucket, prefix.strip("/"))

    def key(self, relative: str) -> str:
        return f"{self.prefix}/{relative}" if self.prefix else relative

    @property
    def listing_prefix(self) -> str:
        return f"{self.prefix}/" if self.prefix else ""

    def __str__(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.prefix}" if self.prefix else f"{SCHEME}{self.bucket}"


def endpoint_url(environ: Mapping[str, str] | None = None) -> str | None:
    """The S3 endpoint to talk to: ``PAPERS_S3_ENDPOINT_URL``, else ``AWS_ENDPOINT_URL``."""
    env = os.environ if environ is None else environ
    return next((env[name] for name in ENDPOINT_VARIABLES if env.get(name)), None)


def s3_client(environ: Mapping[str, str] | None = None) -> S3Client:
    """A boto3 S3 client for the configured endpoint, tolerant of S3-compatible stores.

    Credentials and region come from ``environ`` (by default the process environment) when it
    names them, else from boto3's usual chain (shared files, instance or pod roles).
    """
    import boto3.session
    from botocore.config import Config

    env = os.environ if environ is None else environ
    endpoint = endpoint_url(env)
    session = boto3.session.Session(
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
        aws_session_token=env.get("AWS_SESSION_TOKEN"),
        region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
        profile_name=env.get("AWS_PROFILE"),
    )
    config = Config(
        retries={"max_attempts": 8, "mode": "standard"},
        # many S3-compatible stores reject the CRC checksums boto3 adds by default since 1.36
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        # a custom endpoint rarely serves virtual-hosted buckets (bucket.host)
        s3={"addressing_style": "path"} if endpoint else {},
    )
    return session.client("s3", endpoint_url=endpoint, config=config)


@dataclass
class SyncReport:
    """What one pull or push did, as paths relative to the mirrored folder."""

    direction: str
    url: str
    transferred: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0

    def describe(self) -> str:
        verb = "downloaded" if self.direction == "pull" else "uploaded"
        return (
            f"{self.direction} {self.url}: {len(self.transferred)} {verb}, "
            f"{len(self.deleted)} deleted, {self.unchanged} unchanged"
        )


@dataclass(frozen=True)
class _Remote:
    etag: str
    size: int


@dataclass(frozen=True)
class _Local:
    """A file or a symbolic link under the mirror folder, as found on disk."""

    path: Path
    size: int
    mtime_ns: int
    inode: int
    link_target: str | None

    @classmethod
    def of(cls, path: Path) -> _Local | None:
        try:
            info = path.lstat()
        except FileNotFoundError:
            return None
        if stat.S_ISLNK(info.st_mode):
            return cls(path, info.st_size, info.st_mtime_ns, info.st_ino, os.readlink(path))
        if stat.S_ISREG(info.st_mode):
            return cls(path, info.st_size, info.st_mtime_ns, info.st_ino, None)
        return None

    def signature(self) -> list[int]:
        return [self.size, self.mtime_ns, self.inode]


class Mirror:
    """A folder on an object store and its local copy.

    Args:
        url: ``s3://bucket/prefix`` of the folder.
        local_dir: the local copy the pipeline reads and writes.
        exclude: top-level folder names that stay local (neither pulled nor pushed).
        index_path: where the synchronisation index lives; by default a hidden file beside
            ``local_dir`` (outside it, so the pipeline never sees it).
        client: a boto3 S3 client; by default one for the configured endpoint.
    """

    def __init__(
        self,
        url: str,
        local_dir: Path,
        *,
        exclude: Iterable[str] = (),
        index_path: Path | None = None,
        client: S3Client | None = None,
    ) -> None:
        self.url = ObjectUrl.parse(url)
        self.local_dir = Path(local_dir)
        self.exclude = frozenset(exclude)
        self.index_path = index_path or self.local_dir.with_name(
            f".{self.local_dir.name}.mirror.json"
        )
        self._client = client

    @property
    def client(self) -> S3Client:
        if self._client is None:
            self._client = s3_client()
        return self._client

    def pull(self, *, delete_removed: bool = False, under: str | None = None) -> SyncReport:
        """Download the objects that are new or changed since the last transfer.

        Args:
            delete_removed: also delete local files that came from the bucket, were removed
                there since, and are unchanged locally. Local files never transferred are kept.
            under: only this sub-folder (e.g. ``releases``).
        """
        report = SyncReport("pull", str(self.url))
        with self._locked() as index:
            remote = self._list_remote(under)
            for relative in sorted(remote):
                if self._pull_one(relative, remote[relative], index):
                    report.transferred.append(relative)
                else:
                    report.unchanged += 1
            if delete_removed:
                for relative in sorted(index):
                    if relative in remote or not _within(relative, under):
                        continue
                    entry = index[relative]
                    local = _Local.of(self.local_dir / relative)
                    if local is not None and local.signature() == entry["local"]:
                        local.path.unlink()
                        _remove_empty_parents(local.path.parent, self.local_dir)
                        report.deleted.append(relative)
                    # either way it is no longer something the bucket and this folder share
                    del index[relative]
        return report

    def push(self, *, delete_extraneous: bool = True) -> SyncReport:
        """Upload files that are new or changed locally, then links, then deletions.

        Args:
            delete_extraneous: delete objects this mirror transferred whose local file is gone
                since, unless the object changed in the bucket meanwhile.
        """
        report = SyncReport("push", str(self.url))
        with self._locked() as index:
            remote = self._list_remote(None)
            local = dict(self._walk_local())
            files = sorted(
                (rel for rel, item in local.items() if item.link_target is None), key=_push_order
            )
            links = sorted(rel for rel, item in local.items() if item.link_target is not None)
            for relative in [*files, *links]:
                if self._push_one(relative, local[relative], remote.get(relative), index):
                    report.transferred.append(relative)
                else:
                    report.unchanged += 1
            if delete_extraneous:
                gone = [
                    rel
                    for rel in sorted(index)
                    if rel not in local and rel in remote and remote[rel].etag == index[rel]["etag"]
                ]
                for start in range(0, len(gone), DELETE_BATCH):
                    batch = gone[start : start + DELETE_BATCH]
                    self._delete(batch)
                    report.deleted.extend(batch)
                    for relative in batch:
                        del index[relative]
            for relative in [rel for rel in index if rel not in local and rel not in remote]:
                del index[relative]
        return report

    # -- pulling ---------------------------------------------------------------------------------

    def _pull_one(self, relative: str, remote: _Remote, index: dict[str, Any]) -> bool:
        """Bring one object to the local folder; False when the local copy was already it."""
        target = self.local_dir / relative
        entry = index.get(relative)
        if entry is not None and entry["etag"] == remote.etag:
            # the object did not change since the last transfer: the local file is either the
            # same or changed (or deleted) by a build whose push is still to come, and a pull
            # must not undo that
            return False
        local = _Local.of(target)
        if local is not None and self._same_as_local(relative, remote, local):
            index[relative] = _entry(remote.etag, local)
            return False
        if target.is_dir() and not target.is_symlink():
            raise MirrorError(f"{relative}: an object in {self.url}, a folder locally")
        target.parent.mkdir(parents=True, exist_ok=True)
        response = self.client.get_object(Bucket=self.url.bucket, Key=self.url.key(relative))
        metadata = response.get("Metadata", {})
        temporary = target.with_name(f".{target.name}.mirror-{os.getpid()}")
        try:
            if SYMLINK_KEY in metadata:
                link = metadata[SYMLINK_KEY]
                response["Body"].close()
                _check_link(relative, link)
                temporary.unlink(missing_ok=True)
                temporary.symlink_to(link)
            else:
                with temporary.open("wb") as handle:
                    for chunk in response["Body"].iter_chunks(CHUNK_BYTES):
                        handle.write(chunk)
                    handle.flush()
                    # a file cut short by a crash would look like a local change and be pushed
                    os.fsync(handle.fileno())
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        fresh = _Local.of(target)
        assert fresh is not None
        index[relative] = _entry(_etag(response["ETag"]), fresh)
        return True

    def _same_as_local(self, relative: str, remote: _Remote, local: _Local) -> bool:
        """Whether an object not known to the index holds what the local file holds."""
        if local.link_target is not None:
            if remote.size != len(os.fsencode(local.link_target)):
                return False
            metadata = self._head(relative)["Metadata"]
            return metadata.get(SYMLINK_KEY) == local.link_target
        if remote.size != local.size:
            return False
        metadata = self._head(relative)["Metadata"]
        if SYMLINK_KEY in metadata:
            return False
        if SHA256_KEY in metadata:
            return metadata[SHA256_KEY] == sha256_file(local.path)
        # uploaded by another tool: a single-part ETag is the MD5 of the bytes
        return "-" not in remote.etag and remote.etag == _md5_file(local.path)

    # -- pushing ---------------------------------------------------------------------------------

    def _push_one(
        self, relative: str, local: _Local, remote: _Remote | None, index: dict[str, Any]
    ) -> bool:
        """Upload one file or link unless the bucket already holds it; True when uploaded."""
        entry = index.get(relative)
        if entry is not None and local.signature() == entry["local"]:
            # unchanged here since the last transfer: a changed or removed object is someone
            # else's newer write, which a pull brings in; it is not overwritten with older bytes
            return False
        if local.link_target is not None:
            _check_link(relative, local.link_target)
            if remote is not None and self._same_as_local(relative, remote, local):
                index[relative] = _entry(remote.etag, local)
                return False
            body = local.link_target.encode()
            response = self.client.put_object(
                Bucket=self.url.bucket,
                Key=self.url.key(relative),
                Body=body,
                ContentType="text/plain; charset=utf-8",
                Metadata={SYMLINK_KEY: local.link_target},
            )
            index[relative] = _entry(_etag(response["ETag"]), local)
            return True
        sha256 = sha256_file(local.path)
        if remote is not None and remote.size == local.size:
            metadata = self._head(relative)["Metadata"]
            if metadata.get(SHA256_KEY) == sha256 and SYMLINK_KEY not in metadata:
                index[relative] = _entry(remote.etag, local)
                return False
        etag = self._upload(relative, local.path, sha256)
        after = _Local.of(local.path)
        if after is None or after.signature() != local.signature():
            raise MirrorError(f"{relative} changed while it was uploaded; push again")
        index[relative] = _entry(etag, local)
        return True

    def _upload(self, relative: str, path: Path, sha256: str) -> str:
        key = self.url.key(relative)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        extra = {"Metadata": {SHA256_KEY: sha256}, "ContentType": content_type}
        if path.stat().st_size < MULTIPART_BYTES:
            with path.open("rb") as handle:
                response = self.client.put_object(
                    Bucket=self.url.bucket, Key=key, Body=handle, **extra
                )
            return _etag(response["ETag"])
        self.client.upload_file(str(path), self.url.bucket, key, ExtraArgs=extra)
        return self._head(relative)["ETag"]

    def _delete(self, relatives: list[str]) -> None:
        response = self.client.delete_objects(
            Bucket=self.url.bucket,
            Delete={"Objects": [{"Key": self.url.key(rel)} for rel in relatives], "Quiet": True},
        )
        errors = response.get("Errors", [])
        if errors:
            first = errors[0]
            raise MirrorError(
                f"could not delete {len(errors)} objects from {self.url}, "
                f"e.g. {first.get('Key')}: {first.get('Message')}"
            )

    # -- both ------------------------------------------------------------------------------------

    def _head(self, relative: str) -> dict[str, Any]:
        response = self.client.head_object(Bucket=self.url.bucket, Key=self.url.key(relative))
        return {"ETag": _etag(response["ETag"]), "Metadata": response.get("Metadata", {})}

    def _list_remote(self, under: str | None) -> dict[str, _Remote]:
        prefix = self.url.listing_prefix + (f"{under.strip('/')}/" if under else "")
        found: dict[str, _Remote] = {}
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.url.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                relative = item["Key"][len(self.url.listing_prefix) :]
                if relative.endswith("/") or not relative:
                    continue  # a folder marker some consoles create
                if not self._mirrored(relative):
                    continue
                if not _safe(relative):
                    log.warning("%s: skipped, not a path inside the folder", item["Key"])
                    continue
                found[relative] = _Remote(_etag(item["ETag"]), item["Size"])
        return found

    def _walk_local(self) -> Iterator[tuple[str, _Local]]:
        if not self.local_dir.is_dir():
            return
        for folder, dirnames, filenames in os.walk(self.local_dir):
            base = Path(folder)
            relative_folder = base.relative_to(self.local_dir).as_posix()
            keep = []
            for name in sorted(dirnames):
                relative = name if relative_folder == "." else f"{relative_folder}/{name}"
                if not self._mirrored(relative + "/"):
                    continue
                if (base / name).is_symlink():
                    # a link to a folder is mirrored as a link, never followed
                    filenames.append(name)
                    continue
                keep.append(name)
            dirnames[:] = keep
            for name in sorted(filenames):
                relative = name if relative_folder == "." else f"{relative_folder}/{name}"
                if not self._mirrored(relative):
                    continue
                item = _Local.of(base / name)
                if item is not None:
                    yield relative, item

    def _mirrored(self, relative: str) -> bool:
        parts = relative.split("/")
        if any(part.startswith(".") for part in parts if part):
            return False
        return not (len(parts) > 1 and parts[0] in self.exclude)

    def _identity(self) -> list[Any]:
        """The local folder's path and inode: an index is only valid for the folder it describes
        (an emptied cache must not read as "every file deleted locally")."""
        info = self.local_dir.stat()
        return [str(self.local_dir), info.st_dev, info.st_ino]

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        """The index, under an exclusive lock: two syncs of one mirror never interleave."""
        self.local_dir.mkdir(parents=True, exist_ok=True)
        self.index_path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.index_path.with_name(self.index_path.name + ".lock")
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            index = self._load_index()
            try:
                yield index
            finally:
                # whatever was transferred before a failure stays recorded
                self._save_index(index)
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
            os.close(descriptor)

    def _load_index(self) -> dict[str, Any]:
        try:
            document = json.loads(self.index_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError:
            log.warning("%s is unreadable; every file is compared anew", self.index_path)
            return {}
        if document.get("url") != str(self.url) or document.get("folder") != self._identity():
            # another bucket, or the folder was deleted and made anew: nothing is known of it
            return {}
        return dict(document.get("files", {}))

    def _save_index(self, index: dict[str, Any]) -> None:
        document = {"url": str(self.url), "folder": self._identity(), "files": index}
        temporary = self.index_path.with_name(f"{self.index_path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(document, sort_keys=True), encoding="utf-8")
        os.replace(temporary, self.index_path)


def _md5_file(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def _entry(etag: str, local: _Local) -> dict[str, Any]:
    return {"etag": etag, "local": local.signature()}


def _etag(value: str) -> str:
    # some stores quote ETags in one API and not in another
    return value.strip('"')


def _push_order(relative: str) -> tuple[int, str, bool, str]:
    """Deeper files first, so a folder's contents go up before the files beside it that refer
    to it (``releases/<id>/*`` before ``releases/RELEASED``); a manifest after its folder."""
    folder, name = posixpath.split(relative)
    return -relative.count("/"), folder, name in LAST_IN_FOLDER, name


def _within(relative: str, under: str | None) -> bool:
    return under is None or relative.startswith(under.strip("/") + "/")


def _safe(relative: str) -> bool:
    parts = relative.split("/")
    return all(part not in ("", ".", "..") for part in parts)


def _check_link(relative: str, target: str) -> None:
    """Only relative links that stay inside the mirrored folder can be mirrored."""
    if posixpath.isabs(target):
        raise MirrorError(
            f"{relative} links to the absolute path {target}, which cannot be mirrored"
        )
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(relative), target))
    if resolved == ".." or resolved.startswith("../"):
        raise MirrorError(f"{relative} links to {target}, outside the mirrored folder")


def _remove_empty_parents(folder: Path, root: Path) -> None:
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError as error:
            if error.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
                return
            raise
        folder = folder.parent
