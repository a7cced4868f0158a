"""`voiceguide list` and `plan` show the length the render will have: measured from the speech
cache when it holds every sentence, else the voice's calibrated pace, within 3 %.

Every built-in routine is rendered once to a WAV with the real piper voice (cold, one shared
cache folder), so the estimate is checked against real files, and the warm cache against the
same files to the frame.
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
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lengths-cache")


@pytest.fixture(scope="module")
def rendered(cache: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[float, float, float]]:
    """name -> (estimated seconds with the cache empty, seconds of the rendered WAV, its speech)."""
    out = tmp_path_factory.mktemp("lengths-renders")
    estimates = {}
    for name in NAMES:
        expected = session_length(library.load_routine(name), cache=cache)
        assert not expected.measured and expected.engine == "piper"
        estimates[name] = expected.seconds
    assert _entries(cache) == 0          # looking never synthesized anything
    results = {}
    for name in NAMES:
        path = out / f"{name}.wav"
        result = api.render(name, path, cache_dir=cache, jobs=2, mono=True)
        assert not result.warnings       # every sentence spoken by piper, none by a fallback
        speech = sum(e.duration for e in result.timeline.events if e.kind == "say")
        results[name] = (estimates[name], _seconds(path), speech)
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
    assert expected.seconds == pytest.approx(rendered[name][1], abs=1 / 44100)
    assert not format_length(expected).startswith("~")
    assert _entries(cache) == before


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


@pytest.mark.parametrize("name", ["desk-break", pytest.param("bedtime", marks=pytest.mark.slow)])
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
