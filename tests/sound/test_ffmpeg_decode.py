"""Decoding through ffmpeg: a stream abandoned part way (a file bed dropped at a section
change, a preview stopped) closes its pipe itself instead of leaving it to the garbage
collector, which would print "unclosed file" on the user's terminal."""
from __future__ import annotations

import gc
import warnings
import wave

import numpy as np

from voiceguide.sound.ffmpeg import decode_stream


def test_an_abandoned_decode_closes_its_pipe(tmp_path):
    path = tmp_path / "tone.wav"
    tone = (np.sin(2 * np.pi * 440 * np.arange(44100 * 5) / 44100) * 16000).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes(tone.tobytes())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stream = decode_stream(path, 44100, 1, chunk_frames=1024)
        first = next(stream)
        stream.close()
        del stream
        gc.collect()
    assert first.shape == (1024, 1) and abs(float(first[100, 0]) - tone[100] / 32768) < 1e-3
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
