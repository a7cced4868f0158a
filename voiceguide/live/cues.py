"""Soft audible answers to the keys: the listener's eyes are closed, so every control says
"heard you" with a short sound of its own.

Cues are a few gentle sine notes (a little second harmonic for warmth) with raised-cosine
edges, synthesized with numpy alone (no scipy: they must be ready in the first second).
Their level is set relative to the voice, well under it, by mean square (a pure tone's
loudness is its mean square plus the K-weighting at its pitch, within half a dB between
400 Hz and 1.2 kHz), so they never startle. Quitting rings the soft end-of-hold chime.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..sound.chimes import soft
from .commands import Command

CUE_LU = -12.0        # cue loudness relative to the voice
NOTE = 0.11           # seconds per note
GAP = 0.035           # between notes


def tone(freq: float, seconds: float, sample_rate: int, glide: float = 1.0) -> np.ndarray:
    """A soft note: sine plus a quiet octave, 8 ms raised-cosine attack, smooth decay to zero.
    `glide` bends the pitch by that ratio over the note."""
    n = max(1, int(seconds * sample_rate))
    t = np.arange(n) / sample_rate
    f = freq * glide ** (t / seconds)                     # exponential glide
    phase = 2 * math.pi * np.cumsum(f) / sample_rate
    x = np.sin(phase) + 0.15 * np.sin(2 * phase)
    attack = min(n, int(0.008 * sample_rate))
    env = np.ones(n)
    env[:attack] = 0.5 - 0.5 * np.cos(np.pi * np.arange(attack) / attack)
    release = n - attack
    env[attack:] = 0.5 + 0.5 * np.cos(np.pi * np.arange(release) / max(release, 1))
    return (x * env).astype(np.float32)


def notes(sample_rate: int, *freqs: float, glide: float = 1.0) -> np.ndarray:
    parts = []
    gap = np.zeros(int(GAP * sample_rate), np.float32)
    for i, f in enumerate(freqs):
        if i:
            parts.append(gap)
        parts.append(tone(f, NOTE, sample_rate, glide))
    return np.concatenate(parts)


def level(x: np.ndarray, lufs: float) -> np.ndarray:
    """Scale a mono cue so its sounding part has mean-square loudness `lufs`."""
    loud = x[np.abs(x) > 0.05 * np.abs(x).max()] if len(x) else x
    power = float(np.mean(np.square(loud, dtype=np.float64))) if len(loud) else 0.0
    if power <= 0:
        return x
    target = 10 ** ((lufs + 0.691) / 10)
    return (x * math.sqrt(target / power)).astype(np.float32)


@dataclass(frozen=True)
class Cues:
    """One mono sound per event, at the session rate and level."""

    sounds: dict[str, np.ndarray]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.sounds[name]

    @classmethod
    def make(cls, sample_rate: int, voice_lufs: float, chime: np.ndarray | None = None) -> "Cues":
        """`voice_lufs`: loudness of one (mono) spoken clip in the mix. `chime`: the soft
        end-of-hold chime at this rate, if the mix has it already (else it is made)."""
        sr = sample_rate
        raw = {
            "pause": notes(sr, 660.0, 440.0),              # falling: things stop
            "resume": notes(sr, 440.0, 660.0),             # rising: on we go
            Command.SKIP.value: notes(sr, 523.25, 659.25, 783.99),   # up a chord: onwards
            Command.REPEAT.value: notes(sr, 587.33, 587.33),         # the same note twice
            Command.LONGER.value: tone(740.0, 0.22, sr, glide=1.19),  # a rising glide
            Command.SHORTER.value: tone(740.0, 0.22, sr, glide=0.84),  # a falling glide
            Command.LOUDER.value: tone(1046.5, NOTE, sr),    # heard at the new volume
            Command.SOFTER.value: tone(698.46, NOTE, sr),
            "nothing": notes(sr, 233.08, 233.08),            # low and dull: not possible here
        }
        sounds = {name: level(x, voice_lufs + CUE_LU) for name, x in raw.items()}
        sounds[Command.QUIT.value] = level(soft(sr) if chime is None else chime, voice_lufs + CUE_LU + 2.0)
        return cls(sounds)
