"""The ambient bed as the listener hears it, indexed by the frames of bed played so far.

Live play moves around the session, but the bed should not: a jump in the program must not
restart the noise, and it must not click. So the bed runs on by itself, one frame per
output frame while the program sounds (`State.bed_frames`: it stands still while paused),
and only its gain follows the program position (ducking and fades, from
`Mix.bed_gain_curve`). The tape keeps its recent past, so re-rendering output that was
already rendered (the player rewinds its look-ahead when a key is pressed) reads exactly the
same noise again: playback stays a pure function of the player's state.

The bed may arrive late: calibrating a bed needs scipy, which is not imported until after
the first words (see docs/play.md). Until it arrives the tape is silent; then it fades in.

A session whose sections have beds of their own (`{ambient rain}`) hands the tape its bed
schedule; the tape runs each of its beds side by side (by its `bedschedule.bed_key`), and the
player chooses between them by the program position (sectionbeds.py).
"""
from __future__ import annotations

import threading

import numpy as np

from ..sound.bedschedule import ScheduledBed
from ..sound.blocks import BlockSource

LATE_FADE = 2.0   # seconds over which a bed that arrives late fades in


def _beds(source: BlockSource) -> dict[str, BlockSource]:
    """A reader per bed: a section-bed schedule's beds each on its own, else the one bed ("")."""
    if isinstance(source, ScheduledBed):
        return {key: bed.restarted() for key, bed in source.beds.items()}   # type: ignore[attr-defined]
    return {"": source}


class BedTape:
    def __init__(self, sample_rate: int, channels: int, history: int,
                 source: BlockSource | None = None):
        self.sample_rate, self.channels = sample_rate, channels
        self._cap = max(1, int(history))
        self._end = 0                      # bed frames generated so far
        self._sources: dict[str, BlockSource] = {}
        self._bufs: dict[str, np.ndarray] = {}
        self._pending: BlockSource | None = None
        self._fade_from: int | None = 0
        if source is not None:
            self._start(source)
            self._fade_from = None
        self._lock = threading.Lock()

    def _start(self, source: BlockSource) -> None:
        self._sources = _beds(source)
        self._bufs = {key: np.zeros((self._cap, self.channels), np.float32) for key in self._sources}

    def attach(self, source: BlockSource) -> None:
        """Start the bed now (from any thread); it fades in from the next frame generated."""
        with self._lock:
            self._pending = source

    @property
    def attached(self) -> bool:
        return bool(self._sources) or self._pending is not None

    def _generate(self, frames: int) -> dict[str, np.ndarray]:
        """The next `frames` of every bed (the late fade-in applied)."""
        with self._lock:
            if self._pending is not None and not self._sources:
                self._start(self._pending)
                self._pending, self._fade_from = None, self._end
        ramp = None
        if self._fade_from is not None:
            n = int(LATE_FADE * self.sample_rate)
            k = np.arange(self._end, self._end + frames) - self._fade_from
            if k[0] < n:
                ramp = (0.5 - 0.5 * np.cos(np.pi * np.clip(k / n, 0.0, 1.0))).astype(np.float32)[:, None]
            else:
                self._fade_from = None
        made = {key: source.read(frames) for key, source in self._sources.items()}
        return made if ramp is None else {key: x * ramp for key, x in made.items()}

    def read(self, start: int, frames: int, bed: str = "") -> np.ndarray:
        """Bed frames [start, start + frames) of `bed` (a section bed's key; "": the session's
        only bed): generated on first read, then the same on every read while they
        are within `history` of the newest. Silence for a bed the tape does not have (yet)."""
        if start < self._end - self._cap:
            raise ValueError(f"bed frame {start} is older than the tape keeps")
        while self._end < start + frames:
            n = min(start + frames - self._end, self._cap // 2 or 1)
            made = self._generate(n)
            i = self._end % self._cap
            first = min(n, self._cap - i)
            for key, x in made.items():
                buf = self._bufs[key]
                buf[i:i + first] = x[:first]
                buf[:n - first] = x[first:]
            self._end += n
        buf = self._bufs.get(bed)
        if buf is None:
            return np.zeros((frames, self.channels), np.float32)
        return buf[np.arange(start, start + frames) % self._cap]
