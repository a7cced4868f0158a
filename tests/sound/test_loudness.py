import numpy as np
import pyloudnorm as pyln
import pytest
from scipy import signal

from voiceguide.sound.loudness import (LoudnessMeter, PeakMeter, TruePeakDetector, clip_loudness,
                                       gated_loudness, k_weighting_sos,
                                       integrated_loudness, true_peak)


def program(sr, seconds=20, seed=1):
    """Stereo noise with loud and quiet passages (so both gates matter)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((sr * seconds, 2)) * 0.1
    x[sr * 3: sr * 7] *= 0.01          # below the relative gate
    x[sr * 9: sr * 10] = 0.0           # below the absolute gate
    x[sr * 12: sr * 15] *= 2.5
    return x


@pytest.mark.parametrize("sr", [22050, 44100, 48000])
def test_streaming_meter_matches_pyloudnorm(sr):
    x = program(sr)
    meter = LoudnessMeter(sr, 2)
    for i in range(0, len(x), 3001):              # odd block size on purpose
        meter.add(x[i:i + 3001])
    exact = pyln.Meter(sr, filter_class="DeMan").integrated_loudness(x)   # BS.1770 coefficients
    assert meter.integrated() == pytest.approx(exact, abs=0.02)
    # pyloudnorm's default K-weighting is an RBJ approximation of the same filters.
    assert meter.integrated() == pytest.approx(pyln.Meter(sr).integrated_loudness(x), abs=0.2)


def test_reference_tone_reads_minus_3_lufs_per_channel():
    # EBU Tech 3341: a 997 Hz sine at 0 dBFS in one channel reads -3.01 LUFS.
    sr = 48000
    t = np.arange(sr * 5) / sr
    x = np.sin(2 * np.pi * 997 * t)
    assert integrated_loudness(x, sr) == pytest.approx(-3.01, abs=0.05)


def test_silence_and_short_clips():
    assert integrated_loudness(np.zeros(44100), 44100) == -np.inf
    sr = 22050
    short = np.sin(2 * np.pi * 440 * np.arange(int(0.25 * sr)) / sr) * 0.1   # under one block
    assert np.isfinite(clip_loudness(short, sr))
    assert clip_loudness(short * 2, sr) == pytest.approx(clip_loudness(short, sr) + 6.02, abs=0.01)


def test_true_peak_finds_intersample_peaks():
    sr = 44100
    n = np.arange(sr)
    # fs/4 sine sampled 45 degrees off its peaks: samples at 0.707, true peak 1.0.
    x = np.sin(2 * np.pi * n / 4 + np.pi / 4) * np.hanning(sr)
    assert np.abs(x).max() < 0.71
    assert true_peak(x) == pytest.approx(1.0, abs=0.02)


def test_true_peak_against_a_16x_reference():
    rng = np.random.default_rng(3)
    sr = 44100
    sos = signal.butter(8, 16000, fs=sr, output="sos")
    x = signal.sosfilt(sos, rng.standard_normal((sr * 2, 2)), axis=0) * 0.2
    reference = np.abs(signal.resample_poly(x, 16, 1, axis=0)).max()
    measured = true_peak(x)
    assert measured >= np.abs(x.astype(np.float32)).max()
    assert 20 * np.log10(measured / reference) == pytest.approx(0.0, abs=0.25)


def test_peak_meter_is_block_size_independent():
    x = program(44100, seconds=5)
    results = []
    for bs in (512, 4096, 44100):
        m = PeakMeter(2)
        for i in range(0, len(x), bs):
            m.add(x[i:i + bs])
        m.finish()
        results.append((m.true_peak, m.sample_peak))
    assert results[0] == results[1] == results[2]


def test_detector_reports_frames_with_a_fixed_lag():
    x = np.zeros((1000, 1), np.float32)
    x[500] = 0.5
    d = TruePeakDetector(1, threshold=0.0)
    env = np.concatenate([d.process(x[:300]), d.process(x[300:]), d.flush()])
    assert len(env) == 1000 + d.lag
    assert int(np.argmax(env)) == 500 + d.lag


@pytest.mark.parametrize("sr", [8000, 44100])
def test_meter_state_is_flushed_in_silence(sr):
    """Speech over a silent bed leaves long digital silence; the K-weighting state must not
    decay into denormal numbers (which made measuring 10x slower)."""
    meter = LoudnessMeter(sr, 2)
    meter.add(np.random.default_rng(0).standard_normal((sr, 2)) * 0.1)
    for _ in range(40):
        meter.add(np.zeros((8192, 2)))
    assert not meter._zi.any()
    assert np.isfinite(meter.integrated())


def test_sparse_true_peak_equals_full_oversampling(monkeypatch):
    """Near a few loud frames the detector interpolates just those frames; it must report
    exactly what oversampling the whole stretch reports."""
    from voiceguide.sound import loudness
    rng = np.random.default_rng(5)
    compared = 0
    for _ in range(50):
        n, channels = int(rng.integers(50, 4000)), int(rng.integers(1, 3))
        x = (rng.standard_normal((n, channels)) * 0.1).astype(np.float32)
        loud = rng.integers(0, n, int(rng.integers(1, 6)))
        x[loud] = rng.uniform(-1, 1, (len(loud), channels))
        threshold = float(rng.uniform(0.2, 0.9))
        envelopes = []
        for ratio in (0, 10 ** 12):           # always sparse, never sparse
            monkeypatch.setattr(loudness, "_SPARSE_RATIO", ratio)
            d = TruePeakDetector(channels, threshold)
            envelopes.append(np.concatenate([d.process(x), d.flush()]))
        sparse, full = (np.maximum(e, threshold) for e in envelopes)
        assert np.array_equal(sparse, full)
        compared += int((full > threshold).sum())
    assert compared > 100


def test_float32_meter_agrees_with_float64_filtering():
    sr = 44100
    x = program(sr, seconds=30)
    meter = LoudnessMeter(sr, 2)
    meter.add(x)
    y = signal.sosfilt(k_weighting_sos(sr), x, axis=0)          # float64 all the way
    hops = (y ** 2).sum(axis=1)[: len(y) // (sr // 10) * (sr // 10)].reshape(-1, sr // 10).sum(axis=1)
    blocks = np.convolve(hops, np.ones(4), mode="valid") / (0.4 * sr)
    assert meter.integrated() == pytest.approx(gated_loudness(blocks), abs=0.001)
