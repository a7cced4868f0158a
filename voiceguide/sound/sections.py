"""What a routine's section headings ask of the sound, read off the timeline's sections:
the side a `{sides}` copy's voice comes from, the beat curve (`beat` setting plus each
`{beat N}`), and the bed's changes (`{ambient rain}`).

Why here and not in the mixer: these are small pure functions of the timeline, tested on
their own (tests/test_sound_sections.py), and the mixer stays about mixing.
"""
from __future__ import annotations

from typing import Callable

from ..timeline import Timeline
from .beats import BeatCurve
from .bedschedule import ambient_changes

GLIDE = 5.0     # seconds a section's {beat N} takes to be reached (and left) from its start


def section_sides(timeline: Timeline) -> tuple[str | None, ...]:
    """Per section: "left"/"right" for a `{sides}` copy, else None (the voice is centred)."""
    return tuple(s.side for s in timeline.sections)


def section_beds(timeline: Timeline, session_ambient: str) -> tuple[tuple[float, str], ...]:
    """The changes of bed the sections' `{ambient NAME}` ask for, as
    `MixOptions.ambient_changes` takes them (bedschedule.py); empty when none does."""
    return ambient_changes(((s.start, s.ambient) for s in timeline.sections), session_ambient)


def beat_curve(timeline: Timeline, glide: tuple[float, float] | None, duration: float,
               transition: float = GLIDE) -> BeatCurve | None:
    """The session's beat: `glide` (start Hz, end Hz) over [0, duration] (None: no beat),
    overridden in each section whose heading says `{beat N}`. At each change the frequency
    moves linearly from where it was to the new target over `transition` seconds (or the
    whole of a shorter section), and where the session has no beat a section's tone fades
    in and out over that time instead. None when there is no beat anywhere."""
    overrides = [(s.start, s.start + s.duration, float(s.beat)) for s in timeline.sections
                 if s.beat is not None and s.duration > 0]
    if glide is None and not overrides:
        return None
    duration = max(duration, max((b for _, b, _ in overrides), default=0.0), 1e-3)
    regions = _regions(overrides, duration)
    base = _base(glide, duration)

    def value(region: int, t: float) -> tuple[float, float]:
        fixed = regions[region][2]
        if fixed is not None:
            return fixed, 1.0
        if base is not None:
            return base(t), 1.0
        return _nearest(regions, region), 0.0

    times, values = [0.0], [value(0, 0.0)]
    for r in range(1, len(regions)):
        at = regions[r][0]
        left, right = value(r - 1, at), value(r, at)
        if left == right:
            continue
        end = regions[r][1]
        reach = min(at + transition, end)
        if at > times[-1]:
            times.append(at)
            values.append(left)
        times.append(reach)
        values.append(value(r, reach))
    if duration > times[-1]:
        times.append(duration)
        values.append(value(len(regions) - 1, duration))
    return BeatCurve(tuple(times), tuple(v[0] for v in values), tuple(v[1] for v in values))


def _base(glide: tuple[float, float] | None, duration: float) -> Callable[[float], float] | None:
    if glide is None:
        return None
    start, end = glide
    return lambda t: start + (end - start) * min(max(t / duration, 0.0), 1.0)


def _regions(overrides: list[tuple[float, float, float]], duration: float) -> list[tuple[float, float, float | None]]:
    """[0, duration] cut into (start, end, Hz or None for the session's own beat), merging
    neighbours that ask for the same."""
    regions: list[tuple[float, float, float | None]] = []
    at = 0.0
    for a, b, hz in sorted(overrides):
        a = max(a, at)
        if b <= a:
            continue
        if a > at:
            regions.append((at, a, None))
        regions.append((a, b, hz))
        at = b
    if at < duration:
        regions.append((at, duration, None))
    merged: list[tuple[float, float, float | None]] = []
    for region in regions:
        if merged and merged[-1][2] == region[2]:
            merged[-1] = (merged[-1][0], region[1], region[2])
        else:
            merged.append(region)
    return merged


def _nearest(regions: list[tuple[float, float, float | None]], region: int) -> float:
    """Where the session has no beat, the frequency of the section tone before (else after),
    so only the level moves when a section's tone fades in or out."""
    before = [hz for _, _, hz in regions[:region] if hz is not None]
    after = [hz for _, _, hz in regions[region + 1:] if hz is not None]
    return (before[-1:] or after[:1] or [0.0])[0]
