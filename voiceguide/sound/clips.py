"""Preparing spoken clips for the mix: mono, DC-free, at the session rate, levelled, faded.

The narrator hands over whatever its engine produced (any rate, maybe with a DC offset, maybe
starting on a non-zero sample). Every clip leaves here at the session rate with a 10 ms
raised-cosine fade at both edges, so a segment edge can never click, and (by default) at the
same loudness, so sentences from different engine calls sit at one level.
"""
from __future__ import annotations

import hashlib
import math
import os
from collections import OrderedDict
from fractions import Fraction
from typing import Callable

import numpy as np
from .lazy import signal

from ..store import CLIPS, Store
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
        ramp = (0.5 + 0.5 * np.cos(np.pi * (np.arange(k) + 0.5) / k)).astype(x.dtype)
        x[len(x) - k:] *= ramp if x.ndim == 1 else ramp[:, None]      # mono, or (frames, channels)
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


CLIP_VERSION = "1"
"""Bumped whenever prepare_clip's processing changes, so stored clips are made again."""


class ClipStore:
    """Prepared clips in the store (voiceguide.store), keyed by the engine's samples and
    every preparation setting.

    Preparing a clip (high-pass, resampling, loudness levelling, transient limiting with 4x
    oversampling) costs more than mixing it; a warm re-render would otherwise spend a third
    of its time redoing it. The store checks, publishes and shares the entries; this layer
    only turns a clip into float32 little-endian bytes and back.
    """

    def __init__(self, store: Store | str | os.PathLike[str]):
        """`store`: the store, or the folder it lives in."""
        self.store = store if isinstance(store, Store) else Store(store)

    @staticmethod
    def key(samples: np.ndarray, rate: int, target_rate: int, level_lufs: float | None,
            plr: float | None = SPEECH_PLR) -> str:
        raw = np.ascontiguousarray(samples)
        digest = hashlib.sha256(raw.tobytes())
        digest.update(f"|{raw.dtype.str}|{raw.shape}|{rate}|{target_rate}|{level_lufs}|{plr}|"
                      f"{EDGE_FADE}|{CLIP_VERSION}".encode())
        return digest.hexdigest()

    def get(self, key: str) -> np.ndarray | None:
        """The stored clip, or None when it is missing or damaged."""
        payload = self.store.get(CLIPS, key)
        if payload is None or len(payload) % 4:
            return None
        return np.frombuffer(payload, "<f4").astype(np.float32)

    def put(self, key: str, clip: np.ndarray) -> None:
        """Best effort: a full disk or read-only folder never fails a render."""
        self.store.put(CLIPS, key, np.ascontiguousarray(clip, "<f4").tobytes())


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
