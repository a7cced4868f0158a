"""The living nature beds (rain, stream, wind, fire), measured: each has its own character,
they differ from each other and from the noise beds, and they behave like every bed
(deterministic, seamless, calibrated, decorrelated, never looping, never clipping)."""
import itertools

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from scipy import signal

from voiceguide.sound import beds, nature, naturekit
from voiceguide.sound.bedseek import BedSeeker
from voiceguide.sound.blocks import read_all
from voiceguide.sound.loudness import integrated_loudness

SR = 22050
NATURE = ("rain", "stream", "wind", "fire")
OTHERS = ("white", "pink", "brown", "drone", "ocean")


# -- measurements ----------------------------------------------------------------------------

def band(x, lo, hi, sr=SR):
    return signal.sosfilt(signal.butter(4, [lo, hi], "bandpass", fs=sr, output="sos"), x)


def levels_db(x, frame):
    n = len(x) // frame
    return 10 * np.log10(np.mean(x[:n * frame].reshape(n, frame) ** 2, axis=1) + 1e-20)


def transients_per_second(x, lo, hi, rise_db, refractory=0.005, sr=SR):
    """Onsets in a band: 1 ms frames whose level is `rise_db` over the median of the 50 ms
    before them; onsets closer than `refractory` count once (a crackle and its echoes)."""
    lev = levels_db(band(x, lo, hi, sr), sr // 1000)
    before = np.median(sliding_window_view(lev, 50), axis=1)[:-1]
    hits = np.flatnonzero(lev[50:] > before + rise_db)
    count, last = 0, -np.inf
    for h in hits:
        if h - last >= refractory * 1000:
            count += 1
            last = h
    return count / ((len(lev) - 50) / 1000)


def centroid_octaves(x, seconds=0.25, sr=SR):
    """The spectral centroid of each `seconds`, in octaves (log2 Hz)."""
    f, _, s = signal.spectrogram(x, sr, nperseg=int(seconds * sr), noverlap=0)
    return np.log2((s * f[:, None]).sum(0) / s.sum(0))


def low_fraction(x, hz=300.0, sr=SR):
    f, p = signal.welch(x, sr, nperseg=8192)
    return float(p[f < hz].sum() / p.sum())


def flutter_db(x, lo=500, hi=5000, sr=SR):
    """How much the band's level moves from one 10 ms to the next within a second (median)."""
    lev = levels_db(band(x, lo, hi, sr), sr // 100)
    n = len(lev) // 100
    return float(np.median(lev[:n * 100].reshape(n, 100).std(axis=1)))


def drift_db(x, lo=500, hi=5000, sr=SR):
    """How much the band's level moves from one second to the next."""
    return float(levels_db(band(x, lo, hi, sr), sr).std())


def features(x):
    c = centroid_octaves(x)
    return {
        "centroid": float(c.mean()),                                   # octaves
        "wander": float(c.std()),                                      # octaves
        "wander_1s": float(np.corrcoef(c[:-4], c[4:])[0, 1]),         # slow (1) or jittery (0)
        "low": low_fraction(x),
        "drops": transients_per_second(x, 2000, 4000, 9.0),
        "snaps": transients_per_second(x, 2000, 8000, 12.0, refractory=0.03),
        "flutter": flutter_db(x),
        "drift": drift_db(x),
    }


@pytest.fixture(scope="module")
def minute():
    """One minute of every bed, calibrated, mono (the left channel of stereo: each channel
    is a bed of its own)."""
    return {name: read_all(beds.bed(name, SR, 2, 3), SR * 60)[:, 0].astype(np.float64)
            for name in (*NATURE, *OTHERS)}


@pytest.fixture(scope="module")
def feats(minute):
    return {name: features(x) for name, x in minute.items()}


# -- character -------------------------------------------------------------------------------

def test_rain_is_a_dense_shower_of_drops_across_a_wide_band(minute):
    x, pink = minute["rain"], minute["pink"]
    for lo, hi in ((1000, 2000), (2000, 4000), (4000, 8000)):
        rain_rate = transients_per_second(x, lo, hi, 9.0)
        assert rain_rate > 15, (lo, hi, rain_rate)                       # many drops a second...
        assert rain_rate > 10 * max(transients_per_second(pink, lo, hi, 9.0), 0.5)   # ...not noise
    f, p = signal.welch(x, SR, nperseg=4096)
    assert p[(f > 1000) & (f < 10000)].sum() > 0.9 * p.sum()            # broadband, and bright


def test_stream_is_a_steady_band_that_babbles_fast(feats):
    s = feats["stream"]
    assert s["flutter"] > 1.8 and s["flutter"] > 2 * feats["pink"]["flutter"]   # babble
    assert s["drift"] < 1.0                                             # yet steady over seconds
    assert 2 ** s["centroid"] > 1500 and s["low"] < 0.02                # a mid/high band
    assert abs(s["wander_1s"]) < 0.3                                    # no slow sweep
    assert s["snaps"] < 1.0                                             # babble, not crackle


def test_wind_is_a_band_that_wanders_slowly_without_transients(minute, feats):
    w = feats["wind"]
    assert w["wander"] > 0.3                       # the band moves by a good part of an octave
    assert w["wander_1s"] > 0.5                    # ... slowly: over seconds, not jitter
    assert 200 < 2 ** w["centroid"] < 1500
    assert transients_per_second(minute["wind"], 300, 2000, 12.0) < 0.5
    assert w["snaps"] < 0.5
    assert w["drift"] > 2.0                        # gusts come and go


def test_fire_is_sparse_crackles_over_a_low_rumble(minute, feats):
    f = feats["fire"]
    assert 2 < f["snaps"] < 20                     # countable crackles, a few to ~20 a second
    assert f["low"] > 0.9                          # the energy is the rumble below 300 Hz
    x = minute["fire"]
    lev = levels_db(band(x, 2000, 8000), SR // 1000)
    crackling = lev > np.median(lev) + 12
    assert crackling.mean() < 0.05                 # crackles are brief...
    assert np.percentile(lev, 99.9) > np.median(lev) + 30      # ...and sharp


def test_fire_is_quiet_between_crackles():
    """Between crackles only the rumble sounds: every band from 4 kHz up is typically (its
    median 10 ms) 70 dB under the bed. The rumble is made at a quarter of the rate and drawn
    up, and this is where images of that would show (at 11 kHz, 68 dB under, uncancelled)."""
    sr = 44100
    x = read_all(nature.Fire(sr, 1, 3), sr * 30)[:, 0].astype(np.float64)
    bed = 10 * np.log10(np.mean(x ** 2))
    for lo, hi in ((4000, 8000), (8000, 16000), (16000, 20000)):
        assert np.median(levels_db(band(x, lo, hi, sr), sr // 100)) < bed - 70, (lo, hi)


def test_wind_gusts_reach_the_right_channel_later():
    x = read_all(beds.bed("wind", SR, 2, 4), SR * 90).astype(np.float64)
    left, right = (levels_db(x[:, c], SR // 10) for c in (0, 1))       # 100 ms levels
    lag = round(nature.Wind.DELAY * 10)
    shifted = np.corrcoef(left[:-lag], right[lag:])[0, 1]
    assert shifted > 0.8                                                # the same gusts...
    assert shifted > np.corrcoef(left, right)[0, 1] + 0.03              # ...later on the right
    assert shifted > np.corrcoef(left[lag:], right[:-lag])[0, 1] + 0.03


def differences(a: dict, b: dict) -> list[str]:
    """The ways two beds clearly differ."""
    found = []
    if abs(a["centroid"] - b["centroid"]) > 0.5:
        found.append("centroid")
    if abs(a["low"] - b["low"]) > 0.3:
        found.append("low")
    for key, floor in (("drops", 3.0), ("snaps", 1.0)):
        hi, lo = max(a[key], b[key]), min(a[key], b[key])
        if hi > floor and hi > 3 * lo:
            found.append(key)
    if abs(a["flutter"] - b["flutter"]) > 1.0:
        found.append("flutter")
    if abs(a["drift"] - b["drift"]) > 2.0:
        found.append("drift")
    if abs(a["wander_1s"] - b["wander_1s"]) > 0.4:
        found.append("wander")
    return found


@pytest.mark.parametrize("a,b", list(itertools.combinations(NATURE, 2)))
def test_the_nature_beds_differ_from_each_other(feats, a, b):
    assert len(differences(feats[a], feats[b])) >= 2, (a, b, feats[a], feats[b])


@pytest.mark.parametrize("a,b", list(itertools.product(NATURE, OTHERS)))
def test_the_nature_beds_differ_from_the_other_beds(feats, a, b):
    assert differences(feats[a], feats[b]), (a, b, feats[a], feats[b])


# -- like every bed --------------------------------------------------------------------------

@pytest.mark.parametrize("name", NATURE)
def test_deterministic_and_read_pattern_independent(name):
    whole = read_all(beds.BEDS[name](SR, 2, 7), 100_000, block_frames=100_000)
    sizes = np.random.default_rng(1).integers(1, 20_000, 40)
    src = beds.BEDS[name](SR, 2, 7)
    parts, done = [], 0
    for n in sizes:
        n = int(min(n, 100_000 - done))
        parts.append(src.read(n))
        done += n
        if done == 100_000:
            break
    assert np.array_equal(whole, np.concatenate(parts))
    assert not np.allclose(whole, read_all(beds.BEDS[name](SR, 2, 8), 100_000))


@pytest.mark.parametrize("name", NATURE)
def test_snapshots_and_seeking_give_the_same_samples(name):
    bed = beds.bed(name, SR, 2, 1)
    run = bed.restarted()
    run.read(54_321)
    twin = run.snapshot()
    assert np.array_equal(run.read(40_000), twin.read(40_000))
    whole = read_all(bed.restarted(), SR * 70 + 1000)
    seeker = BedSeeker(bed, SR, every=30.0)
    assert np.array_equal(seeker.at(SR * 70).read(1000), whole[SR * 70:])
    assert np.array_equal(seeker.at(SR * 65).read(1000), whole[SR * 65:SR * 65 + 1000])   # from a checkpoint


@pytest.mark.parametrize("name", NATURE)
def test_calibrated_like_the_other_beds(name):
    for seed in (0, 1, 2):
        x = read_all(beds.bed(name, SR, 2, seed), SR * 300)
        assert integrated_loudness(x, SR) == pytest.approx(beds.BED_LUFS, abs=1.5)
        windows = [integrated_loudness(x[i:i + 30 * SR], SR) for i in range(0, len(x), 30 * SR)]
        assert max(abs(w - beds.BED_LUFS) for w in windows) < 3.5, windows


@pytest.mark.parametrize("name", NATURE)
def test_never_clips_never_nan_and_wide(name):
    for seed in (11, 12):
        x = read_all(beds.bed(name, SR, 2, seed), SR * 600, block_frames=65536)
        assert np.all(np.isfinite(x))
        assert np.abs(x).max() < 0.9
        assert np.abs(x.mean(axis=0)).max() < 2e-3
        assert abs(np.corrcoef(x[:, 0], x[:, 1])[0, 1]) < 0.1


@pytest.mark.parametrize("name", NATURE)
@pytest.mark.parametrize("rate,channels", [(8000, 1), (48000, 2), (96000, 1)])
def test_any_sample_rate_and_mono(name, rate, channels):
    x = read_all(beds.bed(name, rate, channels, 0), rate * 40)
    assert x.shape == (rate * 40, channels) and np.all(np.isfinite(x))
    assert np.abs(x).max() < 0.9
    assert integrated_loudness(x[rate * 10:], rate) == pytest.approx(beds.BED_LUFS, abs=2.0)


def repetition(x: np.ndarray, min_lag: float = 1.0) -> tuple[float, float]:
    """The strongest correlation of the level's fine movement (10 ms levels less their 2 s
    average) with itself at any lag from `min_lag` seconds on: a loop shows up as a peak
    near 1 at its length. Returns (peak, its lag in seconds)."""
    lev = levels_db(x, SR // 100)
    lev = lev - np.convolve(lev, np.ones(200) / 200, mode="same")
    lev = (lev - lev.mean()) / lev.std()
    n = len(lev)
    spec = np.fft.rfft(lev, 2 * n)
    ac = np.fft.irfft(spec * np.conj(spec))[:n] / (n - np.arange(n))
    lags = np.arange(int(min_lag * 100), n - 3000)            # at least 30 s of overlap
    k = lags[np.argmax(ac[lags])]
    return float(ac[k]), k * (SR // 100) / SR


@pytest.mark.parametrize("name", NATURE)
def test_no_repetition_over_minutes(name):
    x = read_all(beds.bed(name, SR, 1, 2), SR * 240)[:, 0].astype(np.float64)
    peak, lag = repetition(x)
    assert peak < 0.15, (peak, lag)
    looped = np.tile(x[:SR * 37], 7)                          # what a 37 s loop would be
    peak, lag = repetition(looped)
    assert peak > 0.8 and min(lag % 37, 37 - lag % 37) < 0.05  # (the measure does see loops)


def waveform_repetition(x: np.ndarray, min_lag: float = 0.02, overlap: float = 60.0) -> tuple[float, float]:
    """The strongest correlation of the waveform itself with itself at any lag from `min_lag`
    seconds on (with at least `overlap` seconds in common): a stretch of noise heard again,
    even under other drops, shows up as a peak at the time between the two hearings."""
    x = x - x.mean()
    n = len(x)
    spec = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(spec * np.conj(spec))[:n]
    ac = ac / ac[0] * n / (n - np.arange(n))
    lags = np.arange(int(min_lag * SR), n - int(overlap * SR))
    k = lags[np.argmax(np.abs(ac[lags]))]
    return float(ac[k]), k / SR


def test_the_rain_noise_never_comes_back():
    """Rain's bright noise is read from a ten-second table at random places: over four
    minutes no stretch of it comes back at any lag (fresh noise scores about 0.01 here)."""
    x = read_all(beds.bed("rain", SR, 1, 2), SR * 240)[:, 0].astype(np.float64)
    peak, lag = waveform_repetition(x)
    assert abs(peak) < 0.03, (peak, lag)


def test_rain_noise_read_in_order_would_show():
    """(the measure above sees the rain's noise table read in order, under fresh drops)"""
    rain = nature.Rain(SR, 1, 2)
    noise = rain._noise                    # make its random places consecutive stretches

    class InOrder:
        at = 0

        def integers(self, high):
            self.at = (self.at + rain.chunk) % high
            return self.at
    noise._rng = InOrder()
    peak, lag = waveform_repetition(read_all(rain, SR * 240)[:, 0].astype(np.float64))
    table = noise._period / SR
    assert peak > 0.5 and min(lag % table, table - lag % table) < 0.01, (peak, lag, table)


def test_table_noise_joins_keep_the_level_and_do_not_click():
    frames, fade, chunk = 2 ** 15, 64, 4096
    smooth = (np.arange(frames // 2 + 1) < frames // 20).astype(float)       # below a tenth of the rate
    table = naturekit.circular_noise(np.random.default_rng(0), frames, 2, smooth, 0.2, chunk + fade)
    assert table.shape == (frames + chunk + fade, 2) and np.array_equal(table[frames:], table[:chunk + fade])
    assert np.std(table[:frames], axis=0) == pytest.approx([0.2, 0.2], rel=1e-3)
    assert abs(np.corrcoef(table[:frames].T)[0, 1]) < 0.05                    # a noise per channel
    noise = naturekit.TableNoise(table, frames, np.random.default_rng(1), fade)
    ones = np.ones((chunk, 2), np.float32)
    x = np.stack([noise.shaped(ones) for _ in range(400)]).astype(np.float64)   # (chunks, chunk, 2)
    power = np.mean(x ** 2, axis=(0, 2))
    assert power[:fade].mean() == pytest.approx(power[fade:].mean(), rel=0.03)  # equal-power joins
    steps = np.abs(np.diff(x.reshape(-1, 2), axis=0))
    joins = steps[chunk - 1::chunk]
    inside = np.delete(steps, np.arange(chunk - 1, len(steps), chunk), axis=0)
    assert joins.max() < np.percentile(inside, 99.99)                        # no jump where they meet
    cuts = np.abs(table[5000:5400] - table[20000:20400])                     # (a bare cut would jump)
    assert np.median(cuts) > 4 * np.median(inside)
