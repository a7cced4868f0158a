"""End to end through the real device code: miniaudio's null backend (a sound card that
plays into nothing, in real time) pulling from the stream, with keys pressed in real time."""
from __future__ import annotations

import time

import pytest

from voiceguide.live.commands import Command
from voiceguide.live.device import MiniaudioSink, list_devices
from voiceguide.live.session import PlayOptions, Session
from voiceguide.session import Resources
from support.player import TimedKeys


def test_null_backend_is_listed():
    devices = list_devices("null")
    assert [d.name for d in devices] == ["NULL Playback Device"] and devices[0].backend == "Null"


def test_plays_through_the_null_device_without_a_gap(warm_cache, tiny):
    keys = TimedKeys([(1.0, Command.PAUSE), (2.0, Command.PAUSE), (2.5, Command.LOUDER),
                      (3.0, Command.SKIP)])
    with Session(tiny, PlayOptions(resources=Resources(warm_cache), backend="null")) as session:
        sink = session.open()
        assert isinstance(sink, MiniaudioSink) and sink.backend == "Null"
        session.prepare()
        started = time.monotonic()
        result = session.run(keys)
        wall = time.monotonic() - started
    stats = result.stats
    assert stats.underruns == 0
    # the audio thread was never kept waiting long enough for the device to run dry (the
    # background preparation imports scipy meanwhile)
    assert sink.max_interval < sink.buffer_seconds
    assert stats.first_sound is not None and stats.first_sound > started
    assert not result.stopped
    assert result.seconds == pytest.approx(wall, abs=0.6)   # played in real time, then stopped
    assert result.seconds > 3.5                             # (the pause added a second)
