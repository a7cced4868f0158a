"""A look-ahead true-peak limiter for streams (mastering) and whole clips (speech peaks)."""
from __future__ import annotations

import math

import numpy as np
from .lazy import ndimage

from .blocks import db_to_gain
from .loudness import TruePeakDetector

LOOKAHEAD = 0.005          # seconds: gain starts falling this long before a peak
RELEASE = 0.120            # seconds: time constant of the recovery (in dB)


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
            a = ndimage.maximum_filter1d(r, size=size)[(size - 1) // 2:(size - 1) // 2 + count]
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


def limit(samples: np.ndarray, sample_rate: int, ceiling_db: float) -> np.ndarray:
    """A whole (short) array through the limiter; same shape out."""
    x = np.asarray(samples, np.float32)
    flat = x.ndim == 1
    x2 = x[:, None] if flat else x
    lim = TruePeakLimiter(sample_rate, x2.shape[1], ceiling_db)
    step = 8192                       # in blocks: oversampling temporaries stay small
    y = np.concatenate([lim.process(x2[i:i + step]) for i in range(0, len(x2), step)] + [lim.flush()])
    return y[:, 0] if flat else y
