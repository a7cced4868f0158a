"""Gain curves as pure functions of absolute time: ducking and bed fades.

Computed from the timeline, never from the rendered audio, so a frame's gain does not
depend on which block it falls in, on block size, or on anything that came before it.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np


def _rise(x: np.ndarray) -> np.ndarray:
    """0 -> 1 raised cosine for x in [0, 1], clamped outside."""
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(x, 0.0, 1.0))


def merge_spans(spans: list[tuple[float, float]], bridge: float) -> list[tuple[float, float]]:
    """Sort and join spans closer than `bridge` seconds (so the bed does not pump up for
    half a second between two sentences)."""
    merged: list[list[float]] = []
    for start, end in sorted(spans):
        if merged and start - merged[-1][1] < bridge:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


@dataclass(frozen=True)
class Ducker:
    """Bed gain under the voice: down by `depth_db` while anyone speaks.

    The bed starts moving `attack` seconds before the first word (it is ducked by the time
    the voice starts: the timeline lets us look ahead) and comes back over `release` seconds
    after the last. Spans closer than attack + release + `bridge` are merged. The curve is a
    raised cosine in dB, so level changes are smooth and click-free.
    """

    spans: tuple[tuple[float, float], ...]
    depth_db: float = 8.0
    attack: float = 0.3
    release: float = 1.0

    @classmethod
    def from_spans(cls, spans, depth_db=8.0, attack=0.3, release=1.0, bridge=0.4) -> "Ducker":
        merged = merge_spans(list(spans), attack + release + bridge)
        return cls(tuple(merged), depth_db, attack, release)

    def amount(self, t: np.ndarray) -> np.ndarray:
        """0 (bed at full level) .. 1 (fully ducked) at times t (seconds, sorted)."""
        out = np.zeros(len(t))
        if not len(t) or not self.spans:
            return out
        lo, hi = float(t[0]), float(t[-1])
        ends = [e for _, e in self.spans]
        i = bisect.bisect_left(ends, lo - self.release)
        while i < len(self.spans) and self.spans[i][0] - self.attack <= hi:
            s, e = self.spans[i]
            up = _rise((t - (s - self.attack)) / self.attack) if self.attack > 0 else (t >= s) * 1.0
            down = _rise((e + self.release - t) / self.release) if self.release > 0 else (t < e) * 1.0
            np.maximum(out, np.minimum(up, down), out=out)
            i += 1
        return out

    def gain(self, t: np.ndarray) -> np.ndarray:
        return 10.0 ** (-self.depth_db * self.amount(t) / 20.0)


@dataclass(frozen=True)
class BedFades:
    """Bed fade-in at the start and fade-out at the end.

    Normal sessions fade out with a raised cosine over `fade_out` seconds ending at `end`.
    For bedtime (`sleep`), the fade starts when the last words end and lasts until `end`:
    it falls steadily in dB (about 48 dB over the whole time) and the last part is rounded
    off to silence, which sounds like the sound drifting away rather than being turned down.
    """

    end: float
    fade_in: float = 3.0
    fade_out: float = 5.0
    sleep_from: float | None = None   # seconds; None for a normal fade-out

    def gain(self, t: np.ndarray) -> np.ndarray:
        g = _rise(t / self.fade_in) if self.fade_in > 0 else np.ones(len(t))
        if self.sleep_from is not None and self.end > self.sleep_from:
            x = np.clip((t - self.sleep_from) / (self.end - self.sleep_from), 0.0, 1.0)
            g = g * 10.0 ** (-48.0 * x / 20.0) * (0.5 + 0.5 * np.cos(np.pi * x))
        elif self.fade_out > 0:
            g = g * _rise((self.end - t) / self.fade_out)
        return np.where((t >= 0) & (t < self.end), g, 0.0)


def seconds_to_frame(seconds: float, sample_rate: int) -> int:
    return int(math.floor(seconds * sample_rate + 0.5))
