"""`voiceguide list` and `plan` show the length the render will have: measured from the speech
cache when it holds every sentence, else the voice's calibrated pace, within 3 %.

Every built-in routine is narrated once with the real piper voice, as a render does
(`builtin_speech`, shared with test_routines): a render's file is exactly its measured
timeline long (checked here on one real WAV to the frame, and in test_render), so the
estimate is checked against what the renders would be, and the warm cache against them.
"""
from __future__ import annotations

import wave
from pathlib import Path

import pytest
from click.testing import CliRunner

from voiceguide import api, library
from voiceguide.cli import main
from voiceguide.lengths import LEGEND, format_length, length_timer, session_length

TOLERANCE = 0.03
NAMES = library.builtin_names()


def _entries(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file())


def _seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


@pytest.fixture(scope="module")
def cache(builtin_speech) -> Path:
    return builtin_speech[0]


@pytest.fixture(scope="module")
def rendered(builtin_speech, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[float, float, float]]:
    """name -> (estimated seconds with an empty cache, seconds of its render, its speech)."""
    empty = tmp_path_factory.mktemp("lengths-empty")
    results = {}
    for name, prepared in builtin_speech[1].items():
        expected = session_length(library.load_routine(name), cache=empty)
        assert not expected.measured and expected.engine == "piper"
        assert not prepared.warnings      # every sentence spoken by piper, none by a fallback
        speech = sum(e.duration for e in prepared.timeline.events if e.kind == "say")
        results[name] = (expected.seconds, prepared.timeline.total, speech)
    assert _entries(empty) == 0           # looking never synthesized anything
    return results


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_estimate_is_within_3_percent_of_the_render(rendered, name):
    estimate, seconds, speech = rendered[name]
    error = estimate / seconds - 1
    print(f"{name}: estimated {estimate:.1f} s, rendered {seconds:.1f} s ({error:+.2%}; speech {speech:.0f} s)")
    assert abs(error) <= TOLERANCE


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_warm_cache_gives_the_rendered_length_marked_measured(rendered, cache, name):
    before = _entries(cache)
    expected = session_length(library.load_routine(name), cache=cache)
    assert expected.measured
    assert expected.seconds == pytest.approx(rendered[name][1], abs=1e-9)
    assert not format_length(expected).startswith("~")
    assert _entries(cache) == before


@pytest.mark.slow
def test_a_real_file_is_as_long_as_list_says(cache, tmp_path):
    """The shortest built-in rendered from the warm cache: the WAV is the measured length."""
    expected = session_length(library.load_routine("desk-break"), cache=cache)
    result = api.render("desk-break", tmp_path / "desk.wav", cache_dir=cache, jobs=2, mono=True)
    assert not result.warnings
    assert expected.measured and _seconds(tmp_path / "desk.wav") == pytest.approx(expected.seconds, abs=1 / 44100)


@pytest.mark.slow
def test_list_marks_measured_and_estimated(rendered, cache, tmp_path):
    warm = CliRunner().invoke(main, ["list"], env={"VOICEGUIDE_CACHE_DIR": str(cache)})
    cold = CliRunner().invoke(main, ["list"], env={"VOICEGUIDE_CACHE_DIR": str(tmp_path / "empty")})
    assert warm.exit_code == cold.exit_code == 0, warm.output + cold.output
    for name in NAMES:
        measured = format_length(session_length(library.load_routine(name), cache=cache))
        row = next(line for line in warm.output.splitlines() if line.startswith(name + " "))
        assert row.split()[1] == measured and not measured.startswith("~")
        row = next(line for line in cold.output.splitlines() if line.startswith(name + " "))
        assert row.split()[1].startswith("~")
    assert LEGEND in warm.output and LEGEND in cold.output
    plan = CliRunner().invoke(main, ["plan", "desk-break"], env={"VOICEGUIDE_CACHE_DIR": str(cache)})
    assert plan.exit_code == 0 and "measured from the speech cache" in plan.output.splitlines()[-1]


def test_looking_starts_no_worker(tmp_path):
    timer = length_timer(library.load_routine("desk-break"), engine="auto", voice="default", cache=tmp_path)
    try:
        library.plan_routine(library.load_routine("desk-break"), timer=timer)
        assert timer.narrator is not None and timer.narrator.engine.workers_started == 0
        assert not timer.measured
    finally:
        timer.close()
    assert _entries(tmp_path) == 0


@pytest.mark.parametrize("name", ["desk-break"])      # bedtime too when calibrated: docs/routine-format.md
def test_espeak_estimate_is_within_3_percent(tmp_path, name):
    routine = library.load_routine(name)
    expected = session_length(routine, api.settings(routine, engine="pyttsx3"), tmp_path / "cache")
    assert not expected.measured and expected.engine == "pyttsx3"
    result = api.render(routine, tmp_path / "out.wav", engine="pyttsx3", cache_dir=tmp_path / "cache", jobs=2, mono=True)
    assert not result.warnings
    seconds = _seconds(tmp_path / "out.wav")
    error = expected.seconds / seconds - 1
    print(f"{name} on espeak: estimated {expected.seconds:.1f} s, rendered {seconds:.1f} s ({error:+.2%})")
    assert abs(error) <= TOLERANCE
    again = session_length(routine, api.settings(routine, engine="pyttsx3"), tmp_path / "cache")
    assert again.measured and again.seconds == pytest.approx(seconds, abs=1 / 44100)
