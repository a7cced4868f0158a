"""Trimming, silence checks, resampling and reading engine output files."""
from __future__ import annotations

import warnings
import wave

import numpy as np
import pytest

from voiceguide.voices.base import Speech
from voiceguide.voices.dsp import FADE, TRIM_MARGIN, is_silent, read_audio, resample, trim_silence

RATE = 22050


def tone(seconds: float, freq: float = 440.0, rate: int = RATE, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_trim_keeps_a_short_margin_and_fades_edges():
    core = tone(1.0)
    padded = np.concatenate([np.zeros(RATE // 2, np.float32), core, np.zeros(RATE, np.float32)])
    out = trim_silence(padded, RATE)
    assert abs(len(out) / RATE - (1.0 + 2 * TRIM_MARGIN)) < 0.006
    edge = int(0.001 * RATE)
    assert np.abs(out[:edge]).max() < 0.01 and np.abs(out[-edge:]).max() < 0.01   # faded, no click
    middle = out[len(out) // 2 - 100: len(out) // 2 + 100]
    assert np.abs(middle).max() > 0.45                                           # speech untouched


def test_trim_keeps_quiet_but_audible_tails():
    # a soft "s"-like tail 40 dB below the peak must survive
    loud, soft = tone(0.5, amp=0.8), tone(0.2, 5000, amp=0.008)
    out = trim_silence(np.concatenate([loud, soft, np.zeros(RATE, np.float32)]), RATE)
    assert len(out) / RATE > 0.7 - 0.001


def test_trim_of_silence_is_empty_and_low_noise_counts_as_silence():
    assert len(trim_silence(np.zeros(RATE, np.float32), RATE)) == 0
    assert is_silent(np.full(100, 1e-4, np.float32))
    assert not is_silent(tone(0.1))
    assert len(trim_silence(np.zeros(0, np.float32), RATE)) == 0


def test_speech_dataclass():
    s = Speech(np.zeros(22050, np.float64), 22050)
    assert s.samples.dtype == np.float32 and s.duration == 1.0
    with pytest.raises(ValueError):
        Speech(np.zeros((2, 10)), 22050)
    with pytest.raises(ValueError):
        Speech(np.zeros(10), 0)


@pytest.mark.parametrize("target", [16000, 44100, 48000, 22050])
def test_resample_keeps_duration_and_pitch(target):
    s = Speech(tone(1.0, 440.0), RATE, "e", "v")
    r = resample(s, target)
    assert r.sample_rate == target and r.engine == "e" and r.voice == "v"
    assert abs(r.duration - 1.0) < 1e-3
    spectrum = np.abs(np.fft.rfft(r.samples))
    peak_hz = np.argmax(spectrum) * target / len(r.samples)
    assert abs(peak_hz - 440.0) < 2.0
    assert resample(Speech(np.zeros(0), RATE), 48000).sample_rate == 48000


def _write_wav(path, data: bytes, width: int, channels: int, rate: int = RATE):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(data)


def test_read_wav_formats(tmp_path):
    x = tone(0.1, amp=0.5)
    i16 = (x * 32767).astype("<i2")
    _write_wav(tmp_path / "a.wav", i16.tobytes(), 2, 1)
    samples, rate = read_audio(tmp_path / "a.wav")
    assert rate == RATE and np.allclose(samples, x, atol=1e-3)
    stereo = np.stack([i16, i16], axis=1).reshape(-1)
    _write_wav(tmp_path / "s.wav", stereo.tobytes(), 2, 2)
    assert np.allclose(read_audio(tmp_path / "s.wav")[0], x, atol=1e-3)
    u8 = (x * 127 + 128).astype(np.uint8)
    _write_wav(tmp_path / "u8.wav", u8.tobytes(), 1, 1)
    assert np.allclose(read_audio(tmp_path / "u8.wav")[0], x, atol=2e-2)
    i32 = (x.astype(np.float64) * 2**31).astype("<i4")
    _write_wav(tmp_path / "i32.wav", i32.tobytes(), 4, 1)
    assert np.allclose(read_audio(tmp_path / "i32.wav")[0], x, atol=1e-5)
    (tmp_path / "bad.wav").write_bytes(b"not audio at all")
    with pytest.raises(ValueError):
        read_audio(tmp_path / "bad.wav")


def test_read_aiff_as_macos_writes_it(tmp_path):
    """macOS's speech synthesizer writes AIFF whatever the file is called; read it with an
    independent writer (the stdlib aifc module, where it still exists)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        aifc = pytest.importorskip("aifc")
    x = tone(0.1, amp=0.5)
    for compression in (b"NONE", b"sowt"):
        path = tmp_path / f"{compression.decode()}.aiff"
        with aifc.open(str(path), "wb") as w:
            if compression != b"NONE":
                w.aifc()
                w.setcomptype(compression, b"")
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes((x * 32767).astype(">i2").tobytes())   # aifc byte-swaps for sowt itself
        samples, rate = read_audio(path)
        assert rate == RATE and np.allclose(samples, x, atol=1e-3), compression
