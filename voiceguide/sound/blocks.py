"""Block streaming primitives shared by beds, the mixer, mastering and the encoders.

Audio is always float32 with shape (frames, channels), like soundfile's `blocks()` with
`always_2d=True`, at one explicit sample rate that travels with the object producing it.
Sessions can be an hour long, so nothing here ever needs the whole program in memory.
"""
from __future__ import annotations

import copy

from typing import Iterable, Iterator, Protocol, runtime_checkable

import numpy as np

DEFAULT_BLOCK = 8192


@runtime_checkable
class BlockSource(Protocol):
    """An endless (or finite) stream read front to back, like a file opened for reading."""

    sample_rate: int
    channels: int

    def read(self, frames: int) -> np.ndarray:
        """The next `frames` frames as float32 (frames, channels)."""
        ...


@runtime_checkable
class Program(Protocol):
    """A finite, re-renderable piece of audio: every call to `blocks()` starts from the top
    and yields the same samples. Mastering relies on this to measure and then render again."""

    sample_rate: int
    channels: int
    frames: int

    def blocks(self, block_frames: int = DEFAULT_BLOCK) -> Iterator[np.ndarray]:
        ...


class ChunkedSource:
    """Base for synthesized sources: `_generate(n)` is always called with the same fixed chunk
    size, and `read()` serves any request from that buffer, so the output cannot depend on how
    callers slice it (1000-frame reads equal 4096-frame reads, bit for bit). Chunks are large because
    per-call overhead (filter set-up) dominates small ones."""

    chunk = 16384

    def __init__(self, sample_rate: int, channels: int):
        if sample_rate <= 0:
            raise ValueError(f"sample rate must be positive, not {sample_rate}")
        if channels not in (1, 2):
            raise ValueError(f"channels must be 1 or 2, not {channels}")
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self.position = 0  # frames generated so far (absolute index of the next chunk)
        self._buffer = np.zeros((0, channels), np.float32)

    def _generate(self, frames: int) -> np.ndarray:
        raise NotImplementedError

    def read(self, frames: int) -> np.ndarray:
        out = np.empty((frames, self.channels), np.float32)
        filled = 0
        while filled < frames:
            if not len(self._buffer):
                self._buffer = np.asarray(self._generate(self.chunk), np.float32)
                self.position += self.chunk
            take = min(frames - filled, len(self._buffer))
            out[filled:filled + take] = self._buffer[:take]
            self._buffer = self._buffer[take:]
            filled += take
        return out

    def snapshot(self) -> "ChunkedSource":
        """A copy that goes on from this frame exactly as this reader would (its filter
        states, random generator and buffered chunk included): small, so cheap to keep."""
        return copy.deepcopy(self)


class Silence:
    """The `none` bed."""

    def __init__(self, sample_rate: int, channels: int):
        self.sample_rate, self.channels = sample_rate, channels

    def read(self, frames: int) -> np.ndarray:
        return np.zeros((frames, self.channels), np.float32)

    def restarted(self) -> "Silence":
        return self

    def snapshot(self) -> "Silence":
        return self


def as_2d(samples: np.ndarray) -> np.ndarray:
    """(frames,) or (frames, channels) -> float32 (frames, channels)."""
    a = np.asarray(samples, np.float32)
    return a[:, None] if a.ndim == 1 else a


def read_all(source: BlockSource, frames: int, block_frames: int = DEFAULT_BLOCK) -> np.ndarray:
    """Read `frames` frames in blocks of `block_frames` (tests and short sounds only)."""
    parts = [source.read(min(block_frames, frames - i)) for i in range(0, frames, block_frames)]
    return np.concatenate(parts) if parts else np.zeros((0, source.channels), np.float32)


def collect(blocks: Iterable[np.ndarray]) -> np.ndarray:
    """Concatenate a block stream (tests and short programs only)."""
    return np.concatenate([as_2d(b) for b in blocks])


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def gain_to_db(gain: float) -> float:
    return float(20.0 * np.log10(max(gain, 1e-12)))
