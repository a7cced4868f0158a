"""Every built-in routine validates, plans within its stated length, and says who it suits."""
import pytest

from voiceguide import builtin_names, load_routine
from voiceguide.timeline import plan
from voiceguide.script.model import Say

# The lengths each routine promises (minutes), from the routine library's brief.
STATED_MINUTES = {
    "hand-massage": (12, 15),
    "bedtime": (12, 20),
    "stress-relief": (5, 10),
    "desk-break": (2, 3),
    "musician": (5, 8),
    "athlete": (5, 8),
    "gentle": (6, 10),
    "daily": (4, 6),
    "hands-at-work": (3, 5),
    "stiff-hands": (10, 15),
    "cold-hands": (5, 10),
}


def test_the_whole_library_is_there():
    assert sorted(builtin_names()) == sorted(STATED_MINUTES)


@pytest.mark.parametrize("name", sorted(STATED_MINUTES))
def test_routine_plans_within_its_stated_length(name):
    routine = load_routine(name)
    low, high = STATED_MINUTES[name]
    total = plan(routine).total
    assert low * 60 <= total <= high * 60, f"{name}: {total / 60:.1f} min"


@pytest.mark.parametrize("name", sorted(STATED_MINUTES))
def test_routine_says_who_it_suits_and_opens_with_safety(name):
    routine = load_routine(name)
    assert routine.meta.description and routine.meta.suits and routine.meta.caution
    first_words = " ".join(s.text for s in routine.steps[:6] if isinstance(s, Say)).lower()
    assert any(word in first_words for word in ("hurt", "pain", "stop", "doctor")), first_words


@pytest.mark.parametrize("name", sorted(STATED_MINUTES))
def test_routine_holds_its_length_at_other_speeds(name):
    routine = load_routine(name)
    base = plan(routine).total
    assert plan(routine, speed=0.5).total > base > plan(routine, speed=2.0).total
    assert plan(routine, length=base * 1.1).total == pytest.approx(base * 1.1, abs=1e-6)


def test_hand_massage_covers_the_four_techniques_for_each_hand():
    sections = load_routine("hand-massage").sections
    for technique in ("effleurage", "petrissage", "friction", "tapotement"):
        sides = [s.side for s in sections if technique in s.title.lower() and s.side]
        assert sides == ["left", "right"], technique


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(STATED_MINUTES))
def test_routine_with_the_real_voice_stays_within_its_stated_length(name, builtin_speech):
    """The promise holds for the voice a user hears, not only for the planner's estimate."""
    prepared = builtin_speech[1][name]
    total = prepared.timeline.total
    low, high = STATED_MINUTES[name]
    assert low * 60 <= total <= high * 60, f"{name}: {total / 60:.1f} min with {prepared.narrator.engine.name}"
