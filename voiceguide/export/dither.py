"""Float samples to integer PCM with seeded TPDF dither: the same session gives the same bytes."""
from __future__ import annotations

import numpy as np


class Dither:
    """TPDF dither + rounding to 16/24-bit integers, seeded: identical input, identical bytes.
    Random numbers are drawn frame by frame, so the result does not depend on block sizes."""

    def __init__(self, channels: int, bits: int = 16, seed: int = 0):
        self.channels, self.bits = channels, bits
        self.scale = float(2 ** (bits - 1) - 1)
        self._rng = np.random.Generator(np.random.PCG64(seed))

    def __call__(self, block: np.ndarray) -> np.ndarray:
        x = np.asarray(block, np.float64).reshape(len(block), self.channels)
        r = self._rng.random((len(x), 2 * self.channels))
        tpdf = r[:, :self.channels] - r[:, self.channels:]
        q = np.floor(x * self.scale + tpdf + 0.5)
        lo, hi = -self.scale - 1, self.scale
        return np.clip(q, lo, hi).astype(np.int32)


def pcm_bytes(ints: np.ndarray, bits: int) -> bytes:
    if bits == 16:
        return ints.astype("<i2").tobytes()
    b = ints.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3]   # 24-bit little endian
    return b.tobytes()
