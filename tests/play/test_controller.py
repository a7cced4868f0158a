"""The player against fake time: every key, measured on the frames it produces.

The controller renders output frames on demand (no device, no clock), so each test drives
it to an exact output frame, presses a key there, and compares what comes out with the mix
rendered directly at the program positions the key should lead to."""
from __future__ import annotations

import numpy as np
import pytest

from voiceguide.live import controller as C
from voiceguide.live.commands import Command
from voiceguide.live.output import soft_ceiling
from support.synthetic import SyntheticVoice

from .helpers import SR, controller, event, frames, rms_db, run, said


@pytest.fixture(scope="module")
def voice():
    return SyntheticVoice(sample_rate=SR)


@pytest.fixture(scope="module")
def straight(voice):
    ctl = controller(voice)
    return ctl, run(ctl)


def program(ctl):
    """The whole program as the mix renders it (ambient none: voice and chimes only)."""
    return ctl.mix.render(0, ctl.mix.frames)


def out_time(ctl, program_frame: int) -> float:
    """Output seconds at which straight play reaches `program_frame`."""
    return (program_frame - ctl.start) / SR


def assert_plays(x, k, ref, p, n=None):
    """Output from frame k equals the program from frame p (for n frames, default: to the end)."""
    n = min(len(x) - k, len(ref) - p) if n is None else n
    assert n > 0
    np.testing.assert_allclose(x[k:k + n], ref[p:p + n], atol=1e-6)


def test_plays_the_session_from_just_before_the_first_words(straight):
    ctl, x = straight
    first = ctl.mix.placements[0].start
    assert ctl.start == first - frames(C.PREROLL)
    assert len(x) == ctl.mix.frames - ctl.start
    ref = program(ctl)
    fade = frames(C.START_FADE)
    assert_plays(x, fade, ref, ctl.start + fade)
    assert np.all(np.abs(x[:fade]) <= np.abs(ref[ctl.start:ctl.start + fade]) + 1e-7)   # fading in
    assert ctl.state.mode == "end" and ctl.state.finished


def test_pause_fades_out_holds_silence_and_resumes_at_the_same_place(voice, straight):
    _, plain = straight
    ctl = controller(voice)
    ref = program(ctl)
    say = said(ctl, "Settle in")                      # "Settle in ..."
    t_pause = out_time(ctl, ctl.starts[say]) + 0.5  # in the middle of the words
    t_resume = t_pause + 3.0
    x = run(ctl, [(t_pause, Command.PAUSE), (t_resume, Command.PAUSE)])
    k, r = frames(t_pause), frames(t_resume)
    assert len(x) == len(plain) + (r - k)            # the pause added exactly its own length
    assert np.array_equal(x[:k], plain[:k])
    fade = frames(C.PAUSE_FADE)
    env = np.abs(x[k:k + fade]).max(axis=1) / (np.abs(plain[k:k + fade]).max(axis=1) + 1e-9)
    voiced = np.abs(plain[k:k + fade]).max(axis=1) > 1e-3
    assert np.all(np.diff(env[voiced]) <= 1e-3) and env[voiced][-1] < 0.02   # a fade, to nothing
    assert not x[k + fade:r].any()                   # then silence
    p = ctl.start + k                                 # where it paused
    resume = frames(C.RESUME_FADE)
    assert_plays(x, r + resume, ref, p + resume)      # resumes exactly there
    assert np.abs(x[r]).max() < np.abs(ref[p:p + resume]).max()   # fading back in


def test_resume_while_still_fading_out_goes_back_to_the_pause_point(voice):
    ctl = controller(voice)
    ref = program(ctl)
    t = out_time(ctl, ctl.starts[said(ctl, "Settle in")]) + 0.5
    x = run(ctl, [(t, Command.PAUSE), (t + 0.2, Command.PAUSE)])
    k = frames(t + 0.2) + frames(C.XFADE)
    assert_plays(x, k, ref, ctl.start + frames(t) + frames(C.XFADE), n=frames(1.0))


def test_skip_jumps_to_just_before_the_next_step(voice):
    ctl = controller(voice)
    ref = program(ctl)
    hold = event(ctl, "hold")
    t = out_time(ctl, ctl.starts[hold]) + 5.0
    x = run(ctl, [(t, Command.SKIP)])
    good = said(ctl, "Good.")                         # the next step
    target = ctl.starts[good] - frames(C.LEAD)
    xf = frames(C.XFADE)
    assert_plays(x, frames(t) + xf, ref, target + xf)
    assert len(x) == frames(t) + ctl.mix.frames - target


def test_skip_during_the_words_goes_to_the_hold_they_introduce(voice):
    ctl = controller(voice)
    ref = program(ctl)
    t = out_time(ctl, ctl.starts[said(ctl, "Settle in")]) + 0.3
    x = run(ctl, [(t, Command.SKIP)])
    target = ctl.starts[event(ctl, "hold")] - frames(C.LEAD)
    assert_plays(x, frames(t) + frames(C.XFADE), ref, target + frames(C.XFADE))


def test_repeat_replays_the_last_instruction(voice):
    ctl = controller(voice)
    ref = program(ctl)
    # in the second hold, after "Stretch your fingers wide.": that sentence again
    hold = event(ctl, "hold", 1)
    t = out_time(ctl, ctl.starts[hold]) + 4.0
    x = run(ctl, [(t, Command.REPEAT)])
    say = hold - 1
    assert ctl.events[say].text == "Stretch your fingers wide."
    target = ctl.starts[say] - frames(C.LEAD)
    xf = frames(C.XFADE)
    assert_plays(x, frames(t) + xf, ref, target + xf)
    # and the words are really heard again, from their first frame
    k = frames(t) + ctl.starts[say] - target
    assert np.abs(x[k:k + frames(0.3)]).max() > 0.01


def test_repeat_goes_back_to_the_start_of_a_multi_sentence_instruction(voice):
    ctl = controller(voice)
    ref = program(ctl)
    t = out_time(ctl, ctl.starts[event(ctl, "hold")]) + 2.0
    x = run(ctl, [(t, Command.REPEAT)])
    first = said(ctl, "Settle in")
    assert ctl.events[first].text.startswith("Settle in")
    assert_plays(x, frames(t) + frames(C.XFADE), ref, ctl.starts[first] - frames(C.LEAD) + frames(C.XFADE))


@pytest.mark.parametrize("when", ["during the hold", "during its instruction"])
def test_longer_adds_exactly_15_seconds_of_bed_before_the_end_chime(voice, straight, when):
    _, plain = straight
    ctl = controller(voice)
    ref = program(ctl)
    hold = event(ctl, "hold")
    t = out_time(ctl, ctl.starts[hold]) + 5.0 if when == "during the hold" else \
        out_time(ctl, ctl.starts[hold - 1]) + 0.5
    x = run(ctl, [(t, Command.LONGER)])
    step = frames(C.HOLD_STEP)
    assert len(x) == len(plain) + step
    end = frames(out_time(ctl, ctl.ends[hold]))      # output frame where the hold would end
    assert np.array_equal(x[:end], plain[:end])
    assert not x[end:end + step].any()                # bed only (here: no bed) ...
    assert_plays(x, end + step, ref, ctl.ends[hold])  # ... then the end chime and on


def test_longer_plays_the_bed_not_silence(voice):
    ctl = controller(voice, ambient="brown")
    hold = event(ctl, "hold")
    t = out_time(ctl, ctl.starts[hold]) + 5.0
    x = run(ctl, [(t, Command.LONGER)])
    end = frames(out_time(ctl, ctl.ends[hold]))
    before = rms_db(x[end - frames(10):end])
    during = rms_db(x[end + frames(1):end + frames(14)])
    assert during > -70 and abs(during - before) < 1.0
    # no step in the bed where the extension starts or ends
    d = np.abs(np.diff(x[end - 100:end + 100], axis=0)).max()
    assert d < 4 * np.abs(np.diff(x[end - frames(1):end - 100], axis=0)).max()


@pytest.mark.parametrize("at, cut", [(5.0, 15.0), (32.0, 8.0)])
def test_shorter_cuts_15_seconds_or_what_is_left(voice, straight, at, cut):
    _, plain = straight
    ctl = controller(voice)
    ref = program(ctl)
    hold = event(ctl, "hold")
    t = out_time(ctl, ctl.starts[hold]) + at
    x = run(ctl, [(t, Command.SHORTER)])
    assert len(x) == len(plain) - frames(cut)
    jump = frames(out_time(ctl, ctl.ends[hold])) - frames(cut)   # output frame of the cut
    xf = frames(C.XFADE)
    assert_plays(x, jump + xf, ref, ctl.ends[hold] + xf)         # straight to the end chime


def test_longer_then_shorter_cancel_out(voice, straight):
    _, plain = straight
    ctl = controller(voice)
    t = out_time(ctl, ctl.starts[event(ctl, "hold")]) + 3.0
    x = run(ctl, [(t, Command.LONGER), (t + 1, Command.LONGER), (t + 2, Command.SHORTER)])
    assert len(x) == len(plain) + frames(C.HOLD_STEP)


def test_longer_while_the_extra_bed_plays(voice, straight):
    _, plain = straight
    ctl = controller(voice)
    hold = event(ctl, "hold")
    end = out_time(ctl, ctl.ends[hold])
    # 15 s owed; 5 s into it, 15 s more; 10 s later 20 s are left, and 15 go
    x = run(ctl, [(end - 30, Command.LONGER), (end + 5, Command.LONGER), (end + 15, Command.SHORTER)])
    assert len(x) == len(plain) + frames(C.HOLD_STEP)
    # and when less than 15 s is left, all of it goes
    ctl = controller(voice)
    x = run(ctl, [(end - 30, Command.LONGER), (end + 10, Command.SHORTER)])
    assert len(x) == len(plain) + frames(10.0)


def test_hold_keys_outside_a_hold_do_nothing(voice, straight):
    _, plain = straight
    ctl = controller(voice)
    breathe = event(ctl, "breathe")
    t = out_time(ctl, ctl.starts[breathe]) + 1.0
    x = run(ctl, [(t, Command.LONGER), (t + 0.5, Command.SHORTER)])
    assert len(x) == len(plain)
    assert np.array_equal(x, plain)                   # silent cues: not one frame differs


@pytest.mark.parametrize("command, db", [(Command.LOUDER, C.VOLUME_STEP), (Command.SOFTER, -C.VOLUME_STEP)])
def test_volume_moves_the_level_by_one_step_smoothly(voice, straight, command, db):
    _, plain = straight
    ctl = controller(voice, gain_db=-6.0)             # (headroom: stay under the soft ceiling)
    base = run(controller(voice, gain_db=-6.0))
    say = said(ctl, "Settle in")
    t = out_time(ctl, ctl.starts[say]) + 0.2
    x = run(ctl, [(t, command)])
    k = frames(t)
    assert len(x) == len(base) and np.array_equal(x[:k], base[:k])
    glide = frames(0.1)
    voiced = np.abs(base[k + glide:]).max(axis=1) > 1e-3
    ratio = np.abs(x[k + glide:])[voiced].max(axis=1) / np.abs(base[k + glide:])[voiced].max(axis=1)
    assert np.allclose(20 * np.log10(ratio), db, atol=0.01)
    r = (np.abs(x[k:k + glide]).max(axis=1) + 1e-9) / (np.abs(base[k:k + glide]).max(axis=1) + 1e-9)
    v = np.abs(base[k:k + glide]).max(axis=1) > 1e-3
    assert np.abs(np.diff(20 * np.log10(r[v]))).max() < 0.05       # a glide, not a step


def test_volume_stops_at_its_limits(voice):
    ctl = controller(voice)
    presses = [(1.0 + 0.01 * i, Command.LOUDER) for i in range(10)]
    run(ctl, presses, limit=2.0)
    assert ctl.state.volume_db == C.VOLUME_RANGE[1]


def test_quit_fades_to_nothing_and_stops(voice, straight):
    _, plain = straight
    ctl = controller(voice)
    t = out_time(ctl, ctl.starts[said(ctl, "Settle in")]) + 0.4
    x = run(ctl, [(t, Command.QUIT)])
    k, fade = frames(t), frames(C.QUIT_FADE)
    assert len(x) == k + fade                          # the fade, then the end (silent cues)
    assert np.array_equal(x[:k], plain[:k])
    ramp = 1 - np.arange(1, fade + 1) / fade
    np.testing.assert_allclose(x[k:], plain[k:k + fade] * ramp[:, None].astype(np.float32), atol=1e-6)
    assert np.abs(x[-10:]).max() < 1e-3
    assert ctl.state.finished
    assert not ctl.apply(Command.PAUSE)                # nothing happens after quitting


def test_quit_while_paused_stops_after_its_chime(voice):
    ctl = controller(voice, cues=True)
    x = run(ctl, [(2.0, Command.PAUSE), (4.0, Command.QUIT)])
    chime = len(ctl.cues[Command.QUIT.value])
    assert len(x) == frames(4.0) + chime
    assert rms_db(x[-chime:]) > -60                   # the quit chime sounds over the silence


def dominant(x: np.ndarray) -> float:
    mag = np.abs(np.fft.rfft(x * np.hanning(len(x)), 16 * len(x)))
    return float(np.argmax(mag)) * SR / (16 * len(x))


def test_every_key_is_answered_by_a_soft_distinct_cue(voice):
    quiet = controller(voice)                         # no cues: what plays anyway
    hold = event(quiet, "hold")
    t0 = out_time(quiet, quiet.starts[hold]) + 2.0   # in the 40 s hold: nothing else sounds
    keys = [Command.LONGER, Command.SHORTER, Command.LOUDER, Command.SOFTER, Command.PAUSE,
            Command.PAUSE, Command.REPEAT, Command.SKIP]
    presses = [(t0 + 1.0 * i, c) for i, c in enumerate(keys)]
    ctl = controller(voice, cues=True)
    x = run(ctl, presses) - run(controller(voice), presses)   # the cues alone
    speech = rms_db(run(controller(voice))[frames(0.5):frames(t0 - 4)])
    names = ["longer", "shorter", "louder", "softer", "pause", "resume", "repeat", "skip"]
    signatures = []
    for (t, _), name in zip(presses, names):
        k, n = frames(t), len(ctl.cues[name])
        cue = x[k:k + n, 0]
        level = rms_db(cue)
        assert level > -50, f"the {name} cue must be heard"
        assert level < speech - 6, f"the {name} cue must stay under the voice"
        w = frames(0.06)
        signatures.append((round(dominant(cue[:w]) / 30), round(dominant(cue[-w - frames(0.02):-frames(0.02)]) / 30)))
    assert len(set(signatures)) == len(signatures), dict(zip(names, signatures))   # all different


def test_a_key_with_nothing_to_do_says_so(voice):
    ctl = controller(voice, cues=True)
    t = out_time(ctl, ctl.starts[event(ctl, "breathe")]) + 1.0
    ctl_plain = controller(voice, cues=True)
    plain = run(ctl_plain)
    x = run(ctl, [(t, Command.LONGER)])
    k = frames(t)
    assert len(x) == len(plain)
    extra = x[k:k + frames(0.3)] - plain[k:k + frames(0.3)]
    assert rms_db(extra) > -50                         # the low "nothing" cue


def test_describe_says_where_the_listener_is(voice):
    ctl = controller(voice)
    hold = event(ctl, "hold")
    run(ctl, [(out_time(ctl, ctl.starts[hold]) + 5.0, Command.LONGER)],
        limit=out_time(ctl, ctl.starts[hold]) + 10.0)
    now = ctl.describe()
    assert now.kind == "hold" and now.section == "Welcome"
    assert now.event_left == pytest.approx(40.0 - 10.0 + 15.0, abs=0.1)
    assert now.left == pytest.approx((ctl.mix.frames - ctl.state.cursor.position) / SR + 15.0, abs=0.1)
    assert 1 <= now.step <= now.steps == len(ctl.step_frames)


def test_soft_ceiling_keeps_samples_inside_full_scale():
    x = np.linspace(-3, 3, 1001, dtype=np.float32)[:, None]
    soft_ceiling(x)
    assert np.abs(x).max() < 1.0
    assert np.all(np.diff(x[:, 0]) >= 0)                # still monotonic ...
    moderate = np.abs(np.linspace(-3, 3, 1001)) < 1.5
    assert np.all(np.diff(x[moderate, 0]) > 0)          # ... and no flat top: not a hard clip
    y = np.linspace(-0.79, 0.79, 11, dtype=np.float32)[:, None]
    z = y.copy()
    soft_ceiling(z)
    assert np.array_equal(y, z)                         # nothing changes below the knee
