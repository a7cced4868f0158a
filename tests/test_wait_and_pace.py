"""`[wait]` and `{pace}`: parsed, planned, rendered, and played.

A wait lasts the `wait` setting (or its own length) in a file and ends with a soft cue, clearly
quieter than a `[chime]`; live play holds the program there, the bed playing on, until space
or `n`. A `{pace}`d paragraph is spoken slower by the voice itself (measured on real speech).
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from voiceguide import api
from voiceguide.cli import main
from voiceguide.library import plan_session
from voiceguide.live.commands import Command
from voiceguide.live.controller import LEAD, XFADE, Controller
from voiceguide.live.status import format_status
from voiceguide.live.waits import SETTLE
from voiceguide.script.model import Say, Wait
from voiceguide.script.parse import RoutineError, parse_routine
from voiceguide.session import Resources, prepare
from voiceguide.settings import DEFAULTS, resolve
from voiceguide.sound.loudness import clip_loudness
from voiceguide.sound.mix import mix
from voiceguide.timeline import (HOLD_END_CHIME, estimate_speech, paced_speed, plan, speech_key,
                                 spoken)
from conftest import routine_text
from play.helpers import SR, frames, run, silent_cues
from support.player import FakeClock, FakeSink, ScriptedKeys
from support.synthetic import SyntheticVoice

WAITING = """\
Soak a small towel in warm water. [wait]

Wrap it around your hands. [hold 3s]

That is all.
"""


def routine(body: str, front: str = 'title = "T"\nambient = "none"') -> "Routine":
    return parse_routine(routine_text(body, front), "r.md")


def kinds(timeline) -> list[str]:
    return [e.kind for e in timeline.events]


# -- the script and the plan ------------------------------------------------------------------

def test_wait_parses_with_and_without_its_length():
    steps = routine("Warm a towel. [wait]\nOil your hands. [wait 1m30s]\n").steps
    assert [s for s in steps if isinstance(s, Wait)] == [Wait(None, 5), Wait(90.0, 6)]


def test_a_wait_lasts_the_setting_then_a_soft_cue():
    r = routine(WAITING)
    timeline = plan(r)
    i = kinds(timeline).index("wait")
    wait, cue = timeline.events[i], timeline.events[i + 1]
    assert wait.duration == DEFAULTS["wait"] == 30.0 and not wait.flexible
    assert cue.kind == "chime" and cue.step is wait.step and cue.duration == HOLD_END_CHIME
    longer = plan_session(r, resolve({"wait": "45s"}, r.meta.settings))
    assert [e.duration for e in longer.events if e.kind == "wait"] == [45.0]
    assert longer.total - timeline.total == pytest.approx(15.0)


def test_front_matter_wait_and_a_wait_of_its_own_length():
    r = routine("Warm a towel. [wait]\nOil your hands. [wait 10s]\n", 'title = "T"\nwait = "2m"')
    assert [e.duration for e in plan(r).events if e.kind == "wait"] == [120.0, 10.0]
    # an option beats the front matter, never a step's own length
    chosen = plan_session(r, resolve({"wait": 5}, r.meta.settings))
    assert [e.duration for e in chosen.events if e.kind == "wait"] == [5.0, 10.0]


@pytest.mark.parametrize("value, message", [
    ('"2h"', "r.md:3: wait: 2h is longer than 30m"),
    ('"0.5s"', "r.md:3: wait: 500ms is shorter than 1s"),
    ('"soon"', "r.md:3: wait: bad duration 'soon'"),
])
def test_front_matter_wait_out_of_range_is_an_error_at_its_line(value, message):
    with pytest.raises(RoutineError) as info:
        routine("Hi. [wait]\n", f'title = "T"\nwait = {value}')
    assert str(info.value).startswith(message), str(info.value)


def test_fitting_a_length_keeps_the_wait():
    r = routine(WAITING)
    natural = plan(r)
    fitted = plan(r, length=natural.total + 20)
    assert [e.duration for e in fitted.events if e.kind == "wait"] == [30.0]
    assert fitted.total == pytest.approx(natural.total + 20)


def test_the_transcript_and_the_picture_show_the_wait(tmp_path):
    from voiceguide.export.sidecars import txt
    from voiceguide.picture import draw_timeline
    timeline = plan(routine(WAITING + "[chime]\n"))
    text = txt(timeline)
    assert "(wait 30s)" in text and text.count("(chime)") == 1    # the wait's cue is no [chime]
    pytest.importorskip("matplotlib", reason="the picture needs the plot extra")
    draw_timeline(timeline, tmp_path / "t.png")
    assert (tmp_path / "t.png").stat().st_size > 1000


def test_plan_json_and_table_show_the_wait(tmp_path, cache_env):
    path = tmp_path / "w.routine.md"
    path.write_text(routine_text(WAITING, 'title = "T"'))
    runner = CliRunner()
    result = runner.invoke(main, ["plan", str(path), "--json", "--wait", "45s"])
    assert result.exit_code == 0, result.output
    events = json.loads(result.output)["events"]
    waits = [e for e in events if e["kind"] == "wait"]
    assert len(waits) == 1 and waits[0]["duration"] == 45.0
    assert events[events.index(waits[0]) + 1]["kind"] == "chime"
    table = runner.invoke(main, ["plan", str(path)])
    assert table.exit_code == 0 and "wait     live play waits for space or n" in table.output
    bad = runner.invoke(main, ["plan", str(path), "--wait", "31m"])
    assert bad.exit_code == 2 and "--wait" in bad.output and "longer than 30m" in bad.output


def test_pace_is_kept_per_paragraph_and_on_both_sides():
    r = routine("# Hands {sides}\nRub your {side} hand. Slowly now. {pace 0.7}\n\nThen rest.\n")
    says = [s for s in r.steps if isinstance(s, Say) and not s.is_title]
    assert [(s.text, s.pace) for s in says] == [
        ("Rub your left hand. Slowly now.", 0.7), ("Then rest.", 1.0),
        ("Rub your right hand. Slowly now.", 0.7), ("Then rest.", 1.0)]


def test_a_paced_paragraph_is_planned_at_its_own_speed():
    r = routine("Rub your hands. Slowly now. {pace 0.8}\n\nThen rest your hands.\n", 'title = "T"\nspeed = 1.25')
    timeline = plan(r)
    says = [e for e in timeline.events if e.kind == "say"]
    assert [e.pace for e in says] == [0.8, 0.8, 1.0]
    for e in says:
        assert e.duration == pytest.approx(estimate_speech(e.text, paced_speed(1.25, e.pace)))
    assert paced_speed(1.25, 0.8) == 1.0
    assert spoken(timeline) == [("Rub your hands.", 1.0), ("Slowly now.", 1.0), ("Then rest your hands.", 1.25)]


# -- the render: the cue at the end of a wait -------------------------------------------------

def test_the_wait_cue_is_audible_and_clearly_quieter_than_a_chime():
    """Measured in the mix: the [chime]'s strike and the wait's cue, each on its own."""
    voice = SyntheticVoice(sample_rate=SR)
    timeline = plan(routine("Begin. [chime] [pause 3s] [wait 3s] [pause 3s]\n"), timer=voice.timer)
    m = mix(timeline, voice, sample_rate=SR, ambient="none")
    chime = next(e for e in timeline.events if e.kind == "chime" and not isinstance(e.step, Wait))
    cue = next(e for e in timeline.events if e.kind == "chime" and isinstance(e.step, Wait))
    level = {}
    for name, event in (("chime", chime), ("cue", cue)):
        start = frames(event.start)
        level[name] = clip_loudness(m.render(start, frames(1.0))[:, 0], SR)
    voice_level = m.options.speech_lufs
    print(f"[chime] {level['chime']:.1f} LUFS, wait cue {level['cue']:.1f} LUFS, voice {voice_level:.1f} LUFS")
    assert level["cue"] > voice_level - 20          # audible over a quiet bed
    assert level["chime"] - level["cue"] >= 6       # clearly quieter than a section chime


# -- live play --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def voice():
    return SyntheticVoice(sample_rate=SR)


def waiting_controller(voice, keys: bool = True, ambient: str = "brown") -> Controller:
    timeline = plan(routine(WAITING, 'title = "T"'), timer=voice.timer)
    ctl = Controller(mix(timeline, voice, sample_rate=SR, ambient=ambient), cues=silent_cues())
    ctl.wait_for_keys = keys
    return ctl


def render_until(ctl: Controller, seconds: float) -> np.ndarray:
    return np.concatenate([ctl.render(1000) for _ in range(frames(seconds) // 1000)])


def test_play_holds_at_a_wait_until_a_key_the_bed_playing_on(voice):
    ctl = waiting_controller(voice)
    wait = kinds(ctl.mix.timeline).index("wait")
    hold_at = ctl.starts[wait] + frames(SETTLE)
    x = render_until(ctl, 300.0)                    # five minutes of output, no key
    cursor = ctl.state.cursor
    assert cursor.waiting and cursor.position == hold_at       # the program has not moved on
    assert ctl.describe().kind == "wait" and "waiting: space or n" in format_status(ctl.describe())
    tail = x[-frames(60.0):]
    assert 1e-4 < np.sqrt(np.mean(tail ** 2)) < 0.2           # the bed, still playing
    assert ctl.state.mode == "play" and not ctl.state.finished


def next_step(ctl: Controller) -> int:
    """Where going on from the wait lands: just before "Wrap it around your hands."."""
    nxt = next(i for i, e in enumerate(ctl.events) if e.kind == "say" and e.text.startswith("Wrap"))
    return ctl.starts[nxt] - ctl.lead


@pytest.mark.parametrize("key", [Command.PAUSE, Command.SKIP])
def test_space_or_n_goes_on_at_the_next_step(voice, key):
    ctl = waiting_controller(voice, ambient="none")      # no bed: the output is the program itself
    ref = ctl.mix.render(0, ctl.mix.frames)
    t = 100.0
    x = run(ctl, [(t, key)])
    target = next_step(ctl)
    k, xf = frames(t), frames(XFADE)
    assert len(x) == k + ctl.mix.frames - target          # went on from the next step, to the end
    np.testing.assert_allclose(x[k + xf:], ref[target + xf:], atol=1e-6)
    assert np.abs(x[k + frames(LEAD):k + frames(LEAD + 0.5)]).max() > 0.01   # the next words are heard


def test_space_on_the_way_into_a_wait_goes_on_rather_than_pausing(voice):
    ctl = waiting_controller(voice, ambient="none")
    wait = kinds(ctl.mix.timeline).index("wait")
    t = (ctl.starts[wait] - ctl.start) / SR + 0.5               # before the wait holds
    x = run(ctl, [(t, Command.PAUSE)])
    assert len(x) == frames(t) + ctl.mix.frames - next_step(ctl)
    assert ctl.state.mode == "end"


def test_repeat_in_a_wait_says_the_instruction_again_then_waits_again(voice):
    ctl = waiting_controller(voice, ambient="none")
    ref = ctl.mix.render(0, ctl.mix.frames)
    say = next(i for i, e in enumerate(ctl.events) if e.kind == "say" and e.text.startswith("Soak"))
    target = ctl.starts[say] - ctl.lead
    k, xf = frames(60.0), frames(XFADE)
    x = run(ctl, [(60.0, Command.REPEAT)], limit=200.0)
    np.testing.assert_allclose(x[k + xf:k + frames(2.0)], ref[target + xf:target + frames(2.0)], atol=1e-6)
    assert ctl.state.cursor.waiting and len(x) >= frames(200.0) - 1000   # held in the wait again


def test_without_keys_a_wait_lasts_its_planned_length(voice):
    ctl = waiting_controller(voice, keys=False)
    x = run(ctl)
    assert len(x) == ctl.mix.frames - ctl.start
    assert ctl.state.mode == "end"


class Recorder:
    """A status line that keeps (fake time, what is playing) at every look."""

    def __init__(self, clock):
        self.clock, self.seen = clock, []

    def say(self, text: str) -> None:
        pass

    def show(self, now, force: bool = False) -> None:
        self.seen.append((self.clock.now(), now))

    def close(self) -> None:
        pass


@pytest.mark.parametrize("key", [Command.PAUSE, Command.SKIP])
def test_a_real_session_waits_in_fake_time_until_the_key(cache_env, tmp_path, key):
    """The real voice through a fake sound card: the session's time left stands still in the
    wait (the fake clock runs on) until space or n, then the rest plays to the end."""
    from voiceguide.live.session import PlayOptions, Session
    path = tmp_path / "w.routine.md"
    path.write_text(routine_text(WAITING, 'title = "T"\nambient = "pink"'))
    r = api.load(str(path))
    rate = 24000
    sink = FakeSink(rate, period=int(0.03 * rate))
    clock = FakeClock(sink)
    status = Recorder(clock)
    press = 80.0
    with Session(r, PlayOptions(api.settings(r), Resources(cache_env))) as session:
        session.open(sink)
        session.prepare(start_cache=False)
        result = session.run(ScriptedKeys(clock, [(press, key)]), status, clock=clock, threaded=False)
        controller = session.controller
    waiting = [(t, now) for t, now in status.seen if now.kind == "wait"]
    assert waiting and waiting[-1][0] >= press - 0.5 and waiting[0][0] < 10.0
    held = [now.left for t, now in waiting if t > waiting[0][0] + SETTLE + 1.5 and t < press - 0.5]
    assert len(held) > 100 and max(held) - min(held) < 1e-9      # time left stood still
    assert not result.stopped
    recorded = len(sink.recorded) / rate
    rest = (controller.mix.frames - next_step(controller)) / rate
    assert abs(recorded - (press + rest)) < 1.0          # the rest of the session, after the key


# -- pace, on real speech ---------------------------------------------------------------------

SLOW = "Let your hands rest, heavy and warm, and let the day go."


def test_a_paced_paragraph_is_spoken_slower_by_the_voice(cache_env):
    """piper (joe) speaks the paragraph at 0.7 x the session's speed: measured on the speech
    the render mixes, the paragraph takes longer, the others exactly as long as without."""
    body = "Rub your palms together slowly.\n\n" + SLOW + " {pace 0.7}\n\nThat is the end.\n"
    durations = {}
    for name, text in (("paced", body), ("plain", body.replace(" {pace 0.7}", ""))):
        r = routine(text, 'title = "T"\nengine = "piper"\nvoice = "joe"\nambient = "none"')
        with prepare(r, api.settings(r), Resources(cache_env)) as prepared:
            m = prepared.mix(prepared.mix_options(Resources(cache_env)))
            durations[name] = {e.text: (e.duration, len(m.clips(speech_key(e.text, e.pace))) / m.sample_rate)
                               for e in prepared.timeline.events if e.kind == "say"}
            if name == "paced":
                request = prepared.narrator.request(SLOW, paced_speed(prepared.timeline.speed, 0.7))
                assert request.speed == pytest.approx(0.7)            # the cache key names the real speed
    paced, plain = durations["paced"], durations["plain"]
    ratio = paced[SLOW][1] / plain[SLOW][1]
    print(f"paced paragraph: {paced[SLOW][1]:.2f} s of speech at 0.7, {plain[SLOW][1]:.2f} s at 1.0 (x{ratio:.2f})")
    assert ratio > 1.25                                  # measurably slower (1/0.7 = 1.43 ideally)
    assert paced[SLOW][0] == pytest.approx(paced[SLOW][1], abs=0.05)   # the plan measured it
    for text in ("Rub your palms together slowly.", "That is the end."):
        assert paced[text] == plain[text]                # other paragraphs unchanged


def test_preview_plays_a_paced_paragraph_at_its_speed_and_a_wait_with_its_cue(cache_env):
    """The studio's preview: a {pace}d step is spoken (and mixed) at its own speed, and a
    wait step sounds its planned length, the bed, then the soft cue."""
    from voiceguide.preview import Previewer, Span
    body = "Rub your palms together slowly.\n\n" + SLOW + " {pace 0.7}\n\nWarm a towel. [wait 4s]\n"
    r = routine(body, 'title = "T"\nengine = "piper"\nvoice = "joe"\nambient = "none"')
    with Previewer(Resources(cache_env)) as previewer:
        timeline = api.plan(r, cache_dir=cache_env)
        slow = next(i for i, e in enumerate(timeline.events) if e.text == SLOW)
        heard = previewer.preview(r, api.settings(r), Span("event", slow))
        with prepare(r, api.settings(r), Resources(cache_env)) as prepared:
            measured = next(e.duration for e in prepared.timeline.events if e.text == SLOW)
        assert heard.duration == pytest.approx(measured, abs=0.02)        # the paced take, measured
        whole = previewer.preview(r, api.settings(r), Span("section", 0))
        measured_plan = api.plan(r, cache_dir=cache_env)           # every sentence is in the store now
        wait = kinds(measured_plan).index("wait")
        cue_at = measured_plan.events[wait + 1].start - whole.start
        rate = whole.sample_rate
        cue = whole.samples[int(cue_at * rate):int((cue_at + 1.0) * rate)]
        quiet = whole.samples[int((cue_at - 2.0) * rate):int((cue_at - 0.1) * rate)]
        assert measured_plan.events[wait].duration == 4.0
        assert np.abs(cue).max() > 0.01 and np.abs(quiet).max() < 1e-4   # the wait (no bed), then its cue
