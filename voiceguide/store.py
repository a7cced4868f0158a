"""One disk store for everything voiceguide keeps between runs: speech, prepared clips, play
starts, and what was measured of each voice (piper's speed calibration).

The folder is passed in; only the faces decide where it is (`voiceguide.cachedir`). Callers
store bytes under a namespace and a hex key; the typed layers (voices/cache.py,
sound/clips.py, play/warm.py) turn their payloads into bytes and back.

Each entry is ONE file, `<root>/<namespace>/<key[:2]>/<key>.vgc`: a 48-byte header (magic,
format version, flags, payload length, blake2b-256 of namespace + key + payload) and the
payload. Because the digest covers the key, an entry copied or renamed under another key
fails the check like a flipped or missing byte does; a damaged entry is a miss and is
removed (only if it is still the file that was read), so it is made again.

Writers put the whole file under a temp name carrying their pid (voiceguide.tempfiles) and
publish it with a hard link, which never replaces: the first writer of a key wins and a later
one gets the entry already there back, so two processes that made the same entry at once go
on with the same bytes (piper's takes differ). Without hard links, rename: the last writer wins.
A full disk or an unwritable folder warns once per folder and process; the caller goes on.

Reading an entry touches its mtime, so `prune` (drop the least recently used entries past a
byte cap) keeps what is in use. Files of earlier versions (`.seg`, `.npy`, `.npz`) are never
read: `info` counts them, `clear` and `prune` remove them, and files of any other kind are
never touched.
"""
from __future__ import annotations

import hashlib
import os
import re
import struct
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from . import tempfiles

SPEECH, CLIPS, STARTS, VOICES = "speech", "clips", "play", "voices"
NAMESPACES = (SPEECH, CLIPS, STARTS, VOICES)
"""Every namespace voiceguide uses, so `usage` and `clear_all` cover them all."""

MAGIC = b"VGST"
FORMAT = 1
SUFFIX = ".vgc"
_HEADER = struct.Struct("<4sHHQ32s")       # magic, format, flags, payload length, digest
HEADER_SIZE = _HEADER.size
LEGACY_SUFFIXES = (".seg", ".npy", ".npz")  # speech, clip and start entries before this store
_KEY = re.compile(r"^[0-9a-f]{16,128}$")
_NAMESPACE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_TEMPS = tempfiles.pattern(r"[0-9a-f]{16}", r"\.tmp")     # `<key[:16]>.<pid>.<random>.tmp`
_OLD_START_TEMPS = re.compile(r"^\.tmp-(?:(?P<pid>\d+)\.)?[A-Za-z0-9_]{8}\.npz$")   # the old start cache's
_warned: set[str] = set()


@dataclass(frozen=True)
class Usage:
    """What one namespace holds on disk."""
    path: Path
    entries: int
    bytes: int


def digest(namespace: str, key: str, payload: bytes | memoryview) -> bytes:
    h = hashlib.blake2b(digest_size=32)
    h.update(f"{namespace}\0{key}\0".encode())
    h.update(payload)
    return h.digest()


def encode(namespace: str, key: str, payload: bytes) -> bytes:
    """The complete file for an entry."""
    return _HEADER.pack(MAGIC, FORMAT, 0, len(payload), digest(namespace, key, payload)) + payload


def decode(namespace: str, key: str, data: bytes) -> bytes | None:
    """The payload of a complete entry file, or None when it is damaged or not this key's."""
    if len(data) < HEADER_SIZE:
        return None
    magic, version, _flags, length, checksum = _HEADER.unpack_from(data)
    payload = memoryview(data)[HEADER_SIZE:]
    if magic != MAGIC or version != FORMAT or length != len(payload):
        return None
    return bytes(payload) if digest(namespace, key, payload) == checksum else None


class Store:
    """Bytes by namespace and key in one folder, shared safely by every process."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def folder(self, namespace: str) -> Path:
        if not _NAMESPACE.match(namespace):
            raise ValueError(f"not a store namespace: {namespace!r}")
        return self.root / namespace

    def path(self, namespace: str, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"not a store key (lowercase hex, 16 to 128 digits): {key!r}")
        return self.folder(namespace) / key[:2] / (key + SUFFIX)

    def get(self, namespace: str, key: str) -> bytes | None:
        """The payload, or None when it is missing or damaged (then it is removed)."""
        path = self.path(namespace, key)
        try:
            with open(path, "rb") as f:
                identity = _identity(os.fstat(f.fileno()))
                data = f.read()
        except OSError:
            return None
        payload = decode(namespace, key, data)
        if payload is None:
            # Drop it so it is made again, but only if it is still the file we read (another
            # process may have just put a good entry in its place).
            try:
                if _identity(os.stat(path)) == identity:
                    _remove(path)
            except OSError:
                pass
            return None
        try:
            os.utime(path)                 # recently used: pruned last
        except OSError:
            pass
        return payload

    def put(self, namespace: str, key: str, payload: bytes) -> bytes:
        """Store `payload` unless a valid entry is already there; return what the store now
        holds (the first writer's payload). Never raises for the disk: when the folder cannot
        be written, warns once and returns `payload`."""
        path = self.path(namespace, key)
        blob = encode(namespace, key, payload)
        error: OSError | None = None
        for _attempt in range(_PUT_ATTEMPTS):
            tmp = None
            try:
                # The temp file right after the folder: once it is there, a concurrent clear
                # cannot remove the folder (it only removes empty ones) while we write.
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=f"{key[:16]}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
                tempfiles.sweep(path.parent, _TEMPS, once=True)   # what killed processes left
                with os.fdopen(fd, "wb") as f:
                    f.write(blob)
                kept = _publish(tmp, path, namespace, key)
                return payload if kept is None else kept
            except (FileNotFoundError, FileExistsError) as exc:
                error = exc      # a concurrent clear took the folder away: make it again
            except OSError as exc:
                error = exc
                break
            finally:
                if tmp is not None:
                    _remove(Path(tmp))   # still there after a link, or after a failure
        folder = self.folder(namespace)
        if str(self.root) not in _warned:
            _warned.add(str(self.root))
            warnings.warn(f"voiceguide: could not write to the {namespace} cache at {folder}: {error}",
                          RuntimeWarning, stacklevel=3)
        return payload

    def delete(self, namespace: str, key: str) -> bool:
        return _remove(self.path(namespace, key))

    def _files(self, namespace: str) -> Iterator[tuple[Path, str]]:
        """Our files in a namespace as (path, kind): "entry", "legacy" or "temp"."""
        folder = self.folder(namespace)
        try:
            top = list(os.scandir(folder))
        except OSError:
            return
        for item in top:
            if item.is_dir(follow_symlinks=False) and len(item.name) == 2:
                try:
                    inside = list(os.scandir(item.path))
                except OSError:
                    continue
                for entry in inside:
                    kind = _kind(entry.name, nested=True)
                    if kind and entry.is_file(follow_symlinks=False):
                        yield Path(entry.path), kind
            elif item.is_file(follow_symlinks=False):
                kind = _kind(item.name, nested=False)
                if kind:
                    yield Path(item.path), kind

    def info(self, namespace: str) -> Usage:
        """Entries (of this format and earlier ones) and the bytes all our files take."""
        entries = size = 0
        for path, kind in self._files(namespace):
            try:
                size += path.stat().st_size
            except OSError:
                continue
            entries += kind != "temp"
        return Usage(self.folder(namespace), entries, size)

    def clear(self, namespace: str) -> int:
        """Delete every entry (old formats too) and stale temp file; returns how many
        entries went. A temp file another process is writing right now is left alone."""
        removed = 0
        for path, kind in self._files(namespace):
            if kind == "temp":
                match = _TEMPS.match(path.name) or _OLD_START_TEMPS.match(path.name)
                if match and not tempfiles.is_stale(path, match):
                    continue
            if _remove(path) and kind != "temp":
                removed += 1
        folder = self.folder(namespace)
        try:
            shards = [d for d in os.scandir(folder) if d.is_dir(follow_symlinks=False) and len(d.name) == 2]
        except OSError:
            shards = []
        for shard in shards:
            try:
                os.rmdir(shard.path)
            except OSError:
                pass
        try:
            folder.rmdir()
        except OSError:
            pass
        return removed

    def prune(self, namespace: str, max_bytes: int) -> int:
        """Keep the namespace under `max_bytes`: old-format files go first, then the entries
        used longest ago. Returns how many files went."""
        files = []
        for path, kind in self._files(namespace):
            if kind == "temp":
                continue
            try:
                st = path.stat()
            except OSError:
                continue
            files.append((kind == "entry", st.st_mtime_ns, st.st_size, path))
        total = sum(size for _, _, size, _ in files)
        removed = 0
        for _, _, size, path in sorted(files):
            if total <= max_bytes:
                break
            if _remove(path):
                removed += 1
            total -= size
        return removed


def usage(root: str | os.PathLike[str]) -> dict[str, Usage]:
    """What every namespace of the store at `root` holds (for `voiceguide cache info`)."""
    store = Store(root)
    return {namespace: store.info(namespace) for namespace in NAMESPACES}


_PUT_ATTEMPTS = 50
"""Tries at writing an entry whose folder a concurrent clear keeps removing: each lost race
costs two system calls, so a loaded machine gets many before the cache is called unwritable."""


def clear_all(root: str | os.PathLike[str]) -> dict[str, int]:
    """Empty every namespace of the store at `root`; entries removed per namespace."""
    store = Store(root)
    return {namespace: store.clear(namespace) for namespace in NAMESPACES}


def _kind(name: str, nested: bool) -> str | None:
    if nested:
        if name.endswith(SUFFIX):
            return "entry"
        if name.endswith((".seg", ".npy")):
            return "legacy"
        if _TEMPS.match(name):
            return "temp"
        return None
    if _OLD_START_TEMPS.match(name):
        return "temp"
    return "legacy" if name.endswith(".npz") else None


def _identity(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _publish(tmp: str, path: Path, namespace: str, key: str) -> bytes | None:
    """Put the complete file `tmp` in place as `path` unless a valid entry is already there;
    then return that entry's payload instead. A hard link never replaces, so this is atomic."""
    for _ in range(3):
        try:
            os.link(tmp, path)
            return None
        except FileExistsError:
            try:
                existing = decode(namespace, key, path.read_bytes())
            except FileNotFoundError:
                continue            # deleted meanwhile: try to link again
            if existing is not None:
                return existing
            break                   # damaged: ours replaces it
        except OSError:
            break                   # no hard links on this filesystem: last writer wins
    _replace(tmp, path)
    return None


def _replace(src: str, dst: Path) -> None:
    """os.replace, retried briefly on Windows where an open reader can block it."""
    attempts = 5 if sys.platform == "win32" else 1
    for i in range(attempts):
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            if i == attempts - 1:
                raise
            time.sleep(0.05 * (i + 1))


def _remove(path: Path) -> bool:
    try:
        os.remove(path)
        return True
    except OSError:
        return False
