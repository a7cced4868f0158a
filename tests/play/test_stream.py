"""The look-ahead stream: what the device gets is exactly what the controller renders, a key
takes back only audio the device has not been given, and the producer keeps up."""
from __future__ import annotations

import math
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from voiceguide.live.commands import Command
from voiceguide.live.session import SWITCH_INTERVAL
from voiceguide.live.stream import Stream
from support.player import FakeClock, FakeSink
from support.synthetic import SyntheticVoice

from .helpers import SR, controller, event, frames, run


@pytest.fixture(scope="module")
def voice():
    return SyntheticVoice(sample_rate=SR)


def play(ctl, presses=(), period=480):
    """Drive a synchronous stream with a fake sink; presses at fake seconds."""
    stream = Stream(ctl)
    stream.synchronous = True
    sink = FakeSink(SR, period=period)
    sink.start(stream.read)
    clock = FakeClock(sink)
    presses = sorted(presses, key=lambda p: p[0])
    splices = []
    limit = clock.now() + 300
    while not stream.finished:
        assert clock.now() < limit, "the session never ended"
        if presses and clock.now() >= presses[0][0]:
            _, command = presses.pop(0)
            read = sink.pulled()
            splices.append(math.ceil((read + stream.margin) / stream.block) * stream.block)
            stream.send(command)
        clock.sleep(0.01)
    return sink.recorded, stream, splices


def test_the_device_gets_exactly_what_the_controller_renders(voice):
    expected = run(controller(voice, ambient="brown"))
    got, stream, _ = play(controller(voice, ambient="brown"))
    assert np.array_equal(got[:len(expected)], expected)
    assert not got[len(expected):].any()               # then silence until the device stops
    assert stream.stats().underruns == 0


@pytest.mark.parametrize("command", [Command.PAUSE, Command.SKIP, Command.LONGER, Command.QUIT])
def test_a_key_takes_back_only_audio_not_yet_given_to_the_device(voice, command):
    ctl = controller(voice, ambient="brown", cues=True)
    t = (ctl.starts[event(ctl, "hold")] - ctl.start) / SR + 3.0
    presses = [(t, command)] + ([(t + 2.0, command)] if command is Command.PAUSE else [])
    got, stream, splices = play(ctl, presses)
    splice = splices[0]
    # the same keys pressed on a bare controller at the splice frames: the same audio, bit for bit
    expected = run(controller(voice, ambient="brown", cues=True),
                   [(f / SR, c) for f, (_, c) in zip(splices, presses)])
    assert np.array_equal(got[:len(expected)], expected)
    # and it is heard soon: within the margin and one block of the press
    assert splice - frames(t) <= stream.margin + stream.block + 480
    assert stream.stats().underruns == 0


def test_many_keys_in_a_row(voice):
    ctl = controller(voice, ambient="brown", cues=True)
    t = (ctl.starts[event(ctl, "hold")] - ctl.start) / SR + 1.0
    presses = [(t, Command.LONGER), (t + 0.02, Command.LOUDER), (t + 0.5, Command.PAUSE),
               (t + 1.0, Command.PAUSE), (t + 1.01, Command.SKIP), (t + 3, Command.REPEAT)]
    got, stream, splices = play(ctl, presses)
    assert len(splices) == len(presses)
    assert stream.stats().underruns == 0
    assert np.abs(got).max() < 1.0


def test_the_producer_keeps_up_on_a_busy_machine(voice):
    """Real time, as on a loaded two-core machine: two other processes spin on the CPUs, and a
    thread of our own competes for the interpreter (as speech preparation does at the start),
    while a sink pulls 30 ms periods on schedule. The ring buffer must never run dry."""
    ctl = controller(voice, ambient="ocean")
    stream = Stream(ctl)
    stream.pump(0.25)
    previous = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)            # as the session does
    stream.start()
    stop = threading.Event()

    def spin():
        x = 0
        while not stop.is_set():
            for i in range(10_000):
                x += i * i

    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    try:
        period = frames(0.03)
        start = time.monotonic()
        for i in range(100):                           # 3 seconds
            stream.read(period)
            time.sleep(max(0.0, start + (i + 1) * 0.03 - time.monotonic()))
    finally:
        stop.set()
        stream.stop()
        sys.setswitchinterval(previous)
        for p in spinners:
            p.kill()
            p.wait()
    assert stream.stats().underruns == 0
