"""Content-addressed cache of synthesized sentences, shared by every run and process.

Key: sha256 of (engine, engine version, voice identity, speed, normalized text, layer
version) — see `Request.key` — so anything that changes the sound changes the key.

Each entry is ONE file, `<root>/speech/<k[:2]>/<k>.seg`: a JSON header line (format, sample
rate, sample count, sha256 of the payload, and the request for humans) followed by the
float32 little-endian samples. One file per entry means one atomic `os.replace` publishes
it, so concurrent writers of the same key (piper is not deterministic, their audio differs)
can never leave a header from one and samples from the other. Readers verify the checksum;
a corrupt or truncated entry is deleted and reported as a miss, so it gets regenerated.

Root: `VOICEGUIDE_CACHE_DIR` if set, else the platformdirs user cache dir for "voiceguide"
(on Linux `$XDG_CACHE_HOME/voiceguide`, default `~/.cache/voiceguide`).
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import tempfiles
from .base import Request, Speech

FORMAT = 1
SUFFIX = ".seg"
_TMP_SUFFIX = ".tmp"
_TEMPS = tempfiles.pattern(r"[0-9a-f]{16}", r"\.tmp")   # `<key[:16]>.<pid>.<random>.tmp`, see put


def default_cache_dir() -> Path:
    """The cache root: $VOICEGUIDE_CACHE_DIR, else the user cache dir for "voiceguide"."""
    override = os.environ.get("VOICEGUIDE_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("voiceguide"))


@dataclass(frozen=True)
class CacheInfo:
    path: Path
    entries: int
    bytes: int


class SpeechCache:
    """Get/put synthesized speech by request. Failures to write never fail a render."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else default_cache_dir()
        self.hits = 0
        self.misses = 0

    @property
    def path(self) -> Path:
        """Directory holding the speech entries (inside the cache root)."""
        return self.root / "speech"

    def entry_path(self, key: str) -> Path:
        return self.path / key[:2] / (key + SUFFIX)

    def get(self, request: Request) -> Speech | None:
        key = request.key
        path = self.entry_path(key)
        try:
            with open(path, "rb") as f:
                identity = _identity(os.fstat(f.fileno()))
                data = f.read()
        except OSError:
            self.misses += 1
            return None
        speech = _decode(data, key)
        if speech is None:
            # Corrupt: drop it so the caller regenerates it, but only if it is still the file
            # we read (another process may have just put a good entry in its place).
            try:
                if _identity(os.stat(path)) == identity:
                    _remove(path)
            except OSError:
                pass
            self.misses += 1
            return None
        self.hits += 1
        return speech

    def put(self, request: Request, speech: Speech) -> Speech:
        """Store `speech` unless a valid entry is already there, and return what the cache
        now holds. First writer wins: when two processes synthesize the same sentence at
        once (piper's takes differ, espeak's depend on what the worker spoke before), both
        go on with the same take, so every render matches a later render from the cache."""
        key = request.key
        path = self.entry_path(key)
        payload = speech.samples.astype("<f4").tobytes()
        header = {
            "format": FORMAT,
            "key": key,
            "sample_rate": speech.sample_rate,
            "samples": len(speech.samples),
            "sha256": hashlib.sha256(payload).hexdigest(),
            "engine": speech.engine or request.engine,
            "voice": speech.voice or request.voice,
            "version": request.version,
            "speed": request.speed,
            "text": request.text,
        }
        blob = json.dumps(header, ensure_ascii=False).encode("utf-8") + b"\n" + payload
        error: OSError | None = None
        for _attempt in range(5):
            tmp = None
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                # The pid in the name lets a later run sweep what a killed one left (voiceguide.tempfiles).
                tempfiles.sweep(path.parent, _TEMPS, once=True)
                fd, tmp = tempfile.mkstemp(prefix=f"{key[:16]}.{os.getpid()}.", suffix=_TMP_SUFFIX, dir=path.parent)
                with os.fdopen(fd, "wb") as f:
                    f.write(blob)
                kept = _publish(tmp, path, key)
                return speech if kept is None else kept
            except (FileNotFoundError, FileExistsError) as exc:
                error = exc      # a concurrent `cache clear` took the folder away: make it again
            except OSError as exc:
                error = exc
                break
            finally:
                if tmp is not None:
                    _remove(Path(tmp))   # still there after a link, or after a failure
        warnings.warn(f"voiceguide: could not write to the speech cache at {self.path}: {error}", RuntimeWarning, stacklevel=2)
        return speech

    def _files(self) -> list[Path]:
        if not self.path.is_dir():
            return []
        return [p for d in self.path.iterdir() if d.is_dir() and len(d.name) == 2 for p in d.iterdir()
                if p.name.endswith(SUFFIX) or p.name.endswith(_TMP_SUFFIX)]

    def info(self) -> CacheInfo:
        entries = size = 0
        for p in self._files():
            try:
                size += p.stat().st_size
            except OSError:
                continue
            entries += p.name.endswith(SUFFIX)
        return CacheInfo(self.path, entries, size)

    def clear(self) -> int:
        """Delete every entry (and stale temp files); returns how many entries went.
        Only files this cache created are touched, whatever the directory is."""
        removed = 0
        for p in self._files():
            if p.name.endswith(_TMP_SUFFIX):
                match = _TEMPS.match(p.name)
                if match and not tempfiles.is_stale(p, match):
                    continue     # another process is writing that entry right now
            if _remove(p) and p.name.endswith(SUFFIX):
                removed += 1
        if self.path.is_dir():
            for d in self.path.iterdir():
                try:
                    d.rmdir()
                except OSError:
                    pass
            try:
                self.path.rmdir()
            except OSError:
                pass
        return removed


def _decode(data: bytes, key: str) -> Speech | None:
    newline = data.find(b"\n")
    if newline < 0:
        return None
    try:
        header = json.loads(data[:newline].decode("utf-8"))
        if header.get("format") != FORMAT or header.get("key") != key:
            return None
        payload = data[newline + 1:]
        if len(payload) != 4 * int(header["samples"]):
            return None
        if hashlib.sha256(payload).hexdigest() != header["sha256"]:
            return None
        samples = np.frombuffer(payload, dtype="<f4").astype(np.float32)
        return Speech(samples, int(header["sample_rate"]), str(header.get("engine", "")), str(header.get("voice", "")))
    except (ValueError, KeyError, TypeError):
        return None


def _identity(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _publish(tmp: str, path: Path, key: str) -> Speech | None:
    """Put the complete file `tmp` in place as `path` unless a valid entry is already there;
    then return that entry instead. A hard link never replaces, so this is atomic."""
    for _ in range(3):
        try:
            os.link(tmp, path)
            return None
        except FileExistsError:
            try:
                existing = _decode(path.read_bytes(), key)
            except FileNotFoundError:
                continue            # deleted meanwhile: try to link again
            if existing is not None:
                return existing
            break                   # corrupt: ours replaces it
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
            import time

            time.sleep(0.05 * (i + 1))


def _remove(path: Path) -> bool:
    try:
        os.remove(path)
        return True
    except OSError:
        return False
