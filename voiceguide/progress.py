"""A one-line progress display with ETA for renders on a terminal; silent otherwise."""
from __future__ import annotations

import sys
import time
from typing import TextIO

from .script.durations import format_clock

STAGE_NAMES = {"voice": "voice", "measure": "measuring", "encode": "encoding", "batch": "batch"}
# Rough share of wall time per stage, so the bar moves evenly and the ETA is sane early on.
# "batch" is a whole batch (voiceguide.batch): one bar over every item.
STAGE_WEIGHT = {"voice": 0.35, "measure": 0.15, "encode": 0.5, "batch": 1.0}
STAGE_OFFSET = {"voice": 0.0, "measure": 0.35, "encode": 0.5, "batch": 0.0}


class ProgressLine:
    """Callable as a render `Progress`. Redraws at most ten times a second."""

    def __init__(self, stream: TextIO = sys.stderr, enabled: bool | None = None, width: int = 28):
        self.stream = stream
        self.enabled = stream.isatty() if enabled is None else enabled
        self.width = width
        self.started = time.monotonic()
        self._last = 0.0
        self._shown = False

    def __call__(self, stage: str, done: float, total: float) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and done < total:
            return
        self._last = now
        part = done / total if total > 0 else 1.0
        overall = min(1.0, STAGE_OFFSET.get(stage, 0.0) + STAGE_WEIGHT.get(stage, 0.0) * part)
        elapsed = now - self.started
        eta = f"ETA {format_clock(elapsed / overall - elapsed)}" if overall > 0.02 else "ETA …"
        filled = int(self.width * overall)
        bar = "#" * filled + "-" * (self.width - filled)
        label = STAGE_NAMES.get(stage, stage)
        self.stream.write(f"\r[{bar}] {overall:4.0%} {label:<9} {eta}   ")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\r" + " " * (self.width + 40) + "\r")
            self.stream.flush()
