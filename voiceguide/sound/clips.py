"""Preparing spoken clips for the mix: mono, DC-free, at the session rate, levelled, faded.

The narrator hands over whatever its engine produced (any rate, maybe with a DC offset, maybe
starting on a non-zero sample). Every clip leaves here at the session rate with a 10 ms
raised-cosine fade at both edges, so a segment edge can never click, and (by default) at the
same loudness, so sentences from different engine calls sit at one level.
"""
from __future__ import annotations

import hashlib
import io
import math
import os
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from fractions import Fraction
from typing import Callable

import numpy as np
from .lazy import signal

from .. import tempfiles
from .blocks import db_to_gain
from .limiter import limit
from .loudness import clip_loudness

SPEECH_LUFS = -20.0       # voice level in the mix, before mastering
SPEECH_PLR = 15.0         # dB: clip true peaks held about this far above the clip loudness
                          # (-16 LUFS with -1 dBTP leaves the finished program 15 dB)
MAX_LEVEL_CHANGE = 20.0   # dB; a near-silent clip is not blown up to speech level
EDGE_FADE = 0.010


def resample(x: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Polyphase resampling (scipy.signal.resample_poly) along axis 0."""
    if rate == target:
        return x
    ratio = Fraction(target, rate)
    return signal.resample_poly(x, ratio.numerator, ratio.denominator, axis=0)


def edge_fades(x: np.ndarray, frames: int) -> np.ndarray:
    """Raised-cosine fade-in and fade-out of `frames` frames each (in place, returns x)."""
    k = min(frames, len(x) // 2)
    if k > 0:
        ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(k) + 0.5) / k)).astype(x.dtype)
        x[:k] *= ramp
        x[len(x) - k:] *= ramp[::-1]
    return x


def fade_out(x: np.ndarray, frames: int) -> np.ndarray:
    """Raised-cosine fade-out over the last `frames` frames (in place, returns x): for a
    clip cut short, whose start is already faded in."""
    k = min(frames, len(x))
    if k > 0:
        x[len(x) - k:] *= (0.5 + 0.5 * np.cos(np.pi * (np.arange(k) + 0.5) / k)).astype(x.dtype)
    return x


def prepare_clip(samples: np.ndarray, rate: int, target_rate: int, *,
                 level_lufs: float | None = SPEECH_LUFS, fade: float = EDGE_FADE,
                 plr: float | None = SPEECH_PLR) -> np.ndarray:
    """Engine output -> float32 mono clip ready to be added into the mix.

    `plr` (peak-to-loudness ratio) tames the odd plosive or click a speech engine produces:
    such a transient can sit 20 dB above the voice's loudness, and left alone it would
    force the master limiter to pull the whole mix down around it (and cost extra measuring
    passes). Here the true-peak limiter shaves just those transients, clip by clip."""
    raw = np.asarray(samples)
    x = raw.astype(np.float64)
    if np.issubdtype(raw.dtype, np.integer):          # PCM straight from an engine
        x /= float(np.iinfo(raw.dtype).max) + 1.0
    if x.ndim == 2:
        x = x.mean(axis=1)
    if not len(x):
        return np.zeros(0, np.float32)
    if not np.all(np.isfinite(x)):
        raise ValueError("speech samples contain NaN or infinity")
    x = x - x.mean()
    # A gentle 40 Hz high-pass removes rumble and any leftover offset drift.
    x = signal.sosfilt(signal.butter(2, 40.0, "highpass", fs=rate, output="sos"), x)
    x = resample(x, rate, target_rate)
    if level_lufs is not None:
        measured = clip_loudness(x, target_rate)
        if math.isfinite(measured):
            change = max(-MAX_LEVEL_CHANGE, min(MAX_LEVEL_CHANGE, level_lufs - measured))
            x = x * db_to_gain(change)
            if plr is not None:
                x = _hold_peaks(x, target_rate, measured + change, plr)
    return edge_fades(np.asarray(x, np.float32), int(round(fade * target_rate)))


def _hold_peaks(x: np.ndarray, rate: int, level: float, plr: float) -> np.ndarray:
    """Limit true peaks to `level + plr` while keeping the clip at `level`: a loud click
    inflates the measured loudness, so shaving it lowers the level; restore it and shave
    again (twice is plenty), ending on a limiting pass so the ceiling holds."""
    ceiling = min(level + plr, -1.0)
    x = limit(x, rate, ceiling)
    for _ in range(2):
        after = clip_loudness(x, rate)
        if not math.isfinite(after) or level - after < 0.05:
            break
        x = limit(x * db_to_gain(min(level - after, 6.0)), rate, ceiling)
    return x


_TEMPS = tempfiles.pattern(r"[0-9a-f]{16}", r"\.tmp")
"""Temp files of `ClipStore.put`: `<key[:16]>.<pid>.<random>.tmp`."""

CLIP_VERSION = "1"
"""Bumped whenever prepare_clip's processing changes, so stored clips are made again."""


@dataclass(frozen=True)
class ClipStoreInfo:
    folder: Path
    entries: int
    bytes: int


class ClipStore:
    """Prepared clips on disk, keyed by the engine's samples and every preparation setting.

    Preparing a clip (high-pass, resampling, loudness levelling, transient limiting with 4x
    oversampling) costs more than mixing it; a warm re-render would otherwise spend a third
    of its time redoing it. Entries are written atomically (temp file + rename), so several
    processes may share the folder; an unreadable entry is simply prepared again.
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    @staticmethod
    def key(samples: np.ndarray, rate: int, target_rate: int, level_lufs: float | None,
            plr: float | None = SPEECH_PLR) -> str:
        raw = np.ascontiguousarray(samples)
        digest = hashlib.sha256(raw.tobytes())
        digest.update(f"|{raw.dtype.str}|{raw.shape}|{rate}|{target_rate}|{level_lufs}|{plr}|"
                      f"{EDGE_FADE}|{CLIP_VERSION}".encode())
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.npy"

    def get(self, key: str) -> np.ndarray | None:
        """The stored clip, or None when it is missing or damaged. Each entry ends with the
        sha256 of its samples: a flipped byte still loads as a .npy, and would be mixed in."""
        try:
            data = self._path(key).read_bytes()
            clip = np.load(io.BytesIO(data[:-32]), allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None
        if clip.dtype != np.float32 or clip.ndim != 1:
            return None
        return clip if hashlib.sha256(clip.tobytes()).digest() == data[-32:] else None

    def put(self, key: str, clip: np.ndarray) -> None:
        """Best effort: a full disk or read-only folder never fails a render."""
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tempfiles.sweep(path.parent, _TEMPS, once=True)     # what killed processes left
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{key[:16]}.{os.getpid()}.", suffix=".tmp")
            try:
                samples = np.ascontiguousarray(clip, np.float32)
                with os.fdopen(fd, "wb") as handle:
                    np.save(handle, samples, allow_pickle=False)
                    handle.write(hashlib.sha256(samples.tobytes()).digest())
                os.replace(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        except OSError:
            pass

    def info(self) -> "ClipStoreInfo":
        files = list(self.folder.glob("??/*.npy")) if self.folder.is_dir() else []
        return ClipStoreInfo(self.folder, len(files), sum(f.stat().st_size for f in files if f.exists()))

    def clear(self) -> int:
        """Remove every stored clip; returns how many went."""
        removed = 0
        if not self.folder.is_dir():
            return 0
        for entry in self.folder.glob("??/*"):
            if entry.suffix in (".npy", ".tmp"):
                entry.unlink(missing_ok=True)
                removed += entry.suffix == ".npy"
        return removed


class ClipCache:
    """A small LRU of prepared clips keyed by text. Repeated cues ("Breathe in.") and a clip
    that spans several blocks are prepared once; total memory stays bounded."""

    def __init__(self, load: Callable[[str], np.ndarray], max_bytes: int = 64 << 20):
        self._load = load
        self._max = max_bytes
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._bytes = 0
        self.misses = 0

    def __contains__(self, text: str) -> bool:
        return text in self._items

    def __call__(self, text: str) -> np.ndarray:
        clip = self._items.get(text)
        if clip is not None:
            self._items.move_to_end(text)
            return clip
        self.misses += 1
        clip = self._load(text)
        self._items[text] = clip
        self._bytes += clip.nbytes
        while self._bytes > self._max and len(self._items) > 1:
            _, old = self._items.popitem(last=False)
            self._bytes -= old.nbytes
        return clip
