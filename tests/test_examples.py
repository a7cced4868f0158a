"""The routines in examples/ are real sessions: they parse, lint clean and plan, and the
bedtime example uses every sound issue 14 added (rain, a 6 Hz to 3 Hz binaural glide, the
voice at the working hand)."""
from pathlib import Path

import pytest
from click.testing import CliRunner

from voiceguide import settings
from voiceguide.cli import main
from voiceguide.library import load_routine

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.routine.md"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_an_example_validates_and_lints_clean(path):
    result = CliRunner().invoke(main, ["validate", "--lint", str(path)])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output.lower(), result.output


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_an_example_plans(path):
    result = CliRunner().invoke(main, ["plan", "--json", str(path)])
    assert result.exit_code == 0, result.output


def test_the_rain_bedtime_example_uses_every_new_sound():
    routine = load_routine(str(EXAMPLES[[p.name for p in EXAMPLES].index("rain-bedtime.routine.md")]))
    chosen = settings.resolve({}, routine.meta.settings)
    assert chosen.ambient == "rain" and chosen.beat_mode == "binaural"
    assert settings.beat_glide(chosen.beat) == (6.0, 3.0)
    assert chosen.spatial > 0
    assert {s.side for s in routine.sections} >= {"left", "right"}
    assert any(s.ambient for s in routine.sections) and any(s.beat for s in routine.sections)
