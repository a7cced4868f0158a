"""The parts the nature beds (nature.py) are built from, each chosen for being cheap, since
a bed runs for the whole session and is rendered twice:

* `Spectral`: noise whose spectrum may change every few milliseconds. Frames of random
  complex spectra, shaped, inverse-FFT'd and overlap-added with a sine window (whose squares
  sum to one at 50 % overlap, so a steady spectrum gives steady noise): wind's moving band
  and the stream's babble cost one batched FFT per chunk.
* `Wander`: smooth random processes (white noise through two one-pole low-passes), for gusts,
  intensity and flicker; a chunk's steps are one small matrix product.
* `TableNoise`: steady noise of a fixed spectrum without filtering every sample: a seeded
  circular table (made once per bed by one inverse FFT) read from a random place each chunk,
  the stretches joined by short equal-power crossfades. Only for noise that something fresh
  (drops, flicker) shapes on top, so a stretch heard again is never heard as such.
* `Events`: short sounds (drops, crackles) added where they fall, their tails carried into
  the next chunk; `ramp_between` turns control points into a smooth per-frame curve.

Everything random comes from generators the caller owns and everything that carries over is
state on the object, so a bed's snapshot (a deep copy) goes on exactly as the bed would;
constant tables sit in a `Shared`, which deep copies share.
"""
from __future__ import annotations

import math

import numpy as np

from .lazy import LazyModule

fft = LazyModule("scipy.fft")


def seeded(seed: int, salt: str) -> np.random.Generator:
    """A generator of its own for each use (`salt`), so adding a draw to one part of a bed
    never shifts the randomness of another."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *salt.encode()])))


def pow2(x: float, lo: int = 64, hi: int = 8192) -> int:
    """The power of two nearest `x` (frame and grid sizes must divide the chunk)."""
    return int(min(hi, max(lo, 2 ** round(math.log2(max(x, 1.0))))))


def ramp(step: int, frames: int) -> np.ndarray:
    """0, 1/step, ... (step - 1)/step repeated over `frames` frames, as a column."""
    return np.tile(np.arange(step, dtype=np.float32) / step, frames // step)[:, None]


def ramp_between(prev: np.ndarray, points: np.ndarray, ramp: np.ndarray) -> np.ndarray:
    """Control points (K, ch) -> (len(ramp), ch) frames, linear from `prev` (the last point
    of the previous chunk) through each point: smooth at every seam, one step late."""
    points = points.astype(np.float32)
    lo = np.concatenate([prev[None].astype(np.float32), points[:-1]])
    step = len(ramp) // len(points)
    out = np.repeat(points - lo, step, axis=0)
    out *= ramp
    out += np.repeat(lo, step, axis=0)
    return out


def held(x: np.ndarray, knee: float, ceiling: float) -> np.ndarray:
    """`x` with anything beyond +-`knee` bent smoothly towards +-`ceiling` (rare: a loud
    drop on a loud moment); a chunk with nothing that loud is returned as it is."""
    if max(float(x.max()), -float(x.min())) <= knee:
        return x
    over = np.abs(x) > knee
    room = ceiling - knee
    x[over] = np.sign(x[over]) * (knee + room * np.tanh((np.abs(x[over]) - knee) / room))
    return x


def log_bumps(freqs: np.ndarray, centres: np.ndarray, octaves: float) -> np.ndarray:
    """Gaussian bumps in log frequency, one row per centre (the shapes bands are made of)."""
    lf = np.log2(np.maximum(freqs, 1.0))
    return np.exp(-0.5 * ((lf[None, :] - np.log2(centres)[:, None]) / octaves) ** 2)


class Shared:
    """Constant tables: shared by a bed and its snapshots (a deep copy keeps them)."""

    def __init__(self, **tables: np.ndarray):
        self.__dict__.update(tables)

    def __deepcopy__(self, memo: dict) -> "Shared":
        return self


class Wander:
    """Independent smooth random processes, mean 0 and variance 1, stepped `steps` at a time:
    white noise through two one-pole low-passes of `tau` steps each (one per process)."""

    def __init__(self, rng: np.random.Generator, taus: list[float], steps: int, limit: float = 2.5):
        p = np.exp(-1.0 / np.asarray(taus, float))
        n = np.arange(steps)
        lag = n[:, None] - n[None, :]
        # y[n] = p y[n-1] + (1-p) x[n] over a whole chunk, as a lower-triangular matrix.
        self._c = Shared(
            m=np.where(lag >= 0, (1 - p)[:, None, None] * p[:, None, None] ** np.maximum(lag, 0), 0.0),
            pn=p[None, :] ** (n[:, None] + 1),
            scale=1.0 / np.sqrt((1 - p) ** 4 * (1 + p * p) / (1 - p * p) ** 3))
        self._y1, self._y2 = np.zeros(len(p)), np.zeros(len(p))
        self._rng = rng
        self._limit = limit
        for _ in range(int(math.ceil(5 * max(taus) / steps))):     # start from a typical moment
            self.step()

    def step(self) -> np.ndarray:
        """The next `steps` values of every process: (steps, processes), softly held within
        +-`limit` (a rare extreme would otherwise be a sudden loud moment)."""
        c = self._c
        x = self._rng.standard_normal(c.pn.shape)
        y1 = np.matmul(c.m, x.T[:, :, None])[:, :, 0].T + c.pn * self._y1      # (steps, processes)
        y2 = np.matmul(c.m, y1.T[:, :, None])[:, :, 0].T + c.pn * self._y2
        self._y1, self._y2 = y1[-1], y2[-1]
        return self._limit * np.tanh(y2 * (c.scale / self._limit))


class Spectral:
    """Noise whose magnitude spectrum is given per frame (hop = nfft / 2), per channel."""

    def __init__(self, rng: np.random.Generator, channels: int, nfft: int):
        self.nfft, self.hop = nfft, nfft // 2
        n = np.arange(nfft)
        # Real and imaginary parts are random bytes (-127.5 ... 127.5, a quarter of the cost of
        # random floats), of variance (256^2 - 1) / 12 each: this gives unit-variance noise.
        window = (math.sqrt(6.0 / (256 ** 2 - 1)) * np.sin(np.pi * (n + 0.5) / nfft)).astype(np.float32)
        self._c = Shared(window=window)
        self._carry = np.zeros((channels, self.hop), np.float32)
        self._rng = rng

    def render(self, mags: np.ndarray) -> np.ndarray:
        """mags (channels, frames, nfft/2 + 1) -> (channels, frames * hop) samples."""
        ch, frames, bins = mags.shape
        u = np.frombuffer(self._rng.bytes(ch * frames * 2 * bins), np.int8).astype(np.float32)
        u += np.float32(0.5)                                 # centred: no steady part
        spec = u.reshape(ch, frames, 2 * bins).view(np.complex64)
        spec *= mags
        x = fft.irfft(spec, n=self.nfft, axis=-1, norm="ortho")
        x *= self._c.window
        hop = self.hop
        out = np.zeros((ch, (frames + 1) * hop), np.float32)
        out[:, :frames * hop] = x[:, :, :hop].reshape(ch, -1)
        out[:, hop:] += x[:, :, hop:].reshape(ch, -1)
        out[:, :hop] += self._carry
        self._carry = out[:, frames * hop:].copy()
        return out[:, :frames * hop]


def circular_noise(rng: np.random.Generator, frames: int, channels: int, mags: np.ndarray,
                   rms: float, extra: int) -> np.ndarray:
    """(frames + extra, channels) float32 noise, one independent column per channel, whose
    spectrum is `mags` (frames // 2 + 1 magnitudes) and whose RMS is `rms`. Made by one
    inverse FFT, so it is circular: its last frame runs on into its first, and the `extra`
    frames appended (a copy of its start) let any stretch be read as one slice."""
    bins = frames // 2 + 1
    spec = rng.standard_normal((channels, bins, 2)).view(np.complex128)[..., 0] * mags
    x = fft.irfft(spec, n=frames, axis=-1)
    x *= rms / np.sqrt(np.mean(x * x, axis=-1, keepdims=True))
    x = np.ascontiguousarray(x.T, np.float32)
    out = np.concatenate([x, np.resize(x, (extra, channels))])
    out.flags.writeable = False         # shared by every reader (and cached)
    return out


class TableNoise:
    """Steady noise read from a circular table (`circular_noise`): each chunk a stretch from
    a random place, faded in (equal power, over `fade` frames) while the previous stretch
    fades out. The table is constant (shared by snapshots); the place is the only state."""

    def __init__(self, table: np.ndarray, period: int, rng: np.random.Generator, fade: int):
        k = (np.arange(fade) + 0.5) / fade
        self._c = Shared(table=table, fade_in=np.sin(0.5 * np.pi * k).astype(np.float32)[:, None],
                         fade_out=np.cos(0.5 * np.pi * k).astype(np.float32)[:, None])
        self._period = period
        self._rng = rng
        self._at = int(rng.integers(period))      # where the last stretch would go on

    def shaped(self, env: np.ndarray) -> np.ndarray:
        """The next len(env) frames times `env` (frames, channels): a new array."""
        c, frames, fade = self._c, len(env), len(self._c.fade_in)
        start = int(self._rng.integers(self._period))
        out = c.table[start:start + frames] * env
        join = c.table[start:start + fade] * c.fade_in
        join += c.table[self._at:self._at + fade] * c.fade_out
        join *= env[:fade]
        out[:fade] = join
        self._at = (start + frames) % self._period
        return out


class Events:
    """Short sounds added at chosen frames, their tails carried into the next chunk."""

    def __init__(self, channels: int, length: int):
        self._tail = np.zeros((length, channels), np.float32)

    def add_to(self, out: np.ndarray, starts: np.ndarray, sounds: np.ndarray, gains: np.ndarray) -> np.ndarray:
        """Add sounds (n, L), or (n, channels, L) for one per channel, at `starts` with
        per-channel gains (n, channels) to `out`, in place; what starts or runs past its end
        goes on in the next chunk. Events are sparse (tens a chunk): they are scaled in one
        product, then added one slice each, which is cheaper than building index arrays."""
        frames, length = len(out), sounds.shape[-1]
        carry, self._tail = self._tail, np.zeros_like(self._tail)
        out[:len(carry)] += carry[:frames]
        if not len(starts):
            return out
        g = gains.astype(np.float32)
        scaled = np.empty((len(starts), length, g.shape[1]), np.float32)      # (n, L, ch)
        for c in range(g.shape[1]):        # a channel at a time: broadcasting over 2 is slow
            np.multiply(sounds if sounds.ndim == 2 else sounds[:, c], g[:, c:c + 1], out=scaled[:, :, c])
        for i, at in enumerate(starts.tolist()):
            inside = min(length, max(0, frames - at))
            out[at:at + inside] += scaled[i, :inside]
            if inside < length:
                later = max(0, at - frames)
                self._tail[later:later + length - inside] += scaled[i, inside:]
        return out


def pans(rng: np.random.Generator, n: int, channels: int) -> np.ndarray:
    """Equal-power gains (n, channels) for sounds placed at random across the stereo field."""
    if channels == 1:
        return np.ones((n, 1))
    p = rng.uniform(0.1, 0.9, n) * (np.pi / 2)
    return np.stack([np.cos(p), np.sin(p)], axis=1) * math.sqrt(2.0)
