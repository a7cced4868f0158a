"""Through a real sound server: a private PulseAudio daemon with a null sink, played to by
miniaudio's PulseAudio backend and recorded from the sink's monitor with parec. What comes
out must be the rendered session (found by cross-correlation, at one offset, with high
correlation), and a pause must put silence into it and resume where it paused.

Skipped when pulseaudio/parec are not installed (.ci/run installs them when run as root)."""
from __future__ import annotations

import time

import numpy as np
import pytest

from voiceguide.live.commands import Command
from voiceguide.live.controller import Controller
from voiceguide.live.cues import Cues
from voiceguide.live.session import PlayOptions, Session, estimate_gain
from voiceguide.session import Resources
from support.player import TimedKeys
from support.pulse import Recorder, pulse_missing, pulse_null_sink

RATE = 48000
MISSING = pulse_missing()
pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"needs PulseAudio ({', '.join(MISSING)} not installed; "
                                                      f"apt-get install pulseaudio pulseaudio-utils)")


@pytest.fixture(scope="module")
def pulse(tmp_path_factory):
    """A private PulseAudio daemon whose only output is a null sink called `vg`."""
    try:
        with pulse_null_sink(tmp_path_factory.mktemp("pulse"), RATE) as env:
            yield env
    except RuntimeError as exc:
        pytest.skip(str(exc))


def best_lag(needle: np.ndarray, haystack: np.ndarray) -> tuple[int, float]:
    """Where `needle` sits in `haystack` (FFT cross-correlation) and the correlation there."""
    n = len(haystack) + len(needle)
    size = 1 << (n - 1).bit_length()
    c = np.fft.irfft(np.fft.rfft(haystack, size) * np.conj(np.fft.rfft(needle, size)), size)[:len(haystack) - len(needle) + 1]
    lag = int(np.argmax(c))
    seg = haystack[lag:lag + len(needle)]
    corr = float(np.dot(seg, needle) / (np.linalg.norm(seg) * np.linalg.norm(needle) + 1e-12))
    return lag, corr


def windows(ref, rec, seconds=0.2):
    """Where each well-voiced 200 ms of the reference turns up in the recording."""
    found = []
    for t in np.arange(0.0, min(len(ref) / RATE, 3.0), seconds / 2):
        w = ref[int(t * RATE):int((t + seconds) * RATE)]
        if len(w) == int((t + seconds) * RATE) - int(t * RATE) and rms_db(w) > -35:
            lag, corr = best_lag(w, rec)
            found.append((round(float(t), 2), lag - int(t * RATE), round(corr, 3)))
    return found


def rms_db(x):
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-30))


def test_what_the_sink_plays_is_the_session_and_a_pause_is_silence(pulse, monkeypatch, warm_cache, tiny):
    monkeypatch.setenv("PULSE_SERVER", pulse["PULSE_SERVER"])
    recorder = Recorder(pulse, RATE)
    time.sleep(0.3)
    # Keys at moments of the audio (frames the device has taken), not of the wall clock:
    # PulseAudio's null sink may hold the very start back by up to two seconds (a virtual
    # device that runs ahead in big blocks; real outputs do not).
    keys = [(0.9, Command.PAUSE), (2.9, Command.PAUSE), (4.2, Command.QUIT)]
    try:
        with Session(tiny, PlayOptions(resources=Resources(warm_cache), backend="pulseaudio")) as session:
            sink = session.open()
            assert sink.backend == "PulseAudio" and sink.sample_rate == RATE
            session.prepare()
            result = session.run(TimedKeys(keys, lambda: sink.pulled() / RATE))
            mix, start, gain = session.controller.mix, session.controller.start, session.controller.gain_db
            (pause, _), (resume, _), _ = session.stream.applied     # output frames they took effect
        time.sleep(0.5)
    finally:
        rec = recorder.stop()
    assert result.stats.underruns == 0

    # The session as it should sound, rendered offline without keys (ambient none: exact).
    quiet = Cues({name: np.zeros(1, np.float32) for name in ("pause", "resume", "nothing", *(c.value for c in Command))})
    ref_ctl = Controller(mix, gain_db=estimate_gain(mix, -16.0), start=start, cues=quiet)
    assert ref_ctl.gain_db == gain
    blocks = []
    while not ref_ctl.state.finished:
        blocks.append(ref_ctl.render(4096))
    ref = np.concatenate(blocks)[:, 0].astype(np.float64)
    s = lambda seconds: int(seconds * RATE)  # noqa: E731
    assert s(0.6) < pause < s(1.4) and resume - pause > s(1.5)

    # Before the pause: the words, found at one offset, with high correlation.
    a, b = s(0.3), pause
    offset, corr = best_lag(ref[a:b], rec)
    offset -= a
    assert corr > 0.98, (corr, windows(ref, rec))
    np.testing.assert_allclose(rec[offset + a:offset + b], ref[a:b], atol=2e-3)   # (16-bit sink)
    found = [w for w in windows(ref[:b], rec) if w[0] >= 0.3]
    assert len(found) >= 3 and all(lag == offset and corr > 0.98 for _, lag, corr in found), found

    # The pause: the output fades, then is silent (the pause cue aside) until the resume.
    level = rms_db(ref[a:b])
    assert rms_db(rec[offset + pause + s(0.9):offset + resume - s(0.05)]) < level - 50

    # After the resume: the words go on from where they paused (the resume cue under them).
    after = rec[offset + resume + s(0.3):offset + resume + s(0.9)]
    np.testing.assert_allclose(after, ref[pause + s(0.3):pause + s(0.9)], atol=0.03)
    lag, corr = best_lag(after, ref)
    assert corr > 0.95 and lag == pause + s(0.3), (corr, lag - pause - s(0.3))
