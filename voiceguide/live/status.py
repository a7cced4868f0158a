"""One line on the terminal saying where the session is: section, step, time left.

Only on a terminal (when stdout is a pipe or a file the session plays silently), redrawn at
most a few times a second in place, cut to the terminal's width, cleared at the end.
"""
from __future__ import annotations

import math
import shutil
import sys
import time
from typing import TextIO

from .controller import Now

EVENT_NAMES = {"say": "speaking", "pause": "pause", "hold": "hold", "chime": "chime", "breathe": "breathing",
               "wait": "waiting: space or n to go on"}


def clock(seconds: float) -> str:
    """Whole seconds, as a clock: 75.2 -> "1:15", 3725 -> "1:02:05"."""
    total = int(math.ceil(max(0.0, seconds) - 1e-6))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def format_status(now: Now) -> str:
    state = {"play": "playing", "pause": "paused", "quit": "stopping", "end": "ending"}[now.mode]
    parts = [f"[{state}]", now.section, f"step {now.step}/{now.steps}"]
    event = EVENT_NAMES.get(now.kind, now.kind)
    if now.kind in ("hold", "breathe", "pause"):
        event += f" {clock(now.event_left)}"
    parts += [event, f"{clock(now.left)} left"]
    if now.volume_db:
        parts.append(f"volume {now.volume_db:+.0f} dB")
    return "  ".join(parts)


class StatusLine:
    def __init__(self, stream: TextIO = sys.stdout, enabled: bool | None = None, interval: float = 0.25):
        self.stream = stream
        if enabled is None:
            try:
                enabled = stream.isatty()
            except (AttributeError, ValueError):
                enabled = False
        self.enabled = enabled
        self.interval = interval
        self._last = 0.0
        self._text = ""

    def say(self, text: str) -> None:
        """A line of its own above the status (the key help at the start)."""
        if self.enabled:
            self._clear()
            self.stream.write(text + "\n")
            self.stream.flush()

    def show(self, now: Now, force: bool = False) -> None:
        if not self.enabled:
            return
        t = time.monotonic()
        if not force and t - self._last < self.interval:
            return
        self._last = t
        width = shutil.get_terminal_size((80, 24)).columns - 1
        text = format_status(now)[:max(10, width)]
        if text != self._text:
            pad = max(0, len(self._text) - len(text))
            self.stream.write("\r" + text + " " * pad)
            self.stream.flush()
            self._text = text

    def _clear(self) -> None:
        if self._text:
            self.stream.write("\r" + " " * len(self._text) + "\r")
            self.stream.flush()
            self._text = ""

    def close(self) -> None:
        if self.enabled:
            self._clear()
