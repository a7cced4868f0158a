"""Living nature beds: rain, stream, wind and fire, synthesized from seeded noise and events.

No recordings and no loops: like the other beds each is a `ChunkedSource` whose every random
draw comes, in order, from its own seeded generators, with filter states, slow processes and
event tails carried from chunk to chunk. So a bed never repeats, has no seams, and the same
seed gives the same samples however it is read. Each is built from the cheap parts in
naturekit.py (spectrally shaped noise, noise tables, smooth random processes, sparse events),
since a bed runs for the whole session, twice: each costs at most what the brown bed does.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .blocks import ChunkedSource
from .lazy import signal
from .naturekit import (Events, Shared, Spectral, TableNoise, Wander, circular_noise, held, log_bumps, pans,
                        pow2, ramp, ramp_between, seeded)

# ----------------------------------------------------------------------------------------
# Wind


@functools.lru_cache(maxsize=8)
def _wind_tables(sample_rate: int, nfft: int) -> Shared:
    f = np.fft.rfftfreq(nfft, 1.0 / sample_rate)
    base = np.where(f > 0, (np.maximum(f, 1.0) / 100.0) ** -1.0, 0.0)
    base *= 1.0 / (1.0 + (40.0 / np.maximum(f, 1.0)) ** 4) / (1.0 + (f / 2500.0) ** 4)
    centres = 2.0 ** np.arange(math.log2(80.0), math.log2(4000.0), 1 / 48)
    peaks = log_bumps(f, centres, 0.45)
    peaks *= np.sqrt(np.sum(peaks[len(peaks) // 3] ** 2) / np.sum(peaks ** 2, axis=1))[:, None]  # same power
    return Shared(base=(0.35 * base).astype(np.float32), peaks=peaks.astype(np.float32),
                   lo=math.log2(80.0))


class Wind(ChunkedSource):
    """Wind: a resonant band of noise whose centre (about 220 Hz calm, 1.1 kHz in a gust) and
    level move with slow gusts, over a low rumble. The right channel hears the gusts 0.4 s
    after the left, so they seem to pass through the room. No events: nothing is sudden."""

    DELAY = 0.4

    def __init__(self, sample_rate: int, channels: int = 2, seed: int = 0):
        super().__init__(sample_rate, channels)
        nfft = pow2(sample_rate * 0.0464)
        self._noise = Spectral(seeded(seed, "wind-noise"), channels, nfft)
        self._t = _wind_tables(sample_rate, nfft)
        self._frames = self.chunk // self._noise.hop
        rate = sample_rate / self._noise.hop                       # frames per second
        # gusts: 2.5 s and 0.8 s (each twice smoothed); the band's wobble: 0.5 s
        self._wander = Wander(seeded(seed, "wind-gusts"), [2.5 * rate, 0.8 * rate, 0.5 * rate], self._frames)
        self._delay = [0, int(self.DELAY * rate)][:channels]
        self._history: np.ndarray | None = None       # the last frames' (gust, wobble), for the delay

    def _generate(self, frames: int) -> np.ndarray:
        z = self._wander.step()
        gust = 1.0 / (1.0 + np.exp(-(0.8 * z[:, 0] + 0.6 * z[:, 1])))
        wobble = 0.3 * z[:, 2]
        new = np.stack([gust, wobble], axis=1)
        if self._history is None:                      # the right channel starts where the left does
            self._history = np.repeat(new[:1], max(self._delay) + 1, axis=0)
        params = np.concatenate([self._history, new])
        self._history = params[-len(self._history):]
        mags = []
        for d in self._delay:
            g, w = params[len(params) - self._frames - d:len(params) - d].T
            level = 10.0 ** ((-6.0 + 6.0 * g) / 20.0)
            row = np.clip(np.round((math.log2(220.0) + 2.2 * g + w - self._t.lo) * 48), 0,
                          len(self._t.peaks) - 1).astype(int)
            strength = (0.8 + 0.4 * g)[:, None]
            mags.append(level[:, None].astype(np.float32)
                        * (self._t.base[None, :] + strength.astype(np.float32) * self._t.peaks[row]))
        return np.ascontiguousarray(self._noise.render(np.stack(mags)).T)


# ----------------------------------------------------------------------------------------
# Stream


@functools.lru_cache(maxsize=8)
def _stream_tables(sample_rate: int, nfft: int) -> Shared:
    f = np.fft.rfftfreq(nfft, 1.0 / sample_rate)
    base = log_bumps(f, np.array([1600.0]), 1.5)[0] + 0.08 * log_bumps(f, np.array([7000.0]), 0.8)[0]
    base *= 1.0 / (1.0 + (150.0 / np.maximum(f, 1.0)) ** 4)
    centres = np.geomspace(350.0, min(7000.0, 0.4 * sample_rate), 12)
    bands = log_bumps(f, centres, math.log2(centres[1] / centres[0]))
    bands /= np.maximum(bands.sum(axis=0), 1e-3)                   # they sum to one
    peaks = log_bumps(f, 2.0 ** np.arange(math.log2(200.0), math.log2(6000.0), 1 / 48), 0.12)
    return Shared(base=base.astype(np.float32), bands=bands.astype(np.float32),
                   peaks=peaks.astype(np.float32), lo=math.log2(200.0))


class Stream(ChunkedSource):
    """A brook: steady water noise around 1.6 kHz whose twelve bands (350 Hz-7 kHz) each
    flicker on their own at about 4-15 Hz (the babble), plus a narrow resonance per channel
    that darts about 500-2000 Hz (the gurgle). Each channel babbles on its own."""

    BANDS = 12

    def __init__(self, sample_rate: int, channels: int = 2, seed: int = 0):
        super().__init__(sample_rate, channels)
        nfft = pow2(sample_rate * 0.0232)
        self._noise = Spectral(seeded(seed, "stream-noise"), channels, nfft)
        self._t = _stream_tables(sample_rate, nfft)
        self._frames = self.chunk // self._noise.hop
        rate = sample_rate / self._noise.hop
        taus = [0.018 * rate] * (self.BANDS * channels) + [0.05 * rate] * (2 * channels)
        self._wander = Wander(seeded(seed, "stream-babble"), taus, self._frames)

    def _generate(self, frames: int) -> np.ndarray:
        z = self._wander.step().astype(np.float32)
        b, ch, t, f32 = self.BANDS, self.channels, self._t, np.float32
        babble = z[:, :b * ch].reshape(-1, ch, b).transpose(1, 0, 2)          # (ch, frames, bands)
        shape = (np.exp(f32(0.9) * babble) * f32(math.exp(-0.405))) @ t.bands
        shape *= t.base
        where, loud = z[:, b * ch:].reshape(-1, ch, 2).transpose(2, 1, 0)    # (ch, frames) each
        row = np.clip(np.round((math.log2(1000.0) + 0.8 * where - t.lo) * 48), 0,
                      len(t.peaks) - 1).astype(int)
        shape += (f32(0.5) * np.exp(f32(0.8) * loud - f32(0.32)))[:, :, None] * t.peaks[row]
        return np.ascontiguousarray(self._noise.render(shape).T)


# ----------------------------------------------------------------------------------------
# Rain


def _drop_bank(rng: np.random.Generator, sample_rate: int, count: int = 48) -> np.ndarray:
    """Heavier drops, made once per bed: half 'plinks' (a drop into water: a damped sine whose
    pitch rises, 1.2-4 kHz) and half 'taps' (a drop on a leaf: a dull noise burst)."""
    n = int(0.022 * sample_rate)
    t = np.arange(n) / sample_rate
    bank = np.zeros((count, n))
    for i in range(count):
        tau = rng.uniform(0.003, 0.007)
        if i % 2:
            f0 = min(rng.uniform(1200.0, 4000.0), 0.4 * sample_rate)
            phase = 2 * np.pi * f0 * (t + 0.5 * rng.uniform(10.0, 40.0) * t * t)
            bank[i] = np.sin(phase) * np.exp(-t / tau)
        else:
            sos = signal.butter(2, [300.0, min(2500.0, 0.45 * sample_rate)], "bandpass", fs=sample_rate, output="sos")
            bank[i] = signal.sosfilt(sos, rng.standard_normal(n)) * np.exp(-t / (0.6 * tau))
    k = max(2, int(0.0004 * sample_rate))
    bank[:, :k] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(k) / k)
    bank[:, -k:] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(k) / k)
    return (bank / np.abs(bank).max(axis=1, keepdims=True)).astype(np.float32)


@functools.lru_cache(maxsize=4)
def _rain_noise(sample_rate: int, channels: int, seed: int) -> tuple[np.ndarray, int]:
    """The bright noise the light drops shape: 900 Hz-9 kHz (2nd-order Butterworth high-pass
    and low-pass), about ten seconds of it per channel, its level that of uniform noise
    through those filters (times sqrt(rate / 44.1 kHz): the same level at any rate).
    Cached: the calibration twin and every pass of a bed read the same table."""
    sr = sample_rate
    frames = pow2(sr * 10.0, lo=2 ** 15, hi=2 ** 21)
    band = np.vstack([signal.butter(2, 900.0, "highpass", fs=sr, output="sos"),
                      signal.butter(2, min(9000.0, 0.45 * sr), "lowpass", fs=sr, output="sos")])
    power = np.abs(signal.sosfreqz(band, np.fft.rfftfreq(frames, 1.0 / sr), fs=sr)[1]) ** 2
    rms = math.sqrt(float(power.mean()) / 12.0 * sr / 44100.0)
    table = circular_noise(seeded(seed, "rain-noise"), frames, channels, np.sqrt(power), rms,
                           Rain.chunk + Rain.fade(sr))
    return table, frames


class Rain(ChunkedSource):
    """Rain: hundreds of tiny drops a second per channel (bursts of bright noise, 1-10 kHz,
    a few milliseconds each, most faint and a few near and loud) over the hiss of distant
    ones, with heavier drops (plinks into puddles, taps on leaves) about 12 a second. The
    shower's intensity drifts slowly, by a couple of decibels.

    The bright noise is read from a ten-second table at a random place each chunk (a
    `TableNoise`) rather than filtered afresh: filtering every sample was most of the bed's
    cost. What is heard is the drops, drawn fresh every chunk, so a stretch of the table
    coming back (at no fixed interval, under other drops) is never heard as a repeat."""

    LIGHT, HEAVY = 600.0, 12.0     # drops per second per channel

    @staticmethod
    def fade(sample_rate: int) -> int:
        """Frames of crossfade between two stretches of the table (4 ms)."""
        return max(4, int(0.004 * sample_rate))

    def __init__(self, sample_rate: int, channels: int = 2, seed: int = 0):
        super().__init__(sample_rate, channels)
        sr = sample_rate
        self._grid = pow2(sr * 0.00036, lo=4, hi=256)             # control step of the envelope
        step = self._grid / sr
        a, d = math.exp(-step / 0.00025), math.exp(-step / 0.002)
        b, den = np.array([1.0]), np.array([1.0, -(a + d), a * d])   # a drop: attack a, decay d
        b /= signal.lfilter(b, den, np.r_[1.0, np.zeros(200)]).max()
        table, period = _rain_noise(sr, channels, seed)
        self._c = Shared(b=b, a=den, bank=_drop_bank(seeded(seed, "rain-bank"), sr))
        self._zi = np.zeros((2, channels))
        self._noise = TableNoise(table, period, seeded(seed, "rain-joins"), self.fade(sr))
        self._drops = seeded(seed, "rain-drops")
        self._intensity = Wander(seeded(seed, "rain-intensity"), [40.0], 1)   # ~15 s
        self._events = Events(channels, self._c.bank.shape[1])
        self._level = 1.0

    def _generate(self, frames: int) -> np.ndarray:
        ch, k, rng = self.channels, frames // self._grid, self._drops
        level = math.exp(0.12 * float(self._intensity.step()[0, 0]))
        seconds = frames / self.sample_rate
        n = rng.poisson(self.LIGHT * level * seconds, ch)
        at = rng.integers(0, k, int(n.sum())) + np.repeat(np.arange(ch) * k, n)
        size = np.minimum(rng.lognormal(0.0, 0.75, len(at)), 3.0)
        imp = np.bincount(at, size, minlength=ch * k).reshape(ch, k).T
        env, self._zi = signal.lfilter(self._c.b, self._c.a, imp, axis=0, zi=self._zi)
        env += np.linspace(self._level, level, k)[:, None] * 0.5      # the hiss of distant drops
        self._level = level
        # Held for each 0.36 ms step: it shapes band-limited noise, so steps that small are
        # not heard (and spill little outside the band), at a third of a ramp's cost.
        light = self._noise.shaped(np.repeat(env.astype(np.float32), self._grid, axis=0))
        n = rng.poisson(self.HEAVY * ch * level * seconds)
        starts = rng.integers(0, frames, n)
        gains = pans(rng, n, ch) * (0.45 * rng.uniform(0.15, 1.0, n) ** 2)[:, None]
        out = self._events.add_to(light, starts, self._c.bank[rng.integers(0, len(self._c.bank), n)], gains)
        return held(out, 5.0, 6.0)


# ----------------------------------------------------------------------------------------
# Fire


class Fire(ChunkedSource):
    """A wood fire: a low rumble of flames (noise below about 300 Hz that flickers) with
    crackles over it: sharp snaps of bright noise, a millisecond or so each, often with a few
    smaller ones right after, about 3 to 20 a second as the fire livens and settles."""

    RATE = 6.0           # crackles per second on average
    SNAP = 4.5           # a loud crackle's peak, relative to the rumble's RMS ...
    PEAK = 3.5           # ... softly held under this (room under full scale once calibrated)

    def __init__(self, sample_rate: int, channels: int = 2, seed: int = 0):
        super().__init__(sample_rate, channels)
        sr = sample_rate
        # The rumble has nothing above ~300 Hz, so it is made at about 10 kHz (a `step`th of
        # the rate: a quarter at 44.1 kHz), a quarter of the filtering, and drawn up linearly.
        # That leaves faint images at multiples of the low rate; adding the rumble to itself
        # half a step later cancels the odd ones (11 kHz at 44.1 kHz), the rest are above it.
        self._step = pow2(sr / 10000.0, lo=1, hi=32)
        self._half = self._step // 2
        self._echo = np.zeros((self._half, channels), np.float32)    # the last half step drawn up
        low_sr = sr / self._step
        p = math.exp(-2 * math.pi * 20.0 / low_sr)
        leaky = np.array([[1.0 - p, 0.0, 0.0, 1.0, -p, 0.0]])
        rumble = np.vstack([leaky, signal.butter(2, 35.0, "highpass", fs=low_sr, output="sos"),
                            signal.butter(2, 260.0, "lowpass", fs=low_sr, output="sos")])
        h = signal.sosfilt(rumble, np.r_[1.0, np.zeros(int(low_sr))])
        rumble[0, :3] /= math.sqrt(float(np.sum(h * h)) / 12.0)          # unit variance from the noise
        rumble[0, :3] *= 0.5 if self._half else 1.0                        # (added to itself below)
        self._grid = pow2(sr * 0.0058, lo=16, hi=1024)
        self._pop = int(0.004 * sr)
        self._spread = int(0.03 * sr)
        k = max(2, int(0.00008 * sr))
        edges = np.ones(self._pop)
        edges[:k] = np.arange(1, k + 1) / k                 # a crackle's sharp but not instant edge
        edges[-4 * k:] = np.linspace(1.0, 0.0, 4 * k)       # and no cut-off tail
        self._c = Shared(rumble=rumble.astype(np.float32), up=ramp(self._step, self.chunk),
                         ramp=ramp(self._grid // self._step, self.chunk // self._step),
                         t=np.arange(self._pop) / sr, edges=edges)
        self._zi = np.zeros((3, 2, channels), np.float32)
        self._prev = np.zeros(channels, np.float32)      # the last low-rate frame, for drawing up
        steps = self.chunk // self._grid
        rate = sr / self._grid
        self._flicker = Wander(seeded(seed, "fire-flicker"), [0.12 * rate, 2.5 * rate], steps)
        self._activity = Wander(seeded(seed, "fire-activity"), [25.0], 1)      # ~9 s
        self._last = np.ones(1)
        self._noise = seeded(seed, "fire-noise")
        self._sparks = seeded(seed, "fire-crackles")
        self._events = Events(channels, self._pop + self._spread + int(0.001 * sr) + 1)

    def _crackles(self, out: np.ndarray) -> np.ndarray:
        rng, ch, sr, frames = self._sparks, self.channels, self.sample_rate, len(out)
        lively = math.exp(0.55 * float(self._activity.step()[0, 0]))
        n = rng.poisson(self.RATE * lively * frames / sr)
        first = rng.integers(0, frames, n)
        size = rng.uniform(0.25, 1.0, n)
        owner = np.repeat(np.arange(n), rng.poisson(1.5, n))          # smaller snaps just after
        after = np.minimum(rng.exponential(0.008 * sr, len(owner)), self._spread - 1) + 0.001 * sr
        starts = np.concatenate([first, first[owner] + after.astype(int)])
        amp = np.concatenate([size, size[owner] * rng.uniform(0.15, 0.55, len(owner))])
        shape = np.exp(np.outer(-1.0 / rng.uniform(0.0002, 0.0015, len(starts)), self._c.t))
        shape *= amp[:, None] * self._c.edges
        # One noise per channel (decorrelated), the same moment and envelope in both.
        burst = rng.uniform(-1.0, 1.0, (len(starts), ch, self._pop)) * shape[:, None, :]
        burst *= pans(rng, len(starts), ch)[:, :, None] * self.SNAP
        burst = self.PEAK * np.tanh(burst / self.PEAK)                   # held under PEAK
        return self._events.add_to(out, starts, burst.astype(np.float32), np.ones((len(starts), ch)))

    def _generate(self, frames: int) -> np.ndarray:
        z = self._flicker.step()
        flick = np.exp(0.2 * z[:, :1] + 0.15 * z[:, 1:] - 0.03)
        env = ramp_between(self._last, flick, self._c.ramp)            # at the low rate
        self._last = flick[-1]
        x = self._noise.random((frames // self._step, self.channels), dtype=np.float32)
        x -= np.float32(0.5)
        low, self._zi = signal.sosfilt(self._c.rumble, x, axis=0, zi=self._zi)
        low *= env
        drawn = ramp_between(self._prev, low, self._c.up)
        self._prev = low[-1]
        out, h = drawn, self._half
        if h:                                                # plus itself half a step later
            out = np.empty_like(drawn)
            np.add(drawn[h:], drawn[:-h], out=out[h:])
            np.add(drawn[:h], self._echo, out=out[:h])
            self._echo = drawn[-h:].copy()
        return held(self._crackles(out), 4.5, 5.2)
