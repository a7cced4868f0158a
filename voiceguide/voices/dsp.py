"""Small signal helpers for speech segments: trimming, silence checks, resampling, file reading.

Engines pad their output with different amounts of silence (espeak adds a pause at the end,
piper a few frames of breath); trimming every segment to the same short margin keeps the
measured durations — and so the timeline — predictable across engines.
"""
from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

import numpy as np

from .base import Speech

TRIM_THRESHOLD_DB = -45.0   # relative to the loudest 5 ms window
TRIM_MARGIN = 0.010         # seconds kept beyond the first/last audible window
FADE = 0.005                # seconds of fade-in/out at the new edges
SILENCE_PEAK = 1e-3         # below this peak (-60 dBFS) a segment counts as silent
_WINDOW = 0.005


def _window_rms(samples: np.ndarray, n: int) -> np.ndarray:
    count = len(samples) // n
    if count == 0:
        return np.sqrt(np.mean(np.square(samples, dtype=np.float64), keepdims=True)) if len(samples) else np.zeros(0)
    frames = samples[: count * n].astype(np.float64).reshape(count, n)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    tail = samples[count * n:]
    if len(tail):
        rms = np.append(rms, math.sqrt(float(np.mean(tail.astype(np.float64) ** 2))))
    return rms


def is_silent(samples: np.ndarray) -> bool:
    return len(samples) == 0 or float(np.max(np.abs(samples))) < SILENCE_PEAK


def spectral_flatness(samples: np.ndarray, n: int = 1024) -> float:
    """Geometric over arithmetic mean of the average power spectrum: near 1 for white
    noise, below 0.1 for speech (measured: espeak 0.003-0.08, piper 0.001-0.02)."""
    x = np.asarray(samples, dtype=np.float64)
    n = min(n, len(x))
    if n < 64:
        return 0.0
    count = len(x) // n
    frames = x[: count * n].reshape(count, n) * np.hanning(n)
    power = np.mean(np.abs(np.fft.rfft(frames, axis=1)) ** 2, axis=0)[1:] + 1e-20
    return float(np.exp(np.mean(np.log(power))) / np.mean(power))


def clipped_share(samples: np.ndarray) -> float:
    """Share of samples at (within 0.1% of) the peak: clipped audio piles up there, while
    speech touches its peak a few times at most (piper normalizes to 1.0: under 0.03%)."""
    x = np.abs(np.asarray(samples, dtype=np.float32))
    if not len(x):
        return 0.0
    peak = float(x.max())
    return float(np.mean(x >= 0.999 * peak)) if peak > 0 else 0.0


def trim_silence(
    samples: np.ndarray,
    rate: int,
    threshold_db: float = TRIM_THRESHOLD_DB,
    margin: float = TRIM_MARGIN,
    fade: float = FADE,
) -> np.ndarray:
    """Cut leading/trailing silence down to `margin` seconds and fade the new edges.

    Silence is judged on 5 ms RMS windows relative to the loudest window, so a quiet voice
    is treated like a loud one. All-silent input comes back empty.
    """
    samples = np.asarray(samples, dtype=np.float32)
    if is_silent(samples):
        return samples[:0].copy()
    n = max(1, int(rate * _WINDOW))
    rms = _window_rms(samples, n)
    threshold = float(rms.max()) * 10 ** (threshold_db / 20)
    loud = np.nonzero(rms > threshold)[0]
    keep = int(round(margin * rate))
    start = max(0, int(loud[0]) * n - keep)
    end = min(len(samples), (int(loud[-1]) + 1) * n + keep)
    out = samples[start:end].copy()
    f = min(int(round(fade * rate)), len(out) // 2)
    if f > 0:
        ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, math.pi, f, dtype=np.float64))).astype(np.float32)
        out[:f] *= ramp
        out[-f:] *= ramp[::-1]
    return out


def resample(speech: Speech, rate: int) -> Speech:
    """The same speech at `rate` Hz (polyphase filter; band-limited, no phase shift)."""
    if rate == speech.sample_rate:
        return speech
    if len(speech.samples) == 0:
        return Speech(speech.samples, rate, speech.engine, speech.voice)
    g = math.gcd(rate, speech.sample_rate)
    up, down = rate // g, speech.sample_rate // g
    try:
        from scipy.signal import resample_poly
    except ImportError:  # scipy comes with pyloudnorm; fall back to linear interpolation
        n = int(round(len(speech.samples) * rate / speech.sample_rate))
        x = np.linspace(0, len(speech.samples) - 1, n)
        out = np.interp(x, np.arange(len(speech.samples)), speech.samples)
    else:
        out = resample_poly(speech.samples.astype(np.float64), up, down)
    return Speech(np.clip(out, -1.0, 1.0).astype(np.float32), rate, speech.engine, speech.voice)


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples and rate from a PCM WAV (what espeak and sapi5 write) or an
    AIFF/AIFF-C file (what macOS writes, whatever the file name says)."""
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(12)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return _read_wav(path)
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return _read_aiff(path)
    raise ValueError(f"{path.name}: not a WAV or AIFF file")


def _pcm_to_float(data: bytes, width: int, channels: int, big_endian: bool) -> np.ndarray:
    if width == 1:   # WAV 8-bit is unsigned
        x = (np.frombuffer(data, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        x = np.frombuffer(data, ">i2" if big_endian else "<i2").astype(np.float32) / 32768.0
    elif width == 3:
        b = np.frombuffer(data, np.uint8).reshape(-1, 3).astype(np.int32)
        hi, lo = (b[:, 0], b[:, 2]) if big_endian else (b[:, 2], b[:, 0])
        v = (hi << 16) | (b[:, 1] << 8) | lo
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        x = v.astype(np.float32) / float(1 << 23)
    elif width == 4:
        x = np.frombuffer(data, ">i4" if big_endian else "<i4").astype(np.float32) / 2147483648.0
    else:
        raise ValueError(f"unsupported sample width {width}")
    if channels > 1:
        x = x[: len(x) // channels * channels].reshape(-1, channels).mean(axis=1)
    return x.astype(np.float32)


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        data = w.readframes(w.getnframes())
        return _pcm_to_float(data, w.getsampwidth(), w.getnchannels(), False), w.getframerate()


def _extended_to_float(b: bytes) -> float:
    """IEEE 754 80-bit extended (AIFF's sample-rate field) to float."""
    exp = ((b[0] & 0x7F) << 8) | b[1]
    mant = int.from_bytes(b[2:10], "big")
    if exp == 0 and mant == 0:
        return 0.0
    value = mant * 2.0 ** (exp - 16383 - 63)
    return -value if b[0] & 0x80 else value


def _read_aiff(path: Path) -> tuple[np.ndarray, int]:
    data = path.read_bytes()
    aifc = data[8:12] == b"AIFC"
    pos, channels, width, rate, compression, sound = 12, 1, 2, 0, b"NONE", None
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack(">I", data[pos + 4:pos + 8])[0]
        body = data[pos + 8:pos + 8 + size]
        if cid == b"COMM":
            channels, _frames, bits = struct.unpack(">hIh", body[:8])
            width = (bits + 7) // 8
            rate = int(round(_extended_to_float(body[8:18])))
            if aifc and len(body) >= 22:
                compression = body[18:22]
        elif cid == b"SSND":
            offset = struct.unpack(">I", body[:4])[0]
            sound = body[8 + offset:]
        pos += 8 + size + (size & 1)
    if sound is None or rate <= 0:
        raise ValueError(f"{path.name}: AIFF without COMM/SSND chunks")
    if compression in (b"NONE", b"twos"):
        return _pcm_to_float(sound, width, channels, True), rate
    if compression == b"sowt":
        return _pcm_to_float(sound, width, channels, False), rate
    if compression in (b"fl32", b"FL32"):
        x = np.frombuffer(sound, ">f4").astype(np.float32)
        return (x.reshape(-1, channels).mean(axis=1) if channels > 1 else x), rate
    raise ValueError(f"{path.name}: unsupported AIFF-C compression {compression!r}")
