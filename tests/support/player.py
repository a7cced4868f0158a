"""Fakes and fixtures for driving the player in tests and benchmarks.

`FakeSink` is a sound card that plays only when the fake clock moves: `FakeClock.sleep(s)`
pulls `s` seconds of frames through it, period by period, and records them. `ScriptedKeys`
presses keys at given moments of that fake time (or raises KeyboardInterrupt, like Ctrl-C);
`TimedKeys` does the same in real time. `pulse_null_sink` runs a private PulseAudio server
with a null sink and `Recorder` records what reaches it (with parec).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterable, Iterator

import numpy as np

from voiceguide.play.commands import Command
from voiceguide.play.device import Pull


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


PULSE_TOOLS = ("pulseaudio", "parec", "pactl", "pacat")


def pulse_missing() -> list[str]:
    """The PulseAudio programs `pulse_null_sink` needs that are not installed."""
    import shutil
    return [tool for tool in PULSE_TOOLS if shutil.which(tool) is None]


@contextmanager
def pulse_null_sink(folder, rate: int = 48000, sink: str = "vg", awake: bool = True) -> Iterator[dict[str, str]]:
    """A private PulseAudio daemon (its files in `folder`) whose only output is a null sink
    called `sink`; yields the environment for its clients (PULSE_SERVER and the rest).
    Raises RuntimeError if it will not start.

    An idle null sink runs in two-second blocks, so it holds a new stream back for up to two
    seconds (pacat too), which no real output does. `awake` keeps a silent low-latency stream
    playing into it (started 3 s before yielding), so it answers like a sound card."""
    import os
    import subprocess
    import time
    from pathlib import Path

    home = Path(folder)
    env = dict(os.environ, HOME=str(home), XDG_RUNTIME_DIR=str(home), PULSE_RUNTIME_PATH=str(home / "pulse"))
    env.pop("PULSE_SERVER", None)
    daemon = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit", "--system=false",
         "-L", "module-native-protocol-unix auth-anonymous=1",
         "-L", f"module-null-sink sink_name={sink} rate={rate}", "--log-target=stderr"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    env["PULSE_SERVER"] = f"unix:{home / 'pulse' / 'native'}"
    keeper = None
    try:
        for _ in range(100):
            if subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0:
                break
            if daemon.poll() is not None:
                raise RuntimeError(f"pulseaudio would not start: {daemon.stderr.read()[-500:]}")
            time.sleep(0.05)
        else:
            raise RuntimeError("pulseaudio did not answer")
        if awake:
            keeper = subprocess.Popen(["pacat", "-p", "--latency-msec=10", "--raw", "--format=s16le",
                                       f"--rate={rate}", "--channels=2", "/dev/zero"],
                                      env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(3.0)
        yield env
    finally:
        if keeper is not None:
            keeper.kill()
            keeper.wait()
        daemon.terminate()
        try:
            daemon.wait(timeout=5)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


class Recorder:
    """`parec` recording a sink's monitor as float32, noting when each chunk arrived (so the
    moment a sound reached the sink can be told, to within parec's 20 ms latency)."""

    def __init__(self, env: dict[str, str], rate: int = 48000, source: str = "vg.monitor"):
        import subprocess
        import threading
        self.rate = rate
        self._proc = subprocess.Popen(["parec", "-d", source, "--format=float32le", f"--rate={rate}",
                                       "--channels=2", "--latency-msec=20"],
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._chunks: list[tuple[float, bytes]] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        import os
        import time
        fd = self._proc.stdout.fileno()
        while True:
            data = os.read(fd, 65536)
            if not data:
                return
            self._chunks.append((time.monotonic(), data))

    def stop(self) -> np.ndarray:
        """Stop recording; the left channel as float64."""
        self._proc.terminate()
        self._proc.wait(timeout=5)
        self._thread.join(timeout=5)
        raw = b"".join(data for _, data in self._chunks)
        raw = raw[:len(raw) // 8 * 8]
        return np.frombuffer(raw, np.float32).reshape(-1, 2)[:, 0].astype(np.float64)

    def first_sound(self, threshold: float = 10 ** (-50 / 20)) -> float | None:
        """time.monotonic() at which the chunk holding the first sample above `threshold`
        arrived (call after stop())."""
        for t, data in self._chunks:
            if np.any(np.abs(np.frombuffer(data[:len(data) // 4 * 4], np.float32)) > threshold):
                return t
        return None
