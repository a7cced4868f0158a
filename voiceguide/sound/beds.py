"""Ambient beds: endless, seeded, click-free background sounds streamed block by block.

Every synthesized bed is a `ChunkedSource`: it renders fixed 4096-frame chunks with filter
and oscillator state carried from chunk to chunk, so there are no seams, nothing loops, and
the output is identical however a caller slices its reads. Stereo beds use independent noise
per channel (decorrelated, wide) but share their slow movement so the image stays stable.

All beds are calibrated to the same loudness (`BED_LUFS`, K-weighted, measured on their own
first seconds at construction), so `ambient_volume` means the same thing for every bed.
"""
from __future__ import annotations

import functools
import math
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
from .lazy import signal

from .blocks import BlockSource, ChunkedSource, Silence, db_to_gain
from .ffmpeg import decode_stream
from .loudness import LoudnessMeter
from .nature import Fire, Rain, Stream, Wind

BED_LUFS = -20.0          # calibrated bed loudness before the mixer's ambient_volume gain
CALIBRATION_SECONDS = 30.0
LOOP_CROSSFADE = 3.0      # seconds of crossfade where a user file loops


def _rng(seed: int, salt: str) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *salt.encode()])))


_UNIFORM_SCALE = np.float32(math.sqrt(12.0))


def _noise(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Zero-mean, unit-variance white noise. Uniform rather than Gaussian: it is three times
    cheaper to draw, sounds identical, and any filtering makes it Gaussian anyway."""
    x = rng.random(shape, dtype=np.float32)
    x -= np.float32(0.5)
    x *= _UNIFORM_SCALE
    return x


def _highpass(sample_rate: int, hz: float = 20.0) -> np.ndarray:
    return signal.butter(2, hz, "highpass", fs=sample_rate, output="sos")


def pink_sos(sample_rate: int) -> np.ndarray:
    """-3 dB/octave from 10 Hz to Nyquist: real pole/zero pairs spaced geometrically, each
    zero half-way (in log frequency) above its pole, mapped with the matched z-transform so
    the design holds at any sample rate. Ripple is about +-0.3 dB; the gain is normalised
    to 1 at 1 kHz."""
    ratio = 2.5
    poles, zeros = [], []
    f = 10.0
    while f < sample_rate / 2:
        poles.append(math.exp(-2 * math.pi * f / sample_rate))
        zeros.append(math.exp(-2 * math.pi * f * math.sqrt(ratio) / sample_rate))
        f *= ratio
    if len(poles) % 2:
        poles.append(0.0)
        zeros.append(0.0)
    sos = signal.zpk2sos(zeros, poles, 1.0)
    w, h = signal.sosfreqz(sos, worN=[1000.0], fs=sample_rate)
    sos[0, :3] /= abs(h[0])
    return sos


class _FilteredNoise(ChunkedSource):
    """Gaussian noise through a fixed filter, one independent stream per channel."""

    def __init__(self, sample_rate: int, channels: int, seed: int, name: str, sos: np.ndarray | None):
        super().__init__(sample_rate, channels)
        self._rng = _rng(seed, name)
        self._sos = None if sos is None else sos.astype(np.float32)   # float32: it is noise
        self._zi = None if sos is None else np.zeros((sos.shape[0], 2, channels), np.float32)

    def _generate(self, frames: int) -> np.ndarray:
        x = _noise(self._rng, (frames, self.channels))
        if self._sos is None:
            return x
        y, self._zi = signal.sosfilt(self._sos, x, axis=0, zi=self._zi)
        return y


def white(sample_rate: int, channels: int = 2, seed: int = 0) -> ChunkedSource:
    return _FilteredNoise(sample_rate, channels, seed, "white", None)


def pink(sample_rate: int, channels: int = 2, seed: int = 0) -> ChunkedSource:
    sos = np.vstack([pink_sos(sample_rate), _highpass(sample_rate)])
    return _FilteredNoise(sample_rate, channels, seed, "pink", sos)


def brown_sos(sample_rate: int) -> np.ndarray:
    """-6 dB/octave above ~15 Hz: a leaky integrator (a true integrator would drift), then a
    20 Hz high-pass so nothing subsonic eats headroom."""
    p = math.exp(-2 * math.pi * 15.0 / sample_rate)
    leaky = np.array([[1.0 - p, 0.0, 0.0, 1.0, -p, 0.0]])
    return np.vstack([leaky, _highpass(sample_rate)])


def brown(sample_rate: int, channels: int = 2, seed: int = 0) -> ChunkedSource:
    return _FilteredNoise(sample_rate, channels, seed, "brown", brown_sos(sample_rate))


class Drone(ChunkedSource):
    """A soft chord of slightly detuned sine pairs (slow beating) whose voices swell and fade
    over tens of seconds. Oscillators are advanced by rotating precomputed per-chunk sine and
    cosine tables by each chunk's start phase: exact phase continuity, no per-sample sin()."""

    ROOTS = (98.0, 110.0, 123.47, 130.81)          # G2 A2 B2 C3; the seed picks one
    VOICES = ((1.0, 1.0), (1.5, 0.55), (2.0, 0.4), (3.0, 0.14), (4.0, 0.06))

    def __init__(self, sample_rate: int, channels: int = 2, seed: int = 0):
        super().__init__(sample_rate, channels)
        rng = _rng(seed, "drone")
        root = self.ROOTS[int(rng.integers(len(self.ROOTS)))]
        freqs, amps, lfo_f, lfo_p, out_ch = [], [], [], [], []
        for ch in range(channels):
            for ratio, amp in self.VOICES:
                for side in (-1.0, 1.0):
                    cents = side * rng.uniform(2.0, 5.0)
                    freqs.append(root * ratio * 2 ** (cents / 1200))
                    amps.append(amp)
                    lfo_f.append(rng.uniform(0.015, 0.06))
                    lfo_p.append(rng.uniform(0, 2 * math.pi))
                    out_ch.append(ch)
        self._w = 2 * math.pi * np.array(freqs) / sample_rate       # radians per frame
        self._phase0 = rng.uniform(0, 2 * math.pi, len(freqs))
        self._amp = np.array(amps)
        self._lfo_w = 2 * math.pi * np.array(lfo_f) / sample_rate
        self._lfo_p = np.array(lfo_p)
        k = np.arange(self.chunk)[:, None]
        self._sin = np.sin(k * self._w[None, :]).astype(np.float32)
        self._cos = np.cos(k * self._w[None, :]).astype(np.float32)
        self._mix = np.zeros((len(freqs), channels), np.float32)
        self._mix[np.arange(len(freqs)), out_ch] = 1.0
        self._ramp = (np.arange(self.chunk) / self.chunk).astype(np.float32)[:, None]

    def _level(self, frame: int) -> np.ndarray:
        # Each voice swells between 35 % and 100 %.
        return self._amp * (0.675 + 0.325 * np.sin(self._lfo_w * frame + self._lfo_p))

    def _generate(self, frames: int) -> np.ndarray:
        start = self.position
        theta = np.mod(self._phase0 + self._w * start, 2 * math.pi)
        a0, a1 = self._level(start), self._level(start + frames)
        c, s = np.cos(theta), np.sin(theta)
        # sin(theta + wk) = sin(wk) cos(theta) + cos(wk) sin(theta), amplitude ramping linearly
        # from a0 to a1 over the chunk; folded into (oscillators x channels) weight matrices
        # so each chunk is four small matrix products.
        def weights(scale: np.ndarray) -> np.ndarray:
            return (self._mix * scale[:, None]).astype(np.float32)

        steady = self._sin @ weights(c * a0) + self._cos @ weights(s * a0)
        ramp = self._sin @ weights(c * (a1 - a0)) + self._cos @ weights(s * (a1 - a0))
        return steady + self._ramp * ramp


class Ocean(ChunkedSource):
    """Waves: a deep rumble band and a brighter foam band of noise, both swelled by a wave
    envelope. Waves are drawn lazily from their own seeded generator (period 7-12 s, quick
    rise, long fall, overlapping), so the envelope is endless and never repeats. The right
    channel hears each wave 0.3 s later than the left, which widens the stereo image.

    Cheap by design (three biquads per channel; the envelope is evaluated every 64 frames on
    an absolute grid and interpolated), since it runs for the whole session."""

    CONTROL = 64   # frames between envelope points (divides the chunk size)

    def __init__(self, sample_rate: int, channels: int = 2, seed: int = 0):
        super().__init__(sample_rate, channels)
        self._noise = _rng(seed, "ocean-noise")
        self._waves_rng = _rng(seed, "ocean-waves")
        sr = sample_rate
        # Rumble: leaky integrator (pole 15 Hz) with a first-order 30 Hz high-pass in one
        # biquad, then a 600 Hz low-pass. Foam: one wide band-pass biquad around 2.5 kHz.
        p, hp = math.exp(-2 * math.pi * 15.0 / sr), math.exp(-2 * math.pi * 30.0 / sr)
        rumble = np.array([[1.0 - p, -(1.0 - p), 0.0, 1.0, -(p + hp), p * hp]])
        self._low = np.vstack([rumble, signal.butter(2, 600, "lowpass", fs=sr, output="sos")])
        self._high = signal.butter(1, [1200, min(6000, 0.45 * sr)], "bandpass", fs=sr, output="sos")
        # float32 filtering: it is noise, and float64 temporaries would double the cost.
        self._low, self._high = self._low.astype(np.float32), self._high.astype(np.float32)
        self._zl = np.zeros((self._low.shape[0], 2, channels), np.float32)
        self._zh = np.zeros((self._high.shape[0], 2, channels), np.float32)
        self._waves: list[tuple[float, float, float, float]] = []  # start, rise, fall, height
        self._next_wave = -6.0
        self._delay = np.array([0.0, 0.3][:channels])

    def _schedule(self, until: float) -> None:
        while self._next_wave < until + 1.0:
            period = self._waves_rng.uniform(7.0, 12.0)
            rise = period * self._waves_rng.uniform(0.3, 0.45)
            fall = period * self._waves_rng.uniform(0.75, 1.0)
            height = self._waves_rng.uniform(0.55, 1.0)
            self._waves.append((self._next_wave, rise, fall, height))
            self._next_wave += period

    def _envelope(self, t: np.ndarray) -> np.ndarray:
        env = np.zeros_like(t)
        for start, rise, fall, height in self._waves:
            x = t - start
            up = 0.5 - 0.5 * np.cos(np.pi * np.clip(x / rise, 0.0, 1.0))
            down = np.clip(1.0 - (x - rise) / fall, 0.0, 1.0) ** 2
            env += height * np.where(x < rise, up, down) * (x > 0) * (x < rise + fall)
        return np.tanh(env)  # overlapping waves saturate smoothly instead of adding up

    def _generate(self, frames: int) -> np.ndarray:
        sr, c = self.sample_rate, self.CONTROL
        start = self.position
        t0 = start / sr
        self._schedule(t0 + frames / sr + 0.5)
        self._waves = [w for w in self._waves if w[0] + w[1] + w[2] > t0 - 1.0]
        grid = np.arange(start, start + frames + c, c)
        k = np.arange(start, start + frames)
        env = np.stack([np.interp(k, grid, self._envelope(grid / sr - d)) for d in self._delay],
                       axis=1).astype(np.float32)
        n = _noise(self._noise, (frames, 2 * self.channels))
        low, self._zl = signal.sosfilt(self._low, n[:, :self.channels], axis=0, zi=self._zl)
        high, self._zh = signal.sosfilt(self._high, n[:, self.channels:], axis=0, zi=self._zh)
        f = np.float32
        return low * (f(0.12) + f(0.88) * env) + high * (f(0.0015) + f(0.0485) * env * env)


class FileBed:
    """A user's audio file looped forever with an equal-power crossfade at the seam.

    The file is decoded once (ffmpeg resamples it to the session rate) into an unlinked
    temporary file that is memory-mapped, so an hour-long recording costs disk, not RAM.
    Output frame m is a pure function of m. With L frames and an X-frame crossfade the loop
    has period P = L - X: frames before P play the file as is; after that frame m plays
    x[m mod P], except that the first X frames of every later pass blend the file's last X
    frames (fading out) into its first X (fading in), so the wrap is seamless.
    """

    def __init__(self, path: str | Path, sample_rate: int, channels: int = 2,
                 crossfade: float = LOOP_CROSSFADE):
        self.sample_rate, self.channels = int(sample_rate), int(channels)
        self.path = Path(path)
        self._file = tempfile.TemporaryFile()
        meter = LoudnessMeter(sample_rate, channels)
        frames = 0
        for chunk in decode_stream(self.path, sample_rate, channels):
            self._file.write(np.ascontiguousarray(chunk, np.float32).tobytes())
            meter.add(chunk)
            frames += len(chunk)
        self._file.flush()
        if frames < sample_rate // 10:
            raise ValueError(f"ambient file {self.path} is too short to loop (under 0.1 s)")
        self._x = np.memmap(self._file, np.float32, "r", shape=(frames, channels))
        self._init_loop(frames, crossfade)
        self.loudness = meter.integrated()

    def _init_loop(self, frames: int, crossfade: float) -> None:
        sample_rate = self.sample_rate
        self.frames = frames
        self.fade = max(1, min(int(crossfade * sample_rate), frames // 4))
        self.period = frames - self.fade
        k = (np.arange(self.fade) + 0.5) / self.fade
        self._fade_in = np.sin(0.5 * np.pi * k).astype(np.float32)[:, None]
        self._fade_out = np.cos(0.5 * np.pi * k).astype(np.float32)[:, None]
        self.position = 0

    def read(self, frames: int) -> np.ndarray:
        out = np.empty((frames, self.channels), np.float32)
        period, fade, done = self.period, self.fade, 0
        while done < frames:
            m = self.position + done
            j = m % period
            seam = m >= period and j < fade
            end = fade if seam else period
            take = min(frames - done, end - j)
            if seam:   # tail of the file fading out under its head fading in
                out[done:done + take] = (self._x[j:j + take] * self._fade_in[j:j + take]
                                         + self._x[period + j:period + j + take]
                                         * self._fade_out[j:j + take])
            else:
                out[done:done + take] = self._x[j:j + take]
            done += take
        self.position += frames
        return out

    def reader(self) -> "FileBed":
        """Another reader of the same decoded file, from frame 0 (no second decode)."""
        twin = object.__new__(FileBed)
        twin.__dict__.update(self.__dict__)
        twin.position = 0
        return twin

    def snapshot(self) -> "FileBed":
        """Another reader at this reader's frame (output frame m is a pure function of m)."""
        twin = self.reader()
        twin.position = self.position
        return twin

    def close(self) -> None:
        self._x = None
        self._file.close()


class Scaled:
    """A source times a constant gain (how beds get calibrated)."""

    def __init__(self, source: BlockSource, gain: float, restart=None):
        self.source, self.gain = source, np.float32(gain)
        self.sample_rate, self.channels = source.sample_rate, source.channels
        self._restart = restart

    def read(self, frames: int) -> np.ndarray:
        return self.source.read(frames) * self.gain

    def restarted(self) -> "Scaled":
        """The same bed from its beginning (a new render pass)."""
        return Scaled(self._restart(), float(self.gain), self._restart)

    def snapshot(self) -> "Scaled":
        """This reader's copy at its current frame (AttributeError if its source has none)."""
        return Scaled(self.source.snapshot(), float(self.gain), self._restart)   # type: ignore[attr-defined]


Factory = Callable[[int, int, int], BlockSource]
BEDS: dict[str, Factory] = {
    "white": white,
    "pink": pink,
    "brown": brown,
    "drone": Drone,
    "ocean": Ocean,
    "rain": Rain,          # the living nature beds (sound/nature.py)
    "stream": Stream,
    "wind": Wind,
    "fire": Fire,
}


@functools.lru_cache(maxsize=64)
def calibration_gain(factory: Factory, sample_rate: int, channels: int, seed: int,
                     level_lufs: float = BED_LUFS) -> float:
    """Gain that brings a synthesized bed to `level_lufs`, measured on a twin instance
    (cached: the measuring and the encoding pass build the same bed)."""
    twin = factory(sample_rate, channels, seed)
    meter = LoudnessMeter(sample_rate, channels)
    block = 16384
    for _ in range(int(CALIBRATION_SECONDS * sample_rate) // block):
        meter.add(twin.read(block))
    measured = meter.integrated()
    return db_to_gain(level_lufs - measured) if math.isfinite(measured) else 1.0


def bed(name_or_path: str, sample_rate: int, channels: int = 2, seed: int = 0,
        level_lufs: float = BED_LUFS) -> BlockSource:
    """The ambient bed called `name_or_path` (a name in `BEDS`, none, or an audio file to
    loop), calibrated to `level_lufs`."""
    key = name_or_path.strip()
    if key.lower() == "none":
        return Silence(sample_rate, channels)
    if key.lower() in BEDS:
        factory = BEDS[key.lower()]
        gain = calibration_gain(factory, sample_rate, channels, seed, level_lufs)
        restart = functools.partial(factory, sample_rate, channels, seed)
        return Scaled(restart(), gain, restart)
    path = Path(key).expanduser()
    if not path.is_file():
        raise ValueError(f"unknown ambient bed '{name_or_path}': use one of "
                         f"{', '.join([*BEDS, 'none'])} or the path of an audio file")
    source = FileBed(path, sample_rate, channels)
    gain = db_to_gain(min(level_lufs - source.loudness, 30.0)) if math.isfinite(source.loudness) else 1.0
    return Scaled(source, gain, source.reader)
