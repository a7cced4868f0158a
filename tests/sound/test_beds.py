import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import signal

from voiceguide.sound import beds
from voiceguide.sound.blocks import read_all
from voiceguide.sound.ffmpeg import decode
from voiceguide.sound.loudness import integrated_loudness

SR = 22050
RAW = {name: factory for name, factory in beds.BEDS.items()}


def slope_db_per_octave(x: np.ndarray, sr: int, lo: float, hi: float) -> float:
    f, p = signal.welch(x, sr, nperseg=8192)
    band = (f >= lo) & (f <= hi)
    fit = np.polyfit(np.log2(f[band]), 10 * np.log10(p[band]), 1)
    return fit[0]


@pytest.mark.parametrize("name", sorted(RAW))
def test_deterministic_for_a_seed_and_different_across_seeds(name):
    a = read_all(RAW[name](SR, 2, 5), 30000)
    b = read_all(RAW[name](SR, 2, 5), 30000)
    c = read_all(RAW[name](SR, 2, 6), 30000)
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("name", sorted(RAW))
def test_block_size_independent(name):
    a = read_all(RAW[name](SR, 2, 1), 60000, block_frames=1000)
    b = read_all(RAW[name](SR, 2, 1), 60000, block_frames=4096)
    assert np.array_equal(a, b)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(1, 9000), min_size=1, max_size=12))
def test_any_read_pattern_gives_the_same_stream(sizes):
    total = sum(sizes)
    whole = beds.brown(SR, 2, 3).read(total)
    src = beds.brown(SR, 2, 3)
    parts = np.concatenate([src.read(n) for n in sizes])
    assert np.array_equal(whole, parts)


def seam_score(x: np.ndarray, positions: np.ndarray) -> float:
    """How the third difference at chunk seams compares with its typical size elsewhere.
    A seam (restarted filter, phase jump) shows up as an outlier there."""
    d = np.abs(np.diff(x, n=3))
    typical = np.percentile(d, 99.9)
    at = d[np.clip(positions - 2, 0, len(d) - 1)]
    return float(at.max() / typical)


@pytest.mark.parametrize("name", sorted(RAW))
def test_no_seams_or_clicks(name):
    src = RAW[name](SR, 1, 2)
    x = read_all(src, src.chunk * 8)[:, 0].astype(np.float64)
    seams = np.arange(1, 8) * src.chunk
    assert seam_score(x, seams) < 1.5
    assert np.all(np.isfinite(x))


@pytest.mark.parametrize("name,expected", [("pink", -3.0), ("brown", -6.0)])
def test_spectrum_slope(name, expected):
    x = read_all(RAW[name](44100, 1, 0), 44100 * 20)[:, 0]
    assert slope_db_per_octave(x, 44100, 100, 8000) == pytest.approx(expected, abs=0.5)


def test_white_is_flat():
    x = read_all(beds.white(44100, 1, 0), 44100 * 10)[:, 0]
    assert slope_db_per_octave(x, 44100, 100, 15000) == pytest.approx(0.0, abs=0.3)


@pytest.mark.parametrize("name", sorted(RAW))
def test_calibrated_level_dc_and_stereo_width(name):
    src = beds.bed(name, SR, 2, seed=9)
    x = read_all(src, SR * 40)
    later = x[SR * 10:]      # a different stretch from the one calibration measured
    assert integrated_loudness(later, SR) == pytest.approx(beds.BED_LUFS, abs=1.5)
    assert np.abs(later.mean(axis=0)).max() < 2e-3          # no DC
    assert np.abs(x).max() < 0.9                              # gentle, with headroom
    corr = np.corrcoef(later[:, 0], later[:, 1])[0, 1]
    # Decorrelated L/R (the drone's channels share a chord, detuned differently).
    assert abs(corr) < (0.6 if name == "drone" else 0.2)


def test_ocean_swells():
    x = read_all(beds.bed("ocean", SR, 1, 0), SR * 60)[:, 0]
    levels = 10 * np.log10(np.mean(x.reshape(-1, SR // 2) ** 2, axis=1))
    assert levels.max() - levels.min() > 8      # waves come and go


def test_none_and_unknown():
    assert not beds.bed("none", SR, 2).read(100).any()
    with pytest.raises(ValueError, match="unknown ambient bed"):
        beds.bed("rainforest", SR, 2)


# -- user files ------------------------------------------------------------------------------

def write_wav(path, x, sr):
    import wave
    pcm = np.clip(np.round(x * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1 if x.ndim == 1 else x.shape[1])
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())


@pytest.fixture
def loop_file(tmp_path):
    # A tone whose end does not meet its start: looping it naively would jump.
    sr = SR
    t = np.arange(int(2.3 * sr)) / sr
    x = 0.4 * np.sin(2 * np.pi * 220 * t + 0.3) * (0.6 + 0.4 * t / t[-1])
    path = tmp_path / "loop.wav"
    write_wav(path, x, sr)
    return path


def test_file_bed_loops_with_a_seamless_crossfade(loop_file):
    src = beds.FileBed(loop_file, SR, 1, crossfade=0.5)
    original = decode(loop_file, SR, 1)[:, 0]
    period = src.period
    y = read_all(src, period * 4 + 123, block_frames=1000)[:, 0]
    # The first pass is the file itself; later passes repeat exactly.
    assert np.array_equal(y[:period], original[:period])
    assert np.array_equal(y[period:2 * period], y[2 * period:3 * period])
    # No jump at the wrap: a discontinuity shows up in the second difference; the loop's is
    # no bigger than the file's own (allowing for the coherent sum inside the crossfade).
    curvature = lambda z: np.abs(np.diff(z, n=2)).max()  # noqa: E731
    assert curvature(y) <= curvature(original) * 1.5
    naive = np.concatenate([original, original])
    assert curvature(naive) > curvature(original) * 10     # the test has teeth
    src.close()


def test_file_bed_is_block_size_independent_and_levelled(tmp_path):
    noise = read_all(beds.pink(SR, 2, 4), SR * 5) * 0.05          # a quiet recording
    path = tmp_path / "rain.wav"
    write_wav(path, noise, SR)
    a = read_all(beds.bed(str(path), SR, 2), SR * 12, block_frames=1000)
    b = read_all(beds.bed(str(path), SR, 2), SR * 12, block_frames=4096)
    assert np.array_equal(a, b)
    # Brought to the bed level, and the equal-power seams keep it there.
    assert integrated_loudness(a, SR) == pytest.approx(beds.BED_LUFS, abs=0.5)


def test_file_bed_missing_file():
    with pytest.raises(ValueError, match="unknown ambient bed"):
        beds.bed("/nonexistent/rain.mp3", SR, 2)
