"""Text normalization: make the voice say what a person reading the script would say.

Engines read "30s" as "thirty ess", "e.g." letter by letter and "5-10" as "five minus ten";
this turns such text into plain words before synthesis (and before the cache key is made,
so the key follows what is actually spoken). Routine authors can add respellings for words
an engine gets wrong in the front matter's `[pronounce]` table (whole words, any case).

Text is prepared for the routine's language (`script/phrases.py` holds each language's words):
English keeps its hand-written rules (voices/numwords.py, byte for byte as before, so cached
speech stays valid); other languages spell numbers with num2words ("30s" -> "dreißig
Sekunden", "2,5" -> "zwei Komma fünf") and take their unit, sign and abbreviation words from
their table.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Mapping

from ..script.phrases import ENGLISH, is_english, phrases
from .numwords import decimal_to_words, number_to_words, ordinal_to_words
from .spelled import spelled as _spelled

_UNIT_ORDER = ("h", "m", "s", "ms")
_NUM = r"\d+(?:\.\d+)?"

_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " "})


def _number(text: str) -> str:
    return decimal_to_words(text) if "." in text else number_to_words(int(text))


def _unit(value: str, unit: str) -> str:
    one, several, _ = ENGLISH["units"][unit]
    return f"{_number(value)} {one if value in ('1', '1.0') else several}"


def _compact_duration(match: re.Match) -> str:
    """"1m30s" -> "one minute thirty seconds" (units largest first, each once)."""
    parts = re.findall(rf"({_NUM})(ms|h|m|s)", match.group(0))
    order = [_UNIT_ORDER.index(u) for _, u in parts]
    if order != sorted(set(order)):
        return match.group(0)
    return " ".join(_unit(v, u) for v, u in parts)


def _keep_case(replacement: str, original: str) -> str:
    return replacement[:1].upper() + replacement[1:] if original[:1].isupper() else replacement


def _sub_words(pattern: str, replacement: str, text: str) -> str:
    return re.sub(pattern, lambda m: _keep_case(replacement, m.group(0)), text, flags=re.IGNORECASE)


# Abbreviations a narrator expands. `etc.` keeps its full stop when it ends the sentence.
_ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    (r"(?<!\w)e\.\s?g\.(?!\w)", "for example"),
    (r"(?<!\w)i\.\s?e\.(?!\w)", "that is"),
    (r"(?<!\w)etc\.(?=\s*$)", "et cetera."),
    (r"(?<!\w)etc\.(?=\s+(?-i:[A-Z]))", "et cetera."),
    (r"(?<!\w)etc\b\.?", "et cetera"),
    (r"(?<!\w)vs\b\.?", "versus"),
    (r"(?<!\w)approx\b\.?", "approximately"),
    (r"(?<!\w)w/(?=\s)", "with"),
)
_TITLES = {"dr": "Doctor", "mr": "Mister", "mrs": "Missus", "ms": "Miz"}


def _unit_abbreviation(match: re.Match) -> str:
    return _unit(match.group(1), ENGLISH["unit_abbreviations"][match.group(2).lower()])


def pronounce(text: str, table: Mapping[str, str]) -> str:
    """Apply respellings: whole words/phrases, case-insensitive, longest key first, one pass."""
    keys = sorted((k for k in table if k.strip()), key=len, reverse=True)
    if not keys:
        return text
    lookup = {k.lower(): v for k, v in table.items()}
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(k) for k in keys) + r")(?!\w)", re.IGNORECASE)
    return pattern.sub(lambda m: lookup[m.group(0).lower()], text)


def normalize(text: str, pronunciations: Mapping[str, str] | None = None, language: str = "en") -> str:
    """What to actually send to the engine for `text`, in `language` (a BCP 47 tag)."""
    s = unicodedata.normalize("NFC", text).translate(_QUOTES).replace("…", "...")
    s = re.sub(r"[*`]+", "", s)                       # markdown emphasis / code marks
    s = re.sub(r"(?<!\w)_+|_+(?!\w)", "", s)
    s = " ".join(s.split())
    if pronunciations:
        s = pronounce(s, pronunciations)
    # English by its own rules whatever table serves it (a user's en.toml changes only the
    # words voiceguide adds): its spoken text, and so its cache keys, never change.
    s = _english(s) if is_english(language) else _spelled(s, phrases(language))
    return _pauses(s)


def _english(s: str) -> str:
    """English numbers, units, abbreviations and signs, by the hand-written rules."""
    for pattern, replacement in _ABBREVIATIONS:
        s = _sub_words(pattern, replacement, s)
    s = re.sub(r"(?<!\w)(dr|mr|mrs|ms)\.(?=\s+(?-i:[A-Z]))", lambda m: _TITLES[m.group(1).lower()], s, flags=re.IGNORECASE)
    s = re.sub(r"(?<!\w)no\.(?=\s*\d)", lambda m: _keep_case("number", m.group(0)), s, flags=re.IGNORECASE)
    s = s.replace("&", " and ")

    # Numbers with units and other attachments, most specific first.
    s = re.sub(r"\b(\d{1,3}(?:,\d{3})+)\b", lambda m: m.group(1).replace(",", ""), s)
    s = re.sub(
        rf"\b({_NUM})\s*[-–]\s*({_NUM})(ms|h|m|s)\b",
        lambda m: f"{_number(m.group(1))} to {_unit(m.group(2), m.group(3))}",
        s,
    )
    s = re.sub(rf"\b(?:{_NUM}(?:ms|h|m|s))+\b", _compact_duration, s)
    # "5 min. then" drops the abbreviation's dot; "Wait 5 min." keeps it as the full stop.
    s = re.sub(rf"\b({_NUM})\s*(secs?|mins?|hrs?|ms)\b(?:\.(?=\s+(?-i:[a-z])))?", _unit_abbreviation, s, flags=re.IGNORECASE)
    s = re.sub(r"\b(\d+)x\b", lambda m: f"{number_to_words(int(m.group(1)))} times", s)
    s = re.sub(rf"\b({_NUM})\s*%", lambda m: f"{_number(m.group(1))} percent", s)
    s = re.sub(rf"\b({_NUM})\s*°", lambda m: f"{_number(m.group(1))} degrees", s)
    s = re.sub(r"\b(\d+)(st|nd|rd|th)\b", lambda m: ordinal_to_words(int(m.group(1))), s, flags=re.IGNORECASE)
    s = re.sub(rf"\b({_NUM})\s*[-–]\s*({_NUM})\b", lambda m: f"{_number(m.group(1))} to {_number(m.group(2))}", s)
    s = re.sub(rf"(?<![\w.]){_NUM}(?![\w])", lambda m: _number(m.group(0)), s)
    return re.sub(r"(?<=[A-Za-z])/(?=[A-Za-z])", " or ", s)


def _pauses(s: str) -> str:
    """Dashes and brackets become the pauses they stand for; spaces and commas tidied."""
    s = re.sub(r"\s*[—–]\s*|\s+-\s+", ", ", s)
    s = re.sub(r"\s*[()\[\]]\s*", ", ", s)
    s = re.sub(r"(,\s*)+(?=[,.!?;:]|$)", "", s)
    s = re.sub(r"^[,\s]+", "", s)
    s = re.sub(r"\s+([,.!?;:])", r"\1", s)
    s = re.sub(r",(?=\w)", ", ", s)
    return " ".join(s.split())
