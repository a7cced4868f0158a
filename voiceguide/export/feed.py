"""Blocks handed to a writer thread through a short queue, so rendering (the caller's thread)
and converting and writing (this one) overlap."""
from __future__ import annotations

import queue
import threading
from typing import Callable, Iterable

import numpy as np


class Writer(threading.Thread):
    """Consumes blocks from a bounded queue and hands them to `sink` in order."""

    def __init__(self, sink: Callable[[np.ndarray], None], depth: int = 6):
        super().__init__(daemon=True, name="voiceguide-encode")
        self.sink = sink
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.discarding = False

    def run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.error is None and not self.discarding:
                try:
                    self.sink(item)
                except BaseException as exc:   # reported to the producer
                    self.error = exc

    def put(self, block: np.ndarray) -> None:
        while True:
            if self.error is not None:
                raise self.error
            try:
                self.queue.put(block, timeout=0.5)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        self.queue.put(None)
        self.join()


def feed(blocks: Iterable[np.ndarray], sink: Callable[[np.ndarray], None], channels: int,
          stop: Callable[[], None] | None = None) -> int:
    """Push `blocks` through a writer thread into `sink`. On any error or Ctrl-C the queued
    blocks are dropped and `stop` runs first (it kills ffmpeg, so a write blocked on its
    pipe returns at once instead of the writer draining the queue)."""
    frames = 0
    writer = Writer(sink)
    writer.start()
    try:
        for block in blocks:
            b = np.asarray(block, np.float32)
            if b.ndim == 1:
                b = b[:, None]
            if b.shape[1] != channels:
                raise ValueError(f"block has {b.shape[1]} channels, expected {channels}")
            if not np.all(np.isfinite(b)):
                raise ValueError("audio block contains NaN or infinity")
            writer.put(b)
            frames += len(b)
    except BaseException:
        writer.discarding = True
        if stop is not None:
            stop()
        raise
    finally:
        writer.close()
    if writer.error is not None:
        raise writer.error
    return frames
