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

from .base import Request, Speech

FORMAT = 1
SUFFIX = ".seg"
_TMP_SUFFIX = ".tmp"


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
            data = path.read_bytes()
        except OSError:
            self.misses += 1
            return None
        speech = _decode(data, key)
        if speech is None:
            _remove(path)  # corrupt: drop it so the caller regenerates it
            self.misses += 1
            return None
        self.hits += 1
        return speech

    def put(self, request: Request, speech: Speech) -> None:
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
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=key[:16] + ".", suffix=_TMP_SUFFIX, dir=path.parent)
            with os.fdopen(fd, "wb") as f:
                f.write(blob)
            _replace(tmp, path)
            tmp = None
        except OSError as exc:
            warnings.warn(f"voiceguide: could not write to the speech cache at {self.path}: {exc}", RuntimeWarning, stacklevel=2)
        finally:
            if tmp is not None:
                _remove(Path(tmp))

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
