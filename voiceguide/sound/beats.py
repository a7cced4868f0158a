"""Beat tones under the voice: binaural (a carrier in each ear, the two a beat apart) or
isochronic (one carrier pulsed at the beat rate, the same in every channel).

Why closed-form phase: the mixer renders any stretch on its own (mastering renders twice,
preview and live play start anywhere), so every sample must be a function of its frame
alone, never of what was rendered before. The beat's frequency is a piecewise-linear curve
in time (`BeatCurve`: a glide over the session, a section's `{beat N}` reached over a few
seconds), so its phase, the integral of the frequency, is piecewise quadratic: it is
evaluated in float64 from the segment's start (an hour in, still right to about 1e-10 of a
cycle) on a grid of frames, and runs linearly in float32 between grid points (BeatTone).

The tone's level: `BeatTone.amplitude` puts it, as the K-weighted loudness meter measures
it, at the bed's calibration level (beds.BED_LUFS) plus `volume` dB, so the mixer gives it
the bed's gain (level, ducking, fades) and `beat_volume` means "dB relative to the bed".
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .loudness import k_weighting_sos, lufs_to_power

MODES = ("binaural", "isochronic")
DUTY = 0.5          # isochronic: the part of each beat a pulse lasts (the rest is silence)


@dataclass(frozen=True)
class BeatCurve:
    """Beat frequency (Hz) and the tone's presence (0..1) at knots in seconds, linear in
    between and held after the last knot. The first knot is at 0 s."""

    times: tuple[float, ...]
    hz: tuple[float, ...]
    level: tuple[float, ...]

    def __post_init__(self) -> None:
        if not (len(self.times) == len(self.hz) == len(self.level) >= 1) or self.times[0] != 0.0:
            raise ValueError("a beat curve needs matching knots starting at 0 s")
        if any(b <= a for a, b in zip(self.times, self.times[1:])):
            raise ValueError("beat curve knots must increase")


def waveform(carrier: np.ndarray, beat: np.ndarray, mode: str, channels: int) -> np.ndarray:
    """Unit-amplitude tone, float32 (frames, channels), from each frame's carrier phase and
    beat phase in cycles (float64). Binaural: left at the carrier's phase minus half the
    beat's, right plus half (so the ears are a beat apart, centred on the carrier).
    Isochronic: the carrier under raised-cosine (sin^2) pulses, one per beat cycle, lasting
    DUTY of it: no edge anywhere, so no click."""
    _check(mode, channels)
    if mode == "binaural":
        phase = np.column_stack([carrier - 0.5 * beat, carrier + 0.5 * beat])
        phase -= np.floor(phase)
        ears = (phase * (2.0 * math.pi)).astype(np.float32)
        return np.sin(ears, out=ears)
    pulse = (beat - np.floor(beat)).astype(np.float32)
    wave = ((carrier - np.floor(carrier)) * (2.0 * math.pi)).astype(np.float32)
    return np.repeat(_pulsed(wave, pulse)[:, None], channels, axis=1)


def _check(mode: str, channels: int) -> None:
    if mode not in MODES:
        raise ValueError(f"beat mode must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "binaural" and channels != 2:
        raise ValueError("a binaural beat needs two channels")


def _pulsed(carrier: np.ndarray, pulse: np.ndarray) -> np.ndarray:
    """Isochronic: the carrier's phase (float32 radians) and where each frame is in its
    beat (float32, 0..1) -> the tone, float32 (frames,)."""
    on = pulse < DUTY
    env = np.sin(pulse * np.float32(math.pi / DUTY))
    env *= env
    env[~on] = 0.0
    env *= np.sin(carrier, out=carrier)
    return env


def tone_amplitude(lufs: float, carrier: float, mode: str, channels: int, sample_rate: int) -> float:
    """The peak amplitude that gives the tone a K-weighted loudness of `lufs`: a sine's mean
    square is A^2/2, isochronic pulses keep DUTY * 3/8 of it (the mean of sin^4), and the
    K-weighting's gain at the carrier is read off its two biquads."""
    z = np.exp(-2j * math.pi * carrier / sample_rate)
    k = 1.0
    for b0, b1, b2, a0, a1, a2 in k_weighting_sos(sample_rate):
        k *= abs((b0 + b1 * z + b2 * z * z) / (a0 + a1 * z + a2 * z * z)) ** 2
    pulses = 1.0 if mode == "binaural" else DUTY * 3.0 / 8.0
    return math.sqrt(lufs_to_power(lufs) / (channels * 0.5 * pulses * k))


class BeatTone:
    """The tone a `BeatCurve` describes, rendered for any frames [start, start + frames).

    Why a grid: float64 phase and a float32 sine for every frame cost about as much as the
    rest of the mix. So the exact closed-form phase is taken on an absolute grid of GRID
    frames, and in between it runs linearly in float32 from one exact grid value to the
    next (the phase curve bends by less than 1e-4 of a cycle over a grid step). Each frame
    still depends on its own frame number only, never on where a block starts."""

    GRID = 128
    CHUNK = 32768     # frames rendered at once and kept: blocks (8192, 16384) are cut from it

    def __init__(self, curve: BeatCurve, carrier: float, mode: str, channels: int,
                 sample_rate: int, amplitude: float):
        _check(mode, channels)
        self.curve, self.carrier, self.mode = curve, float(carrier), mode
        self.channels, self.sample_rate, self.amplitude = channels, sample_rate, float(amplitude)
        t = np.asarray(curve.times, np.float64)
        hz = np.asarray(curve.hz, np.float64)
        span = np.diff(t)
        self._t = t
        self._hz = hz
        self._slope = np.append(np.diff(hz) / span, 0.0)             # held after the last knot
        self._cycles = np.concatenate([[0.0], np.cumsum(0.5 * (hz[:-1] + hz[1:]) * span)])
        self._level = np.asarray(curve.level, np.float64)
        self._silent = [lvl == 0.0 and nxt == 0.0 for lvl, nxt in zip(curve.level, curve.level[1:] + (0.0,))]
        self._ramp = np.arange(self.GRID, dtype=np.float32)
        self._kept: tuple[int, np.ndarray | None] = (-1, None)   # (chunk index, its tone)

    def _seconds(self, start: int, frames: int) -> np.ndarray:
        return np.arange(start, start + frames, dtype=np.float64) / self.sample_rate

    def beat_cycles(self, seconds: np.ndarray) -> np.ndarray:
        """The beat's phase in cycles at each time: the integral of the curve from 0."""
        first = int(np.searchsorted(self._t, seconds[0], "right")) - 1
        last = int(np.searchsorted(self._t, seconds[-1], "right")) - 1
        i: int | np.ndarray = first if first == last else np.searchsorted(self._t, seconds, "right") - 1
        dt = seconds - self._t[i]
        return self._cycles[i] + dt * (self._hz[i] + 0.5 * self._slope[i] * dt)

    def track(self, start: int, frames: int) -> np.ndarray:
        """(frames, 2): the beat's frequency and the tone's presence at each frame, for live
        play, which integrates the frequency itself as its output runs on (live/beattone.py)."""
        t = self._seconds(start, frames)
        return np.column_stack([np.interp(t, self._t, self._hz), np.interp(t, self._t, self._level)])

    def _gridded(self, cycles: np.ndarray, scale: np.ndarray, skip: int, frames: int) -> np.ndarray:
        """Per-frame float32 phases, (rows, frames): each row of `cycles` (exact phases in
        cycles at the grid points) times its `scale`."""
        g = self.GRID
        step = (cycles[:, 1:] - cycles[:, :-1]) * (scale / g)
        start = (cycles[:, :-1] - np.floor(cycles[:, :-1])) * scale
        phase = np.multiply(self._ramp, step.astype(np.float32)[:, :, None])
        phase += start.astype(np.float32)[:, :, None]
        return phase.reshape(len(cycles), -1)[:, skip:skip + frames]

    def render(self, start: int, frames: int) -> np.ndarray | None:
        """The tone at frames [start, start + frames) at its amplitude, float32 and channel
        by channel: binaural (2, frames), isochronic (1, frames) for every channel alike;
        None where it is silent. (`add_tone` adds it to a block; do not write to it.)
        It is rendered a CHUNK (on an absolute grid) at a time and the last chunk kept, so
        blocks cost little overhead and a long stretch needs no big temporaries."""
        c = self.CHUNK
        pieces = [(at, min(start + frames, (at // c + 1) * c)) for at in
                  [start, *range((start // c + 1) * c, start + frames, c)]] if frames > 0 else []
        tones = [(a, b, self._chunk(a // c)) for a, b in pieces]
        if all(t is None for _, _, t in tones):
            return None
        if len(tones) == 1:
            a, b, tone = tones[0]
            return tone[:, a % c:a % c + b - a]          # type: ignore[index]
        out = np.zeros((2 if self.mode == "binaural" else 1, frames), np.float32)
        for a, b, tone in tones:
            if tone is not None:
                out[:, a - start:b - start] = tone[:, a % c:a % c + b - a]
        return out

    def _chunk(self, index: int) -> np.ndarray | None:
        kept = self._kept                      # one read: another thread may replace it
        if kept[0] != index:
            kept = self._kept = (index, self._render(index * self.CHUNK, self.CHUNK))
        return kept[1]

    def _render(self, start: int, frames: int) -> np.ndarray | None:
        sr, g = self.sample_rate, self.GRID
        first = int(np.searchsorted(self._t, start / sr, "right")) - 1
        last = int(np.searchsorted(self._t, (start + frames - 1) / sr, "right")) - 1
        if all(self._silent[first:last + 1]):
            return None
        g0, g1 = start // g, (start + frames - 1) // g + 1
        grid = np.arange(g0, g1 + 1, dtype=np.float64) * g          # rows + 1 points
        carrier = grid * (self.carrier / sr)
        beat = self.beat_cycles(grid / sr)
        if self._level_is_one(first, last):
            level: np.ndarray | np.float32 = np.float32(self.amplitude)
        else:
            level = (np.interp(self._seconds(start, frames), self._t, self._level) * self.amplitude).astype(np.float32)
        if self.mode == "binaural":
            ears = self._gridded(np.stack([carrier - 0.5 * beat, carrier + 0.5 * beat]), _EARS,
                                 start - g0 * g, frames)
            np.sin(ears, out=ears)
            ears *= level
            return ears
        both = self._gridded(np.stack([carrier, beat]), _PULSED, start - g0 * g, frames)
        pulse = both[1] - np.floor(both[1])
        tone = _pulsed(both[0], pulse)
        tone *= level
        return tone[None, :]

    def _level_is_one(self, first: int, last: int) -> bool:
        """The tone is fully present from knot `first` to knot `last` + 1."""
        if first != last or self._level[first] != 1.0:
            return False
        return first == len(self._t) - 1 or self._level[first + 1] == 1.0


_EARS = np.array([[2.0 * math.pi], [2.0 * math.pi]])   # both ears' phases, in radians
_PULSED = np.array([[2.0 * math.pi], [1.0]])           # the carrier in radians, the beat in cycles


def add_tone(out: np.ndarray, tone: np.ndarray | None) -> np.ndarray:
    """Add a rendered tone (BeatTone.render) to a block (frames, channels), in place.
    Channel by channel: numpy adds a contiguous row to a strided column several times
    faster than it broadcasts a (frames, 1) column over a block."""
    if tone is not None:
        for ch in range(out.shape[1]):
            out[:, ch] += tone[ch if len(tone) > 1 else 0]
    return out
