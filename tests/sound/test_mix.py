import numpy as np
import pytest
from .helpers import frames, rms_db, routine

from voiceguide.script.model import Breathe, Chime, Hold, Pause, Say
from voiceguide.sound.blocks import collect
from voiceguide.sound.mix import Mix, MixOptions, mix
from support.synthetic import SyntheticVoice
from voiceguide.timeline import BREATHE_IN_CUE, BREATHE_OUT_CUE, plan

SR = 22050


def render(timeline, voice, block=8192, **options):
    options.setdefault("sample_rate", SR)
    m = mix(timeline, voice, **options)
    return m, collect(m.blocks(block))


def test_speech_lands_exactly_where_the_timeline_says(timeline, voice):
    m, x = render(timeline, voice, ambient="none", chime="none", channels=1)
    assert len(x) == m.frames == frames(timeline.total, SR)
    voiced = np.zeros(len(x), bool)
    for e in timeline.events:
        if e.kind == "say":
            a, b = frames(e.start, SR), frames(e.end, SR)
            seg = x[a:b, 0]
            assert seg[0] != 0 and rms_db(seg) > -40, e.text     # starts on its first frame
            assert x[a - 1, 0] == 0                               # and not a frame earlier
            voiced[a:b] = True
        elif e.kind == "breathe":
            b = e.step
            for i in range(b.count):
                for t in (e.start + i * (b.inhale + b.exhale), e.start + i * (b.inhale + b.exhale) + b.inhale):
                    a = frames(t, SR)
                    n = len(m.clips(BREATHE_IN_CUE if t == e.start + i * (b.inhale + b.exhale) else BREATHE_OUT_CUE))
                    assert x[a, 0] != 0 and abs(x[a - 1, 0]) < 1e-6   # (may touch the words before)
                    voiced[a:a + n] = True
    assert not x[~voiced].any()            # nothing anywhere else: holds and pauses are silent


def test_holds_hold_nothing_but_the_bed(timeline, voice):
    with_voice = render(timeline, voice, ambient="pink", chime="none")[1]
    silent = SyntheticVoice(level=0.0)
    bed_only = render(timeline, silent, ambient="pink", chime="none", duck_db=0.0)[1]
    hold = next(e for e in timeline.events if e.kind == "hold")
    a, b = frames(hold.start + 1.2, SR), frames(hold.end, SR)      # after the duck release
    assert np.array_equal(with_voice[a:b], bed_only[a:b])
    assert rms_db(with_voice[a:b]) > -60                          # and the bed is there


def test_bed_ducks_about_8_db_under_the_voice(timeline):
    silent = SyntheticVoice(level=0.0)      # same timeline spans, no voice: hear the bed alone
    ducked = render(timeline, silent, ambient="brown", chime="none")[1]
    plain = render(timeline, silent, ambient="brown", chime="none", duck_db=0.0)[1]
    say = max((e for e in timeline.events if e.kind == "say"), key=lambda e: e.duration)
    a, b = frames(say.start + 0.05, SR), frames(say.end - 0.05, SR)
    assert rms_db(ducked[a:b]) - rms_db(plain[a:b]) == pytest.approx(-8.0, abs=0.3)
    hold = next(e for e in timeline.events if e.kind == "hold")
    a, b = frames(hold.start + 1.5, SR), frames(hold.end - 0.5, SR)
    assert rms_db(ducked[a:b]) - rms_db(plain[a:b]) == pytest.approx(0.0, abs=0.05)


def test_ducking_is_smooth_and_ahead_of_the_voice(timeline, voice):
    m = mix(timeline, voice, sample_rate=SR)
    g = np.concatenate([m.bed_gain_curve(i, 5000) for i in range(0, m.frames, 5000)])[:m.frames]
    say = next(e for e in timeline.events if e.kind == "say")
    start = frames(say.start, SR)
    # Fully ducked by the time the first word starts (the timeline lets the bed look ahead).
    full = m.bed_gain * m.fades.gain(np.array([say.start]))[0]
    assert g[start] == pytest.approx(full * 10 ** (-8 / 20), rel=1e-3)
    lead = frames(say.start - m.options.duck_attack, SR)
    assert g[lead] == pytest.approx(m.bed_gain * m.fades.gain(np.array([lead / SR]))[0], rel=1e-3)
    # No steps: the gain never moves more than a tiny fraction per frame.
    assert np.abs(np.diff(g)).max() < 2e-3 * m.bed_gain


def test_fades_dc_clipping_and_clean_edges(timeline):
    dirty = SyntheticVoice(dc=0.2, level=0.6)          # an engine with an offset, clips start abruptly
    m, x = render(timeline, dirty, ambient="ocean")
    assert np.abs(x).max() < 1.0                        # no clipping
    assert np.abs(x.mean(axis=0)).max() < 1e-3          # no DC
    assert np.abs(x[:5]).max() < 1e-4                   # bed fades in from silence
    assert np.abs(x[-5:]).max() < 1e-4                  # and out to silence
    assert np.abs(np.diff(x[: frames(0.01, SR)], axis=0)).max() < 1e-3
    # Every speech edge is faded: no big step where a clip starts or stops.
    voice_only = render(timeline, dirty, ambient="none", chime="none", channels=1)[1][:, 0]
    steps = np.abs(np.diff(voice_only))
    for e in timeline.events:
        if e.kind == "say":
            for edge in (frames(e.start, SR), frames(e.end, SR)):
                assert steps[edge - 3: edge + 3].max() < 0.02


def test_block_size_does_not_change_a_sample(timeline, voice):
    a = render(timeline, voice, block=1000, ambient="ocean")[1]
    b = render(timeline, voice, block=8192, ambient="ocean")[1]
    assert np.array_equal(a, b)


def test_sleep_tail_keeps_the_bed_going_and_fades_slowly(voice):
    tl = plan(routine(("Rest", (Say("Let yourself drift off to sleep now.", 1),))), timer=voice.timer)
    m, x = render(tl, voice, ambient="brown", sleep=60.0, channels=1)
    last_words = max(e.end for e in tl.events if e.kind == "say")
    assert m.duration == pytest.approx(last_words + 60.0)
    assert len(x) == frames(last_words + 60.0, SR)
    levels = [rms_db(x[frames(t, SR):frames(t + 5, SR)]) for t in np.arange(last_words, last_words + 55, 5)]
    assert np.all(np.diff(levels) < 0)                  # steadily quieter
    assert levels[0] - levels[-1] > 30                  # drifts well down...
    assert levels[2] > levels[0] - 12                   # ...slowly, not all at once
    assert np.abs(x[-10:]).max() < 1e-5


def test_options_mono_stereo_and_rate(timeline, voice):
    m = mix(timeline, voice, sample_rate=48000, channels=1)
    first = next(m.blocks(4096))
    assert first.shape == (4096, 1) and first.dtype == np.float32
    assert m.frames == frames(timeline.total, 48000)
    assert next(mix(timeline, voice, sample_rate=SR).blocks(10)).shape == (10, 2)
    with pytest.raises(ValueError):
        MixOptions(channels=3)


def peak_in(x, t0, t1):
    return np.abs(x[frames(t0, SR):frames(t1, SR)]).max()


def test_end_of_hold_chime_is_softer_than_a_chime(voice):
    tl = plan(routine(("Chimes", (Say("Hold.", 1), Hold(3.0, 2), Pause(3.0, 3, fixed=True),
                                 Chime(4), Pause(4.0, 5, fixed=True)))), timer=voice.timer)
    m, x = render(tl, voice, ambient="none", channels=1)
    hold_chime = next(e for e in tl.events if e.kind == "chime" and isinstance(e.step, Hold))
    bell = next(e for e in tl.events if e.kind == "chime" and isinstance(e.step, Chime))
    soft_peak = peak_in(x, hold_chime.start, hold_chime.start + 1.5)
    bell_peak = peak_in(x, bell.start, bell.start + 2.5)
    assert soft_peak > 0.01
    assert 20 * np.log10(bell_peak / soft_peak) > 6
    assert x[frames(bell.start, SR) - 1, 0] == 0 or peak_in(x, bell.start - 0.5, bell.start) < soft_peak
    silent = render(tl, voice, ambient="none", chime="none", channels=1)[1]
    assert peak_in(silent, bell.start, bell.start + 2.5) == 0


def test_opening_and_closing_bells(timeline, voice):
    m, x = render(timeline, voice, ambient="none", channels=1, start_bell=True, end_bell=True)
    plain = render(timeline, voice, ambient="none", channels=1)[1]
    assert peak_in(x, 0, 1.0) > 0.05 and peak_in(plain, 0, 1.0) == 0
    assert peak_in(x, m.speech_end, m.speech_end + 1) > peak_in(plain, m.speech_end, m.speech_end + 1)


def test_breathing_cues_at_each_phase(voice):
    tl = plan(routine(("Breath", (Breathe(3, 1, inhale=2.0, exhale=3.0),))), timer=voice.timer)
    m = mix(tl, voice, sample_rate=SR)
    cues = [(p.start, p.key) for p in m.placements if p.kind == "speech"]
    e = next(e for e in tl.events if e.kind == "breathe")
    expected = []
    for i in range(3):
        expected += [(frames(e.start + 5 * i, SR), BREATHE_IN_CUE), (frames(e.start + 5 * i + 2, SR), BREATHE_OUT_CUE)]
    assert cues == expected


def test_clip_longer_than_planned_is_cut_before_the_next_words(voice):
    tl = plan(routine(("A", (Say("One two three.", 1), Say("Four five.", 2)))), timer=voice.timer)

    def long_voice(text):
        x, sr = voice(text)
        return np.concatenate([x, x, x]), sr      # three times longer than planned

    m, x = render(tl, long_voice, ambient="none", chime="none", channels=1)
    assert m.warnings and "past its planned end" in m.warnings[0]
    second = [e for e in tl.events if e.kind == "say"][1]
    a = frames(second.start, SR)
    assert abs(x[a - 1, 0]) < 1e-3                # the first clip was faded out in time
    assert np.abs(x).max() < 1.0


def test_speech_source_is_cached_across_blocks(timeline):
    calls = []
    v = SyntheticVoice()

    def counting(text):
        calls.append(text)
        return v(text)

    m = mix(timeline, counting, sample_rate=SR)
    for _ in m.blocks(512):
        pass
    spoken = [e.text for e in timeline.events if e.kind == "say"]
    assert len(calls) <= len(set(spoken)) + 2         # once per distinct text (+ the two cues)


def test_mix_is_a_program():
    from voiceguide.sound.blocks import Program
    tl = plan(routine(("A", (Say("Hi.", 1),))), timer=SyntheticVoice().timer)
    assert isinstance(mix(tl, SyntheticVoice()), Program)


def test_render_from_any_frame_matches_blocks(timeline, voice):
    m, x = render(timeline, voice, ambient="ocean", start_bell=True, end_bell=True)
    rng = np.random.default_rng(3)
    for start in [0, 1, *rng.integers(0, m.frames, 6).tolist(), m.frames - 100]:
        n = int(rng.integers(1, 3 * SR))
        got = m.render(start, n)
        assert np.array_equal(got, x[start:start + n]), start
    # A caller keeping its own bed reader renders the session piece by piece.
    bed = m.bed_source()
    pieces, pos = [], 0
    for n in rng.integers(1, 9000, 10_000):
        if pos >= m.frames:
            break
        pieces.append(m.render(pos, int(n), bed))
        pos += len(pieces[-1])
    assert np.array_equal(np.concatenate(pieces), x)
    assert m.render(m.frames, 10).shape == (0, 2)


def test_voice_is_the_mix_without_its_bed(timeline, voice):
    m, x = render(timeline, voice, ambient="none", channels=1)
    for start in (0, frames(3.3, SR), m.frames - 5000):
        assert np.array_equal(m.voice(start, 7000)[:len(x) - start], x[start:start + 7000])


def test_bed_gain_is_the_interpolated_curve_held_or_moving(timeline, voice):
    """The mixer multiplies by one number where the bed's gain holds still; that must be
    exactly the per-frame curve, and the curve must really move elsewhere (ducking, fades)."""
    from voiceguide.sound.mix import CONTROL
    m = mix(timeline, voice, sample_rate=SR)
    held = moving = 0
    for start in range(0, m.frames, 4096):
        n = min(4096, m.frames - start)
        grid = np.arange(start // CONTROL * CONTROL, start + n + CONTROL, CONTROL)
        t = grid / SR
        expected = np.interp(np.arange(start, start + n), grid,
                             m.bed_gain * m.ducker.gain(t) * m.fades.gain(t)).astype(np.float32)
        assert np.array_equal(m.bed_gain_curve(start, n), expected), start
        gain = m._bed_gain(start, n)
        if isinstance(gain, np.ndarray):
            moving += 1
        else:
            held += 1
            assert np.all(expected == gain), start
    assert held and moving
