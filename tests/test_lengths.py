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

from voiceguide import library
from voiceguide.cli import main
from voiceguide.lengths import LEGEND, format_length, length_timer, session_length
from voiceguide.render import RenderOptions, narrate_and_plan, render
from voiceguide.voices import Narrator

TOLERANCE = 0.03
NAMES = library.builtin_names()


def _entries(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file())


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
        result = render(library.load_routine(name), path, RenderOptions(cache=str(cache), jobs=2, mono=True))
        assert not result.warnings       # every sentence spoken by piper, none by a fallback
        with wave.open(str(path)) as w:
            seconds = w.getnframes() / w.getframerate()
        speech = sum(e.duration for e in result.timeline.events if e.kind == "say")
        results[name] = (estimates[name], seconds, speech)
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
    timer = length_timer(library.load_routine("desk-break"), cache=tmp_path)
    try:
        library.plan_routine(library.load_routine("desk-break"), timer=timer)
        assert timer.narrator is not None and timer.narrator.engine.workers_started == 0
        assert not timer.measured
    finally:
        timer.close()
    assert _entries(tmp_path) == 0


@pytest.mark.parametrize("name", ["desk-break", "bedtime"])
def test_espeak_estimate_is_within_3_percent(tmp_path, name):
    routine = library.load_routine(name)
    expected = session_length(routine, engine="pyttsx3", cache=tmp_path)
    assert not expected.measured and expected.engine == "pyttsx3"
    with Narrator(engine="pyttsx3", cache=tmp_path, pronounce=routine.meta.pronounce, jobs=2,
                  fallback=False) as narrator:
        timeline = narrate_and_plan(routine, RenderOptions(), narrator)
    error = expected.seconds / timeline.total - 1
    print(f"{name} on espeak: estimated {expected.seconds:.1f} s, measured {timeline.total:.1f} s ({error:+.2%})")
    assert abs(error) <= TOLERANCE
    again = session_length(routine, engine="pyttsx3", cache=tmp_path)
    assert again.measured and again.seconds == pytest.approx(timeline.total, abs=1e-9)
