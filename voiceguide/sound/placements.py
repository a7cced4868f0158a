"""Where each sound of a session starts: the timeline's sentences, breathing cues and chimes
as `Placement`s on the frame grid, in the order the mixer adds them.

A module of its own so the mixer (mix.py) stays about rendering; the placements are a pure
function of the timeline, the chime set and a few options.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..script.model import Breathe, Chime, Hold, Wait
from ..timeline import Timeline, speech_key
from .chimes import ChimeSet, Sound
from .envelopes import seconds_to_frame
from .sections import section_sides


@dataclass(frozen=True)
class Placement:
    """A sound starting at `start` (frame) for at most `limit` frames (cut with a fade)."""

    start: int
    kind: str               # "speech" or "chime"
    key: str                # the text, or the chime role
    limit: int
    gain: float = 1.0
    nominal: int = 0        # frames the timeline planned for it (speech)
    cue: bool = False       # a breathing cue (its length is the clip's, not an event's)
    side: str | None = None  # speech in a {sides} copy: the side the voice comes from


def place(timeline: Timeline, chimes: ChimeSet, chime_gain: Callable[[Sound, float], float],
          sample_rate: int, frames: int, speech_end: float, start_bell: bool = False,
          end_bell: bool = False) -> list[Placement]:
    """Every sound of the session that starts before `frames`, sorted by start (a chime
    before speech at the same frame). `chime_gain(sound, lu)`: the chime's level."""
    f = lambda t: seconds_to_frame(t, sample_rate)  # noqa: E731
    sides = section_sides(timeline)
    speech: list[tuple[int, str, int, bool, str | None]] = []   # start, text, nominal frames, cue, side
    placed: list[Placement] = []
    c = chimes
    for event in timeline.events:
        side = sides[event.section] if 0 <= event.section < len(sides) else None
        if event.kind == "say" and event.text.strip():
            key = speech_key(event.text, event.pace, event.voice)   # {pace}d or {voice}d: its own clip
            speech.append((f(event.start), key, f(event.end) - f(event.start), False, side))
        elif event.kind == "breathe" and isinstance(event.step, Breathe):
            b, cues = event.step, timeline.cues     # in the routine's language, its section's voice
            cue_in, cue_out = (speech_key(cue, voice=event.voice) for cue in cues)
            for i in range(b.count):
                t_in = event.start + i * (b.inhale + b.exhale)
                t_out, t_end = t_in + b.inhale, t_in + b.inhale + b.exhale
                speech.append((f(t_in), cue_in, f(t_out) - f(t_in), True, side))
                speech.append((f(t_out), cue_out, f(t_end) - f(t_out), True, side))
        elif event.kind == "chime":
            if isinstance(event.step, (Hold, Wait)) and c.soft is not None:   # the listener's cue
                placed.append(Placement(f(event.start), "chime", "soft", len(c.soft.samples),
                                        chime_gain(c.soft, c.soft_lu)))
            elif isinstance(event.step, Chime) and c.strike is not None:
                placed.append(Placement(f(event.start), "chime", "strike", len(c.strike.samples),
                                        chime_gain(c.strike, c.strike_lu)))
    if start_bell and c.start is not None:
        placed.append(Placement(0, "chime", "start", len(c.start.samples), chime_gain(c.start, c.start_end_lu)))
    if end_bell and c.end is not None:
        placed.append(Placement(f(speech_end), "chime", "end", len(c.end.samples), chime_gain(c.end, c.start_end_lu)))
    speech.sort(key=lambda s: s[0])
    for i, (start, text, nominal, cue, side) in enumerate(speech):
        # A clip may run past its event (e.g. the plan used estimated durations) but is
        # cut, with a fade, where the next speech starts or the session ends.
        nxt = speech[i + 1][0] if i + 1 < len(speech) else frames
        placed.append(Placement(start, "speech", text, max(0, nxt - start), 1.0, nominal, cue, side))
    placed = [p for p in placed if p.start < frames]
    placed.sort(key=lambda p: (p.start, p.kind))
    return placed


def speech_spans(placements: list[Placement], clip_frames: Callable[[str], int],
                 sample_rate: int) -> tuple[tuple[float, float], ...]:
    """Where the voice sounds, for ducking: say events as the timeline has them (the
    narrator plans with measured durations), breathing cues as long as their clips."""
    spans = []
    for p in placements:
        if p.kind != "speech":
            continue
        frames = min(p.limit, clip_frames(p.key)) if p.cue else p.nominal
        spans.append((p.start / sample_rate, (p.start + frames) / sample_rate))
    return tuple(spans)
