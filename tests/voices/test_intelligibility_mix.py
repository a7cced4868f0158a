"""The voice stays clear under everything issue 14 adds. The rain-bedtime example is rendered
twice from the same speech: with no bed at all, and with its rain, a binaural 6 Hz to 3 Hz
beat and the voice at the working hand at full strength (spatial 1). Whisper tiny.en, with its
voice-activity cuts (without them it drops whole phrases beside long silences), listens to
each, downmixed to one channel as a single ear would hear both; word recall (the share of the
spoken words it heard, in order) under the full mix must be within 1 point of the bare voice.

piper's noise is drawn from each sentence's key, so both renders carry the same speech: the
difference is the sound under it alone.
"""
from __future__ import annotations

import difflib
import wave
from pathlib import Path

import numpy as np
import pytest

from voiceguide import api
from support.hearing import WHISPER_RATE, whisper_model, words

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rain-bedtime.routine.md"
BARE = {"ambient": "none", "beat": "none", "spatial": 0.0}
FULL = {"ambient": "rain", "beat": "6>3", "beat_mode": "binaural", "spatial": 1.0}


def mono(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        assert w.getframerate() == WHISPER_RATE and w.getsampwidth() == 2
        x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768
        return x.reshape(-1, w.getnchannels()).mean(axis=1)


def recall(reference: list[str], heard: list[str]) -> float:
    match = difflib.SequenceMatcher(None, reference, heard, autojunk=False)
    return sum(block.size for block in match.get_matching_blocks()) / len(reference)


@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clear")
    out = {}
    for name, options in (("bare", BARE), ("full", FULL)):
        path = folder / f"{name}.wav"
        result = api.render(EXAMPLE, path, sample_rate=WHISPER_RATE, cache_dir=folder / "store", **options)
        out[name] = (path, result.timeline)
    return out


def test_the_full_mix_keeps_the_words_heard(renders, record_property, capsys):
    whisper = whisper_model()
    (_, timeline) = renders["bare"]
    reference = words(" ".join(e.text for e in timeline.events if e.kind == "say"))
    scores = {}
    for name, (path, _) in renders.items():
        segments, _ = whisper.transcribe(mono(path), language="en", beam_size=5, temperature=0.0,
                                         condition_on_previous_text=False, vad_filter=True)
        heard = words(" ".join(s.text for s in segments))
        scores[name] = recall(reference, heard)
        missed = [w for w in reference if w not in set(heard)]
        record_property(f"{name}_recall", round(scores[name], 4))
        with capsys.disabled():
            print(f"\n[clear voice] {name}: word recall {scores[name]:.3f} of {len(reference)} words; "
                  f"never heard: {' '.join(sorted(set(missed))) or '-'}")
    assert scores["bare"] >= 0.9, scores
    assert scores["full"] >= scores["bare"] - 0.01, scores
