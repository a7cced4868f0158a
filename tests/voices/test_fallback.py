"""Failure handling with real engines made to misbehave through the worker's fault hooks:
hung, crashed, empty, silent or erroring workers are replaced and retried; an engine that
keeps failing hands the sentence to the next engine; only when all fail does the render
stop, with an error naming the sentence."""
from __future__ import annotations

import sys
import time

import pytest

from voiceguide.voices import Engine, NarrationWarning, Narrator, Speech, SynthesisError, VoiceInfo
from voiceguide.voices.piper_engine import PiperEngine
from voiceguide.voices.pyttsx3_engine import Pyttsx3Engine

from .conftest import make_tokens, worker_pids

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inspects /proc")


@pytest.mark.parametrize("fault, reason", [
    ("hang", "timed out"),
    ("crash", "exited (code 70)"),
    ("empty", "empty audio file"),
    ("silent", "silence"),
    ("error", "injected failure"),
])
def test_one_bad_result_is_retried_on_a_fresh_worker(tmp_path, fault, reason):
    tokens = make_tokens(tmp_path / "tokens", 1)
    engine = Pyttsx3Engine(timeout=2.0, per_word_timeout=0.0,
                           env={"VOICEGUIDE_FAULT": fault, "VOICEGUIDE_FAULT_TOKENS": str(tokens)})
    try:
        speech = engine.synthesize("This sentence survives a broken worker.", "default", 1.0)
        assert speech.duration > 1.0 and speech.engine == "pyttsx3"
        assert len(engine.failures) == 1 and reason in engine.failures[0]
        assert not list(tokens.iterdir())                      # the fault fired exactly once
        assert engine.workers_started == 2                     # the bad worker was replaced
    finally:
        engine.close()


@linux_only
def test_hung_worker_is_killed_not_leaked(tmp_path):
    before = worker_pids()
    tokens = make_tokens(tmp_path / "tokens", 1)
    engine = Pyttsx3Engine(timeout=1.5, per_word_timeout=0.0,
                           env={"VOICEGUIDE_FAULT": "hang", "VOICEGUIDE_FAULT_TOKENS": str(tokens)})
    try:
        start = time.monotonic()
        engine.synthesize("Still here.", "default", 1.0)
        assert time.monotonic() - start < 10
        assert len(worker_pids() - before) == 1               # the hung one is gone
    finally:
        engine.close()
    assert worker_pids() - before == set()


def test_piper_hang_is_retried(tmp_path):
    tokens = make_tokens(tmp_path / "tokens", 1)
    engine = PiperEngine(timeout=3.0, per_word_timeout=0.0,
                         env={"VOICEGUIDE_FAULT_PIPER": "hang", "VOICEGUIDE_FAULT_PIPER_TOKENS": str(tokens)})
    try:
        speech = engine.synthesize("The neural voice recovers too.", "default", 1.0)
        assert speech.duration > 1.0 and speech.engine == "piper"
        assert len(engine.failures) == 1 and "timed out" in engine.failures[0]
    finally:
        engine.close()


def test_hanging_engine_falls_back_to_the_next_with_a_warning(espeak, tmp_path):
    broken = PiperEngine(timeout=2.0, per_word_timeout=0.0, retries=1, env={"VOICEGUIDE_FAULT_PIPER": "hang"})
    try:
        narrator = Narrator([broken, espeak], cache=tmp_path / "cache", jobs=1)
        with pytest.warns(NarrationWarning, match=r'piper could not speak "Keep breathing slowly\."'):
            speech = narrator.speech("Keep breathing slowly.", 1.0)
        assert speech.engine == "pyttsx3" and speech.duration > 0.8
        assert len(broken.failures) == 2 and all("timed out" in f for f in broken.failures)
        assert narrator.stats.fallbacks == 1
        # the fallback's audio is cached under the fallback engine's own key
        assert narrator.cache.get(narrator.request("Keep breathing slowly.", 1.0, index=1)) is not None
        assert narrator.cache.get(narrator.request("Keep breathing slowly.", 1.0, index=0)) is None
    finally:
        broken.close()


def test_prepare_never_drops_a_sentence(tmp_path, piper):
    """Two sentences fail on the primary engine; they are spoken by the fallback, the rest by
    the primary, in parallel, and every sentence comes back, in order."""
    tokens = make_tokens(tmp_path / "tokens", 2)
    flaky = Pyttsx3Engine(jobs=2, retries=0, env={"VOICEGUIDE_FAULT": "empty", "VOICEGUIDE_FAULT_TOKENS": str(tokens)})
    notices: list[str] = []
    texts = [f"This is sentence number {n}." for n in range(1, 7)]
    try:
        with Narrator([flaky, piper], cache=False, jobs=2, on_warning=notices.append) as narrator:
            speeches = narrator.prepare(texts, 1.0)
        assert len(speeches) == len(texts) and all(s.duration > 1.0 for s in speeches)
        assert sorted(s.engine for s in speeches) == ["piper"] * 2 + ["pyttsx3"] * 4
        assert len(notices) == 2 and all("using piper for it instead" in n for n in notices)
        assert narrator.stats.fallbacks == 2 and narrator.stats.synthesized == 6
    finally:
        flaky.close()


def test_all_engines_failing_raises_naming_the_sentence(tmp_path):
    silent = Pyttsx3Engine(retries=1, env={"VOICEGUIDE_FAULT": "silent"})
    empty = PiperEngine(retries=0, env={"VOICEGUIDE_FAULT_PIPER": "empty"})
    try:
        narrator = Narrator([silent, empty], cache=tmp_path / "cache", on_warning=lambda m: None)
        with pytest.raises(SynthesisError) as info:
            narrator.speech("Place both palms together.", 1.0)
        message = str(info.value)
        assert '"Place both palms together."' in message
        assert "pyttsx3: the engine returned silence" in message
        assert "piper: the engine wrote an empty audio file" in message
        assert info.value.text == "Place both palms together."
        assert narrator.cache.info().entries == 0                 # nothing bad was cached
    finally:
        silent.close()
        empty.close()


class AlwaysFails:
    """Any object with the Engine protocol can take part, e.g. a future cloud-free engine."""

    name = "always-fails"
    version = "0"

    def available(self) -> bool:
        return True

    def unavailable_reason(self) -> str:
        return ""

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo("only", "en", self.name)]

    def voice_id(self, voice: str) -> str:
        return "only"

    def synthesize(self, text: str, voice: str = "default", speed: float = 1.0) -> Speech:
        raise SynthesisError(text, "this engine never works", self.name)

    def close(self) -> None:
        pass


def test_protocol_engine_falls_back_to_a_real_one(espeak, tmp_path):
    assert isinstance(AlwaysFails(), Engine)
    notices: list[str] = []
    narrator = Narrator([AlwaysFails(), espeak], cache=tmp_path / "c", on_warning=notices.append)
    speech = narrator.speech("Relax your jaw.", 1.0)
    assert speech.engine == "pyttsx3" and speech.duration > 0.5
    assert notices and "this engine never works" in notices[0]


class Unstartable(Pyttsx3Engine):
    """An installed-looking engine whose worker cannot even start (broken install)."""

    backend = "voiceguide.voices.no_such_backend:Backend"


def test_engine_that_cannot_start_falls_back(espeak, tmp_path):
    notices: list[str] = []
    broken = Unstartable(retries=1)
    narrator = Narrator([broken, espeak], cache=tmp_path / "c", on_warning=notices.append)
    speech = narrator.speech("Begin again.", 1.0)
    assert speech.engine == "pyttsx3"
    assert len(broken.failures) == 2
    assert "could not start" in notices[0] and "No module named 'voiceguide.voices.no_such_backend'" in notices[0]


def test_a_fallback_speaks_the_sessions_language_or_not_at_all(tmp_path, monkeypatch, piper):
    """German through espeak, which fails: piper may take the sentence only with a German
    voice (an added one: joe's weights under a German config stand in), never with joe reading
    German with English sounds."""
    from support.voices import joe_as_german

    failing = Pyttsx3Engine(retries=0, env={"VOICEGUIDE_FAULT": "error"})
    notices: list[str] = []
    try:
        with Narrator([failing, piper], language="de", voice="gmw/de", cache=False, jobs=1,
                      on_warning=notices.append) as narrator:
            with pytest.raises(SynthesisError) as info:
                narrator.speech("Atme ruhig ein.", 1.0)
        assert 'piper: piper has no voice for language "de"' in str(info.value)

        german = joe_as_german(tmp_path / "voices")
        monkeypatch.setenv("VOICEGUIDE_VOICE_DIR", str(tmp_path / "voices"))
        with Narrator([failing, piper], language="de", voice="gmw/de", cache=False, jobs=1,
                      on_warning=notices.append) as narrator:
            speech = narrator.speech("Atme ruhig ein.", 1.0)
            assert speech.engine == "piper" and speech.duration > 0.5
            assert narrator.request("Atme ruhig ein.", 1.0, index=1).voice.startswith(german)
        assert any("using piper for it instead" in n for n in notices)
    finally:
        failing.close()
