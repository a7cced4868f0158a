"""The player's output stage, after the program: the key cues mixed over it, the volume
gliding to its setting, and a soft ceiling that keeps every sample inside full scale."""
from __future__ import annotations

import numpy as np

from .cues import Cues

VOLUME_SLEW = 10.0        # linear gain per second a volume step glides at (about 50 ms a step)
CEILING_KNEE = 0.8        # soft clipping above this (about -2 dBFS) ...
CEILING = 0.966           # ... bending smoothly towards -0.3 dBFS, never beyond


Sounding = tuple[tuple[str, int], ...]   # (cue name, output frame it starts at)


def mix_cues(out: np.ndarray, start: int, cues: Sounding, sounds: Cues) -> Sounding:
    """Add the sounding cues to `out` (output frames from `start`); returns the cues still
    sounding after it."""
    n = len(out)
    still = []
    for name, at in cues:
        x = sounds[name]
        a, b = max(start, at), min(start + n, at + len(x))
        if a < b:
            out[a - start:b - start] += x[a - at:b - at, None]
        if at + len(x) > start + n:
            still.append((name, at))
    return tuple(still)


def glide_level(out: np.ndarray, level: float, target: float, rate: int) -> float:
    """Scale `out` by the volume as it glides from `level` towards `target` (in place);
    returns the level reached."""
    n = len(out)
    if level == target or not n:
        if level != 1.0:
            out *= np.float32(level)
        return level
    k = np.arange(1, n + 1) * (VOLUME_SLEW / rate)
    ramp = np.minimum(level + k, target) if target > level else np.maximum(level - k, target)
    out *= ramp.astype(np.float32)[:, None]
    return float(ramp[-1])


def soft_ceiling(x: np.ndarray) -> None:
    """Keep every sample inside full scale without hard clipping (in place). The loudness gain
    is an estimate and the volume can go up, so a rare peak may pass the knee; above it the
    curve bends smoothly towards CEILING (tanh). Below the knee nothing changes."""
    a = np.abs(x)
    over = a > CEILING_KNEE
    if over.any():
        room = CEILING - CEILING_KNEE
        x[over] = np.sign(x[over]) * (CEILING_KNEE + room * np.tanh((a[over] - CEILING_KNEE) / room))
