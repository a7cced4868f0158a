"""Chimes: short struck sounds synthesized from inharmonic partials, or loaded from files.

A struck bell is a sum of inharmonic partials (hum, prime, tierce, quint, nominal and the
sharper upper partials), each an exponentially decaying sine whose decay time shortens as the
partial rises, split into two slightly different frequencies so it shimmers. A raised-cosine
attack of a few milliseconds softens the strike (no click). Everything is mono float32
normalised to peak 1.0; the mixer decides levels (`ChimeSet` carries them relative to the
voice: the end-of-hold chime sits well below a `[chime]`).

Four kinds (`KINDS`, `--chime bowl|bell|wood|gong`) each make every role a session needs
(the `[chime]` strike, the softer end-of-hold chime, the opening and closing bells): `bowl`
is the original sound, `bell` a small bright bell, `wood` a soft wooden block, `gong` a low
gong whose partials swell after the strike and shimmer for seconds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

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
# A small hand bell: strong upper partials (bright), quick decays.
SMALL_BELL_PARTIALS = (
    (0.5, 0.12, 1.4),
    (1.0, 1.0, 1.9),
    (1.19, 0.3, 1.3),
    (2.0, 0.75, 1.3),
    (2.52, 0.5, 1.0),
    (3.0, 0.6, 0.85),
    (4.1, 0.4, 0.55),
    (5.4, 0.28, 0.4),
    (6.8, 0.16, 0.3),
)
# A hollow wooden block: one strong resonance, two weak inharmonic ones, all short.
WOOD_PARTIALS = ((1.0, 1.0, 0.2), (2.27, 0.3, 0.11), (3.81, 0.1, 0.06))
# A low gong: a dense set of inharmonic partials with long decays (it "shimmers" as the
# doublets beat); higher partials bloom later (see `swell`).
GONG_PARTIALS = (
    (1.0, 1.0, 9.0),
    (1.47, 0.45, 7.5),
    (2.09, 0.55, 6.5),
    (2.56, 0.3, 5.5),
    (3.21, 0.35, 4.5),
    (4.05, 0.22, 3.5),
    (5.12, 0.15, 2.6),
    (6.3, 0.08, 2.0),
    (7.9, 0.05, 1.5),
)


@dataclass(frozen=True)
class Sound:
    samples: np.ndarray  # float32 mono
    sample_rate: int
    name: str = ""

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate


def strike(fundamental: float, partials, sample_rate: int, *, attack: float = 0.004,
           seconds: float | None = None, shimmer: float = 0.8, seed: int = 7,
           swell: float = 0.0) -> np.ndarray:
    """One bell strike, peak-normalised. `seconds` defaults to the longest decay (to -60 dB).
    `swell` > 0: each partial rises over about that many seconds times the square root of its
    ratio (a gong's bloom: the higher partials come in later)."""
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
        if swell > 0:
            decay *= 1.0 - np.exp(-t / (swell * math.sqrt(ratio)))
        for split, share in ((-0.5, 0.7), (0.5, 0.3)):     # an unequal doublet: gentle beating
            phase = rng.uniform(0, 2 * math.pi)
            out += share * amp * decay * np.sin(2 * math.pi * (f + split * shimmer) * t + phase)
    k = min(n, max(1, int(attack * sample_rate)))
    out[:k] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(k) / k)
    tail = min(n, int(0.05 * sample_rate))                 # land exactly on zero
    out[n - tail:] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(tail) / tail)
    peak = np.abs(out).max()
    return (out / peak if peak > 0 else out).astype(np.float32)


def _again(one: np.ndarray, sample_rate: int, gaps: tuple[float, ...], levels: tuple[float, ...]) -> np.ndarray:
    """`one` struck again after each gap (seconds after the previous strike), softer."""
    at = np.cumsum([0, *(int(g * sample_rate) for g in gaps)])
    out = np.zeros(len(one) + at[-1], np.float32)
    for offset, level in zip(at, (1.0, *levels)):
        out[offset:offset + len(one)] += level * one
    return out / np.abs(out).max()


# -- bowl: the original sound -----------------------------------------------------------------

def bowl(sample_rate: int) -> np.ndarray:
    """The `[chime]` sound of `bowl`: a clear bell around C5, 4 s."""
    return strike(523.25, BELL_PARTIALS, sample_rate, attack=0.003, seconds=4.0)


def soft(sample_rate: int) -> np.ndarray:
    """End of a hold: a high, gentle, short 'ding' with a slower attack and few partials."""
    return strike(1046.5, SOFT_PARTIALS, sample_rate, attack=0.015, seconds=1.6, shimmer=0.5)


def start(sample_rate: int) -> np.ndarray:
    """Opening bell: lower and longer than the `[chime]`."""
    return strike(261.63, BELL_PARTIALS, sample_rate, attack=0.004, seconds=6.0, seed=11)


def end(sample_rate: int) -> np.ndarray:
    """Closing: the opening bell struck twice, the second strike softer."""
    return _again(start(sample_rate), sample_rate, (1.8,), (0.6,))


# -- bell: a small bell -------------------------------------------------------------------------

def bell(sample_rate: int) -> np.ndarray:
    """A small bright bell around E6: higher, brighter and shorter than the bowl (2 s)."""
    return strike(1318.5, SMALL_BELL_PARTIALS, sample_rate, attack=0.0015, seconds=2.0, shimmer=1.5, seed=5)


def bell_soft(sample_rate: int) -> np.ndarray:
    """The small bell touched lightly, higher (A6), with few partials."""
    return strike(1760.0, SMALL_BELL_PARTIALS[1:4], sample_rate, attack=0.008, seconds=1.2, shimmer=1.0, seed=6)


def bell_start(sample_rate: int) -> np.ndarray:
    """The small bell a fourth lower (B5) and longer."""
    return strike(987.77, SMALL_BELL_PARTIALS, sample_rate, attack=0.002, seconds=3.0, shimmer=1.2, seed=8)


def bell_end(sample_rate: int) -> np.ndarray:
    """The opening bell rung three times, fading."""
    return _again(bell_start(sample_rate), sample_rate, (0.7, 0.7), (0.7, 0.5))


# -- wood: a soft wooden block ------------------------------------------------------------------

def knock(fundamental: float, sample_rate: int, *, seconds: float = 0.5, attack: float = 0.002,
          seed: int = 21) -> np.ndarray:
    """A soft mallet on a hollow wooden block: its resonances, and a short dull thud of
    noise (the mallet) under the first few milliseconds. Almost nothing above 2 kHz."""
    x = strike(fundamental, WOOD_PARTIALS, sample_rate, attack=attack, seconds=seconds, shimmer=0.0, seed=seed)
    n = int(0.02 * sample_rate)
    w = max(2, int(0.0008 * sample_rate))                  # a 0.8 ms smoothing: below ~1.2 kHz
    thud = np.convolve(np.random.default_rng(seed).standard_normal(n + w), np.hanning(w), "valid")[:n]
    thud = (thud - thud.mean()) * np.exp(-np.arange(n) / (0.004 * sample_rate))
    k = max(1, int(attack * sample_rate))
    thud[:k] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(k) / k)
    x[:n] += (0.35 * thud / np.abs(thud).max()).astype(np.float32)
    w = np.hanning(len(x))                       # a short sound: take its DC out smoothly,
    x -= (x.sum() / w.sum() * w).astype(np.float32)   # its ends staying at zero
    return x / np.abs(x).max()


def wood(sample_rate: int) -> np.ndarray:
    """The `[chime]` of `wood`: one knock, hollow, around 620 Hz, gone within half a second."""
    return knock(620.0, sample_rate)


def wood_soft(sample_rate: int) -> np.ndarray:
    """A lighter tap, higher, with a gentler mallet."""
    return knock(880.0, sample_rate, seconds=0.35, attack=0.004, seed=22)


def wood_start(sample_rate: int) -> np.ndarray:
    """Two knocks on a lower block."""
    return _again(knock(440.0, sample_rate, seconds=0.6, attack=0.003, seed=23), sample_rate, (0.45,), (0.8,))


def wood_end(sample_rate: int) -> np.ndarray:
    """Three knocks on the lower block, slowing and fading."""
    return _again(knock(440.0, sample_rate, seconds=0.6, attack=0.003, seed=23), sample_rate, (0.5, 0.8), (0.75, 0.5))


# -- gong: a low gong ---------------------------------------------------------------------------

def gong(sample_rate: int) -> np.ndarray:
    """A low gong (G2, 98 Hz): struck softly, its partials swell over the first half second
    and shimmer (slow beating doublets) for about eight seconds."""
    return strike(98.0, GONG_PARTIALS, sample_rate, attack=0.02, seconds=8.0, shimmer=1.2, seed=31, swell=0.12)


def gong_soft(sample_rate: int) -> np.ndarray:
    """A small gong touched lightly: an octave up, short (2.5 s), damped by the hand."""
    x = strike(196.0, GONG_PARTIALS[:6], sample_rate, attack=0.03, seconds=2.5, shimmer=0.8, seed=32, swell=0.08)
    t = np.arange(len(x)) / sample_rate
    x *= np.exp(-t * math.log(1000.0) / 2.5).astype(np.float32)
    return x / np.abs(x).max()


def gong_start(sample_rate: int) -> np.ndarray:
    """The deepest gong (D2), long."""
    return strike(73.42, GONG_PARTIALS, sample_rate, attack=0.025, seconds=10.0, shimmer=1.0, seed=33, swell=0.15)


def gong_end(sample_rate: int) -> np.ndarray:
    """The deep gong struck twice, the second time softer."""
    return _again(gong_start(sample_rate), sample_rate, (3.0,), (0.6,))


@dataclass(frozen=True)
class Kind:
    """A chime kind: the sound of each role (`ChimeSet`), and their names."""

    strike: Callable[[int], np.ndarray]
    soft: Callable[[int], np.ndarray]
    start: Callable[[int], np.ndarray]
    end: Callable[[int], np.ndarray]


KINDS: dict[str, Kind] = {
    "bowl": Kind(bowl, soft, start, end),
    "bell": Kind(bell, bell_soft, bell_start, bell_end),
    "wood": Kind(wood, wood_soft, wood_start, wood_end),
    "gong": Kind(gong, gong_soft, gong_start, gong_end),
}
# Every synthesized sound a `--chime` may name: the kinds, and the bowl's roles by themselves.
SYNTHS: dict[str, Callable[[int], np.ndarray]] = {
    **{name: kind.strike for name, kind in KINDS.items()}, "soft": soft, "start": start, "end": end}


def role_name(kind: str, role: str) -> str:
    """The name of a kind's sound for a role: the bowl's are the plain role names (as before
    there were kinds), the others' are prefixed: bell-soft, gong-start."""
    if role == "strike":
        return kind
    return role if kind == "bowl" else f"{kind}-{role}"


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
    if key.lower() in SYNTHS:
        return Sound(SYNTHS[key.lower()](sample_rate), sample_rate, key.lower())
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
    """`name` picks the sounds: a kind (bowl, bell, wood, gong) makes every role; any other
    sound is the [chime], a softened copy of it ends a hold, and the bowl's opening and
    closing bells open and close. `none` silences every chime."""
    key = name.strip().lower()
    if key == "none":
        return ChimeSet(None, None, None, None)
    if key in KINDS:
        kind = KINDS[key]
        return ChimeSet(*(Sound(getattr(kind, role)(sample_rate), sample_rate, role_name(key, role))
                          for role in ("strike", "soft", "start", "end")))
    main = load(name, sample_rate)
    return ChimeSet(main, softened(main), load("start", sample_rate), load("end", sample_rate))
