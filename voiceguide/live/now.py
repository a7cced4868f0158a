"""Where the listener is, read off the player (controller.py) without changing it: what the
status line shows (`Now`), and the hold that + and - act on."""
from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

from .state import Cursor, Now, State

if TYPE_CHECKING:
    from .controller import Controller


def describe(ctl: "Controller", s: State) -> Now:
    """What the listener is hearing in state `s`: section, step, event kind and time left."""
    cursor = s.playing
    p = cursor.position
    i = ctl.event_at(p)
    owed = cursor.extra + sum(f for h, f in cursor.changes if ctl.cut_point(h, f) >= p)
    left = max(0, ctl.mix.frames - p + owed) / ctl.rate
    kind = ctl.events[i].kind
    if kind == "pause" and ctl.events[i].step is None:
        kind = "say"                     # a natural gap between sentences: still the words
    if cursor.extra > 0:
        i, kind = next((h for h in ctl.holds if ctl.ends[h] == p), i), "hold"
    event_left = max(0, ctl.ends[i] - p) + cursor.extra
    if i in ctl.holds:
        event_left = max(0, ctl.cut_point(i, cursor.change(i)) - p) + max(cursor.change(i), 0) + cursor.extra
    step = bisect.bisect_right(ctl.step_frames, p + ctl.lead)
    return Now(ctl.mix.timeline.sections[ctl.events[i].section].title, max(1, step),
               len(ctl.step_frames), kind, event_left / ctl.rate, left, s.mode, s.volume_db)


def current_hold(ctl: "Controller", cursor: Cursor) -> int | None:
    """The hold + and - act on: the one playing (or owed extra at its end), else the one
    the words now being spoken lead into."""
    p = cursor.position
    if cursor.extra > 0:
        return next((h for h in ctl.holds if ctl.ends[h] == p), None)
    j = ctl.event_at(p)
    while j < len(ctl.events):
        e = ctl.events[j]
        if e.kind == "hold":
            return j
        if not (e.kind == "say" or (e.kind == "pause" and e.step is None)):
            return None
        j += 1
    return None
