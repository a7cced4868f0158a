"""The player's state: where the program is (`Cursor`), everything a rendered frame depends on
(`State`, immutable, replaced as frames are rendered so the stream can snapshot it and rewind),
and what the listener is hearing (`Now`, for the status line)."""
from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Cursor:
    """Where the program is: `position` plays next, after `extra` owed bed-only frames."""

    position: int
    extra: int = 0
    extra_gain: float = 0.0       # the bed's gain while those frames play (or while waiting)
    waiting: bool = False         # held in a [wait] until space or n (waits.py)
    # (hold event index, frames): + bed owed at the hold's end, - frames cut before its end
    changes: tuple[tuple[int, int], ...] = ()

    def change(self, hold: int) -> int:
        return dict(self.changes).get(hold, 0)

    def with_change(self, hold: int, frames: int) -> "Cursor":
        changes = dict(self.changes)
        changes[hold] = frames
        return replace(self, changes=tuple(sorted((k, v) for k, v in changes.items() if v)))


@dataclass(frozen=True)
class State:
    out: int = 0                          # output frames rendered so far
    cursor: Cursor = Cursor(0)
    fading: Cursor | None = None          # the cursor a jump left, still sounding (fading out)
    fading_left: int = 0
    mode: str = "play"                    # play | pause | quit | end
    fade: float = 0.0                     # program gain now, 0..1
    fade_step: float = 0.0                # how far `fade` moves per frame
    resume: Cursor | None = None          # where a pause resumes
    volume_db: float = 0.0
    level: float = 1.0                    # the volume's linear gain now (glides to volume_db)
    cues: tuple[tuple[str, int], ...] = ()   # (cue name, output frame it starts at)
    beat_phase: float = 0.0               # the beat tone's phase in cycles, mod 2 (beattone.py)
    beds: tuple[float, ...] = ()          # each section bed's presence now, 0..1 (sectionbeds.py)
    bed_frames: int = 0                   # bed played so far: the tape's index (still while paused)

    @property
    def finished(self) -> bool:
        return self.mode in ("quit", "end") and self.fade == 0.0 and not self.cues

    @property
    def playing(self) -> Cursor:
        """The cursor the listener thinks of as "where we are" (while paused: where
        playback resumes)."""
        return self.resume if self.mode == "pause" and self.resume is not None else self.cursor


@dataclass(frozen=True)
class Now:
    """What the listener is hearing, for the status line."""

    section: str
    step: int                  # 1-based, among `steps`
    steps: int
    kind: str                  # the event kind at the position
    event_left: float          # seconds left of that event (a hold: including owed extra)
    left: float                # seconds left of the session
    mode: str
    volume_db: float
