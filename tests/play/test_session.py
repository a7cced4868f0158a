"""Whole sessions with the real voice through a fake device and fake time: the run loop,
quitting, Ctrl-C, the start-up cache, and the loudness estimate."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from voiceguide.live.commands import Command
from voiceguide.live.controller import QUIT_FADE
from voiceguide.live.session import PlayOptions, Session
from support.player import FakeClock, FakeSink, ScriptedKeys
from voiceguide.cachedir import cache_dir
from voiceguide.live.warm import StartCache
from voiceguide import api
from voiceguide.session import Resources
from voiceguide.sound.loudness import integrated_loudness

RATE = 24000


def session_run(routine, script=(), rate=RATE, cache=True, **render):
    sink = FakeSink(rate, period=int(0.03 * rate))
    clock = FakeClock(sink)
    store = cache_dir()                                # this test is the face that finds the store
    with Session(routine, PlayOptions(api.settings(routine, **render), Resources(store))) as session:
        session.open(sink)
        session.prepare(start_cache=StartCache(cache_dir()) if cache else False)
        try:
            result = session.run(ScriptedKeys(clock, script), clock=clock, threaded=False)
        except KeyboardInterrupt:
            return None, sink.recorded, session
    return result, sink.recorded, session


def test_plays_to_the_end(cache_env, tiny):
    result, x, session = session_run(tiny)
    mix = session.controller.mix
    played = (mix.frames - session.controller.start) / RATE
    assert not result.stopped and result.stats.underruns == 0
    assert result.seconds >= played
    assert abs(len(x) / RATE - played) < 0.5           # then the loop ends (drained)
    assert np.abs(x).max() > 0.05


def test_q_fades_out_and_stops(cache_env, tiny):
    result, x, _ = session_run(tiny, [(1.0, Command.QUIT)])
    assert result.stopped
    assert len(x) / RATE < 1.0 + QUIT_FADE + 2.0       # the fade and the quit chime, no more
    assert np.abs(x[-100:]).max() < 1e-3


def test_ctrl_c_fades_out_then_interrupts(cache_env, tiny):
    result, x, session = session_run(tiny, [(1.0, "ctrl-c")])
    assert result is None                              # KeyboardInterrupt came through
    assert session.stream.finished                     # after the fade had played out
    k = int(1.0 * RATE)
    assert np.abs(x[k:k + int(0.05 * RATE)]).max() > np.abs(x[-int(0.1 * RATE):]).max()
    assert np.abs(x[-100:]).max() < 1e-3


def test_start_cache_serves_the_second_start(cache_env, tiny):
    first = session_run(tiny, [(3.0, Command.QUIT)])[1]
    cache = StartCache(cache_env)
    assert list(cache.path.glob("*/*.vgc"))            # chimes and their levels were stored
    assert list((cache_env / "clips").glob("*/*.vgc"))  # and the prepared clips (clip store)
    sink = FakeSink(RATE, period=720)
    with Session(tiny, PlayOptions(resources=Resources(cache_env))) as session:
        session.open(sink)
        session.prepare(start_cache=cache)
        assert cache.hits >= 2 and cache.misses == 0       # the chime set, the hold chime's level
        second = session.run(ScriptedKeys(FakeClock(sink), [(3.0, Command.QUIT)]),
                             clock=FakeClock(sink), threaded=False)
    assert second.stopped
    n = int(3.0 * RATE)
    assert np.array_equal(sink.recorded[:n], first[:n])   # the very same sound


def test_a_warm_start_does_not_import_scipy(cache_env, tiny_file):
    """The first second must not wait for scipy: with a warm cache, everything up to the
    first audio is rendered without it (checked in a fresh interpreter)."""
    session_run(__import__("voiceguide").load_routine(str(tiny_file)), [(1.0, Command.QUIT)])
    code = textwrap.dedent(f"""
        import sys
        from voiceguide import load_routine
        from voiceguide.live.session import PlayOptions, Session
        from pathlib import Path
        from voiceguide.session import Resources
        from support.player import FakeSink
        with Session(load_routine({str(tiny_file)!r}), PlayOptions(resources=Resources(Path({str(cache_env)!r})))) as session:
            session.open(FakeSink({RATE}))
            session.prepare()
            first = session.stream.read({RATE})
            assert abs(first).max() > 0.01, "the words have started"
            print("scipy.signal" in sys.modules, "scipy.ndimage" in sys.modules)
    """)
    tests = str(Path(__file__).resolve().parent.parent)           # where `support` lives
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [tests, os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"], out.stdout + out.stderr


def test_loudness_estimate_is_close_to_the_target(cache_env, tiny):
    result, x, _ = session_run(tiny, rate=48000, loudness=-16.0)
    assert integrated_loudness(x.astype(np.float64), 48000) == pytest.approx(-16.0, abs=1.0)
