"""A private PulseAudio server for tests and benchmarks (scripts/bench.py imports it too).

`pulse_null_sink` runs a PulseAudio daemon of its own whose only output is a null sink, and
`Recorder` records what reaches that sink (with parec), so a test can hear what the player
really sent to a sound server, and when.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import numpy as np


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
