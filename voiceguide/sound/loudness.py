"""Streaming loudness (ITU-R BS.1770-4 / EBU R128) and true-peak measurement.

Why our own meter rather than calling pyloudnorm on the program: pyloudnorm needs the whole
signal as one array (an hour of stereo float64 is 2.5 GB). This meter does the same maths
block by block: K-weighting with continuous filter state, mean squares per 100 ms hop, then
the 400 ms / 75 % overlap gating blocks assembled from four hops at the end. Memory is one
number per channel per 100 ms. The tests check it against pyloudnorm.

True peak follows BS.1770-4 Annex 2: 4x oversampling with a 48-tap interpolation filter.
Because interpolation can only exceed the sample peak by a bounded factor (the largest
absolute tap sum of any polyphase branch), regions whose sample peak is safely below the
level of interest are not oversampled at all, which makes it cheap on quiet programs.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
from .lazy import ndimage, signal

ABSOLUTE_GATE = -70.0
_SUBBLOCK = 16384   # frames per filter call: state is flushed in between (see _add)
RELATIVE_GATE = -10.0
OVERSAMPLE = 4
_TAPS_PER_PHASE = 12


def k_weighting_sos(sample_rate: int) -> np.ndarray:
    """BS.1770 K-weighting (pre-filter shelf + RLB high-pass) for any sample rate.

    Coefficients from the analogue prototypes as derived by Brecht De Man / libebur128, so
    they match the standard's 48 kHz table exactly and stay correct at 44.1 kHz, 22.05 kHz...
    """
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / sample_rate)
    vh = 10.0 ** (gain_db / 20.0)
    vb = vh ** 0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf_b = [(vh + vb * k / q + k * k) / a0, 2.0 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0]
    shelf_a = [1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / sample_rate)
    a0 = 1.0 + k / q + k * k
    hp_b = [1.0, -2.0, 1.0]
    hp_a = [1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    return np.array([shelf_b + shelf_a, hp_b + hp_a])


def power_to_lufs(power: float) -> float:
    return -0.691 + 10.0 * math.log10(power) if power > 0 else -math.inf


def lufs_to_power(lufs: float) -> float:
    return 10.0 ** ((lufs + 0.691) / 10.0)


@dataclass
class LoudnessMeter:
    """Integrated loudness of a stream fed with `add(block)`; read `integrated()` at the end.

    `hop` seconds per sub-block (BS.1770: 0.1, four of them make a 400 ms gating block).
    Channels are weighted 1.0 (mono, left, right), as in the standard.
    """

    sample_rate: int
    channels: int
    hops_per_block: int = 4
    hop_powers: list = field(default_factory=list)  # per hop: summed channel mean squares
    _sos: np.ndarray = field(init=False, repr=False)
    _zi: np.ndarray = field(init=False, repr=False)
    _frames: int = 0
    _acc: float = 0.0           # sum of squares in the hop being filled
    _next_edge: int = 0         # absolute frame where the current hop ends

    def __post_init__(self) -> None:
        # float32 filtering: twice as fast as float64 and, for these two gentle sections,
        # within 0.001 LU of it (tests/sound/test_loudness.py compares them).
        self._sos = k_weighting_sos(self.sample_rate).astype(np.float32)
        self._zi = np.zeros((self._sos.shape[0], 2, self.channels), np.float32)
        self._next_edge = self._edge(1)

    def _edge(self, j: int) -> int:
        return (j * self.sample_rate) // 10  # hop boundaries exactly as pyloudnorm places them

    def add(self, block: np.ndarray) -> None:
        x = np.asarray(block, np.float32)
        if x.ndim == 1:
            x = x[:, None]
        for i in range(0, len(x), _SUBBLOCK):
            self._add(x[i:i + _SUBBLOCK])

    def _add(self, x: np.ndarray) -> None:
        if not x.any() and not self._zi.any():
            sq = np.zeros(len(x), np.float32)   # digital silence in, silence out: skip the filter
        else:
            y, zi = signal.sosfilt(self._sos, x, axis=0, zi=self._zi)
            # After speech stops over a silent bed the filter state decays towards zero and
            # would reach denormal numbers (100x slower arithmetic). Flush it long before.
            zi[np.abs(zi) < 1e-30] = 0.0
            self._zi = zi
            sq = np.einsum("ij,ij->i", y, y)  # sum over channels of squares, per frame
        start, pos = self._frames, 0
        end = start + len(sq)
        while self._next_edge <= end:
            cut = self._next_edge - start
            self._acc += float(sq[pos:cut].sum())
            self.hop_powers.append(self._acc)
            self._acc, pos = 0.0, cut
            self._next_edge = self._edge(len(self.hop_powers) + 1)
        self._acc += float(sq[pos:].sum())
        self._frames = end

    def block_powers(self) -> np.ndarray:
        """Mean square of every complete 400 ms gating block (75 % overlap)."""
        h = np.asarray(self.hop_powers, np.float64)
        n = self.hops_per_block
        if len(h) < n:
            return np.zeros(0)
        sums = np.convolve(h, np.ones(n), mode="valid")
        return sums / (0.4 * self.sample_rate)

    def integrated(self) -> float:
        return gated_loudness(self.block_powers())

    @property
    def frames(self) -> int:
        return self._frames


def gated_loudness(block_powers: np.ndarray) -> float:
    """BS.1770 two-stage gating over gating-block mean squares."""
    z = np.asarray(block_powers, np.float64)
    z = z[z > lufs_to_power(ABSOLUTE_GATE)]
    if not len(z):
        return -math.inf
    relative = power_to_lufs(float(z.mean())) + RELATIVE_GATE
    z = z[z > lufs_to_power(relative)]
    return power_to_lufs(float(z.mean())) if len(z) else -math.inf


def clip_loudness(samples: np.ndarray, sample_rate: int) -> float:
    """Gated loudness of a short sound (a sentence, a chime). Sounds shorter than one 400 ms
    block are measured as a single block so that short cues ("And out.") still get a level."""
    x = np.asarray(samples, np.float64)
    if x.ndim == 1:
        x = x[:, None]
    meter = LoudnessMeter(sample_rate, x.shape[1])
    meter.add(x)
    if len(meter.block_powers()):
        return meter.integrated()
    y = signal.sosfilt(k_weighting_sos(sample_rate), x, axis=0)
    return power_to_lufs(float((y ** 2).sum(axis=1).mean())) if len(y) else -math.inf


def integrated_loudness(samples: np.ndarray, sample_rate: int) -> float:
    meter = LoudnessMeter(sample_rate, np.asarray(samples).reshape(len(samples), -1).shape[1])
    meter.add(samples)
    return meter.integrated()


@functools.cache
def _interpolator() -> tuple[np.ndarray, float]:
    """48-tap 4x interpolation low-pass (BS.1770-4 Annex 2 uses a filter of this order), and
    the largest factor by which an interpolated point can exceed the sample peak around it.
    Designed on first use (scipy is imported lazily, see lazy.py)."""
    h = signal.firwin(OVERSAMPLE * _TAPS_PER_PHASE, 0.9 / OVERSAMPLE, window=("kaiser", 6.0))
    h = h * OVERSAMPLE  # unity gain for each polyphase branch
    return h, float(max(np.abs(h[p::OVERSAMPLE]).sum() for p in range(OVERSAMPLE)))


class TruePeakDetector:
    """Per-frame true-peak envelope of a stream: the largest absolute value of the 4x
    oversampled signal within half a frame of each frame (all channels).

    Frames are reported `lag` frames late: interpolating near the end of a block needs a few
    frames of the next one (`flush` pads the stream's end with silence). Values that cannot
    exceed `threshold` are not computed exactly (reported as the sample peak, or 0 for a
    block that is entirely safe): callers only care about what is above it.
    """

    lag = _TAPS_PER_PHASE  # frames of look-ahead needed to finish a frame's interpolation

    def __init__(self, channels: int, threshold: float = 0.0):
        self.channels = channels
        self.threshold = threshold  # skip oversampling where peaks cannot reach this
        self._hist = np.zeros((2 * _TAPS_PER_PHASE, channels), np.float32)

    def process(self, block: np.ndarray) -> np.ndarray:
        """Envelope for the frames that are `lag` frames behind the end of the stream so far:
        returns len(block) values covering frames [end - lag - len(block), end - lag)."""
        x = np.asarray(block, np.float32)
        n = len(x)
        ext = np.concatenate([self._hist, x])            # 2*T frames of past context + block
        self._hist = ext[-2 * _TAPS_PER_PHASE:]
        return self._envelope(ext, n)

    def flush(self) -> np.ndarray:
        """The last `lag` frames' envelope (the stream is padded with silence)."""
        return self.process(np.zeros((self.lag, self.channels), np.float32))

    def _envelope(self, ext: np.ndarray, n: int) -> np.ndarray:
        t = _TAPS_PER_PHASE
        h, bound = _interpolator()
        # Output frame i (0..n-1) is absolute frame (block_start - lag + i), located at
        # ext index t + i. Its interpolated neighbours use ext[t+i-6 .. t+i+6].
        if not n or _peak(ext) * bound <= self.threshold:
            return np.zeros(n, np.float32)   # nothing here can reach the threshold
        absx = _frame_peaks(ext)
        env = absx[t:t + n].astype(np.float32)
        # Fast path: an interpolated point near frame i is built from frames i-6..i+6, so
        # their sample peak times `bound` bounds it; skip frames that cannot matter.
        local = ndimage.maximum_filter1d(absx, size=t + 1)[t:t + n]
        need = local * bound > self.threshold
        if not need.any():
            return env
        where = np.flatnonzero(need)
        if len(where) * _SPARSE_RATIO < n:
            # A few frames near a peak: interpolate just those (the same sums upfirdn does).
            np.maximum.at(env, where, _interpolated_peaks(ext, where + t))
            return env
        lo = max(int(where[0]) - t, 0)
        hi = min(int(where[-1]) + 1 + t, n)
        seg = ext[lo:hi + 2 * t]  # enough context on both sides of frames lo..hi
        up = signal.upfirdn(h, seg, up=OVERSAMPLE, axis=0)
        # Frame i sits at seg index q = t + (i - lo).
        a = _frame_peaks(up)
        # up[k] sits at input position (k - 23.5) / 4, so the four points within half a frame
        # of seg index q are k = 4q + 22 .. 4q + 25.
        offset = len(h) // 2
        idx = (np.arange(hi - lo)[:, None] + t) * OVERSAMPLE + offset + np.arange(-2, 2)[None, :]
        tp = a[idx].max(axis=1)
        env[lo:hi] = np.maximum(env[lo:hi], tp)
        return env


_SPARSE_RATIO = 8   # interpolate frame by frame when fewer than 1 in 8 frames need it


@functools.cache
def _polyphase_matrix() -> np.ndarray:
    """(13, 4) weights: the four interpolated points within half a frame of frame p are
    ext[p - r] @ W[r + 6] summed over r = -6..6 (upfirdn's output k = 4p + 22 + d)."""
    h, _ = _interpolator()
    w = np.zeros((2 * 6 + 1, OVERSAMPLE))
    for r in range(-6, 7):
        for d in range(OVERSAMPLE):
            k = OVERSAMPLE * r + len(h) // 2 - 2 + d
            if 0 <= k < len(h):
                w[r + 6, d] = h[k]
    return w


def _interpolated_peaks(ext: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Largest |interpolated value| within half a frame of each of `positions` (indices
    into `ext`, at least 6 frames from either end), over all channels."""
    w = _polyphase_matrix()
    windows = ext[positions[:, None] - np.arange(-6, 7)[None, :]]        # (n, 13, channels)
    points = np.einsum("nrc,rd->ndc", windows.astype(np.float64), w)      # (n, 4, channels)
    return np.abs(points).max(axis=(1, 2)).astype(np.float32)


def _peak(x: np.ndarray) -> float:
    """max |x| without an |x| temporary."""
    return max(float(x.max()), -float(x.min())) if x.size else 0.0


def _frame_peaks(x: np.ndarray) -> np.ndarray:
    """max over channels of |x| per frame (a reduction along a 2-long axis is slow)."""
    out = np.abs(x[:, 0])
    for c in range(1, x.shape[1]):
        np.maximum(out, np.abs(x[:, c]), out=out)
    return out


@dataclass
class PeakMeter:
    """Sample peak and true peak of a whole stream (for reports and tests)."""

    channels: int
    sample_peak: float = 0.0
    true_peak: float = 0.0
    _detector: TruePeakDetector | None = None

    def __post_init__(self) -> None:
        self._detector = TruePeakDetector(self.channels)

    def add(self, block: np.ndarray) -> None:
        x = np.asarray(block, np.float32)
        if x.ndim == 1:
            x = x[:, None]
        if len(x):
            self.sample_peak = max(self.sample_peak, _peak(x))
            # Only oversample where the block could beat the running maximum.
            self._detector.threshold = self.true_peak
            env = self._detector.process(x)
            if len(env):
                self.true_peak = max(self.true_peak, float(env.max()))

    def finish(self) -> None:
        self._detector.threshold = self.true_peak
        env = self._detector.flush()
        if len(env):
            self.true_peak = max(self.true_peak, float(env.max()))
        self.true_peak = max(self.true_peak, self.sample_peak)


def true_peak(samples: np.ndarray) -> float:
    """True peak (linear) of a whole array."""
    x = np.asarray(samples, np.float32)
    meter = PeakMeter(1 if x.ndim == 1 else x.shape[1])
    meter.add(x)
    meter.finish()
    return meter.true_peak


def to_db(linear: float) -> float:
    return 20.0 * math.log10(linear) if linear > 0 else -math.inf
