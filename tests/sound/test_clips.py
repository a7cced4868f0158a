import numpy as np
import pytest

from voiceguide.sound.clips import ClipCache, prepare_clip
from voiceguide.sound.loudness import clip_loudness
from support.synthetic import SyntheticVoice


def test_clip_is_resampled_levelled_dc_free_and_faded():
    x, sr = SyntheticVoice(sample_rate=16000, dc=0.3, level=0.2)("A sentence of some length here.")
    y = prepare_clip(x, sr, 44100)
    assert y.dtype == np.float32
    assert len(y) == pytest.approx(len(x) * 44100 / 16000, abs=2)
    assert clip_loudness(y, 44100) == pytest.approx(-20.0, abs=0.1)
    assert abs(float(y.mean())) < 1e-3
    assert y[0] == pytest.approx(0, abs=1e-3) and y[-1] == pytest.approx(0, abs=1e-3)


def test_integer_pcm_and_stereo_input():
    x, sr = SyntheticVoice()("Hello there.")
    pcm = np.round(np.stack([x, x], axis=1) * 32767).astype(np.int16)
    y = prepare_clip(pcm, sr, sr)
    z = prepare_clip(x, sr, sr)
    assert np.allclose(y, z, atol=2e-3)


def test_silent_clip_stays_silent_and_bad_samples_fail():
    assert not prepare_clip(np.zeros(1000, np.float32), 22050, 44100).any()
    assert len(prepare_clip(np.zeros(0, np.float32), 22050, 44100)) == 0
    with pytest.raises(ValueError, match="NaN"):
        prepare_clip(np.array([0.0, np.nan]), 22050, 22050)


def test_cache_is_bounded():
    loads = []
    cache = ClipCache(lambda t: loads.append(t) or np.zeros(1000, np.float32), max_bytes=12_000)
    for t in "abcabc":
        cache(t)
    assert loads == list("abc")          # three 4 kB clips fit: each prepared once
    for i in range(10):
        cache(str(i))
    assert cache._bytes <= 12_000        # older clips were evicted
    cache("a")
    assert loads[-1] == "a"


def vowels(sr=22050, seconds=2.0):
    """Voiced, vowel-like sound: harmonics of 140 Hz under a syllable envelope (PLR ~ 11 dB)."""
    t = np.arange(int(seconds * sr)) / sr
    tone = sum(np.sin(2 * np.pi * 140 * k * t + k) / k for k in range(1, 12))
    return (0.1 * tone * (0.3 + 0.7 * np.abs(np.sin(np.pi * 3 * t)))).astype(np.float32), sr


def test_speech_transients_are_held_to_the_peak_to_loudness_ratio():
    from voiceguide.sound.clips import SPEECH_PLR
    from voiceguide.sound.loudness import true_peak
    x, sr = vowels()
    clicked = x.copy()
    k = np.arange(200)
    clicked[5000:5200] += 0.9 * np.sin(2 * np.pi * 3000 * k / sr) * np.hanning(200)   # a plosive
    y = prepare_clip(clicked, sr, sr)
    assert 20 * np.log10(true_peak(y)) <= -20.0 + SPEECH_PLR + 0.3     # the click is shaved
    assert clip_loudness(y, sr) == pytest.approx(-20.0, abs=0.1)       # the level is kept
    plain = prepare_clip(x, sr, sr)
    assert np.allclose(y[:4000], plain[:4000], atol=0.02)              # the rest is untouched
    assert np.allclose(y[20000:], plain[20000:], atol=0.02)           # (after the release)


def test_clip_store_returns_the_prepared_clip_and_survives_corruption(tmp_path):
    from voiceguide.sound.clips import ClipStore, prepare_clip

    rng = np.random.default_rng(3)
    speech = (rng.standard_normal(22050) * 0.1).astype(np.float32)
    store = ClipStore(tmp_path)
    key = store.key(speech, 22050, 44100, -20.0)
    assert store.get(key) is None
    clip = prepare_clip(speech, 22050, 44100, level_lufs=-20.0)
    store.put(key, clip)
    assert np.array_equal(store.get(key), clip)
    assert store.key(speech, 22050, 48000, -20.0) != key          # settings are part of the key
    assert store.key(speech * 0.5, 22050, 44100, -20.0) != key    # and so are the samples
    store.store.path("clips", key).write_bytes(b"garbage")
    assert store.get(key) is None
    assert store.get(key) is None and not store.store.path("clips", key).exists()
