"""Numbers, units and signs spelled out in a language other than English, from its phrase table.

The same rules as the English ones in normalize.py, in the same order (most specific first),
but every word comes from the language's table (`script/phrases.py`) and numbers from
num2words: "30s" -> "dreißig Sekunden", "1m" -> "eine Minute", "5-10" -> "cinco a diez",
"2,5" -> "deux virgule cinq". A number before a unit agrees with the unit's gender where the
language wants it ("eins" -> "eine Minute", "veintiuno" -> "veintiún minutos").
"""
from __future__ import annotations

import re
from typing import Callable

from ..script.phrases import Phrases

_UNIT_ORDER = ("h", "m", "s", "ms")
MAX_SPELLED = 10**12    # longer numbers are read digit by digit, as in English


def _number_pattern(words: Phrases) -> str:
    """Digits, with an optional fraction after the language's decimal mark (or a point)."""
    return rf"\d+(?:[.{re.escape(words['decimal'])}]\d+)?"


class _Speller:
    """One language's number words (num2words loads only when a non-English text needs it)."""

    def __init__(self, words: Phrases):
        from num2words import num2words

        self.words = words
        self.say: Callable[[int], str] = lambda n: num2words(n, lang=words["numbers"])

    def integer(self, n: int) -> str:
        if n >= MAX_SPELLED:
            return " ".join(self.say(int(d)) for d in str(n))
        return self.say(n)

    def number(self, text: str) -> str:
        """"12" -> "zwölf", "2,5" or "2.5" -> "zwei Komma fünf" (the fraction digit by digit)."""
        whole, _, frac = text.replace(",", ".").partition(".")
        out = self.integer(int(whole or "0"))
        if frac:
            out += f" {self.words['point']} " + " ".join(self.say(int(d)) for d in frac)
        return out

    def agreeing(self, text: str, gender: str) -> str:
        """The number as said before a noun of `gender` ("eins" -> "eine" Minute)."""
        spoken = self.number(text)
        for ending, replacement in self.words["one"].get(gender, ()):
            if spoken.endswith(ending):
                return spoken[: len(spoken) - len(ending)] + replacement
        return spoken

    def unit(self, value: str, unit: str) -> str:
        one, several, gender = self.words["units"][unit]
        return f"{self.agreeing(value, gender)} {one if value == '1' else several}"


def _abbreviation(words: Phrases, s: str) -> str:
    """The table's abbreviations, longest first, whole words, any case; one at the very end
    keeps its full stop (a capital after it proves nothing in German, where nouns have one)."""
    for short in sorted(words["abbreviations"], key=len, reverse=True):
        long = words["abbreviations"][short]
        tail = r"(?!\w)" if short[-1].isalnum() else ""
        pattern = rf"(?<!\w){re.escape(short)}{tail}(\s*$)?"

        def replace(m: re.Match, long: str = long, short: str = short) -> str:
            said = long[:1].upper() + long[1:] if m.group(0)[:1].isupper() else long
            return said + ("." if m.group(1) is not None and short.endswith(".") else "") + (m.group(1) or "")

        s = re.sub(pattern, replace, s, flags=re.IGNORECASE)
    return s


def spelled(s: str, words: Phrases) -> str:
    """`s` (already cleaned and respelled) with numbers, units, signs and abbreviations in words."""
    say = _Speller(words)
    num = _number_pattern(words)
    s = _abbreviation(words, s)
    s = s.replace("&", f" {words['and']} ")

    # Thousands separators go first ("1.250" in German is 1250; "2,5" is two and a half).
    group = "".join(re.escape(mark) for mark in {words["thousands"], "\u202f"})
    s = re.sub(rf"\b\d{{1,3}}(?:[{group}]\d{{3}})+\b(?![{group}]\d)", lambda m: re.sub(r"\D", "", m.group(0)), s)
    s = re.sub(rf"\b({num})\s*[-–]\s*({num})(ms|h|m|s)\b",
               lambda m: f"{say.number(m.group(1))} {words['to']} {say.unit(m.group(2), m.group(3))}", s)

    def compact(m: re.Match) -> str:
        parts = re.findall(rf"({num})(ms|h|m|s)", m.group(0))
        order = [_UNIT_ORDER.index(u) for _, u in parts]
        if order != sorted(set(order)):
            return m.group(0)
        return " ".join(say.unit(v, u) for v, u in parts)

    s = re.sub(rf"\b(?:{num}(?:ms|h|m|s))+\b", compact, s)
    short = words["unit_abbreviations"]
    if short:
        names = "|".join(re.escape(a) for a in sorted(short, key=len, reverse=True))
        s = re.sub(rf"\b({num})\s*({names})\b(?:\.(?=\s+(?-i:[a-z])))?",
                   lambda m: say.unit(m.group(1), short[m.group(2).lower()]), s, flags=re.IGNORECASE)
    s = re.sub(rf"\b(\d+)\s*[-–]\s*(\d+)x\b", lambda m: words["times"].format(
        n=f"{say.integer(int(m.group(1)))} {words['to']} {say.integer(int(m.group(2)))}"), s)
    s = re.sub(r"\b(\d+)x\b", lambda m: words["times"].format(n=say.integer(int(m.group(1)))), s)
    s = re.sub(rf"\b({num})\s*%", lambda m: f"{say.number(m.group(1))} {words['percent']}", s)
    s = re.sub(rf"\b({num})\s*°", lambda m: f"{say.number(m.group(1))} {words['degrees']}", s)
    s = re.sub(rf"\b({num})\s*[-–]\s*({num})\b",
               lambda m: f"{say.number(m.group(1))} {words['to']} {say.number(m.group(2))}", s)
    s = re.sub(rf"(?<!\w){num}(?!\w)", lambda m: say.number(m.group(0)), s)
    return re.sub(r"(?<=[^\W\d_])/(?=[^\W\d_])", f" {words['or']} ", s)
