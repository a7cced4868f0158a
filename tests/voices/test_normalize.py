"""Normalization: what a person reading the script aloud would say."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, strategies as st

from voiceguide.voices.normalize import normalize, pronounce
from voiceguide.voices.numwords import decimal_to_words, number_to_words, ordinal_to_words


@pytest.mark.parametrize(
    "text, spoken",
    [
        ("Hold for 30s.", "Hold for thirty seconds."),
        ("Rest 1m30s, then 2m more.", "Rest one minute thirty seconds, then two minutes more."),
        ("Hold 1s.", "Hold one second."),
        ("Wait 500ms.", "Wait five hundred milliseconds."),
        ("About 1h15m in total.", "About one hour fifteen minutes in total."),
        ("Hold 1.5s.", "Hold one point five seconds."),
        ("Stretch 5-10 times.", "Stretch five to ten times."),
        ("Hold it for 30-60s.", "Hold it for thirty to sixty seconds."),
        ("Repeat 10x on each side.", "Repeat ten times on each side."),
        ("Wait 5 min.", "Wait five minutes."),
        ("Wait 5 min. then rest.", "Wait five minutes then rest."),
        ("Take 1 sec, 1 min.", "Take one second, one minute."),
        ("Hold 2 hrs. Then stop.", "Hold two hours. Then stop."),
        ("Use a light oil, e.g. almond.", "Use a light oil, for example almond."),
        ("E.g. your left/right hand.", "For example your left or right hand."),
        ("The base, i.e. the knuckle.", "The base, that is the knuckle."),
        ("Oil, lotion, etc.", "Oil, lotion, et cetera."),
        ("Oil, lotion, etc. Then rest.", "Oil, lotion, et cetera. Then rest."),
        ("Oil, lotion etc. for the skin.", "Oil, lotion et cetera for the skin."),
        ("Dr. Smith says so.", "Doctor Smith says so."),
        ("Wait 500 ms. then go.", "Wait five hundred milliseconds then go."),
        ("Step no. 3.", "Step number three."),
        ("The 1st, 2nd, 3rd and 4th finger.", "The first, second, third and fourth finger."),
        ("The 21st and 100th time.", "The twenty-first and one hundredth time."),
        ("Count to 1,250.", "Count to one thousand two hundred fifty."),
        ("Press at 50% & hold.", "Press at fifty percent and hold."),
        ("Apply 2.5 ml.", "Apply two point five ml."),
        ("Relax — and breathe.", "Relax, and breathe."),
        ("Rest (about 30s) now.", "Rest, about thirty seconds, now."),
        ("Rest (30s).", "Rest, thirty seconds."),
        ("Press *gently* on the `Hegu` point.", "Press gently on the Hegu point."),
        ("It’s “fine”…", "It's \"fine\"..."),
        ("  lots   of\tspace ", "lots of space"),
        ("No numbers here.", "No numbers here."),
    ],
)
def test_normalize_cases(text, spoken):
    assert normalize(text) == spoken


def test_pronounce_whole_words_any_case_longest_first():
    table = {"qi": "chee", "Hegu point": "heh goo point", "Hegu": "heh goo", "effleurage": "eff-luh-rahzh"}
    assert normalize("Qi flows. Find the hegu point, then Hegu again.", table) == (
        "chee flows. Find the heh goo point, then heh goo again."
    )
    assert normalize("Quickly do qigong.", table) == "Quickly do qigong."          # not inside words
    assert normalize("Begin the Effleurage.", table) == "Begin the eff-luh-rahzh."
    # one pass: a respelling is not itself respelled
    assert pronounce("a b", {"a": "b", "b": "c"}) == "b c"
    assert pronounce("C++ rocks", {"C++": "see plus plus"}) == "see plus plus rocks"


def test_pronounce_applies_before_number_rules():
    assert normalize("Take 10x.", {"10x": "ten repetitions"}) == "Take ten repetitions."


@pytest.mark.parametrize(
    "n, words",
    [(0, "zero"), (7, "seven"), (13, "thirteen"), (20, "twenty"), (21, "twenty-one"), (99, "ninety-nine"),
     (100, "one hundred"), (101, "one hundred one"), (999, "nine hundred ninety-nine"), (1000, "one thousand"),
     (1001, "one thousand one"), (2024, "two thousand twenty-four"), (9999, "nine thousand nine hundred ninety-nine"),
     (1_234_567, "one million two hundred thirty-four thousand five hundred sixty-seven"), (-4, "minus four")],
)
def test_number_words(n, words):
    assert number_to_words(n) == words


def test_ordinals_and_decimals():
    assert [ordinal_to_words(n) for n in (1, 2, 3, 5, 8, 9, 12, 20, 22, 40, 101, 1000)] == [
        "first", "second", "third", "fifth", "eighth", "ninth", "twelfth", "twentieth",
        "twenty-second", "fortieth", "one hundred first", "one thousandth"]
    assert decimal_to_words("0.25") == "zero point two five"
    assert number_to_words(10**12 + 5) == "one zero zero zero zero zero zero zero zero zero zero zero five"


_VALUES = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_VALUES.update({w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if i >= 2})


def _words_to_number(text: str) -> int:
    total = current = 0
    for word in text.replace("-", " ").split():
        if word == "hundred":
            current *= 100
        elif word in ("thousand", "million", "billion"):
            total += current * {"thousand": 10**3, "million": 10**6, "billion": 10**9}[word]
            current = 0
        else:
            current += _VALUES[word]
    return total + current


@given(st.integers(min_value=0, max_value=999_999_999_999))
def test_number_words_round_trip(n):
    words = number_to_words(n)
    assert re.fullmatch(r"[a-z]+(?:[ -][a-z]+)*", words)
    assert _words_to_number(words) == n


@given(st.lists(st.integers(min_value=0, max_value=9999), min_size=1, max_size=5),
       st.sampled_from(["s", "m", "x", "%", "st", " times", " breaths", ".5", "-3"]))
def test_no_digits_survive(numbers, suffix):
    text = "Do " + ", ".join(f"{n}{suffix}" for n in numbers) + " now."
    assert not re.search(r"\d", normalize(text))
