"""What the listener can ask for while a session plays (one key each, see keys.py)."""
from __future__ import annotations

from enum import Enum


class Command(Enum):
    PAUSE = "pause"        # pause, or resume when paused
    SKIP = "skip"          # the next step
    REPEAT = "repeat"      # the last instruction again
    LONGER = "longer"      # the current hold, 15 s longer
    SHORTER = "shorter"    # the current hold, 15 s shorter
    LOUDER = "louder"
    SOFTER = "softer"
    QUIT = "quit"
