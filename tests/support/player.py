"""Fakes for driving the player in tests: a sound card, a clock and key presses.

`FakeSink` is a sound card that plays only when the fake clock moves: `FakeClock.sleep(s)`
pulls `s` seconds of frames through it, period by period, and records them. `ScriptedKeys`
presses keys at given moments of that fake time (or raises KeyboardInterrupt, like Ctrl-C);
`TimedKeys` does the same in real time. (A real sound server to play into: pulse.py.)
"""
from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from voiceguide.live.commands import Command
from voiceguide.live.device import Pull


class FakeSink:
    def __init__(self, sample_rate: int = 16000, channels: int = 2, period: int = 480, latency: int = 0):
        self.sample_rate, self.channels = sample_rate, channels
        self.period, self.latency = period, latency
        self._pull: Pull | None = None
        self._pulled = 0
        self._blocks: list[np.ndarray] = []
        self.stopped = False

    def start(self, pull: Pull) -> None:
        self._pull = pull

    def advance(self, frames: int) -> None:
        """Play `frames` frames (whole periods), recording them."""
        if self._pull is None or self.stopped:
            return
        for _ in range(max(1, -(-frames // self.period))):
            self._blocks.append(np.array(self._pull(self.period), copy=True))
            self._pulled += self.period

    def pulled(self) -> int:
        return self._pulled

    def failed(self) -> str | None:
        return None

    def stop(self) -> None:
        self.stopped = True

    @property
    def recorded(self) -> np.ndarray:
        if not self._blocks:
            return np.zeros((0, self.channels), np.float32)
        return np.concatenate(self._blocks)


class FakeClock:
    """Fake time, measured by the frames the fake sink has played."""

    def __init__(self, sink: FakeSink):
        self.sink = sink

    def now(self) -> float:
        return self.sink.pulled() / self.sink.sample_rate

    def sleep(self, seconds: float) -> None:
        self.sink.advance(int(round(seconds * self.sink.sample_rate)))


class ScriptedKeys:
    """Keys pressed at moments of fake time: [(seconds, Command or "ctrl-c"), ...]."""

    def __init__(self, clock: FakeClock, script: Iterable[tuple[float, Command | str]]):
        self.clock = clock
        self.script = sorted(script, key=lambda item: item[0])
        self.pressed: list[tuple[float, Command]] = []

    def poll(self, timeout: float) -> list[Command]:
        self.clock.sleep(timeout)
        now = self.clock.now()
        due = [item for item in self.script if item[0] <= now]
        self.script = self.script[len(due):]
        out: list[Command] = []
        for _, key in due:
            if key == "ctrl-c":
                raise KeyboardInterrupt
            out.append(key)
            self.pressed.append((now, key))
        return out


class TimedKeys:
    """Keys pressed in real time, at moments counted from the first poll, or by `clock` (e.g.
    the seconds of audio a real device has taken: end-to-end tests)."""

    def __init__(self, script: Iterable[tuple[float, Command | str]], clock: Callable[[], float] | None = None):
        self.script = sorted(script, key=lambda item: item[0])
        self.clock = clock
        self._start: float | None = None

    def poll(self, timeout: float) -> list[Command]:
        import time
        if self._start is None:
            self._start = time.monotonic()
        time.sleep(timeout)
        now = self.clock() if self.clock is not None else time.monotonic() - self._start
        due = [item for item in self.script if item[0] <= now]
        self.script = self.script[len(due):]
        if any(key == "ctrl-c" for _, key in due):
            raise KeyboardInterrupt
        return [key for _, key in due]
