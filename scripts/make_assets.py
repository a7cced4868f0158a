#!/usr/bin/env python3
"""Regenerate the sounds in audio_assets/ (made by voiceguide, GPL-3.0-or-later).

    .venv/bin/python scripts/make_assets.py

Output is deterministic: running it again rewrites identical files.
"""
from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from voiceguide.sound.chimes import strike

ASSETS = Path(__file__).resolve().parents[1] / "audio_assets"
RATE = 24000   # the bowl has nothing above 4 kHz; the loader resamples to the session rate

# A struck singing bowl: few, widely spaced partials, long decays, strong slow beating.
BOWL_PARTIALS = (
    (1.0, 1.0, 9.0),
    (2.71, 0.45, 5.5),
    (5.08, 0.18, 3.0),
    (8.19, 0.06, 1.6),
)


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    pcm = np.clip(np.round(samples * 0.89 * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def main() -> None:
    ASSETS.mkdir(exist_ok=True)
    bowl = strike(220.0, BOWL_PARTIALS, RATE, attack=0.006, seconds=6.0, shimmer=1.6, seed=3)
    write_wav(ASSETS / "singing-bowl.wav", bowl, RATE)
    print(f"wrote {ASSETS / 'singing-bowl.wav'}")


if __name__ == "__main__":
    main()
