"""sound/sections.py: what the section headings ask of the sound, read off the timeline."""
from __future__ import annotations

import numpy as np
import pytest

from voiceguide.sound.sections import GLIDE, beat_curve, section_beds, section_sides
from voiceguide.timeline import SectionSpan, Timeline


def timeline(*sections: tuple[float, float, dict]) -> Timeline:
    spans = tuple(SectionSpan(f"S{i}", start, duration, **attrs) for i, (start, duration, attrs) in enumerate(sections))
    total = max(s.start + s.duration for s in spans)
    return Timeline("T", 1.0, (), spans, total)


def at(curve, t: float) -> tuple[float, float]:
    """(beat Hz, presence) of the curve at `t` seconds (linear between knots)."""
    return float(np.interp(t, curve.times, curve.hz)), float(np.interp(t, curve.times, curve.level))


def test_sides_per_section():
    tl = timeline((0, 10, {}), (10, 10, {"side": "left"}), (20, 10, {"side": "right"}))
    assert section_sides(tl) == (None, "left", "right")


def test_no_beat_anywhere_is_none():
    assert beat_curve(timeline((0, 10, {}), (10, 10, {})), None, 20.0) is None


def test_the_session_glide_runs_linearly_over_the_whole_session():
    curve = beat_curve(timeline((0, 100, {}), (100, 100, {})), (10.0, 4.0), 240.0)   # 40 s of sleep tail
    assert at(curve, 0) == (10.0, 1.0)
    assert at(curve, 120) == pytest.approx((7.0, 1.0))
    assert at(curve, 240) == pytest.approx((4.0, 1.0))
    assert at(curve, 500) == pytest.approx((4.0, 1.0))          # held after the end


def test_a_section_beat_is_reached_over_the_glide_and_left_the_same_way():
    tl = timeline((0, 60, {}), (60, 60, {"beat": 6.0}), (120, 60, {}))
    curve = beat_curve(tl, (10.0, 10.0), 180.0)
    assert at(curve, 59.9) == pytest.approx((10.0, 1.0))
    assert at(curve, 60 + GLIDE / 2) == pytest.approx((8.0, 1.0))      # halfway there
    assert at(curve, 60 + GLIDE) == pytest.approx((6.0, 1.0))
    assert at(curve, 119.9) == pytest.approx((6.0, 1.0))
    assert at(curve, 120 + GLIDE / 2) == pytest.approx((8.0, 1.0))
    assert at(curve, 120 + GLIDE) == pytest.approx((10.0, 1.0))
    # the knots only ever move the frequency smoothly: no step anywhere
    t = np.linspace(0, 180, 180001)
    assert np.abs(np.diff(np.interp(t, curve.times, curve.hz))).max() < 4.0 / GLIDE * 0.001 * 1.01


def test_a_section_beat_over_a_glide_returns_to_where_the_glide_has_got_to():
    tl = timeline((0, 100, {}), (100, 50, {"beat": 4.0}), (150, 50, {}))
    curve = beat_curve(tl, (10.0, 6.0), 200.0)
    assert at(curve, 100) == pytest.approx((8.0, 1.0))                # the glide, until the section
    assert at(curve, 150 + GLIDE) == pytest.approx((10.0 - 4.0 * (150 + GLIDE) / 200, 1.0))


def test_without_a_session_beat_a_section_tone_fades_in_and_out_at_its_own_frequency():
    tl = timeline((0, 30, {}), (30, 30, {"beat": 6.0}), (60, 30, {}))
    curve = beat_curve(tl, None, 90.0)
    assert at(curve, 10) == (6.0, 0.0)
    assert at(curve, 30 + GLIDE / 2) == pytest.approx((6.0, 0.5))
    assert at(curve, 45) == (6.0, 1.0)
    assert at(curve, 60 + GLIDE / 2) == pytest.approx((6.0, 0.5))
    assert at(curve, 80) == (6.0, 0.0)


def test_short_sections_and_neighbours_that_ask_the_same():
    # a 2 s section: the glide takes all of it; two {sides} copies asking 6 Hz are one stretch
    tl = timeline((0, 10, {}), (10, 2, {"beat": 20.0}), (12, 20, {"beat": 6.0, "side": "left"}),
                  (32, 20, {"beat": 6.0, "side": "right"}), (52, 10, {}))
    curve = beat_curve(tl, (10.0, 10.0), 62.0)
    assert at(curve, 12) == pytest.approx((20.0, 1.0))
    assert at(curve, 12 + GLIDE) == pytest.approx((6.0, 1.0))
    assert at(curve, 32) == pytest.approx((6.0, 1.0)) and 32.0 not in curve.times   # no change between copies
    assert list(curve.times) == sorted(set(curve.times))


def test_section_beds_are_the_changes_of_bed():
    tl = timeline((0, 10, {}), (10, 10, {"ambient": "rain"}), (20, 10, {"ambient": "rain"}), (30, 10, {}))
    assert section_beds(tl, "brown") == ((10, "rain"), (30, "brown"))
    assert section_beds(timeline((0, 10, {}), (10, 10, {})), "brown") == ()
