"""Section beds in live play (`{ambient rain}`): the bed follows the program position.

A file changes its bed at fixed program times (sound/bedschedule.py). Live play's bed runs on
the output clock instead (tape.py), while the program jumps on skip and repeat, holds at a
[wait], owes bed after a longer hold, and pauses. So the bed heard is chosen here, from the
program position: the bed the file has there, or is crossfading to. Every bed of the session
runs on the tape (a bed costs well under 1 % of a core), and each one's presence moves
linearly towards 1 for that bed and 0 for the others, over the crossfade that leads into the
position's stretch (FADE seconds, less between close changes), heard through the file's
equal-power curve. So:

* played straight through, each crossfade starts, ends and sounds as the file's does;
* a skip or repeat into a section with another bed crossfades to it from the jump on,
  whatever the jump was (a jump back during a crossfade turns it round, from where it is);
* a held [wait], owed bed after a hold, and a pause hold the position: the bed never
  changes early, and resumes as it was.

The presences are part of the player's `State` (`State.beds`, in `keys` order), so a rewound
look-ahead renders the same again. The controller ends a stretch of output where the
program reaches a change, so the target is one bed over each stretch.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from ..sound.bedschedule import FADE, bed_key, plan_fades
from ..sound.mix import MixOptions
from .state import Cursor
from .tape import BedTape


@dataclass(frozen=True)
class SectionBeds:
    """The session's beds (tape keys) and, from each program frame in `starts` on, the bed
    heard there and the frames it takes to come in."""

    keys: tuple[str, ...]
    starts: tuple[int, ...]
    beds: tuple[str, ...]
    ramps: tuple[int, ...]

    @classmethod
    def of(cls, options: MixOptions) -> "SectionBeds | None":
        """From the mix's options (the changes the file's bed makes), None without changes."""
        if not options.ambient_changes:
            return None
        rate = options.sample_rate
        first, fades = plan_fades(options.ambient, options.ambient_changes, rate)
        keys = (bed_key(options.ambient), *(bed_key(name) for _, name in options.ambient_changes))
        return cls(tuple(dict.fromkeys(keys)), (0, *(f.start for f in fades)), (first, *(f.after for f in fades)),
                   (max(1, round(FADE * rate)), *(max(1, f.end - f.start) for f in fades)))

    def _stretch(self, position: int) -> int:
        return max(0, bisect.bisect_right(self.starts, position) - 1)

    def at(self, position: int) -> tuple[float, ...]:
        """The presences when play starts at `position`: its bed alone."""
        heard = self.beds[self._stretch(position)]
        return tuple(1.0 if key == heard else 0.0 for key in self.keys)

    def frames_to_change(self, cursor: Cursor) -> int | None:
        """Output frames the cursor can play before its bed may change (None: not before the
        end, or it is held in a [wait]); owed bed comes first."""
        i = bisect.bisect_right(self.starts, cursor.position)
        if cursor.waiting or i >= len(self.starts):
            return None
        return cursor.extra + self.starts[i] - cursor.position

    def read(self, tape: BedTape, start: int, frames: int, position: int,
             presences: tuple[float, ...]) -> tuple[np.ndarray, tuple[float, ...]]:
        """The bed for tape frames [start, start + frames), the program at `position` over them,
        and the presences after them. A bed silent throughout is not read."""
        i = self._stretch(position)
        target, steps = self.beds[i], np.arange(1, frames + 1, dtype=np.float64) / self.ramps[i]
        bed = np.zeros((frames, tape.channels), np.float32)
        after = []
        for key, presence in zip(self.keys, presences):
            rising = key == target
            curve = np.minimum(presence + steps, 1.0) if rising else np.maximum(presence - steps, 0.0)
            last = float(curve[-1]) if frames else presence
            after.append(last if 1e-9 < last < 1.0 - 1e-9 else float(last > 0.5))   # rounding: exactly 0 or 1
            if presence == 0.0 and not rising:
                continue
            smooth = 0.5 - 0.5 * np.cos(np.pi * curve)            # the file's curve (bedschedule.py)
            bed += tape.read(start, frames, key) * np.sin(0.5 * np.pi * smooth).astype(np.float32)[:, None]
        return bed, tuple(after)
