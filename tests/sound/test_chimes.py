import numpy as np
import pytest

from voiceguide.sound import chimes

SR = 44100


def window_db(x, seconds, sr=SR):
    w = int(seconds * sr)
    n = len(x) // w
    return 10 * np.log10(np.mean(x[:n * w].reshape(n, w).astype(np.float64) ** 2, axis=1) + 1e-30)


@pytest.mark.parametrize("name", sorted(chimes.SYNTHS))
def test_peak_level_soft_attack_and_clean_ending(name):
    x = chimes.SYNTHS[name](SR)
    assert x.dtype == np.float32
    assert np.abs(x).max() == pytest.approx(1.0, abs=1e-6)
    assert abs(x[0]) < 1e-3 and abs(x[-1]) < 1e-3          # starts and ends at zero
    first_ms = np.abs(x[: SR // 1000]).max()
    assert first_ms < 0.5                                   # no click: the attack takes time
    assert abs(float(x.mean())) < 1e-3                      # no DC


@pytest.mark.parametrize("name,drop_by,within", [("bowl", 25, 2.0), ("soft", 25, 0.8), ("start", 25, 2.5),
                                                 ("bell", 25, 1.0)])
def test_natural_exponential_decay(name, drop_by, within):
    x = chimes.SYNTHS[name](SR)
    levels = window_db(x, 0.1)
    # Decays steadily: each half-second quieter than the one before...
    half = window_db(x, 0.5)
    assert np.all(np.diff(half) < 0.5)
    # ...and by `drop_by` dB within `within` seconds of the peak.
    peak = int(np.argmax(levels))
    assert levels[peak + int(within / 0.1)] < levels[peak] - drop_by
    # Exponential: the level in dB falls roughly linearly over the first second.
    early = levels[peak:peak + 10]
    fit = np.polyfit(np.arange(len(early)), early, 1, full=True)
    assert fit[0][0] < 0 and np.sqrt(fit[1][0] / len(early)) < 4.0


def test_end_of_hold_chime_is_shorter_and_set_softer():
    assert len(chimes.soft(SR)) < len(chimes.bowl(SR))
    s = chimes.chime_set("bowl", SR)
    assert s.strike.name == "bowl" and s.soft.name == "soft"
    assert s.soft_lu < s.strike_lu - 6


def test_chime_from_assets_and_from_a_file(tmp_path):
    bowl = chimes.load("singing-bowl", SR)                  # audio_assets/singing-bowl.wav
    assert bowl.name == "singing-bowl" and bowl.sample_rate == SR and bowl.seconds > 5
    assert np.abs(bowl.samples).max() == pytest.approx(1.0, abs=1e-6)
    assert "singing-bowl" in chimes.available()
    path = tmp_path / "ding.wav"
    import wave
    tone = (0.5 * np.sin(2 * np.pi * 880 * np.arange(SR // 2) / 16000)).astype(np.float32)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes((tone * 32767).astype("<i2").tobytes())
    s = chimes.chime_set(str(path), SR)
    assert s.strike.name == "ding" and s.soft.name == "ding-soft"
    assert abs(s.strike.samples[0]) < 1e-3 and abs(s.strike.samples[-1]) < 1e-3   # file edges faded
    assert s.soft.seconds <= 1.5


def test_none_and_unknown():
    s = chimes.chime_set("none", SR)
    assert s.strike is None and s.soft is None and s.start is None and s.end is None
    with pytest.raises(ValueError, match="unknown chime"):
        chimes.load("gong-of-doom", SR)
