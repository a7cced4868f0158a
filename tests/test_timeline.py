"""Planner invariants: events tile the session, holds are exact, speed changes narration only,
and a requested length is met to the millisecond."""
import json

import pytest
from hypothesis import given, settings, strategies as st

from voiceguide.library import builtin_names, load_routine
from voiceguide.timeline import (BREATHE_IN_CUE, FitError, estimate_speech, plan, spoken_texts)
from voiceguide.script.model import Hold
from conftest import routine_text
from voiceguide.script.parse import parse_routine

BODY = """\
# Warm up
Rub your palms together, briskly. Keep going. [hold 30s]
Rotate your wrists. [pause 5s]

## Stretch {sides}
Open your {side} hand wide. [pause 3s fixed]
[chime]
[breathe 2]
"""


@pytest.fixture
def routine():
    return parse_routine(routine_text(BODY), "t.md")


def assert_tiles(timeline):
    t = 0.0
    for event in timeline.events:
        assert event.start == pytest.approx(t, abs=1e-9)
        assert event.duration >= 0
        t = event.end
    assert timeline.total == pytest.approx(t, abs=1e-9)
    assert sum(e.duration for e in timeline.events) == pytest.approx(timeline.total, abs=1e-9)


def test_events_tile_the_session(routine):
    assert_tiles(plan(routine))


def test_sentences_become_say_events_in_order(routine):
    says = [e.text for e in plan(routine).events if e.kind == "say"]
    assert says[:3] == ["Warm up.", "Rub your palms together, briskly.", "Keep going."]
    assert "Open your left hand wide." in says and "Open your right hand wide." in says


def test_holds_fixed_pauses_and_breaths_are_exact(routine):
    for speed in (0.5, 1.0, 2.0):
        for length in (None, 150.0):
            timeline = plan(routine, speed=speed, length=length)
            assert [e.duration for e in timeline.events if e.kind == "hold"] == [30.0]
            fixed = [e for e in timeline.events if e.kind == "pause" and e.step and e.step.fixed]
            assert [e.duration for e in fixed] == [3.0, 3.0]
            assert [e.duration for e in timeline.events if e.kind == "breathe"] == [20.0, 20.0]


def test_hold_ends_with_a_chime(routine):
    events = plan(routine).events
    i = next(i for i, e in enumerate(events) if e.kind == "hold")
    assert events[i + 1].kind == "chime" and isinstance(events[i + 1].step, Hold)


def test_speed_scales_narration_and_gaps_only(routine):
    slow, fast = plan(routine, speed=0.5), plan(routine, speed=1.0)
    for a, b in zip(slow.events, fast.events):
        assert a.kind == b.kind
        if a.kind == "say" or (a.kind == "pause" and a.step is None and a is not slow.events[0]
                               and a is not slow.events[-1]):
            assert a.duration == pytest.approx(2 * b.duration)
        elif a.kind != "pause" or a.step is not None:
            assert a.duration == b.duration


def test_timer_supplies_narration_lengths(routine):
    timeline = plan(routine, timer=lambda text, speed: 2.0 / speed)
    assert {e.duration for e in timeline.events if e.kind == "say"} == {2.0}


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=0.5, max_value=2.0), st.floats(min_value=0.001, max_value=0.999))
def test_length_fit_is_exact_to_the_millisecond(speed, where):
    routine = parse_routine(routine_text(BODY), "t.md")
    free = plan(routine, speed=speed)
    with pytest.raises(FitError) as info:
        plan(routine, speed=speed, length=1e6)
    shortest, longest = info.value.shortest, info.value.longest
    assert shortest < free.total < longest
    length = round(shortest + where * (longest - shortest), 3)
    timeline = plan(routine, speed=speed, length=length)
    assert_tiles(timeline)
    assert abs(timeline.total - length) < 0.0005
    assert abs(sum(e.duration for e in timeline.events) - length) < 0.0005


def test_unfittable_length_names_the_range(routine):
    with pytest.raises(FitError) as info:
        plan(routine, length=5.0)
    message = str(info.value)
    assert message.startswith("cannot fit the session into 5s: at speed 1 it can be from ")
    assert info.value.shortest > 5.0


def test_front_matter_length_and_speed_apply():
    routine = parse_routine(routine_text(BODY, 'title = "T"\nlength = "3m"\nspeed = 0.8'), "t.md")
    timeline = plan(routine)
    assert timeline.total == pytest.approx(180.0, abs=1e-6) and timeline.speed == 0.8


def test_sections_spans_cover_their_events(routine):
    timeline = plan(routine)
    assert [s.title for s in timeline.sections] == ["Warm up", "Stretch, left side", "Stretch, right side"]
    for index, span in enumerate(timeline.sections):
        mine = [e for e in timeline.events if e.section == index]
        assert span.start == mine[0].start and span.start + span.duration == pytest.approx(mine[-1].end)


def test_json_schema(routine):
    data = json.loads(json.dumps(plan(routine).to_json()))
    assert set(data) == {"title", "total", "sections", "events"}
    assert all({"title", "start", "duration"} <= set(s) <= {"title", "start", "duration", "side", "beat",
                                                             "ambient", "voice"} for s in data["sections"])
    assert [s.get("side") for s in data["sections"]] == [s.side for s in routine.sections]
    assert all(set(e) == {"start", "duration", "kind", "section", "text"} for e in data["events"])
    assert {e["kind"] for e in data["events"]} == {"say", "pause", "hold", "chime", "breathe"}
    assert all(isinstance(e["start"], float) for e in data["events"])


def test_spoken_texts_include_breath_cues(routine):
    texts = spoken_texts(plan(routine))
    assert texts[0] == "Warm up." and BREATHE_IN_CUE in texts and len(texts) == len(set(texts))


def test_estimate_grows_with_words_and_shrinks_with_speed():
    short, long = estimate_speech("Relax.", 1.0), estimate_speech("Relax your hands and your shoulders now.", 1.0)
    assert long > short > 0
    assert estimate_speech("Relax your hands.", 2.0) == pytest.approx(estimate_speech("Relax your hands.", 1.0) / 2)
