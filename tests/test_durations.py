import pytest
from hypothesis import given, strategies as st

from voiceguide.script.durations import DurationError, format_clock, format_duration, parse_duration


@pytest.mark.parametrize("text, seconds", [
    ("500ms", 0.5), ("5s", 5), ("1.5s", 1.5), ("2m", 120), ("1m30s", 90), ("1h", 3600),
    ("1h2m3s", 3723), ("2m500ms", 120.5), (" 45S ", 45),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5", "s", "5x", "30s1m", "1m1m", "-5s", "1.s", "5 s", "ms", "1e3s"])
def test_parse_duration_rejects(text):
    with pytest.raises(DurationError):
        parse_duration(text)


@given(st.integers(min_value=1, max_value=10_000_000))
def test_precise_format_round_trips(ms):
    assert parse_duration(format_duration(ms / 1000, precise=True)) == pytest.approx(ms / 1000)


def test_format_for_people():
    assert format_duration(90) == "1m30s"
    assert format_duration(0.25) == "250ms"
    assert format_duration(210.06) == "3m30.1s"
    assert format_clock(75.2) == "1:15.2"
    assert format_clock(3725) == "1:02:05.0"
