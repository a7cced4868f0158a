"""Speech-like test signals: a stand-in narrator for the tests (it lives here, not in the package).

`SyntheticVoice` turns any text into band-limited noise shaped by a syllable envelope, exactly
as long as its `timer` says, so a timeline planned with `plan(..., timer=voice.timer)` and
mixed with `voice` puts every "word" exactly where the timeline says.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
from scipy import signal

from voiceguide.timeline import estimate_speech


@dataclass(frozen=True)
class SyntheticVoice:
    sample_rate: int = 22050
    level: float = 0.25          # peak-ish amplitude of the bursts
    dc: float = 0.0              # add an offset, to check the mixer removes it
    syllables_per_second: float = 4.0

    def timer(self, text: str, speed: float = 1.0) -> float:
        """Seconds this voice takes to say `text` (quantised to whole frames)."""
        frames = max(1, int(round(estimate_speech(text, speed) * self.sample_rate)))
        return frames / self.sample_rate

    def __call__(self, text: str) -> tuple[np.ndarray, int]:
        sr = self.sample_rate
        n = int(round(self.timer(text) * sr))
        rng = np.random.default_rng(zlib.crc32(text.encode()))
        noise = rng.standard_normal(n)
        band = signal.butter(4, [250, min(3400, 0.45 * sr)], "bandpass", fs=sr, output="sos")
        x = signal.sosfilt(band, noise)
        t = np.arange(n) / sr
        syllable = np.abs(np.sin(np.pi * self.syllables_per_second * t)) ** 1.5
        x = x / (np.abs(x).max() + 1e-12) * syllable * self.level
        return (x + self.dc).astype(np.float32), sr
