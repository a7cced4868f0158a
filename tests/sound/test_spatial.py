"""The voice at the hand being worked on: the head model (sound/spatial.py) measured on its
own, in the mix (only a {sides} copy's speech moves; everything else stays centred, and
every way of rendering agrees), and on a real render with a real voice."""
from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import signal
from scipy.io import wavfile

from voiceguide.script.model import Hold, Meta, Pause, Routine, Say, Section
from voiceguide.settings import DEFAULTS
from voiceguide.sound.blocks import collect
from voiceguide.sound.mix import mix
from voiceguide.sound.spatial import spatialize
from voiceguide.timeline import plan
from support.synthetic import SyntheticVoice

SR = 44100


def speechlike(seconds: float = 4.0, sr: int = SR) -> np.ndarray:
    """Noise tilted like speech (flat to 500 Hz, then -6 dB per octave) in syllable bursts."""
    rng = np.random.default_rng(7)
    x = signal.sosfilt(signal.butter(1, 500, "lowpass", fs=sr, output="sos"), rng.standard_normal(int(seconds * sr)))
    x += 0.05 * rng.standard_normal(len(x))            # some air above the tilt
    t = np.arange(len(x)) / sr
    x *= np.abs(np.sin(np.pi * 4 * t)) ** 1.5
    return (0.2 * x / np.abs(x).max()).astype(np.float32)


def band_db(y: np.ndarray, lo: float, hi: float, sr: int = SR) -> float:
    """Left minus right, in dB, of the power between lo and hi Hz."""
    spec = np.fft.rfft(np.asarray(y, np.float64), axis=0)
    f = np.fft.rfftfreq(len(y), 1 / sr)
    power = (np.abs(spec[(f >= lo) & (f < hi)]) ** 2).sum(axis=0)
    return float(10 * np.log10(power[0] / power[1]))


def lag_ms(y: np.ndarray, sr: int = SR) -> float:
    """How far the right channel lags the left (ms, cross-correlation peak, interpolated);
    negative when the right leads."""
    n = 1 << int(np.ceil(np.log2(2 * len(y))))
    cc = np.fft.irfft(np.conj(np.fft.rfft(y[:, 0], n)) * np.fft.rfft(y[:, 1], n), n)
    m = int(0.002 * sr)
    w = np.r_[cc[-m:], cc[:m + 1]]
    k = int(np.argmax(w))
    a, b, c = w[k - 1], w[k], w[k + 1]
    return float((k - m + 0.5 * (a - c) / (a - 2 * b + c)) / sr * 1e3)


def test_at_full_amount_the_far_ear_is_0_6_ms_late_and_loses_its_highs():
    x = speechlike()
    left = spatialize(x, "left", 1.0, SR)
    assert left.dtype == np.float32 and left.shape[1] == 2 and len(x) < len(left) < len(x) + 40
    assert 0.55 <= lag_ms(left) <= 0.65                       # the right ear (far) hears it later
    assert band_db(left, 2000, 6000) >= 6.0                   # head shadow on the far ear
    assert abs(band_db(left, 50, 500)) < 0.5                  # lows bend round the head
    right = spatialize(x, "right", 1.0, SR)
    assert np.array_equal(right, left[:, ::-1])               # the mirror image
    assert -0.65 <= lag_ms(right) <= -0.55


def test_the_default_is_gentle():
    x = speechlike()
    y = spatialize(x, "left", DEFAULTS["spatial"], SR)
    assert 2.0 <= band_db(y, 2000, 6000) <= 3.2
    assert 0.2 <= lag_ms(y) <= 0.3
    assert abs(band_db(y, 50, 500)) < 0.2


def test_amount_scales_it_and_zero_is_the_centre():
    x = speechlike()
    diffs = [band_db(spatialize(x, "left", a, SR), 2000, 6000) for a in (0.25, 0.5, 0.75, 1.0)]
    assert all(b > a + 1.0 for a, b in zip(diffs, diffs[1:]))
    centred = spatialize(x, "left", 0.0, SR)
    assert np.allclose(centred[:len(x), 0], x, atol=1e-6) and np.allclose(centred[:len(x), 1], x, atol=1e-6)


def test_the_near_ear_starts_on_the_clips_first_frame():
    x = np.zeros(SR, np.float32)
    x[1000:] = 0.1 * np.random.default_rng(3).standard_normal(SR - 1000)
    y = spatialize(x, "right", 1.0, SR)
    assert np.flatnonzero(np.abs(y[:, 1]) > 1e-7)[0] == 1000       # right = near
    assert np.flatnonzero(np.abs(y[:, 0]) > 1e-7)[0] >= 1000 + 20   # left = far, ~26 frames later
    with pytest.raises(ValueError):
        spatialize(x, "up", 1.0, SR)


# -- in the mix ---------------------------------------------------------------------------

def sides_timeline(voice: SyntheticVoice):
    words = "Stroke slowly from the fingertips to the wrist, again and again, keeping it light."
    sections = (
        Section("Start", 1, 1, True, None, (Say("Welcome. Sit comfortably and breathe out slowly.", 2), Pause(2.0, 3))),
        Section("Strokes, left side", 4, 2, True, "left", (Say(words, 5), Hold(3.0, 6))),
        Section("Strokes, right side", 4, 2, True, "right", (Say(words, 5), Hold(3.0, 6))),
        Section("End", 7, 1, True, None, (Say("Rest both hands together now.", 8), Pause(2.0, 9))),
    )
    return plan(Routine(Meta(title="Sides"), sections, "test"), timer=voice.timer)


def speech_frames(tl, m, title):
    idx = [i for i, s in enumerate(tl.sections) if s.title == title][0]
    out = []
    for e in tl.events:
        if e.section == idx and e.kind == "say":
            out.append(np.arange(int(e.start * m.sample_rate), int(e.end * m.sample_rate)))
    return np.concatenate(out)


def test_only_the_sides_speech_moves_and_every_rendering_agrees():
    voice = SyntheticVoice(sample_rate=SR)
    tl = sides_timeline(voice)
    m = mix(tl, voice, sample_rate=SR, ambient="none", spatial=1.0, chime="none")
    x = collect(m.blocks(4096))
    for title in ("Start", "End"):
        part = x[speech_frames(tl, m, title)]
        assert np.array_equal(part[:, 0], part[:, 1])                  # centred: the same in both ears
    left, right = x[speech_frames(tl, m, "Strokes, left side")], x[speech_frames(tl, m, "Strokes, right side")]
    assert lag_ms(left) > 0.5 and lag_ms(right) < -0.5
    assert band_db(left, 2000, 3400) > 4.0 and band_db(right, 2000, 3400) < -4.0   # the voice stops at 3.4 kHz
    # voice(), render() and blocks() agree to the sample, from any frame, in any block size
    assert np.array_equal(collect(m.blocks(1000)), x)
    rng = np.random.default_rng(1)
    for start in rng.integers(0, m.frames - 1, 8).tolist():
        n = int(rng.integers(1, 3 * SR))
        assert np.array_equal(m.render(start, n), x[start:start + n])
        assert np.array_equal(m.voice(start, n), x[start:start + n])    # no bed: the voice is all
    # mono has no sides
    mono = [collect(mix(tl, voice, sample_rate=SR, ambient="none", channels=1, spatial=a, chime="none").blocks())
            for a in (0.0, 1.0)]
    assert np.array_equal(mono[0], mono[1])


# -- a real render ------------------------------------------------------------------------

ROUTINE = """+++
title = "Sides"
ambient = "none"
+++

# Start
Welcome. Sit comfortably and let your breath slow down, all on its own. [pause 2s]

## Strokes {sides}
Rest your {side} hand in your lap. With the other hand, stroke slowly from the fingertips to the wrist, again and again, keeping the touch light and even. [hold 3s]

# Rest
Now rest both hands together in your lap, and let your shoulders soften. [pause 2s]
"""


def test_a_real_render_puts_the_voice_at_the_working_hand(tmp_path):
    from mutagen.wave import WAVE
    from voiceguide import api
    path = tmp_path / "sides.routine.md"
    path.write_text(ROUTINE)
    outputs = {}
    for amount in (0.0, 1.0):
        out = tmp_path / f"s{amount}.wav"
        api.render(str(path), out, engine="pyttsx3", spatial=amount, transcripts=("vtt",),
                   timeline=tmp_path / f"s{amount}.json", cache_dir=tmp_path / "cache")
        outputs[amount] = out
    with pytest.warns(wavfile.WavFileWarning):            # (our ID3 chunk, which scipy skips)
        sr, x = wavfile.read(outputs[1.0])
    x = x.astype(np.float64) / 32768
    tl = json.loads((tmp_path / "s1.0.json").read_text())
    for section in tl["sections"]:
        parts = [x[int(e["start"] * sr):int((e["start"] + e["duration"]) * sr)] for e in tl["events"]
                 if e["kind"] == "say" and e["section"] == section["title"]]
        y = np.concatenate(parts)
        side = section.get("side")
        if side is None:
            assert abs(band_db(y, 2000, 6000, sr)) < 0.5 and abs(band_db(y, 50, 500, sr)) < 0.5
            assert abs(lag_ms(y, sr)) < 0.05
        else:
            sign = 1 if side == "left" else -1
            assert 0.5 <= sign * lag_ms(y, sr) <= 0.7, section["title"]         # the near ear leads
            assert sign * band_db(y, 2000, 6000, sr) >= 6.0, section["title"]   # and hears more highs
            assert abs(band_db(y, 50, 500, sr)) < 0.5
    # the chapters and the transcript are those of the centred render
    chapters = [sorted((f.start_time, f.end_time) for f in WAVE(outputs[a]).tags.getall("CHAP")) for a in (0.0, 1.0)]
    assert chapters[0] == chapters[1] and len(chapters[0]) == 4
    assert (tmp_path / "s0.0.vtt").read_text() == (tmp_path / "s1.0.vtt").read_text()
