"""Per-section beds: the session's bed, crossfading to a section's own bed (`{ambient rain}`)
at the section's start and back to the session's bed where a section has none.

A `ScheduledBed` is a bed like any other (`read`, `restarted`, `snapshot`), built from the
session's bed and a list of changes `[(seconds, name), ...]`. Each change is an equal-power
crossfade of `FADE` seconds centred on its time (shorter where changes come closer than
that), so two independent beds at the same loudness sum to the same loudness throughout.
Only beds that are heard are read: a bed waits, paused, while it is silent, and goes on from
where it stopped when it comes back (so a second rainy section does not replay the first's
rain). Which bed sounds at which frame is a pure function of the frame, so the samples do
not depend on how the bed is read; the mix's bed gain (ducking, fades) applies on top.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from .beds import BEDS, bed
from .blocks import BlockSource

FADE = 4.0          # seconds of crossfade at a change of bed
MIN_FADE = 0.5      # changes closer than this: the earlier one is not heard (its section is too short)


def bed_key(name: str) -> str:
    """The name a bed is known by: built-in names in lower case, a path as given."""
    key = name.strip()
    return key.lower() if key.lower() in (*BEDS, "none") else key


def ambient_changes(sections: Iterable[tuple[float, str | None]], session_ambient: str
                    ) -> tuple[tuple[float, str], ...]:
    """(start seconds, the section's `{ambient}` or None), in order -> the changes of bed for
    `MixOptions.ambient_changes`: (seconds, bed name), only where the bed changes. A section
    with None plays the session's bed. Empty when no section changes it (the plain bed)."""
    changes: list[tuple[float, str]] = []
    current = bed_key(session_ambient)
    for start, ambient in sections:
        name = session_ambient if ambient is None else ambient
        if bed_key(name) != current:
            changes.append((max(0.0, float(start)), name))
            current = bed_key(name)
    return tuple(changes)


@dataclass(frozen=True)
class Fade:
    """Frames [start, end) crossfade from bed `before` to bed `after`."""

    start: int
    end: int
    before: str
    after: str


def plan_fades(first: str, changes: Iterable[tuple[float, str]], sample_rate: int,
               fade: float = FADE) -> tuple[str, tuple[Fade, ...]]:
    """The bed heard from frame 0, and the crossfades after it, none overlapping: each is
    `fade` seconds centred on its change, or as long as half the gaps to its neighbours
    allow. A change in the first MIN_FADE seconds replaces the first bed; one closer than
    MIN_FADE to the next is dropped (the next takes over from the bed before it)."""
    wanted = sorted(((float(t), bed_key(n)) for t, n in changes), key=lambda c: c[0])
    kept: list[tuple[float, str]] = []
    for t, key in wanted:
        if t < MIN_FADE:                       # at the very start: the first bed
            first, kept = key, []
        elif kept and t - kept[-1][0] < MIN_FADE:
            kept[-1] = (kept[-1][0], key)      # too close: one change, at the earlier time
        else:
            kept.append((t, key))
    fades: list[Fade] = []
    heard = first
    for i, (t, key) in enumerate(kept):
        if key == heard:
            continue
        neighbours = [other for other, _ in kept[max(0, i - 1):i + 2] if other != t]
        half = min(fade / 2, t, *(abs(t - other) / 2 for other in neighbours))
        start, end = round((t - half) * sample_rate), round((t + half) * sample_rate)
        fades.append(Fade(start, max(end, start + 1), heard, key))
        heard = key
    return first, tuple(fades)


class ScheduledBed:
    """The session's bed with changes: a reader, and the recipe for new readers."""

    def __init__(self, beds: dict[str, BlockSource], first: str, fades: tuple[Fade, ...],
                 sample_rate: int, channels: int):
        self.sample_rate, self.channels = sample_rate, channels
        self.beds, self.first, self.fades = beds, first, fades
        self.position = 0
        self._readers: dict[str, BlockSource] = {}      # opened when first heard

    @classmethod
    def open(cls, session: str, changes: Iterable[tuple[float, str]], sample_rate: int,
             channels: int = 2, seed: int = 0,
             opener: Callable[[str, int, int, int], BlockSource] = bed) -> "ScheduledBed":
        """Every bed named, opened (calibrated) now, so a bad name fails at once."""
        changes = tuple(changes)
        first, fades = plan_fades(session, changes, sample_rate)
        names = {bed_key(session): session, **{bed_key(n): n for _, n in changes}}
        beds = {key: opener(name, sample_rate, channels, seed) for key, name in names.items()}
        return cls(beds, first, fades, sample_rate, channels)

    def restarted(self) -> "ScheduledBed":
        """The same schedule from its first frame (a new render pass)."""
        return ScheduledBed(self.beds, self.first, self.fades, self.sample_rate, self.channels)

    def snapshot(self) -> "ScheduledBed":
        """A copy that goes on from this frame exactly as this reader would."""
        twin = self.restarted()
        twin.position = self.position
        twin._readers = {k: r.snapshot() for k, r in self._readers.items()}   # type: ignore[attr-defined]
        return twin

    def _reader(self, key: str) -> BlockSource:
        if key not in self._readers:
            self._readers[key] = self.beds[key].restarted()     # type: ignore[attr-defined]
        return self._readers[key]

    def read(self, frames: int) -> np.ndarray:
        out = np.empty((frames, self.channels), np.float32)
        pos, end = self.position, self.position + frames
        while pos < end:
            fade, solo, until = self._at(pos)
            stop = min(end, until)
            n = stop - pos
            if fade is None:
                out[pos - self.position:stop - self.position] = self._take(solo, n)
            else:
                p = (np.arange(pos, stop) + 0.5 - fade.start) / (fade.end - fade.start)
                angle = (0.25 * np.pi) * (1.0 - np.cos(np.pi * p))          # 0 -> pi/2, smoothly
                gone = self._take(fade.before, n) * np.cos(angle).astype(np.float32)[:, None]
                come = self._take(fade.after, n) * np.sin(angle).astype(np.float32)[:, None]
                out[pos - self.position:stop - self.position] = gone + come
            pos = stop
        self.position = end
        return out

    def _take(self, key: str, n: int) -> np.ndarray:
        return self._reader(key).read(n)

    def _at(self, frame: int) -> tuple[Fade | None, str, float]:
        """At `frame`: the crossfade under way (or None), the bed heard alone otherwise, and
        the frame where that stops being so."""
        heard = self.first
        for fade in self.fades:
            if frame < fade.start:
                return None, heard, fade.start
            if frame < fade.end:
                return fade, "", fade.end
            heard = fade.after
        return None, heard, math.inf
