"""Beat tones under the voice (sound/beats.py, their curve from the sections, their place in
the mix and in live play), measured on the rendered audio: each ear's frequency from the
slope of its Hilbert phase, the isochronic pulse rate from the envelope's spectrum, clicks
as high-frequency energy and sample-to-sample jumps, levels with the loudness meter."""
from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import signal

from voiceguide.script.model import Hold, Meta, Routine, Say, Section
from voiceguide.sound.blocks import collect
from voiceguide.sound.loudness import clip_loudness
from voiceguide.sound.mix import mix
from voiceguide.sound.sections import GLIDE
from voiceguide.timeline import plan
from support.synthetic import SyntheticVoice

SR = 22050
VOICE = SyntheticVoice()
QUIET = dict(sample_rate=SR, ambient="none", chime="none")


def session(*sections: tuple[str, float, float | None], say: bool = False):
    """Sections (title, hold seconds, {beat N} or None), nothing spoken unless `say` (then a
    sentence before each hold)."""
    built = []
    for i, (title, hold, beat) in enumerate(sections):
        steps = ((Say("Rest your hands in your lap and breathe out slowly.", 2 * i + 1),) if say else ()) + \
            (Hold(hold, 2 * i + 2),)
        built.append(Section(title, 2 * i + 1, 1, False, None, steps, beat=beat))
    return plan(Routine(Meta(title="Beats"), tuple(built), "test"), timer=VOICE.timer)


def frequency(x: np.ndarray, sr: int = SR) -> float:
    """A tone's frequency: the slope of its unwrapped Hilbert phase (the edges left out)."""
    phase = np.unwrap(np.angle(signal.hilbert(np.asarray(x, np.float64))))
    t = np.arange(len(x)) / sr
    keep = slice(len(x) // 10, len(x) - len(x) // 10)
    return float(np.polyfit(t[keep], phase[keep], 1)[0] / (2 * np.pi))


def ears(m, t0: float, t1: float) -> tuple[float, float]:
    """(left Hz, right Hz) of the mix between t0 and t1 seconds."""
    a, b = int(t0 * SR), int(t1 * SR)
    x = m.render(a, b - a)
    return frequency(x[:, 0]), frequency(x[:, 1])


def section_start(tl, title: str) -> float:
    return next(s.start for s in tl.sections if s.title == title)


def test_binaural_ears_are_the_beat_apart_at_both_ends_of_a_glide():
    tl = session(("Long", 1800.0, None))
    m = mix(tl, VOICE, beat="10>4", carrier=200.0, **QUIET)
    end = m.duration
    for (t0, t1), asked in (((1.0, 4.0), 10.0), ((end - 9.0, end - 6.0), 4.0)):
        left, right = ears(m, t0, t1)
        exact = 10.0 + (4.0 - 10.0) * (t0 + t1) / 2 / end           # the glide at the window's centre
        assert abs((right - left) - asked) < 0.05, (t0, right - left)
        assert abs((right - left) - exact) < 0.01
        assert abs((left + right) / 2 - 200.0) < 0.01              # centred on the carrier


def test_a_sections_beat_takes_over_and_gives_back():
    tl = session(("A", 30.0, None), ("B", 30.0, 6.0), ("C", 30.0, None))
    m = mix(tl, VOICE, beat="10", carrier=300.0, **QUIET)
    b, c = section_start(tl, "B"), section_start(tl, "C")
    for (t0, t1), asked in (((b - 12, b - 2), 10.0), ((b + GLIDE + 1, c - 1), 6.0), ((c + GLIDE + 1, c + 20), 10.0)):
        left, right = ears(m, t0, t1)
        assert abs((right - left) - asked) < 0.05, (t0, right - left)


def envelope_rate(x: np.ndarray, sr: int = SR) -> float:
    """The strongest rate (1-45 Hz) in a signal's amplitude envelope (zero-padded FFT)."""
    env = np.abs(signal.hilbert(np.asarray(x, np.float64)))
    env -= env.mean()
    n = 1 << 21
    spec = np.abs(np.fft.rfft(env * np.hanning(len(env)), n))
    f = np.fft.rfftfreq(n, 1 / sr)
    band = (f > 1) & (f < 45)
    return float(f[band][np.argmax(spec[band])])


@pytest.mark.parametrize("beat", [10.0, 7.3, 2.5])
def test_isochronic_pulses_at_the_beat_rate_the_same_in_every_channel(beat):
    tl = session(("A", 40.0, None))
    m = mix(tl, VOICE, beat=f"{beat:g}", beat_mode="isochronic", **QUIET)
    x = m.render(10 * SR, 12 * SR)
    assert np.array_equal(x[:, 0], x[:, 1])
    assert abs(envelope_rate(x[:, 0]) - beat) / beat < 0.01
    mono = mix(tl, VOICE, beat=f"{beat:g}", beat_mode="isochronic", channels=1, **QUIET).render(10 * SR, 12 * SR)
    assert np.allclose(mono[:, 0], x[:, 0], atol=1e-6)               # mono works: the same pulses


def highs(x: np.ndarray) -> np.ndarray:
    return signal.sosfilt(signal.butter(4, 3000, "highpass", fs=SR, output="sos"), np.asarray(x, np.float64), axis=0)


@pytest.mark.parametrize("mode,beat", [("binaural", "10"), ("binaural", "none"), ("isochronic", "10")])
def test_no_click_where_a_section_changes_the_beat(mode, beat):
    tl = session(("A", 30.0, None), ("B", 30.0, 4.0), ("C", 30.0, None))
    m = mix(tl, VOICE, beat=beat, beat_mode=mode, **QUIET)
    x = collect(m.blocks(1000))
    b = section_start(tl, "B")
    steady = slice(int((b + 10) * SR), int((b + 20) * SR))       # the middle of B: a steady 4 Hz
    for title in ("B", "C"):
        at = section_start(tl, title)
        near = slice(int((at - 1) * SR), int((at + GLIDE + 1) * SR))
        assert np.abs(x[near]).max() > 1e-3                                 # the tone is there
        assert np.abs(highs(x)[near]).max() <= 1.5 * np.abs(highs(x)[steady]).max() + 1e-6, title
        assert np.abs(np.diff(x[near], axis=0)).max() <= 1.05 * np.abs(np.diff(x[steady], axis=0)).max() + 1e-6


def test_every_block_size_and_start_gives_the_same_samples():
    tl = session(("A", 12.0, None), ("B", 12.0, 6.0), ("C", 8.0, None), say=True)
    for mode in ("binaural", "isochronic"):
        m = mix(tl, VOICE, beat="10>4", beat_mode=mode, sample_rate=SR, ambient="pink", spatial=1.0)
        x = collect(m.blocks(4096))
        assert np.array_equal(collect(m.blocks(1000)), x)
        assert np.array_equal(collect(m.blocks(16384)), x)
        rng = np.random.default_rng(5)
        for start in [0, *rng.integers(0, m.frames - 1, 6).tolist()]:
            n = int(rng.integers(1, 2 * SR))
            assert np.array_equal(m.render(start, n), x[start:start + n]), start
        beats = m.beats
        assert np.array_equal(beats.render(12345, 5000), np.concatenate(
            [beats.render(12345, 1234), beats.render(12345 + 1234, 5000 - 1234)], axis=1))


def test_the_tone_sits_at_the_beds_level_plus_beat_volume_and_ducks_with_it():
    tl = session(("A", 20.0, None), ("B", 20.0, None), say=True)
    for mode in ("binaural", "isochronic"):
        m = mix(tl, VOICE, beat="10", beat_mode=mode, ambient_volume=-22.0, beat_volume=-3.0, **QUIET)
        hold = next(e for e in tl.events if e.kind == "hold")
        a = int((hold.start + 5) * SR)
        level = clip_loudness(m.render(a, 10 * SR), SR)
        assert abs(level - (m.voice_lufs - 22.0 - 3.0)) < 0.3, (mode, level)
        words = next(e for e in tl.events if e.kind == "say" and e.start > hold.end)
        a, n = int((words.start + 0.5) * SR), int((words.duration - 1.0) * SR)
        tone = m.render(a, n) - m.voice(a, n)                 # the voice is added last: this is the rest
        assert abs(clip_loudness(tone, SR) - level - (-m.options.duck_db)) < 0.5


def test_a_session_without_a_beat_has_none():
    tl = session(("A", 10.0, None), say=True)
    m = mix(tl, VOICE, **QUIET)
    assert m.beats is None
    assert np.array_equal(collect(m.blocks()), collect(mix(tl, VOICE, beat="none", beat_mode="isochronic", **QUIET).blocks()))


def test_binaural_needs_two_channels():
    with pytest.raises(ValueError, match="isochronic"):
        mix(session(("A", 10.0, 6.0)), VOICE, channels=1, **QUIET)


# -- the refusal, through the CLI -------------------------------------------------------------

ROUTINE = """+++
title = "Beat"
ambient = "none"
+++

# Calm {beat 6}
Rest your hands. [hold 5s]
"""


@pytest.mark.parametrize("extra", [["--beat", "10"], []])
def test_binaural_in_mono_is_refused_before_any_work(tmp_path, monkeypatch, extra):
    from voiceguide.cli import main
    import voiceguide.session as session_module
    path = tmp_path / "beat.routine.md"
    path.write_text(ROUTINE if not extra else ROUTINE.replace(" {beat 6}", ""))

    def no_narration(*args, **kwargs):
        raise AssertionError("narration started")
    monkeypatch.setattr(session_module, "narrator_for", no_narration)
    out = tmp_path / "out.wav"
    result = CliRunner().invoke(main, ["render", str(path), "-o", str(out), "--mono", *extra])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "isochronic" in lines[0] and "--mono" in lines[0] and "Traceback" not in result.output
    assert not out.exists()
    ok = CliRunner().invoke(main, ["render", str(path), "-o", str(out), "--mono", "--beat-mode", "isochronic", *extra])
    assert "narration started" in repr(ok.exception)        # accepted: it went on to narrate


# -- live play ------------------------------------------------------------------------------

def test_live_play_keeps_the_tone_going_through_a_longer_hold():
    from voiceguide.live.commands import Command
    from play.helpers import SR as LIVE_SR, controller, event, run
    ctl = controller(VOICE, beat="10", carrier=250.0)
    hold = ctl.events[event(ctl, "hold")]
    start = ctl.state.cursor.position / LIVE_SR
    press = hold.start - start + 5.0                     # + five seconds into the hold: 15 s more
    x = run(ctl, [(press, Command.LONGER)])
    owed_from = hold.end - start                         # output time where the owed bed begins
    for t0 in (hold.start - start + 10.0, owed_from + 3.0):
        a, b = int(t0 * LIVE_SR), int((t0 + 8.0) * LIVE_SR)
        left, right = frequency(x[a:b, 0], LIVE_SR), frequency(x[a:b, 1], LIVE_SR)
        assert abs((right - left) - 10.0) < 0.05 and abs((left + right) / 2 - 250.0) < 0.05
    hf = signal.sosfilt(signal.butter(4, 4000, "highpass", fs=LIVE_SR, output="sos"), x.astype(np.float64), axis=0)
    steady = slice(int((hold.start - start + 10) * LIVE_SR), int((hold.start - start + 20) * LIVE_SR))
    edge = slice(int((owed_from - 1) * LIVE_SR), int((owed_from + 1) * LIVE_SR))
    assert np.abs(x[edge]).max() > 1e-3
    assert np.abs(hf[edge]).max() <= 1.5 * np.abs(hf[steady]).max() + 1e-6
