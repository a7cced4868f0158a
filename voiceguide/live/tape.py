"""The ambient bed as the listener hears it, indexed by output frame.

Live play moves around the session, but the bed should not: a jump in the program must not
restart the noise, and it must not click. So the bed runs on by itself, one frame per
output frame, and only its gain follows the program position (ducking and fades, from
`Mix.bed_gain_curve`). The tape keeps its recent past, so re-rendering output that was
already rendered (the player rewinds its look-ahead when a key is pressed) reads exactly the
same noise again: playback stays a pure function of the player's state.

The bed may arrive late: calibrating a bed needs scipy, which is not imported until after
the first words (see docs/play.md). Until it arrives the tape is silent; then it fades in.
"""
from __future__ import annotations

import threading

import numpy as np

from ..sound.blocks import BlockSource

LATE_FADE = 2.0   # seconds over which a bed that arrives late fades in


class BedTape:
    def __init__(self, sample_rate: int, channels: int, history: int,
                 source: BlockSource | None = None):
        self.sample_rate, self.channels = sample_rate, channels
        self._cap = max(1, int(history))
        self._buf = np.zeros((self._cap, channels), np.float32)
        self._end = 0                      # frames generated so far
        self._source = source
        self._pending: BlockSource | None = None
        self._fade_from: int | None = None if source is not None else 0
        self._lock = threading.Lock()

    def attach(self, source: BlockSource) -> None:
        """Start the bed now (from any thread); it fades in from the next frame generated."""
        with self._lock:
            self._pending = source

    @property
    def attached(self) -> bool:
        return self._source is not None or self._pending is not None

    def _generate(self, frames: int) -> np.ndarray:
        with self._lock:
            if self._pending is not None and self._source is None:
                self._source, self._pending = self._pending, None
                self._fade_from = self._end
        if self._source is None:
            return np.zeros((frames, self.channels), np.float32)
        x = self._source.read(frames)
        if self._fade_from is not None:
            n = int(LATE_FADE * self.sample_rate)
            k = np.arange(self._end, self._end + frames) - self._fade_from
            if k[0] < n:
                ramp = 0.5 - 0.5 * np.cos(np.pi * np.clip(k / n, 0.0, 1.0))
                x = x * ramp.astype(np.float32)[:, None]
            else:
                self._fade_from = None
        return x

    def read(self, start: int, frames: int) -> np.ndarray:
        """Bed frames [start, start + frames) of the output (generated on first read, then
        the same on every read while they are within `history` of the newest)."""
        if start < self._end - self._cap:
            raise ValueError(f"bed frame {start} is older than the tape keeps")
        while self._end < start + frames:
            n = min(start + frames - self._end, self._cap // 2 or 1)
            x = self._generate(n)
            i = self._end % self._cap
            first = min(n, self._cap - i)
            self._buf[i:i + first] = x[:first]
            self._buf[:n - first] = x[first:]
            self._end += n
        idx = np.arange(start, start + frames) % self._cap
        return self._buf[idx]
