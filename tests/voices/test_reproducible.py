"""Reproducible to the byte: the same routine, settings and package versions give the same
WAV, from empty caches or a warm one, with one speech worker or several (docs/voices.md,
"Determinism"). piper samples noise inside its model; each sentence's noise is drawn from its
cache key, so its take does not depend on the worker or on what that worker spoke before."""
from __future__ import annotations

from pathlib import Path

import pytest

from voiceguide.api import render
from voiceguide.script.parse import parse_routine
from voiceguide.voices.narrator import Narrator
from conftest import routine_text

BODY = """\
# Start
Settle into your chair and let your shoulders drop. [pause 1s]
Breathe in slowly, and rest. [pause 1s]
Well done.
"""


@pytest.fixture(scope="module")
def routine(tmp_path_factory):
    path = tmp_path_factory.mktemp("routine") / "tiny.routine.md"
    path.write_text(routine_text(BODY, 'title = "Tiny"\nambient = "none"\nengine = "piper"'))
    return parse_routine(path.read_text(), str(path))


def _render(routine, folder: Path, cache: Path, jobs: int, warnings: list[str]) -> bytes:
    out = folder / f"j{jobs}-{cache.name}.wav"
    render(routine, out, engine="piper", cache_dir=cache, jobs=jobs, on_warning=warnings.append)
    return out.read_bytes()


def _entries(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def test_two_empty_caches_warm_cache_and_worker_counts_give_the_same_wav(routine, tmp_path, piper):
    first, second = tmp_path / "cache-a", tmp_path / "cache-b"
    warnings: list[str] = []
    cold_one_worker = _render(routine, tmp_path, first, 1, warnings)
    assert _entries(first) >= 3                       # it really synthesized, into its own cache
    cold_two_workers = _render(routine, tmp_path, second, 2, warnings)
    warm = _render(routine, tmp_path, first, 2, warnings)
    assert warnings == []                             # piper spoke every sentence (no fallback)
    assert len(cold_one_worker) > 44 + 2 * 44100      # a real WAV, seconds of audio
    assert cold_two_workers == cold_one_worker        # two empty caches, -j 2 vs -j 1
    assert warm == cold_one_worker                    # cold vs warm


def test_a_sentence_sounds_the_same_after_any_history(piper):
    text = "Press your thumb slowly into your palm."
    before = piper.synthesize(text, "default", 1.0).samples
    for other in ("Something else, longer, with many other words in it.", "Rest."):
        piper.synthesize(other, "default", 1.0)
    after = piper.synthesize(text, "default", 1.0).samples
    assert after.tobytes() == before.tobytes()
    # and the noise is really there: another seed gives another take of the same words
    other_seed = piper.seed(text, "default", 1.0) + 1
    assert piper._attempt(text, piper._voice_arg("default"), "joe", 1.0, other_seed).samples.tobytes() != before.tobytes()


def test_the_seed_is_the_narrators_cache_key(piper, tmp_path):
    narrator = Narrator(engine=piper, cache=tmp_path / "cache")
    text = "Now rest, for 3 breaths."
    spoken = narrator.normalize(text)
    assert piper.seed(spoken, "default", 0.9) == int(narrator.request(text, 0.9).key[:15], 16)
