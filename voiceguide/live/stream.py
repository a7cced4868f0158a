"""Between the player and the sound card: a look-ahead ring buffer filled by a producer.

The audio callback must never wait for mixing, so a producer thread renders the controller
about a second ahead into a ring buffer and the callback only copies out of it. A second of
look-ahead survives a busy two-core machine (the garbage collector, speech preparation,
another program), but would make every key take a second to be heard. So a key does not
queue behind the look-ahead: the producer takes the buffered audio back to a block boundary
just ahead of what the device has already taken (`margin`), puts the controller back in the
state it had there (states are immutable and kept per block, and the bed is a tape indexed by
a frame count in the state, so re-rendering gives the same samples), applies the key, and renders on. A
key is heard about `margin` plus the device's own buffer after it is pressed.
"""
from __future__ import annotations

import bisect
import queue
import threading
import time
from dataclasses import dataclass

import numpy as np

from .commands import Command
from .controller import Controller, Now, State

BLOCK = 1024           # frames rendered per step (and the granularity of a rewind)
LOOKAHEAD = 1.0        # seconds rendered ahead of the device
MARGIN = 0.08          # seconds of buffered audio a key never takes back
AUDIBLE = 10 ** (-50 / 20)   # the first sample above -50 dBFS is "the first sound"


@dataclass(frozen=True)
class Stats:
    underruns: int             # callbacks that found the buffer short (gaps heard)
    first_sound: float | None  # time.monotonic() when the first audible frame was handed over
    frames: int                # frames handed to the device


class Stream:
    def __init__(self, controller: Controller, lookahead: float = LOOKAHEAD, margin: float = MARGIN,
                 block: int = BLOCK, latency: int = 0):
        self.controller = controller
        rate = controller.rate
        self.block = block
        self.capacity = max(2, int(lookahead * rate) // block) * block
        self.margin = int(margin * rate)
        self.latency = latency           # device frames between handing over and hearing
        self._ring = np.zeros((self.capacity, controller.channels), np.float32)
        self._out = np.zeros((4096, controller.channels), np.float32)
        self._read = 0                   # absolute frame indices
        self._write = 0
        self._ended = False
        self._lock = threading.Lock()
        self._states: list[tuple[int, State]] = []   # controller state before each buffered block
        self._commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._underruns = 0
        self._first_sound: float | None = None
        self.error: BaseException | None = None
        self.synchronous = False         # render in read() instead of a producer thread
        self.applied: list[tuple[int, Command]] = []   # (output frame, command) as applied

    # -- the device side (any thread; the audio callback) --------------------------------

    def read(self, frames: int) -> np.ndarray:
        """The next `frames` frames for the device: copied from the ring, silence-padded.
        (A synchronous stream, with no producer thread, renders them first: tests.)"""
        if self.synchronous:
            self.pump()
        if len(self._out) < frames:
            self._out = np.zeros((frames, self.controller.channels), np.float32)
        out = self._out[:frames]
        with self._lock:
            k = min(frames, self._write - self._read)
            i = self._read % self.capacity
            first = min(k, self.capacity - i)
            out[:first] = self._ring[i:i + first]
            out[first:k] = self._ring[:k - first]
            self._read += k
            ended = self._ended and self._read >= self._write
        if k < frames:
            out[k:] = 0.0
            if not ended:
                self._underruns += 1
        if self._first_sound is None and k and np.abs(out[:k]).max() > AUDIBLE:
            self._first_sound = time.monotonic()
        self._wake.set()
        return out

    # -- the producer side -----------------------------------------------------------------

    def send(self, command: Command) -> None:
        """A key press (any thread): applied by the producer at the next block it can change."""
        self._commands.put(command)
        self._wake.set()

    def _splice(self) -> None:
        """Take back buffered blocks from just ahead of the device, and rewind the controller
        to the state it had there, so a command sounds as soon as possible."""
        with self._lock:
            floor = self._read + self.margin
            starts = [out for out, _ in self._states]
            i = bisect.bisect_left(starts, floor)
            if i < len(self._states):
                out, state = self._states[i]
                self._write = out
                del self._states[i:]
                self.controller.state = state
                self._ended = False

    def _apply_commands(self) -> bool:
        applied = False
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return applied
            if not applied:
                self._splice()
            self.applied.append((self.controller.state.out, command))
            self.controller.apply(command)
            applied = True

    def pump(self, seconds: float | None = None) -> bool:
        """Apply waiting commands and render until the ring is full (or holds `seconds`) or
        the session is over. Returns whether anything was rendered."""
        self._apply_commands()
        rendered = False
        limit = self.capacity if seconds is None else min(self.capacity, int(seconds * self.controller.rate))
        while True:
            with self._lock:
                free = self._read + limit - self._write
                write = self._write
                if self._states and self._states[0][0] < self._read - self.block:
                    drop = bisect.bisect_left([o for o, _ in self._states], self._read - self.block)
                    del self._states[:drop]
            if free < self.block or self._ended:
                return rendered
            if not self._commands.empty():
                self._apply_commands()
                continue
            state = self.controller.state
            block = self.controller.render(self.block)
            n = len(block)
            i = write % self.capacity
            first = min(n, self.capacity - i)
            self._ring[i:i + first] = block[:first]
            self._ring[:n - first] = block[first:]
            with self._lock:
                self._states.append((write, state))
                self._write = write + n
                self._ended = n < self.block and self.controller.state.finished
            rendered = True

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if not self.pump():
                    self._wake.wait(0.02)
                    self._wake.clear()
        except BaseException as exc:        # reported by the session, never lost in a thread
            self.error = exc
            with self._lock:
                self._ended = True

    def start(self) -> None:
        """Run the producer in a background thread (unless synchronous)."""
        if self.synchronous:
            return
        self._thread = threading.Thread(target=self._run, name="voiceguide-play", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    # -- what is playing -------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """Everything rendered has been handed to the device and nothing more will come."""
        with self._lock:
            return self._ended and self._read >= self._write

    def buffered(self) -> int:
        with self._lock:
            return self._write - self._read

    def now(self) -> Now:
        """What the listener hears at this moment (the state of the block being heard)."""
        with self._lock:
            heard = max(0, self._read - self.latency)
            starts = [out for out, _ in self._states]
            i = bisect.bisect_right(starts, heard) - 1
            state = self._states[i][1] if i >= 0 else self.controller.state
        return self.controller.describe(state)

    def stats(self) -> Stats:
        with self._lock:
            return Stats(self._underruns, self._first_sound, self._read)
