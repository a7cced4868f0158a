"""Chimes: short bell-like sounds synthesized from inharmonic partials, or loaded from files.

A struck bell is a sum of inharmonic partials (hum, prime, tierce, quint, nominal and the
sharper upper partials), each an exponentially decaying sine whose decay time shortens as the
partial rises, split into two slightly different frequencies so it shimmers. A raised-cosine
attack of a few milliseconds softens the strike (no click). Everything is mono float32
normalised to peak 1.0; the mixer decides levels (`ChimeSet` carries them relative to the
voice: the end-of-hold chime sits well below a `[chime]`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from .lazy import signal

from .ffmpeg import decode

ASSETS = Path(__file__).resolve().parents[2] / "audio_assets"
ASSET_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")

# (frequency ratio to the prime, amplitude, seconds to decay by 60 dB)
BELL_PARTIALS = (
    (0.5, 0.35, 5.0),    # hum
    (1.0, 1.0, 4.0),     # prime
    (1.19, 0.55, 3.0),   # tierce (a minor third: the bell's colour)
    (1.5, 0.3, 2.6),     # quint
    (2.0, 0.6, 2.4),     # nominal
    (2.51, 0.3, 1.6),
    (2.66, 0.22, 1.3),
    (3.01, 0.16, 1.0),
    (4.07, 0.1, 0.7),
    (5.43, 0.05, 0.45),
)
SOFT_PARTIALS = ((1.0, 1.0, 1.6), (2.0, 0.25, 1.0), (2.76, 0.12, 0.6), (5.4, 0.04, 0.3))


@dataclass(frozen=True)
class Sound:
    samples: np.ndarray  # float32 mono
    sample_rate: int
    name: str = ""

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate


def strike(fundamental: float, partials, sample_rate: int, *, attack: float = 0.004,
           seconds: float | None = None, shimmer: float = 0.8, seed: int = 7) -> np.ndarray:
    """One bell strike, peak-normalised. `seconds` defaults to the longest decay (to -60 dB)."""
    rng = np.random.default_rng(seed)
    length = seconds if seconds is not None else max(t60 for _, _, t60 in partials)
    n = int(length * sample_rate)
    t = np.arange(n) / sample_rate
    out = np.zeros(n)
    nyquist = sample_rate / 2
    for ratio, amp, t60 in partials:
        f = fundamental * ratio
        if f > 0.9 * nyquist:
            continue
        decay = np.exp(-t * math.log(1000.0) / t60)      # -60 dB at t60
        for split, share in ((-0.5, 0.7), (0.5, 0.3)):     # an unequal doublet: gentle beating
            phase = rng.uniform(0, 2 * math.pi)
            out += share * amp * decay * np.sin(2 * math.pi * (f + split * shimmer) * t + phase)
    k = min(n, max(1, int(attack * sample_rate)))
    out[:k] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(k) / k)
    tail = min(n, int(0.05 * sample_rate))                 # land exactly on zero
    out[n - tail:] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(tail) / tail)
    peak = np.abs(out).max()
    return (out / peak if peak > 0 else out).astype(np.float32)


def bell(sample_rate: int) -> np.ndarray:
    """The `[chime]` sound: a clear small bell around C5."""
    return strike(523.25, BELL_PARTIALS, sample_rate, attack=0.003, seconds=4.0)


def soft(sample_rate: int) -> np.ndarray:
    """End of a hold: a high, gentle, short 'ding' with a slower attack and few partials."""
    return strike(1046.5, SOFT_PARTIALS, sample_rate, attack=0.015, seconds=1.6, shimmer=0.5)


def start(sample_rate: int) -> np.ndarray:
    """Opening bell: lower and longer than the `[chime]`."""
    return strike(261.63, BELL_PARTIALS, sample_rate, attack=0.004, seconds=6.0, seed=11)


def end(sample_rate: int) -> np.ndarray:
    """Closing: the opening bell struck twice, the second strike softer."""
    one = start(sample_rate)
    gap = int(1.8 * sample_rate)
    out = np.zeros(len(one) + gap, np.float32)
    out[:len(one)] += one
    out[gap:] += 0.6 * one
    return out / np.abs(out).max()


SYNTHS = {"bell": bell, "soft": soft, "start": start, "end": end}


def find_asset(name: str) -> Path | None:
    for suffix in ASSET_SUFFIXES:
        path = ASSETS / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


def available() -> list[str]:
    names = set(SYNTHS)
    if ASSETS.is_dir():
        names |= {p.stem for p in ASSETS.iterdir() if p.suffix in ASSET_SUFFIXES}
    return sorted(names)


def load(name_or_path: str, sample_rate: int) -> Sound:
    """A chime by name (synthesized, or a file in audio_assets/) or from an audio file path."""
    key = name_or_path.strip()
    if key in SYNTHS:
        return Sound(SYNTHS[key](sample_rate), sample_rate, key)
    path = find_asset(key) or Path(key).expanduser()
    if not path.is_file():
        raise ValueError(f"unknown chime '{name_or_path}': use one of {', '.join(available())}, "
                         f"none, or the path of an audio file")
    x = decode(path, sample_rate, 1)[:, 0]
    x = x - x.mean()
    fade = min(len(x), int(0.005 * sample_rate))           # a file may start or end abruptly
    if fade:
        ramp = (0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)).astype(np.float32)
        x[:fade] *= ramp
        x[len(x) - fade:] *= ramp[::-1]
    peak = np.abs(x).max()
    return Sound((x / peak if peak > 0 else x).astype(np.float32), sample_rate, path.stem)


def softened(sound: Sound, seconds: float = 1.5) -> Sound:
    """A gentler, shorter version of any chime for the end of a hold: low-passed and faded
    out exponentially within `seconds`."""
    sr = sound.sample_rate
    x = signal.sosfilt(signal.butter(2, 2500, "lowpass", fs=sr, output="sos"), sound.samples)
    n = min(len(x), int(seconds * sr))
    t = np.arange(n) / sr
    x = x[:n] * np.exp(-t * math.log(1000.0) / seconds)
    peak = np.abs(x).max()
    return Sound((x / peak if peak > 0 else x).astype(np.float32), sr, f"{sound.name}-soft")


# Loudness of each chime relative to the voice (LU). The end-of-hold chime is clearly softer.
STRIKE_LU = -4.0
SOFT_LU = -13.0
START_END_LU = -6.0


@dataclass(frozen=True)
class ChimeSet:
    """The sounds a session needs. `None` means silent (`--chime none`)."""

    strike: Sound | None        # a [chime] step
    soft: Sound | None          # the end of a hold
    start: Sound | None         # optional opening bell
    end: Sound | None           # optional closing bell
    strike_lu: float = STRIKE_LU
    soft_lu: float = SOFT_LU
    start_end_lu: float = START_END_LU


def chime_set(name: str, sample_rate: int) -> ChimeSet:
    """`name` picks the [chime] sound; the end-of-hold chime is `soft` for the default bell
    and a softened copy of the chosen sound otherwise. `none` silences every chime."""
    if name.strip().lower() == "none":
        return ChimeSet(None, None, None, None)
    main = load(name, sample_rate)
    soft_sound = Sound(soft(sample_rate), sample_rate, "soft") if main.name == "bell" else softened(main)
    return ChimeSet(main, soft_sound, load("start", sample_rate), load("end", sample_rate))
