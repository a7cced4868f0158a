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
def _private_cache(private_cache):
    """Every narration test gets `private_cache` (tests/conftest.py), asked for or not."""
    return private_cache


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


def make_tokens(directory, count: int):
    """A token directory for VOICEGUIDE_FAULT_TOKENS: the fault fires `count` times in all."""
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (directory / f"token{i}").touch()
    return directory


def worker_pids() -> set[int]:
    """Live worker processes that are children of this test process (Linux /proc)."""
    import os
    from pathlib import Path

    pids = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            state = stat.rsplit(")", 1)[1].split()[0]
            cmd = (proc / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == os.getpid() and state != "Z" and b"voiceguide.voices.worker" in cmd:
            pids.add(int(proc.name))
    return pids
