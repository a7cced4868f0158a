"""`[wait]` in live play: the session stops there, the bed playing on, until space or `n`.

A file gives a wait its planned length (the `wait` setting) and a soft cue at its end; a
listener at the speakers finishes the step (warm a towel, oil the hands) in their own time.
So the player plays SETTLE seconds into the wait, long enough for the bed to come back up
from under the last words, and then holds the program there: the bed alone, at the gain it
had, for as long as it takes. Space or `n` goes on at the next step (the key's own sound says
it worked, so the wait's cue is not played). Without keys (no terminal) nobody can press one,
so a wait lasts its planned length, as in a file.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Sequence

from ..timeline import Event
from .state import Cursor

SETTLE = 2.0     # seconds played into a wait before it holds (the bed's ducking releases)


@dataclass(frozen=True)
class Waits:
    """Where each wait of a session starts and holds, in program frames (sorted)."""

    starts: tuple[int, ...] = ()
    stops: tuple[int, ...] = ()

    @classmethod
    def of(cls, events: Sequence[Event], starts: Sequence[int], ends: Sequence[int], rate: int) -> "Waits":
        found = [(starts[i], min(starts[i] + int(SETTLE * rate), ends[i]))
                 for i, event in enumerate(events) if event.kind == "wait"]
        return cls(tuple(a for a, _ in found), tuple(b for _, b in found))

    def next_stop(self, position: int) -> int | None:
        """The first frame at or after `position` where a wait holds."""
        k = bisect.bisect_left(self.stops, position)
        return self.stops[k] if k < len(self.stops) else None

    def holds(self, cursor: Cursor) -> bool:
        """Whether `cursor` is held in a wait, or on its way in (up to where it holds): space
        goes on from there rather than pausing."""
        k = bisect.bisect_right(self.starts, cursor.position) - 1
        return cursor.waiting or (k >= 0 and cursor.position <= self.stops[k])
