"""Mastering: the whole program to a loudness target with a true-peak ceiling.

Why two passes over a re-rendered mix (rather than measuring speech and bed analytically):
the mix is deterministic and renders far faster than real time, so pass 1 simply renders it
and feeds a streaming BS.1770 meter; pass 2 renders it again, applies the gain and, only if
the gained program would exceed the ceiling, a look-ahead true-peak limiter, while the
encoder consumes the blocks. The measurement is exact (bed, chimes, ducking and gating all
included, nothing modelled), memory stays flat, and no temporary hour-long file is needed.
If the limiter has real work to do (it lowers loudness a little), extra measuring passes of
the limited output correct the gain (one, for ordinary speech).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
from scipy.ndimage import maximum_filter1d

from .blocks import DEFAULT_BLOCK, Program, db_to_gain
from .loudness import LoudnessMeter, PeakMeter, TruePeakDetector, to_db

LIMIT_MARGIN_DB = 0.2      # the limiter aims this far under the ceiling (interpolation slack)
LOOKAHEAD = 0.005          # seconds: gain starts falling this long before a peak
RELEASE = 0.120            # seconds: time constant of the recovery (in dB)
CORRECT_ABOVE_DB = 0.5     # re-measure after limiting when the overshoot exceeds this
MAX_CORRECTIONS = 3        # measuring renders spent on that, at most


@dataclass(frozen=True)
class MasterOptions:
    target_lufs: float = -16.0
    true_peak_db: float = -1.0
    max_gain_db: float = 40.0          # never amplify a near-silent program by more


@dataclass(frozen=True)
class Measurement:
    integrated_lufs: float
    true_peak_db: float
    sample_peak_db: float
    seconds: float


def measure(program: Program, block_frames: int = DEFAULT_BLOCK) -> Measurement:
    """Render `program` once and measure it (loudness, true peak, sample peak)."""
    return measure_blocks(program.blocks(block_frames), program.sample_rate, program.channels)


def measure_blocks(blocks, sample_rate: int, channels: int) -> Measurement:
    loud = LoudnessMeter(sample_rate, channels)
    peaks = PeakMeter(channels)
    for block in blocks:
        loud.add(block)
        peaks.add(block)
    peaks.finish()
    return Measurement(loud.integrated(), to_db(peaks.true_peak), to_db(peaks.sample_peak),
                       loud.frames / sample_rate)


class TruePeakLimiter:
    """Look-ahead limiter driven by the oversampled (true) peak envelope.

    Per frame it computes the gain reduction (dB) that would keep the true peak at the
    ceiling, spread over the +-6 frames that feed an interpolated point, takes the maximum
    over the next `lookahead` (so reduction is in place before the peak), lets it recover
    exponentially in dB, and smooths it with a `lookahead`-long moving average (a smooth
    attack curve; the look-ahead window guarantees the average still covers the peak).
    Output lags input by `latency` frames; `flush()` returns the tail.
    """

    def __init__(self, sample_rate: int, channels: int, ceiling_db: float,
                 lookahead: float = LOOKAHEAD, release: float = RELEASE):
        self.channels = channels
        self.ceiling = db_to_gain(ceiling_db)
        self._detector = TruePeakDetector(channels, threshold=self.ceiling)
        w = max(3, int(lookahead * sample_rate)) | 1                   # odd
        self._w = w
        self._spread = 6
        self._log_beta = -1.0 / (release * sample_rate)
        lag = self._detector.lag
        # Required reduction (dB) per frame, starting well before frame 0: the frames just
        # before the start must also look ahead, so a peak on the very first frames is
        # already fully covered by the moving average (which reaches w - 1 frames back).
        self._req = np.zeros(self._spread + w - 1)
        self._req_start = -lag - self._spread - (w - 1)
        self._audio = np.zeros((0, channels), np.float32)   # audio frames awaiting their gain
        self._audio_start = 0                               # absolute frame of _audio[0]
        self._env_tail = np.zeros(w - 1)          # last release-stage values (for the average)
        self._e_prev = 0.0                        # release state (dB)
        self.latency = self._detector.lag + w - 1 + self._spread
        self.max_reduction_db = 0.0
        self.limited_frames = 0

    def process(self, block: np.ndarray) -> np.ndarray:
        x = np.asarray(block, np.float32)
        env = self._detector.process(x)           # frames [start - lag, start - lag + n)
        self._audio = np.concatenate([self._audio, x])
        with np.errstate(divide="ignore"):
            req = np.maximum(0.0, 20.0 * np.log10(np.maximum(env, 1e-12) / self.ceiling))
        self._req = np.concatenate([self._req, req])
        return self._emit(final=False)

    def flush(self) -> np.ndarray:
        env = self._detector.flush()
        with np.errstate(divide="ignore"):
            req = np.maximum(0.0, 20.0 * np.log10(np.maximum(env, 1e-12) / self.ceiling))
        pad = np.zeros(self._w + self._spread)
        self._req = np.concatenate([self._req, req, pad])
        return self._emit(final=True)

    def _emit(self, final: bool) -> np.ndarray:
        w, sp = self._w, self._spread
        r = self._req
        # Frames j whose window [j - sp, j + w - 1 + sp] lies inside r can be decided.
        count = len(r) - (w - 1) - 2 * sp
        if count <= 0:
            return np.zeros((0, self.channels), np.float32)
        first = self._req_start + sp               # absolute frame of the first decided j
        if np.any(r > 0) or self._e_prev > 1e-6:
            size = w + 2 * sp                      # odd
            a = maximum_filter1d(r, size=size)[(size - 1) // 2:(size - 1) // 2 + count]
            # Exponential recovery in dB, e[k] = max(a[k], beta * e[k-1]), in closed form:
            # e[k] = beta^k * max(beta * e[-1], max_{i<=k} a[i] / beta^i), done in logs.
            k = np.arange(count)
            with np.errstate(divide="ignore"):
                la = np.log(a)
                base = math.log(self._e_prev) + self._log_beta if self._e_prev > 0 else -np.inf
            acc = np.maximum.accumulate(np.concatenate([[base], la - k * self._log_beta]))[1:]
            e = np.exp(acc + k * self._log_beta)
            self._e_prev = float(e[-1])
        else:
            e = np.zeros(count)
            self._e_prev = 0.0
        ext = np.concatenate([self._env_tail, e])
        cs = np.concatenate([[0.0], np.cumsum(ext)])
        smooth = (cs[w:] - cs[:-w]) / w            # mean of the last w values, per frame
        self._env_tail = ext[len(ext) - (w - 1):]
        self._req = r[count:]
        self._req_start += count
        # Decided frames [first, first + count) -> the audio rows we hold.
        lo = max(first, self._audio_start)
        hi = first + count
        if final:
            hi = min(hi, self._audio_start + len(self._audio))
        if hi <= lo:
            return np.zeros((0, self.channels), np.float32)
        reduction = smooth[lo - first:hi - first]
        self.max_reduction_db = max(self.max_reduction_db, float(reduction.max()))
        self.limited_frames += int((reduction > 0.01).sum())
        gain = (10.0 ** (-reduction / 20.0)).astype(np.float32)
        out = self._audio[lo - self._audio_start:hi - self._audio_start] * gain[:, None]
        self._audio = self._audio[hi - self._audio_start:]
        self._audio_start = hi
        return out


@dataclass
class Mastered:
    """`program` at the target loudness under the true-peak ceiling (a `Program` itself).

    Construction runs the measuring pass; every `blocks()` call renders the final audio and
    records what came out in `result` (so the caller can report it after encoding)."""

    program: Program
    options: MasterOptions = field(default_factory=MasterOptions)
    block_frames: int = DEFAULT_BLOCK
    verify: bool = False          # measure the output even when the maths already knows it

    def __post_init__(self) -> None:
        p = self.program
        self.sample_rate, self.channels, self.frames = p.sample_rate, p.channels, p.frames
        self.before = measure(p, self.block_frames)
        o = self.options
        if math.isfinite(self.before.integrated_lufs):
            self.gain_db = min(o.target_lufs - self.before.integrated_lufs, o.max_gain_db)
        else:
            self.gain_db = 0.0
        self.passes = 1
        self.limiting = self.before.true_peak_db + self.gain_db > o.true_peak_db - LIMIT_MARGIN_DB
        if self.limiting and self.before.true_peak_db + self.gain_db > o.true_peak_db + CORRECT_ABOVE_DB:
            self._compensate()
        self.result: Measurement | None = None
        self.max_reduction_db = 0.0

    def _compensate(self) -> None:
        """Limiting lowers loudness: measure the limited output and correct the gain (a plain
        step, then secant steps; the output loudness rises monotonically with the gain). Each
        step is one more render; ordinary speech needs at most one."""
        target = self.options.target_lufs
        points: list[tuple[float, float]] = []
        for _ in range(MAX_CORRECTIONS):
            got = measure_blocks(self._render(), self.sample_rate, self.channels).integrated_lufs
            self.passes += 1
            if not math.isfinite(got):
                return
            points.append((self.gain_db, got))
            if abs(target - got) < 0.1:
                return
            slope = 1.0
            if len(points) >= 2 and points[-1][0] != points[-2][0]:
                slope = (points[-1][1] - points[-2][1]) / (points[-1][0] - points[-2][0])
                slope = min(max(slope, 0.2), 1.0)
            self.gain_db = min(self.gain_db + (target - got) / slope, self.options.max_gain_db)

    def _render(self, block_frames: int | None = None) -> Iterator[np.ndarray]:
        block_frames = block_frames or self.block_frames
        gain = np.float32(db_to_gain(self.gain_db))
        if not self.limiting:
            for block in self.program.blocks(block_frames):
                yield block * gain
            return
        ceiling = self.options.true_peak_db - LIMIT_MARGIN_DB
        limiter = TruePeakLimiter(self.sample_rate, self.channels, ceiling)
        for block in self.program.blocks(block_frames):
            out = limiter.process(block * gain)
            if len(out):
                yield out
        tail = limiter.flush()
        if len(tail):
            yield tail
        self.max_reduction_db = limiter.max_reduction_db

    def blocks(self, block_frames: int | None = None) -> Iterator[np.ndarray]:
        """Final audio. Blocks follow the mix's block size (the limiter's delay shifts the
        boundaries by its latency; frames and samples are unaffected).

        `result` is filled in when the stream ends. Without limiting it is exact by
        arithmetic (a constant gain moves loudness and true peak by exactly that many dB), so
        no time is spent metering while the encoder runs; with limiting, or `verify`, the
        output is measured as it streams."""
        if not (self.limiting or self.verify):
            yield from self._render(block_frames)
            b = self.before
            self.result = Measurement(b.integrated_lufs + self.gain_db, b.true_peak_db + self.gain_db,
                                      b.sample_peak_db + self.gain_db, b.seconds)
            return
        loud = LoudnessMeter(self.sample_rate, self.channels)
        peaks = PeakMeter(self.channels)
        for block in self._render(block_frames):
            loud.add(block)
            peaks.add(block)
            yield block
        peaks.finish()
        self.result = Measurement(loud.integrated(), to_db(peaks.true_peak),
                                  to_db(peaks.sample_peak), loud.frames / self.sample_rate)


def master(program: Program, options: MasterOptions | None = None, *, verify: bool = False,
           **overrides) -> Mastered:
    """Measure `program` and return it mastered (target_lufs=-16, true_peak_db=-1 default)."""
    opts = options or MasterOptions()
    if overrides:
        from dataclasses import replace
        opts = replace(opts, **overrides)
    return Mastered(program, opts, verify=verify)
