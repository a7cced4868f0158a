"""Fixtures for the narration tests: real engines (one shared worker pool each per session),
and a private cache directory for every test so nothing touches the user's cache."""
from __future__ import annotations

import pytest

from voiceguide.voices.piper_engine import PiperEngine
from voiceguide.voices.pyttsx3_engine import Pyttsx3Engine

SENTENCES = [
    "Let your shoulders drop, and breathe slowly in through the nose.",
    "Now press your thumb gently into the palm of your other hand and make small circles.",
    "Good.",
]


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _engine(cls, **options):
    engine = cls(jobs=2, **options)
    if not engine.available():
        pytest.skip(f"{engine.name} not usable here: {engine.unavailable_reason()}")
    return engine


@pytest.fixture(scope="session")
def piper():
    engine = _engine(PiperEngine)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def espeak():
    engine = _engine(Pyttsx3Engine)
    yield engine
    engine.close()


@pytest.fixture(params=["piper", "pyttsx3"])
def engine(request):
    return request.getfixturevalue("piper" if request.param == "piper" else "espeak")


_SPOKEN: dict = {}


@pytest.fixture(scope="session")
def spoken():
    """speak(engine, text, speed) memoized for the session, so several tests can look at
    the same real speech without synthesizing it again."""
    def speak(engine, text, speed=1.0):
        key = (engine.name, text, speed)
        if key not in _SPOKEN:
            _SPOKEN[key] = engine.synthesize(text, "default", speed)
        return _SPOKEN[key]
    return speak
