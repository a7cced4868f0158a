"""Whole renders with the real voice: timing on WAV, loudness, chapters, transcripts,
determinism and atomic output. Audio is measured, not assumed."""
from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
from click.testing import CliRunner
from scipy.signal import resample_poly

from voiceguide.cli import main
from voiceguide.export.tags import read_chapters
from voiceguide.api import render
from voiceguide.script.parse import parse_routine
from conftest import routine_text

pytestmark = pytest.mark.usefixtures("cache_env")     # the module's warm cache, also for the CLI's renders

BODY = """\
# Start
Settle into your chair and let your shoulders drop. [hold 4s]
Rest for a moment. [pause 2s]

## Stroke {sides}
Stroke the back of your {side} hand. [hold 3s]

# Finish
[breathe 1 in 2s out 3s]
Well done. [chime]
"""


@pytest.fixture(scope="module")
def routine(tmp_path_factory):
    path = tmp_path_factory.mktemp("routine") / "short.routine.md"
    path.write_text(routine_text(BODY, 'title = "Short session"\ndescription = "A test."\nambient = "none"'))
    return parse_routine(path.read_text(), str(path))


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        rate, channels, frames = w.getframerate(), w.getnchannels(), w.getnframes()
        data = np.frombuffer(w.readframes(frames), "<i2").astype(np.float32) / 32768
    return data.reshape(-1, channels), rate


def rms_db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(x))) + 1e-12))


@pytest.fixture(scope="module")
def quiet_render(routine, tmp_path_factory, speech_cache):
    out = tmp_path_factory.mktemp("out") / "session.wav"
    result = render(routine, out, transcripts=("vtt",), timeline=out.with_suffix(".json"),
                                                cache_dir=speech_cache)
    audio, rate = read_wav(out)
    return result, audio, rate


def test_wav_length_is_the_timeline_length(quiet_render):
    result, audio, rate = quiet_render
    assert rate == 44100 and audio.shape[1] == 2
    assert abs(len(audio) - round(result.timeline.total * rate)) <= 1


def test_speech_is_where_the_timeline_says(quiet_render):
    result, audio, rate = quiet_render
    for event in result.timeline.events:
        a, b = round(event.start * rate), round(event.end * rate)
        if event.kind == "say":
            assert rms_db(audio[a:b]) > -40, event.text
        elif event.kind in ("hold", "pause") and event.duration > 0.5:
            # nothing but silence (ambient none): the voice never spills into a hold or pause
            inner = audio[a + int(0.15 * rate): b - int(0.05 * rate)]
            assert rms_db(inner) < -60, (event.kind, event.start)


def test_holds_and_pauses_are_exact(quiet_render):
    result, _, _ = quiet_render
    holds = [e.duration for e in result.timeline.events if e.kind == "hold"]
    assert holds == [4.0, 3.0, 3.0]
    pauses = [e.duration for e in result.timeline.events if e.kind == "pause" and e.step is not None]
    assert pauses == [2.0]


def test_hold_end_chime_sounds_after_the_hold(quiet_render):
    result, audio, rate = quiet_render
    events = result.timeline.events
    i = next(i for i, e in enumerate(events) if e.kind == "hold")
    chime = events[i + 1]
    assert chime.kind == "chime"
    a = round(chime.start * rate)
    assert rms_db(audio[a: a + rate // 2]) > -45


def test_loudness_and_true_peak(quiet_render):
    result, audio, rate = quiet_render
    loudness = pyloudnorm.Meter(rate).integrated_loudness(audio.astype(np.float64))
    assert abs(loudness - (-16.0)) <= 0.5
    true_peak = 20 * np.log10(np.max(np.abs(resample_poly(audio, 4, 1, axis=0))))
    assert true_peak <= -1.0 + 0.05  # 16-bit rounding and dither
    assert result.loudness is not None and result.loudness.true_peak_db <= -1.0


def test_transcript_cues_follow_the_speech(quiet_render):
    result, audio, rate = quiet_render
    vtt = result.path.with_suffix(".vtt").read_text()
    says = [e for e in result.timeline.events if e.kind == "say"]
    for event in says:
        stamp = f"{int(event.start // 60):02d}:{event.start % 60:06.3f}"
        assert stamp in vtt and event.text in vtt


def test_timeline_json_has_the_measured_times(quiet_render):
    result, _, _ = quiet_render
    data = json.loads(result.path.with_suffix(".json").read_text())
    assert data["total"] == pytest.approx(result.timeline.total, abs=1e-6)
    assert [e["kind"] for e in data["events"]] == [e.kind for e in result.timeline.events]


def test_same_inputs_give_identical_wav(routine, tmp_path, quiet_render, cache_env):
    out = tmp_path / "again.wav"
    render(routine, out, cache_dir=cache_env)
    # the first render also wrote sidecars; the audio bytes must still match exactly
    assert out.read_bytes() == quiet_render[0].path.read_bytes()


def test_length_is_met_within_50ms(routine, tmp_path, cache_env):
    out = tmp_path / "fitted.wav"
    result = render(routine, out, length=60.0, cache_dir=cache_env)
    audio, rate = read_wav(out)
    assert abs(len(audio) / rate - 60.0) < 0.05
    assert result.timeline.total == pytest.approx(60.0, abs=0.001)


def test_mp3_with_chapters_and_bed(routine, tmp_path, cache_env):
    out = tmp_path / "session.mp3"
    result = render(routine, out, ambient="brown", sleep=5.0, cache_dir=cache_env)
    chapters = read_chapters(out)
    assert [c.title for c in chapters] == ["Start", "Stroke, left side", "Stroke, right side", "Finish"]
    for chapter, span in zip(chapters[1:], result.timeline.sections[1:]):
        assert chapter.start == pytest.approx(span.start, abs=0.002)
    assert chapters[-1].end == pytest.approx(result.encoded.seconds, abs=0.002)
    assert result.encoded.seconds > result.timeline.total  # the sleep tail outlasts the plan


def test_existing_output_is_kept_without_force(routine, tmp_path):
    out = tmp_path / "keep.wav"
    out.write_bytes(b"precious")
    result = CliRunner().invoke(main, ["render", str(routine.source), "-o", str(out)])
    assert result.exit_code == 2 and "exists" in result.output
    assert out.read_bytes() == b"precious"


def test_failed_render_leaves_nothing(routine, tmp_path, monkeypatch):
    import voiceguide.to_file as render_module

    def broken_blocks(self, *args, **kwargs):
        yield np.zeros((4096, 2), np.float32)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(render_module.Mastered, "blocks", broken_blocks)
    out = tmp_path / "broken.mp3"
    with pytest.raises(RuntimeError):
        render(routine, out, transcripts=("vtt",))
    assert list(tmp_path.iterdir()) == []


def test_cli_render_writes_audio_and_sidecars(routine, tmp_path):
    out = tmp_path / "cli.ogg"
    result = CliRunner().invoke(main, ["render", routine.source, "-o", str(out), "--transcript", "srt",
                                       "--speed", "1.2", "--mono"])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 10_000 and out.with_suffix(".srt").exists()
    assert "LUFS" in result.output


@pytest.mark.parametrize("args, message", [
    (["--engine", "nope"], "nope"),
    (["--voice", "/no/such/voice.onnx"], "voice"),
    (["--ambient", "missing.ogg"], "neither a bed"),
    (["--format", "wma"], "Invalid value for '--format'"),
    (["--quality", "11"], "quality"),
])
def test_cli_render_errors_are_clean(routine, tmp_path, args, message):
    out = tmp_path / "x.mp3"
    result = CliRunner().invoke(main, ["render", routine.source, "-o", str(out), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_png_shows_timeline_and_waveform(routine, tmp_path, cache_env):
    from voiceguide.to_file import Envelope

    out = tmp_path / "s.wav"
    picture = tmp_path / "s.png"
    render(routine, out, picture=picture, cache_dir=cache_env)
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    audio, rate = read_wav(out)
    envelope = Envelope(rate)
    for start in range(0, len(audio), 5000):
        envelope.add(audio[start:start + 5000])
    peaks = envelope.values()
    assert len(peaks) == -(-len(audio) // (rate // 10))
    assert peaks.max() == pytest.approx(np.abs(audio).max(), abs=1e-6)


def test_allocator_tuning_applies_on_linux():
    import sys
    from voiceguide.memory import tune_allocator

    assert tune_allocator() is sys.platform.startswith("linux")
    assert tune_allocator() is sys.platform.startswith("linux")   # once is enough; no error after
