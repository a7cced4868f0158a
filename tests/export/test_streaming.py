"""A ten-minute session goes from mixer to MP3 without ever existing as one array."""
import time
import tracemalloc

from voiceguide.export.encode import decoded_frames, export
from voiceguide.script.model import Breathe, Hold, Meta, Pause, Routine, Say, Section
from voiceguide.sound.master import master
from voiceguide.sound.mix import mix
from support.synthetic import SyntheticVoice
from voiceguide.timeline import plan


def ten_minutes(voice):
    steps = []
    for i in range(6):
        steps += [Say(f"Part {i}. Let the breath settle and notice where the body meets the floor.", i),
                  Hold(40.0, i), Say("Good. Keep breathing.", i), Breathe(3, i, 4.0, 6.0), Pause(10.0, i)]
    routine = Routine(Meta(title="Ten minutes", length=600.0), (Section("Practice", 1, steps=tuple(steps)),), "test")
    return plan(routine, timer=voice.timer)


def test_ten_minute_render_streams_in_flat_memory(tmp_path):
    voice = SyntheticVoice()
    timeline = ten_minutes(voice)
    assert timeline.total == 600.0
    sr, channels = 22050, 2
    full_array_bytes = 600 * sr * channels * 4
    tracemalloc.start()
    try:
        started = time.monotonic()
        mastered = master(mix(timeline, voice, sample_rate=sr, channels=channels, ambient="brown"))
        result = export(mastered, tmp_path / "ten.mp3")
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.frames == 600 * sr
    assert peak < full_array_bytes / 10, f"peak {peak / 1e6:.1f} MB"
    frames, rate = decoded_frames(tmp_path / "ten.mp3")
    assert rate == sr and abs(frames - 600 * sr) <= 1152
    assert mastered.result.integrated_lufs == -16.0 or abs(mastered.result.integrated_lufs + 16) < 0.1
    print(f"10-minute session (22.05 kHz stereo, measure + render + MP3): {elapsed:.1f} s, "
          f"peak traced memory {peak / 1e6:.1f} MB vs {full_array_bytes / 1e6:.0f} MB for the whole array")
