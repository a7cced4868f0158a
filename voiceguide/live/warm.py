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
served a stale sound. The entries live in the store (voiceguide.store, namespace "play"),
as the arrays of an .npz, and are kept under 64 MB by dropping the entries unused for
longest. Any failure to read or write is a miss, never an error.
"""
from __future__ import annotations

import functools
import hashlib
import io
import os
import zipfile
from pathlib import Path

import numpy as np

from ..store import STARTS, Store

MAX_BYTES = 64 << 20
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
    """Arrays by key in the store's "play" namespace, pruned to `max_bytes`."""

    def __init__(self, store: Store | str | os.PathLike[str], max_bytes: int = MAX_BYTES):
        """`store`: the store, or the folder it lives in."""
        self.store = store if isinstance(store, Store) else Store(store)
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0

    @property
    def path(self) -> Path:
        return self.store.folder(STARTS)

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

    def get(self, key: str) -> dict[str, np.ndarray] | None:
        payload = self.store.get(STARTS, key)
        arrays = None
        if payload is not None:
            try:
                with np.load(io.BytesIO(payload), allow_pickle=False) as data:
                    arrays = {name: data[name] for name in data.files}
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
                arrays = None
        if arrays is None:
            self.misses += 1
            return None
        self.hits += 1
        return arrays

    def put(self, key: str, **arrays: np.ndarray) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        self.store.put(STARTS, key, buffer.getvalue())
        self.store.prune(STARTS, self.max_bytes)
