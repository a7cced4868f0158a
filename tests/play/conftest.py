"""A tiny routine spoken by the real voice, with its own speech cache (shared by all the player
tests, so each sentence is synthesized once per test run)."""
from __future__ import annotations

import pytest

from conftest import cache_dir_set

TINY = """+++
title = "Tiny"
ambient = "none"
+++

# Start {silent}

Rest your hands in your lap. [hold 1s]

Breathe out slowly.
"""


@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory):
    """One cache for every player test, not one a module (the root conftest's): they all play
    the tiny routine. `cache_env` (tests/conftest.py) puts it in VOICEGUIDE_CACHE_DIR."""
    return tmp_path_factory.mktemp("play-cache")


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
def tiny_spoken(speech_cache, tiny_file):
    """The play cache with the tiny routine's speech in it (as after a first run)."""
    from voiceguide import api
    from voiceguide.session import Resources, prepare
    routine = api.load(str(tiny_file))
    with cache_dir_set(speech_cache), prepare(routine, api.settings(routine), Resources(speech_cache)):
        pass
    return speech_cache


@pytest.fixture
def warm_cache(tiny_spoken, cache_env):
    """That warm cache, in VOICEGUIDE_CACHE_DIR for one test (restored afterwards)."""
    return cache_env
