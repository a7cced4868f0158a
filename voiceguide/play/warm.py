"""The chimes' sounds and levels, kept on disk between runs of live play.

scipy (filters, resampling, loudness) takes about a second to import on a small two-core
machine, which alone would spend the one second `play` has to speak. What the first words
need from it is the same every time: the spoken clips prepared for the mix (the clip store,
`MixOptions.clip_store`, keeps those for every render and play), and the chimes, whose
sounds take a third of a second to synthesize and whose levels are measured with the
loudness meter. The first run makes them as usual and stores them here; later runs read
them back and speak at once, while scipy loads in the background for the rest.

Entries are content-addressed: a key hashes every input and the source of the modules that
make them (and scipy's version), so a new setting or voiceguide version can never be
served a stale sound. The cache lives in `play/` under the speech cache's root
(VOICEGUIDE_CACHE_DIR is honoured) and is kept under 64 MB by dropping the entries unused
for longest. Any failure to read or write is a miss, never an error.
"""
from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

from ..voices.cache import default_cache_dir

MAX_BYTES = 64 << 20
SUFFIX = ".npz"
RECIPE_MODULES = ("clips.py", "limiter.py", "loudness.py", "chimes.py", "mix.py", "beds.py")


@functools.cache
def recipe() -> str:
    """A hash of the code that prepares sounds (and scipy's version, which resamples)."""
    h = hashlib.sha256()
    folder = Path(__file__).resolve().parents[1] / "sound"
    for name in RECIPE_MODULES:
        try:
            h.update((folder / name).read_bytes())
        except OSError:
            h.update(name.encode())
    try:
        from importlib.metadata import version
        h.update(version("scipy").encode())
    except Exception:
        pass
    return h.hexdigest()[:16]


class StartCache:
    def __init__(self, root: str | Path | None = None, max_bytes: int = MAX_BYTES):
        self.path = Path(root) if root is not None else default_cache_dir() / "play"
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(*parts: object) -> str:
        """A key from text, numbers and arrays (arrays are hashed by their bytes)."""
        h = hashlib.sha256(recipe().encode())
        for part in parts:
            if isinstance(part, np.ndarray):
                h.update(str((part.dtype.str, part.shape)).encode())
                h.update(np.ascontiguousarray(part).tobytes())
            else:
                h.update(repr(part).encode())
            h.update(b"\0")
        return h.hexdigest()

    def _file(self, key: str) -> Path:
        return self.path / (key + SUFFIX)

    def get(self, key: str) -> dict[str, np.ndarray] | None:
        try:
            with np.load(self._file(key), allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
        except (OSError, ValueError, KeyError, EOFError):
            self.misses += 1
            return None
        self.hits += 1
        try:
            os.utime(self._file(key))              # recently used: pruned last
        except OSError:
            pass
        return arrays

    def put(self, key: str, **arrays: np.ndarray) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path, prefix=".tmp-", suffix=SUFFIX)
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)
            os.replace(tmp, self._file(key))
        except OSError:
            return
        self._prune()

    def _prune(self) -> None:
        try:
            files = [(p.stat().st_mtime, p.stat().st_size, p) for p in self.path.glob("*" + SUFFIX)]
        except OSError:
            return
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files):
            if total <= self.max_bytes:
                break
            try:
                path.unlink()
                total -= size
            except OSError:
                pass

    def _entries(self) -> list[Path]:
        return list(self.path.glob("*" + SUFFIX)) if self.path.is_dir() else []

    def entries(self) -> int:
        return len(self._entries())

    def size(self) -> int:
        """Bytes on disk."""
        total = 0
        for path in self._entries():
            try:
                total += path.stat().st_size
            except OSError:
                pass
        return total

    def clear(self) -> int:
        """Remove every entry; returns how many went."""
        removed = 0
        for path in self._entries():
            try:
                path.unlink()
                removed += 1
            except OSError:
                pass
        return removed
