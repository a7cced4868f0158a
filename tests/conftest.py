"""Shared test helpers: routine text, and the speech cache the tests render with."""
from __future__ import annotations

import textwrap
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from voiceguide.script.parse import parse_routine


def routine_text(body: str, front: str = 'title = "Test"') -> str:
    return f"+++\n{front}\n+++\n" + textwrap.dedent(body)


def quiet_routine(body: str, title: str = "Test") -> str:
    """A routine without an ambient bed: quick to render, and its speech easy to measure."""
    return routine_text(body, f'title = "{title}"\nambient = "none"')


@pytest.fixture(scope="session", autouse=True)
def own_data_folder(tmp_path_factory) -> Iterator[Path]:
    """voiceguide's data folder (added voices and phrase tables) is the tests' own, empty one:
    what the developer added never changes a result. Tests that add things set their own."""
    folder = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VOICEGUIDE_DATA_DIR", str(folder))
        yield folder


@pytest.fixture
def parse():
    def _parse(body: str, front: str = 'title = "Test"'):
        return parse_routine(routine_text(body, front), "test.routine.md")
    return _parse


@contextmanager
def cache_dir_set(folder: Path) -> Iterator[Path]:
    """VOICEGUIDE_CACHE_DIR is `folder` inside the block and as it was after it: for fixtures
    wider than one test, which cannot use the monkeypatch fixture."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VOICEGUIDE_CACHE_DIR", str(folder))
        yield Path(folder)


@pytest.fixture(scope="session")
def builtin_speech(tmp_path_factory) -> tuple[Path, dict[str, "Prepared"]]:
    """Every built-in routine narrated once with the real default voice, as a render would
    (its own settings, two workers), into one cache folder shared by the tests that need
    real lengths: (the folder, name -> the prepared session, closed, its timeline measured)."""
    from voiceguide import api, library
    from voiceguide.session import Resources, prepare
    folder = tmp_path_factory.mktemp("builtin-speech")
    prepared = {}
    for name in library.builtin_names():
        routine = api.load(name)
        with prepare(routine, api.settings(routine), Resources(folder, jobs=2)) as session:
            prepared[name] = session
    return folder, prepared


@pytest.fixture(scope="module")
def speech_cache(tmp_path_factory) -> Path:
    """The module's cache folder: its first render fills it and the rest render warm. One a
    module, so no module's cold or warm expectations depend on which modules ran before it."""
    return tmp_path_factory.mktemp("speech-cache")


@pytest.fixture
def cache_env(speech_cache) -> Iterator[Path]:
    """The module's warm cache in VOICEGUIDE_CACHE_DIR for one test (the CLI and batch read
    it there; hand the yielded folder to the library), restored afterwards."""
    with cache_dir_set(speech_cache) as folder:
        yield folder


@pytest.fixture
def private_cache(tmp_path) -> Iterator[Path]:
    """An empty cache of this test's own in VOICEGUIDE_CACHE_DIR, restored afterwards."""
    with cache_dir_set(tmp_path / "cache") as folder:
        yield folder
