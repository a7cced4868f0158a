"""A tiny routine spoken by the real voice, with its own speech cache (shared by the module's
tests, so each sentence is synthesized once per test run)."""
from __future__ import annotations

import pytest

TINY = """+++
title = "Tiny"
ambient = "none"
+++

# Start {silent}

Rest your hands in your lap. [hold 1s]

Breathe out slowly.
"""


@pytest.fixture(scope="session")
def play_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("play-cache")


@pytest.fixture
def cache_env(play_cache, monkeypatch):
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(play_cache))
    return play_cache


@pytest.fixture(scope="session")
def tiny_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("routines") / "tiny.routine.md"
    path.write_text(TINY)
    return path


@pytest.fixture
def tiny(tiny_file):
    from voiceguide.library import load_routine
    return load_routine(str(tiny_file))


@pytest.fixture(scope="session")
def warm_cache(play_cache, tiny_file):
    """The play cache with the tiny routine's speech in it (as after a first run)."""
    import os
    from voiceguide.library import load_routine
    from voiceguide.render import RenderOptions, narrate_and_plan
    from voiceguide.voices import Narrator
    os.environ["VOICEGUIDE_CACHE_DIR"] = str(play_cache)
    routine = load_routine(str(tiny_file))
    with Narrator(engine=routine.meta.engine, voice=routine.meta.voice, cache=play_cache,
                  pronounce=routine.meta.pronounce) as narrator:
        narrate_and_plan(routine, RenderOptions(), narrator)
    return play_cache
