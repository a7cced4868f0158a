"""A bed reader at any frame, fast: checkpoints of the bed's stream, one a minute.

A bed is a stream (filtered noise carries its filter state, the ocean its wave schedule), so
the frames at minute 14 can only be made by running a reader up from frame 0; for the ocean
that is over a second. The studio's previews jump around a session, so `BedSeeker` keeps a
snapshot of the reader at every minute it has passed, and serves a later frame by running up
from the nearest one: at most a minute of bed, and the same samples as from the start
(tests/sound/test_bedseek.py).
"""
from __future__ import annotations

import threading
from typing import Any

from .blocks import DEFAULT_BLOCK, BlockSource

EVERY = 60.0        # seconds of bed between checkpoints (each is small: filter states, a chunk)


class BedSeeker:
    """Readers of one bed at any frame, from checkpoints kept as it is run up."""

    def __init__(self, bed: Any, sample_rate: int, every: float = EVERY):
        self.bed = bed
        self.every = max(1, int(every * sample_rate))
        self._points: dict[int, Any] = {}
        self._lock = threading.Lock()

    def at(self, frame: int) -> BlockSource | None:
        """A new reader whose next frame is `frame`; None if this kind of bed cannot be
        copied mid-stream (the caller then runs one up from the start)."""
        with self._lock:
            base = max((k for k in self._points if k <= frame), default=0)
            point = self._points.get(base)
        try:
            reader = point.snapshot() if point is not None else self.bed.restarted()
            if point is None:
                self._keep(0, reader)
        except AttributeError:
            return None
        position = base
        while position < frame:
            target = min(frame, (position // self.every + 1) * self.every)
            while position < target:
                step = min(DEFAULT_BLOCK, target - position)
                reader.read(step)
                position += step
            if position % self.every == 0:
                self._keep(position, reader)
        return reader

    def _keep(self, frame: int, reader: Any) -> None:
        with self._lock:
            if frame not in self._points:
                self._points[frame] = reader.snapshot()
