"""Lint a routine for timing a listener can follow: a step that asks for more than its hold allows.

A routine is heard with eyes closed. When a step says "circle your wrists, five times each way"
and the hold after it is 10 s, the listener is still circling when the next instruction starts,
and the session feels rushed. Nothing here is an error (the routine parses and renders); these
are warnings for the author, found from the parsed `Routine` alone: no voice, no sound.

Rules (each one is deliberately narrow: a warning on an ordinary sentence costs the author's
trust in every other warning, so a missed case is the lesser evil):

- counted movements: "ten circles", "10 slow circles", "five times", "three times each way";
- each finger: "each finger", "every knuckle", "each of your fingers", "all five fingers";
- a list of places: "the palm, the back of the hand, each knuckle and the wrist";
- a named time: "for a minute", "for 30 seconds".

Each counted item needs about `SECONDS_PER_ITEM`; a hold (or pause) shorter than
`TOLERANCE` of what the step asks for warns.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .model import Hold, Pause, Routine, Say, Step

__all__ = ["LintWarning", "SECONDS_PER_ITEM", "TOLERANCE", "lint", "step_needs"]

SECONDS_PER_ITEM = 2.0
"""About 2 s per counted movement: one slow wrist circle, one squeeze along a finger."""
TOLERANCE = 0.8
"""Warn only below 80 % of the need (1.6 s per item): "about" 2 s, so a brisk pace still passes."""
WORDS_PER_SECOND = 3.0
"""A fast speaking rate: paragraphs spoken before the hold give the listener at least this long."""
FINGERS = 5

_NUMBERS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "a dozen": 12,
}
_NUM = r"(?:\d{1,3}|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + ")"

# "N times", not "three times a day" (how often to practise) nor "two times faster".
_NOT_NOW = (r"(?!\s+(?:a|an|per|each|every)\s+(?:day|week|hour|month|year|night|morning|evening)\b)"
            r"(?!\s+(?:as|more|less|faster|slower|longer|harder|stronger|bigger)\b)")
_TIMES = re.compile(rf"\b(?:(?P<n>{_NUM})(?:\s+or\s+(?P<m>{_NUM}))?(?:\s+more)?\s+times|(?P<twice>twice))\b"
                    + _NOT_NOW)
# "ten circles", "10 slow circles", "five small, firm presses": a number, at most two words, a movement.
_MOVES = re.compile(rf"\b(?P<n>{_NUM})(?:\s+or\s+(?P<m>{_NUM}))?(?:\s+(?!times\b)[a-z]+,?){{0,2}}?\s+"
                    r"(?:circles|rotations|turns|squeezes|presses|taps|strokes|glides|rolls|shakes|"
                    r"pumps|repetitions|reps|rounds|fists|passes|sweeps|pulls|flicks|lifts)\b")
# Two directions double a count: "five times each way", "in both directions", "clockwise and anticlockwise".
_BOTH_WAYS = (r"\b(?:in\s+)?(?:each|both|either)\s+(?:ways?|directions?)\b"
              r"|\bclockwise\s+and\s+(?:then\s+)?(?:counter|anti)-?\s?clockwise\b")
_EACH_WAY = re.compile(rf"^[^.;:!?]{{0,30}}?(?:{_BOTH_WAYS})")      # right after the count
_BOTH_WAYS_BEFORE = re.compile(_BOTH_WAYS)                           # "clockwise and anticlockwise, four times"
_EACH_FINGER = re.compile(
    r"\b(?:each|every)\s+(?:single\s+)?(?:finger|fingertip|knuckle|nail|fingernail)s?\b"
    r"|\b(?:each|every)\s+(?:one\s+)?of\s+(?:your|the|its|their)\s+(?:five\s+|5\s+)?"
    r"(?:fingers|fingertips|knuckles|nails|fingernails)\b"
    r"|\bfinger\s+by\s+finger\b")
# "all five fingers" counts only when the fingers are worked, not moved at once or used as a tool.
_FIVE_FINGERS = re.compile(r"\b(?:all\s+)?(?:five|5)\s+(?:fingers|fingertips|knuckles|nails)\b")
_AS_TOOL = re.compile(r"\b(?:with|using)\s+(?:all\s+)?(?:of\s+)?(?:your\s+)?$")
_WHOLE_HAND = re.compile(r"\b(?:spread|stretch|fan|open|close|curl|relax|straighten|rest|lay|place|put|"
                         r"splay|extend|hold|wiggle|press)\b")
_DURATION = re.compile(
    rf"\bfor\s+(?:about\s+|around\s+|roughly\s+)?(?:(?P<minute>a|one|a\s+full|a\s+whole)\s+minute"
    rf"|(?P<half>half\s+a)\s+minute|(?P<n>{_NUM})\s+(?P<unit>seconds|minutes))\b"
    r"(?!\s+(?:a|each|every)\s+day\b)(?!\s+daily\b)")
_SENTENCE = re.compile(r"(?<=[.!?;:])\s+")
_SEGMENT = re.compile(r",|;|\band\b|\bor\b|\bthen\b")
_PLACE = re.compile(r"\b(?:palms?|thumbs?|fingers?|fingertips?|knuckles?|wrists?|forearms?|elbows?|"
                    r"nails?|fingernails?|cuticles?|joints?|bones|webbing|pads?|heels?\s+of|spots?|"
                    r"tips?|(?:the\s+)?back\s+of\s+(?:the\s+|your\s+)?hands?|the\s+back)\b")
# A path ("from the fingertips, across the palm, to the wrist") is one stroke, not a list of places.
_PATH = re.compile(r"\bfrom\b|^(?:to|into|toward|towards|through|up\s+to|down\s+to|out\s+to|all\s+the\s+way)\b")
_TOOL_SEGMENT = re.compile(r"^(?:with|using)\b")
# The hand doing the work: "with your thumb and fingers", "using the thumbs, fingertips, or knuckles".
_BODY = r"(?:palms?|thumbs?|fingers?|fingertips?|knuckles?|hands?)"
_TOOLS = re.compile(rf"\b(?:with|using|uses?)\s+(?:(?:the|your|both|one|other|left|right|tip|of)\s+)*{_BODY}"
                    rf"(?:\s*,?\s*(?:and|or)?\s+(?:(?:the|your|other|left|right)\s+)*{_BODY}\b)*")


@dataclass(frozen=True)
class Need:
    """What one step asks for: how long, and the words that ask it."""

    seconds: float
    asks: str


@dataclass(frozen=True)
class LintWarning:
    """One step whose hold is too short for what it asks; prints as FILE:LINE: warning: …"""

    file: str
    line: int
    asks: str
    needed: float
    hold: float
    kind: str = "hold"          # "hold" or "pause": the directive that follows the step
    spoken: float = 0.0         # seconds of narration between the step and its hold

    @property
    def message(self) -> str:
        after = f", after about {self.spoken:.0f} s of speech" if self.spoken >= 1 else ""
        return f"warning: {self.asks} needs about {self.needed:g} s; the {self.kind} is {self.hold:g} s{after}"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


def _number(word: str) -> int:
    word = " ".join(word.lower().split())
    return int(word) if word.isdigit() else _NUMBERS[word]


def _count(match: re.Match[str]) -> int:
    """The number a match names; "two or three" is the smaller (the author allows it)."""
    if match.groupdict().get("twice"):
        return 2
    low = _number(match.group("n"))
    return min(low, _number(match.group("m"))) if match.group("m") else low


def _repetitions(sentence: str) -> tuple[int, list[str]]:
    """Counted movements in one sentence, summed: repetitions are done one after another
    ("five times one way, then five times the other" is ten). Each way doubles a count."""
    total, phrases = 0, []
    matches = [m for pattern in (_TIMES, _MOVES) for m in pattern.finditer(sentence)]
    for match in matches:
        count = _count(match)
        each_way = _EACH_WAY.match(sentence[match.end():])
        if each_way or (len(matches) == 1 and _BOTH_WAYS_BEFORE.search(sentence[:match.start()])):
            count *= 2
        total += count
        phrases.append(sentence[match.start():match.end() + (each_way.end() if each_way else 0)])
    return total, phrases


def _fingers(sentence: str) -> tuple[int, str]:
    """Working each finger in turn is five items; "spread all five fingers" is one movement."""
    match = _EACH_FINGER.search(sentence)
    if match:
        return FINGERS, match.group()
    for match in _FIVE_FINGERS.finditer(sentence):
        clause = _SEGMENT.split(sentence[:match.start()])[-1]
        if not _AS_TOOL.search(clause) and not _WHOLE_HAND.search(clause):
            return FINGERS, match.group()
    return 0, ""


def _places(sentence: str) -> list[str]:
    """A list of three or more places to work, separated by commas and "and"/"or"; a path from
    one place to another, and the hand doing the work ("with your thumb"), are not a list."""
    sentence = _TOOLS.sub(" ", sentence)
    if "," not in sentence or _PATH.search(sentence):
        return []
    segments = [s.strip() for s in _SEGMENT.split(sentence) if s.strip()]
    if any(_PATH.search(s) for s in segments):
        return []
    places = [m.group() for s in segments if not _TOOL_SEGMENT.match(s) for m in [_PLACE.search(s)] if m]
    return places if len(places) >= 3 else []


def _named_time(text: str) -> Need | None:
    """ "Wrap them in a warm towel for a minute": the step names its own length."""
    longest: Need | None = None
    for match in _DURATION.finditer(text):
        if match.group("minute"):
            seconds = 60.0
        elif match.group("half"):
            seconds = 30.0
        else:
            seconds = _number(match.group("n")) * (60.0 if match.group("unit") == "minutes" else 1.0)
        if longest is None or seconds > longest.seconds:
            longest = Need(seconds, f'"{match.group()}"')
    return longest


def step_needs(text: str) -> Need | None:
    """How long the words of one spoken step ask the listener to work, or None if they name
    no count, no list and no time. Counted sentences add up; naming the fingers or places again
    in the next sentence usually describes the same tour, so those take the largest."""
    text = " ".join(text.replace("\u2019", "'").split())
    counted, counted_phrases = 0, []
    toured, toured_asks = 0, ""
    for sentence in _SENTENCE.split(text.lower()):
        reps, phrases = _repetitions(sentence)
        fingers, finger_phrase = _fingers(sentence)
        places = _places(sentence)
        parts = max(fingers, len(places))
        part_names = f'"{finger_phrase}"' if fingers >= len(places) else ", ".join(places)
        if reps:
            counted += reps * parts if parts else reps
            what = " and ".join(f'"{p}"' for p in phrases)
            counted_phrases.append(f"{what} on {part_names}" if parts else what)
        elif parts > toured:
            toured = parts
            toured_asks = (f"{part_names} ({parts} in turn)" if fingers >= len(places)
                           else f"{parts} places ({part_names})")
    options = [Need(SECONDS_PER_ITEM * toured, toured_asks)] if toured else []
    if counted:
        options.append(Need(SECONDS_PER_ITEM * counted, f"{', '.join(counted_phrases)} ({counted} movements)"))
    named = _named_time(text.lower())
    if named:
        options.append(named)
    return max(options, key=lambda need: need.seconds, default=None)


def _following_hold(steps: tuple[Step, ...], index: int) -> tuple[Hold | Pause | None, float]:
    """The hold or pause after step `index`, and the seconds of narration before it (the
    listener works while the next paragraph is spoken). Anything else (a chime, breathing, a
    wait for the listener, the end of the section) means the step has no hold to check."""
    spoken = 0.0
    for step in steps[index + 1:]:
        if isinstance(step, (Hold, Pause)):
            return step, spoken
        if not isinstance(step, Say) or step.is_title:
            return None, 0.0
        spoken += len(step.text.split()) / WORDS_PER_SECOND
    return None, 0.0


def lint(routine: Routine) -> list[LintWarning]:
    """Every spoken step whose hold is clearly shorter than its words ask, in line order, once
    per line (a {sides} section's two copies are one step in the file)."""
    found: dict[int, LintWarning] = {}
    for section in routine.sections:
        for index, step in enumerate(section.steps):
            if not isinstance(step, Say) or step.is_title or step.line in found:
                continue
            need = step_needs(step.text)
            if need is None:
                continue
            hold, spoken = _following_hold(section.steps, index)
            if hold is None or hold.seconds + spoken >= TOLERANCE * need.seconds:
                continue
            kind = "hold" if isinstance(hold, Hold) else "pause"
            found[step.line] = LintWarning(routine.source, step.line, need.asks, need.seconds,
                                           hold.seconds, kind, round(spoken, 1))
    return sorted(found.values(), key=lambda w: w.line)
