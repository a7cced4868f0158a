"""Section beds (`{ambient rain}`) in live play: the bed follows the program position, not the
output clock. Played straight through it changes where the file's does; after a skip into a
rainy section the output's spectrum is rain's within the crossfade; a [wait] held long, or a
pause, does not bring the change early; and no bed's level ever jumps."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from voiceguide.live.commands import Command
from voiceguide.live.controller import Controller
from voiceguide.script.model import Hold, Meta, Routine, Say, Section, Wait
from voiceguide.sound import beds
from voiceguide.sound.bedschedule import FADE, plan_fades
from voiceguide.sound.mix import mix
from voiceguide.timeline import plan
from support.synthetic import SyntheticVoice

from .helpers import SR, frames, silent_cues

BLOCK = 400          # frames rendered between looks at the player's state


@pytest.fixture(scope="module")
def voice():
    return SyntheticVoice(sample_rate=SR)


def routine(wait: bool = False) -> Routine:
    """Brown, then a rainy section of bed alone (no words near its start), then brown again."""
    settle = (Say("Settle", 1, is_title=True), Say("Let your shoulders drop.", 2), Hold(30.0, 3),
              *((Wait(None, 4),) if wait else ()))
    return Routine(Meta(title="Beds"), (
        Section("Settle", 1, steps=settle),
        Section("Rain", 5, spoken=False, steps=(Hold(40.0, 6),), ambient="rain"),
        Section("Back", 7, steps=(Say("Back", 7, is_title=True), Hold(20.0, 8), Say("That is the end.", 9))),
    ), "beds")


def controller(voice: SyntheticVoice, wait: bool = False) -> Controller:
    m = mix(plan(routine(wait), timer=voice.timer), voice, sample_rate=SR, ambient="brown", chime="none")
    return Controller(m, cues=silent_cues())


def play(ctl: Controller, presses=(), until: float = 200.0) -> tuple[np.ndarray, list[tuple[int, int, tuple, int]]]:
    """Render to `until` seconds of output, pressing keys at output seconds; returns the
    output and (output frame, program position, bed presences, bed frames played) before
    each block."""
    presses = sorted((frames(t), c) for t, c in presses)
    out, seen = [], []
    done = 0
    while done < frames(until) and not ctl.state.finished:
        if presses and presses[0][0] <= done:
            ctl.apply(presses.pop(0)[1])
        n = min(BLOCK, presses[0][0] - done) if presses else BLOCK
        s = ctl.state
        seen.append((done, s.cursor.position, s.beds, s.bed_frames))
        x = ctl.render(n)
        out.append(x)
        done += len(x)
    return np.concatenate(out), seen


def shape(x: np.ndarray) -> np.ndarray:
    """Octave band levels (32 Hz to Nyquist) in dB, less their mean: the spectrum's shape."""
    f, p = signal.welch(x[:, 0], SR, nperseg=4096)
    edges = 2.0 ** np.arange(5, 13)
    levels = np.array([10 * np.log10(p[(f >= lo) & (f < 2 * lo)].sum()) for lo in edges])
    return levels - levels.mean()


@pytest.fixture(scope="module")
def alone():
    return {name: shape(beds.bed(name, SR, 2, 7).read(SR * 20)) for name in ("brown", "rain")}


def heard(x: np.ndarray, start: float, seconds: float, alone: dict) -> dict[str, float]:
    """How far (dB, worst band) the output's spectrum over [start, start + seconds) is from each bed's."""
    got = shape(x[frames(start):frames(start + seconds)])
    return {name: float(np.abs(got - ref).max()) for name, ref in alone.items()}


def rain(ctl: Controller, presences: tuple) -> float:
    return presences[ctl.beds.keys.index("rain")]


def test_straight_through_the_bed_changes_where_the_file_changes_it(voice, alone):
    ctl = controller(voice)
    x, seen = play(ctl, until=90)
    _, fades = plan_fades("brown", ctl.mix.options.ambient_changes, SR)
    to_rain, back = fades
    assert (to_rain.before, to_rain.after, back.after) == ("brown", "rain", "brown")
    # output frame = program position - where play started (nothing held it)
    assert all(p - out == ctl.start for out, p, *_ in seen)
    before = [rain(ctl, b) for out, p, b, _ in seen if p + BLOCK <= to_rain.start]
    during = [rain(ctl, b) for out, p, b, _ in seen if to_rain.end <= p and p + BLOCK <= back.start]
    after = [rain(ctl, b) for out, p, b, _ in seen if p >= back.end]
    assert set(before) == {0.0} and set(during) == {1.0} and set(after) == {0.0}
    # the presence climbs linearly over exactly the file's crossfade
    mid = next((p, b) for _, p, b, _ in seen if p >= (to_rain.start + to_rain.end) // 2)
    assert rain(ctl, mid[1]) == pytest.approx((mid[0] - to_rain.start) / (to_rain.end - to_rain.start), abs=1e-9)
    t = (to_rain.start - ctl.start) / SR           # output seconds where the crossfade starts
    assert heard(x, t - 12, 10, alone)["brown"] < 2.5
    assert heard(x, t + FADE + 2, 10, alone)["rain"] < 2.5


def test_after_a_skip_into_a_rainy_section_the_output_is_rain_within_the_crossfade(voice, alone):
    ctl = controller(voice)
    hold = next(i for i, e in enumerate(ctl.events) if e.kind == "hold")
    at = (ctl.starts[hold] - ctl.start) / SR + 15.0          # 15 s into Settle's hold: brown
    x, seen = play(ctl, [(at, Command.SKIP)], until=at + 30)
    jumped = next(p for out, p, *_ in seen if out >= frames(at))
    assert ctl.mix.timeline.sections[ctl.events[ctl.event_at(jumped + ctl.lead)].section].title == "Rain"
    before, after = heard(x, at - 9, 8.5, alone), heard(x, at + FADE, 10, alone)
    print(f"before the skip: {before}; from {FADE:g} s after it: {after}")
    assert before["brown"] < 2.5 and before["rain"] > 6
    assert after["rain"] < 2.5 and after["brown"] > 6
    assert rain(ctl, next(b for out, _, b, _ in seen if out >= frames(at + FADE))) == 1.0
    # no click: the crossfade is no sharper, sample to sample, than either bed on its own
    steps = np.abs(np.diff(x[:, 0]))
    steady = max(steps[frames(at - 9):frames(at - 1)].max(), steps[frames(at + FADE + 1):frames(at + 20)].max())
    assert steps[frames(at - 1):frames(at + FADE + 1)].max() <= steady * 1.05
    # and where the jump is, rain barely in yet: as smooth as brown alone (a restarted or
    # suddenly louder bed would step by about the bed's own amplitude, 0.05 here)
    brown = steps[frames(at - 9):frames(at - 1)].max()
    assert steps[frames(at - 0.5):frames(at + 0.5)].max() <= 2 * brown


def test_a_wait_held_long_keeps_its_bed_until_the_key(voice, alone):
    ctl = controller(voice, wait=True)
    wait = next(i for i, e in enumerate(ctl.events) if e.kind == "wait")
    planned_end = (ctl.ends[wait] - ctl.start) / SR       # where a file would be in the rain by now
    go_on = planned_end + 60
    x, seen = play(ctl, [(go_on, Command.SKIP)], until=go_on + 20)
    held = [b for out, _, b, _ in seen if frames(planned_end) <= out < frames(go_on)]
    assert held and {rain(ctl, b) for b in held} == {0.0}          # no rain while the wait holds
    assert heard(x, go_on - 12, 10, alone)["brown"] < 2.5
    assert heard(x, go_on + FADE, 10, alone)["rain"] < 2.5       # the key goes on into the rain


def test_a_pause_holds_the_bed_and_its_tape(voice):
    """Paused, the program and the bed's tape stand still; resumed, the change comes when the
    program reaches it, later by the time paused."""
    straight, paused = controller(voice), controller(voice)
    _, plain = play(straight, until=90)
    hold = next(i for i, e in enumerate(paused.events) if e.kind == "hold")
    at = (paused.starts[hold] - paused.start) / SR + 3.0
    _, seen = play(paused, [(at, Command.PAUSE), (at + 45, Command.PAUSE)], until=140)
    held = {bed for out, _, _, bed in seen if frames(at + 1) <= out < frames(at + 45)}
    assert len(held) == 1                     # the tape stands still: nothing to catch up on resume
    first_rain = [next(out for out, _, b, _ in runs if rain(ctl, b) > 0)
                  for ctl, runs in ((straight, plain), (paused, seen))]
    late = (first_rain[1] - first_rain[0]) / SR
    assert 45 - 1 <= late <= 45 + 1           # the pause, give or take its fades


def test_no_bed_level_ever_jumps(voice):
    """Skips and repeats back and forth across the change: each presence moves at most one
    crossfade step per frame, so the gains (smooth functions of them) never jump."""
    ctl = controller(voice)
    hold = next(i for i, e in enumerate(ctl.events) if e.kind == "hold")
    at = (ctl.starts[hold] - ctl.start) / SR + 2.0
    keys = [(at, Command.SKIP), (at + 1.0, Command.REPEAT), (at + 1.5, Command.SKIP), (at + 2.0, Command.SKIP),
            (at + 2.3, Command.REPEAT)]
    _, seen = play(ctl, keys, until=at + 30)
    fastest = 1.0 / min(ctl.beds.ramps)
    for (a, _, b0, _), (b, _, b1, _) in zip(seen, seen[1:]):
        assert max(abs(p - q) for p, q in zip(b0, b1)) <= (b - a) * fastest + 1e-9
    moves = np.sign(np.diff([rain(ctl, b) for _, _, b, _ in seen]))
    assert 1 in moves and -1 in moves and moves[np.nonzero(moves)[0][0]] == 1   # towards rain, then back


def test_the_bed_opened_late_brings_each_section_bed_to_the_tape(voice, alone):
    """As `voiceguide play` opens it: the mix's bed arrives in the background (LiveParts) and
    the tape takes the schedule's beds one by one; a skip then crossfades to rain."""
    from voiceguide.live.program import LiveParts
    from voiceguide.live.tape import BedTape
    from voiceguide.sound.mix import Mix, MixOptions
    live = LiveParts()
    m = Mix(plan(routine(), timer=voice.timer), voice, MixOptions(sample_rate=SR, ambient="brown", chime="none"),
            live.parts)
    tape = BedTape(SR, m.channels, 4 * SR)
    ctl = Controller(m, tape=tape, cues=silent_cues())
    hold = next(i for i, e in enumerate(ctl.events) if e.kind == "hold")
    ctl.render(frames(1.0))                        # the first words, before the bed is open
    live.open_bed(tape.attach)
    assert live.bed_error is None
    at = (ctl.starts[hold] - ctl.start) / SR + 15.0 - 1.0
    x, _ = play(ctl, [(at, Command.SKIP)], until=at + 20)
    assert heard(x, at - 9, 8.5, alone)["brown"] < 2.5
    assert heard(x, at + FADE, 10, alone)["rain"] < 2.5
