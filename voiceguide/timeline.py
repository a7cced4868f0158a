"""Routine -> Timeline: when every sentence, pause, hold, wait, chime and breath happens.

The planner only needs to know how long each sentence takes to say. Before any audio exists
that comes from an estimate; the narrator later passes measured durations through the same
`SpeechTimer` callable, so the plan and the rendered file agree exactly.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal, Mapping

from .errors import VoiceguideError
from .script.durations import format_duration
from .settings import resolve
from .script.model import Breathe, Chime, Hold, Pause, Routine, Say, Step, Wait
from .script.phrases import ENGLISH, breathe_cues, phrases
from .script.sentences import split_sentences

EventKind = Literal["say", "pause", "hold", "wait", "chime", "breathe"]
SpeechTimer = Callable[[str, float], float]
"""(sentence, speed) -> seconds of speech."""

# Natural gaps at speed 1.0; they scale with 1/speed like the speech around them.
SENTENCE_GAP = 0.7
PARAGRAPH_GAP = 1.4
TITLE_GAP = 1.6
LEAD_IN = 1.5          # silence (bed only) before the first words
TAIL = 4.0             # after the last event, before the end
CHIME_SECONDS = 2.5    # a [chime] with its decay
HOLD_END_CHIME = 1.5   # the soft chime that closes a hold (and a wait)
WAIT_TEXT = "live play waits for space or n"   # what a wait event says in the plan
PACE_MARK = "\x1f"     # between a sentence and its pace in a speech key (no routine text holds it)
VOICE_MARK = "\x1e"    # before the voice of a `{voice NAME}` section in a speech key

# When fitting `length`, flexible time may shrink to half or stretch up to this factor.
MIN_FLEX_SCALE = 0.5
MAX_FLEX_SCALE = 6.0

# Spoken inside a breathe event at the start of each inhale/exhale phase: English's (the
# shipped table, whatever a user's en.toml says); a timeline's own (`Timeline.cues`) are its
# routine's language's (script/phrases.py), read once when it is planned.
BREATHE_IN_CUE, BREATHE_OUT_CUE = ENGLISH["breathe_in"], ENGLISH["breathe_out"]

CLAUSE_BREAKS = ",;:—–"
FROM_ROUTINE = object()
"""`plan(length=...)` left out: the routine's own (None would mean: its natural length)."""


@dataclass(frozen=True)
class Pace:
    """How long one voice takes to say a sentence at speed 1.0, before any audio exists:
    `per_letter` seconds a letter, `per_break` a clause break (a comma's pause), `per_sentence`
    once (onset and the final fall). Letters follow the spoken length better than words or
    syllables do (measured: 0.24 s rms per sentence on joe, words alone 0.37 s)."""

    per_letter: float
    per_break: float
    per_sentence: float

    def seconds(self, text: str) -> float:
        """Seconds of speech for `text` (normalized: numbers spelled out) at speed 1.0."""
        letters = sum(ch.isalpha() for ch in text)
        if not letters:
            return 0.0
        breaks = sum(text.count(c) for c in CLAUSE_BREAKS)
        return self.per_letter * letters + self.per_break * breaks + self.per_sentence


PACES: dict[str, dict[str, Pace]] = {
    "piper": {"joe": Pace(0.0621, 0.4816, 0.1645)},
    "pyttsx3": {"gmw/en-us": Pace(0.0744, 0.3973, 0.2818)},
}
"""Per engine, per voice (its first voice stands for the engine's others): least-squares fits
of the trimmed speech the narrator returns for every sentence of the built-in routines and
the starter (321 sentences) at speed 1.0, on piper-tts 1.3 / joe and espeak-ng via pyttsx3.
Per routine the sum lands within about 1 % of the measured speech; `scripts/calibrate_pace.py`
measures again and prints this table."""

DEFAULT_PACE = PACES["piper"]["joe"]
"""The voice `auto` speaks with when the neural extra is installed."""


def pace_for(engine: str, voice: str) -> Pace:
    """The calibrated pace of `voice` on `engine`, else the engine's first, else the default."""
    voices = PACES.get(engine, {})
    return voices.get(voice) or next(iter(voices.values()), DEFAULT_PACE)


def estimate_speech(text: str, speed: float, pace: Pace = DEFAULT_PACE) -> float:
    """Seconds to say `text` at `speed` (no audio needed). Speech scales with 1/speed, as
    every engine sets its own tempo to make it (voices/: piper's length scale, espeak's rate)."""
    return pace.seconds(text) / speed


def paced_speed(speed: float, pace: float) -> float:
    """The speed a `{pace}`d paragraph is spoken at. Rounded, so the narrator, the speech cache
    and the planner all name the same speed; a pace of 1 leaves the session's speed as it is."""
    return speed if pace == 1.0 else round(speed * pace, 4)


def speech_key(text: str, pace: float = 1.0, voice: str | None = None) -> str:
    """What the mix asks its speech source for: the sentence, tagged with its pace when a
    `{pace}` changed it, and with its section's voice when a `{voice NAME}` chose one, so the
    same words at two speeds, or in two voices, are two clips."""
    key = text if pace == 1.0 else f"{text}{PACE_MARK}{pace:g}"
    return key if voice is None else f"{key}{VOICE_MARK}{voice}"


def from_speech_key(key: str) -> tuple[str, float]:
    """(sentence, pace) from `speech_key`: how a speech source knows the speed to speak at."""
    key = key.partition(VOICE_MARK)[0]
    text, mark, pace = key.partition(PACE_MARK)
    return (text, float(pace)) if mark else (key, 1.0)


def speech_voice(key: str) -> str | None:
    """Who speaks a `speech_key`: its section's `{voice NAME}`, None for the session's voice."""
    _, mark, voice = key.partition(VOICE_MARK)
    return voice if mark else None


@dataclass(frozen=True)
class Event:
    """One thing on the timeline. Events tile the session: each starts where the last ended."""

    start: float
    duration: float
    kind: EventKind
    section: int               # index into Timeline.sections
    text: str = ""
    step: Step | None = None   # the model step this came from (None for natural gaps)
    flexible: bool = False     # may be scaled when fitting a length
    pace: float = 1.0          # a say event of a `{pace}`d paragraph: spoken at speed x pace
    voice: str | None = None   # a say or breathe event of a `{voice NAME}` section: who speaks it

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass(frozen=True)
class SectionSpan:
    """A section in time (a chapter), with what its heading asks of the sound."""

    title: str
    start: float
    duration: float
    side: str | None = None        # a {sides} copy: "left" or "right"
    beat: float | None = None      # {beat 6}
    ambient: str | None = None     # {ambient rain}
    voice: str | None = None       # {voice NAME}


@dataclass(frozen=True)
class Timeline:
    title: str
    speed: float
    events: tuple[Event, ...]
    sections: tuple[SectionSpan, ...]
    total: float
    language: str = "en"       # the routine's: its breathing cues are spoken in it
    # (inhale cue, exhale cue) of a `[breathe]`, in the session's language: fixed when planned,
    # so the mix speaks what was timed even if the phrase table changes meanwhile.
    cues: tuple[str, str] = (BREATHE_IN_CUE, BREATHE_OUT_CUE)

    def to_json(self) -> dict:
        """The stable `plan --json` / `render --timeline` schema."""
        return {
            "title": self.title,
            "total": round(self.total, 6),
            "sections": [
                {"title": s.title, "start": round(s.start, 6), "duration": round(s.duration, 6),
                 **{k: v for k in ("side", "beat", "ambient", "voice") if (v := getattr(s, k)) is not None}}
                for s in self.sections
            ],
            "events": [
                {
                    "start": round(e.start, 6),
                    "duration": round(e.duration, 6),
                    "kind": e.kind,
                    "section": self.sections[e.section].title,
                    "text": e.text,
                    **({"voice": e.voice} if e.voice is not None else {}),
                }
                for e in self.events
            ],
        }


def spoken_texts(timeline: Timeline) -> list[str]:
    """Every distinct sentence the session speaks, in order: what the narrator must synthesize."""
    texts: dict[str, None] = {}
    for event in timeline.events:
        if event.kind == "say":
            texts[event.text] = None
        elif event.kind == "breathe":
            texts.update(dict.fromkeys(timeline.cues))
    return list(texts)


def spoken(timeline: Timeline, voice: str | None = None) -> list[tuple[str, float]]:
    """Every distinct (sentence, speed) `voice` speaks, in order (None: the session's own voice,
    every section without a `{voice NAME}`): a `{pace}`d paragraph's sentences at their own speed."""
    found: dict[tuple[str, float], None] = {}
    for event in timeline.events:
        if event.voice != voice:
            continue
        if event.kind == "say":
            found[(event.text, paced_speed(timeline.speed, event.pace))] = None
        elif event.kind == "breathe":
            found.update(dict.fromkeys((cue, timeline.speed) for cue in timeline.cues))
    return list(found)


class FitError(VoiceguideError, ValueError):
    """The routine cannot be fitted into the requested length."""

    def __init__(self, wanted: float, shortest: float, longest: float, speed: float):
        self.wanted, self.shortest, self.longest = wanted, shortest, longest
        super().__init__(
            f"cannot fit the session into {format_duration(wanted)}: at speed {speed:g} it can be "
            f"from {format_duration(shortest)} to {format_duration(longest)} long"
        )


@dataclass
class _Draft:
    kind: EventKind
    duration: float
    section: int
    text: str = ""
    step: Step | None = None
    flexible: bool = False
    pace: float = 1.0
    voice: str | None = None


@dataclass
class _Builder:
    speed: float
    timer: SpeechTimer
    wait: float = 30.0             # a [wait] without its own length
    drafts: list[_Draft] = field(default_factory=list)
    section_voices: list[str | None] = field(default_factory=list)   # each section's {voice NAME}
    voices: Mapping[str, SpeechTimer] = field(default_factory=dict)  # their timers (else `timer`)

    def gap(self, seconds: float, section: int, speed: float | None = None) -> None:
        self.drafts.append(_Draft("pause", seconds / (speed or self.speed), section, flexible=True))

    def say(self, step: Say, section: int) -> None:
        """Each sentence at the paragraph's speed (`{pace}`), the gaps between them too."""
        speed = paced_speed(self.speed, step.pace)
        voice = self.section_voices[section] if section < len(self.section_voices) else None
        timer = self.voices.get(voice, self.timer) if voice is not None else self.timer
        for i, sentence in enumerate(split_sentences(step.text)):
            if i:
                self.gap(SENTENCE_GAP, section, speed)
            self.drafts.append(_Draft("say", timer(sentence, speed), section, sentence, step, pace=step.pace,
                                      voice=voice))

    def add(self, step: Step, section: int) -> None:
        if isinstance(step, Say):
            self.say(step, section)
        elif isinstance(step, Pause):
            self.drafts.append(_Draft("pause", step.seconds, section, step=step, flexible=not step.fixed))
        elif isinstance(step, Hold):
            self.drafts.append(_Draft("hold", step.seconds, section, step=step))
            self.drafts.append(_Draft("chime", HOLD_END_CHIME, section, step=step))
        elif isinstance(step, Wait):
            seconds = self.wait if step.seconds is None else step.seconds
            self.drafts.append(_Draft("wait", seconds, section, WAIT_TEXT, step))
            self.drafts.append(_Draft("chime", HOLD_END_CHIME, section, step=step))
        elif isinstance(step, Chime):
            self.drafts.append(_Draft("chime", CHIME_SECONDS, section, step=step))
        elif isinstance(step, Breathe):
            voice = self.section_voices[section] if section < len(self.section_voices) else None
            self.drafts.append(_Draft("breathe", step.seconds, section, f"{step.count} breaths", step, voice=voice))


def plan(
    routine: Routine,
    *,
    speed: float | None = None,
    length: float | None | object = FROM_ROUTINE,
    timer: SpeechTimer = estimate_speech,
    fit: bool = True,
    wait: float | None = None,
    voices: Mapping[str, SpeechTimer] | None = None,
) -> Timeline:
    """Lay the routine out in time at `speed`, fitted to `length` (None: its natural length),
    a `[wait]` of no length of its own lasting `wait` seconds. Left out, each is the front
    matter's, else the default (resolved as every setting is, by `settings.resolve`); a
    session's resolved settings pass them all. `fit=False` skips fitting a
    length: what to say is known before synthesis, but whether a length can be met only once
    the real sentence durations are (estimates may be off either way). A `{voice NAME}`
    section's sentences are timed by `voices[NAME]` when given (measured in that voice), else
    by `timer`."""
    if speed is None or length is FROM_ROUTINE or wait is None:
        chosen = resolve({}, routine.meta.settings)
        speed = chosen.speed if speed is None else speed
        length = chosen.length if length is FROM_ROUTINE else length
        wait = chosen.wait if wait is None else wait
    assert length is None or isinstance(length, (int, float))
    builder = _Builder(speed, timer, wait, section_voices=[s.voice for s in routine.sections], voices=voices or {})
    builder.drafts.append(_Draft("pause", LEAD_IN, 0, flexible=True))
    previous: Step | None = None
    for index, section in enumerate(routine.sections):
        for step in section.steps:
            if isinstance(step, Say) and isinstance(previous, Say):
                builder.gap(TITLE_GAP if previous.is_title else PARAGRAPH_GAP, index)
            builder.add(step, index)
            previous = step
    builder.drafts.append(_Draft("pause", TAIL, len(routine.sections) - 1, flexible=True))
    if length is not None and fit:
        _fit(builder.drafts, length, speed)
    return _assemble(routine, speed, builder.drafts)


def _fit(drafts: list[_Draft], length: float, speed: float) -> None:
    """Scale flexible events so the durations add up to `length` exactly."""
    flex = sum(d.duration for d in drafts if d.flexible)
    fixed = sum(d.duration for d in drafts if not d.flexible)
    shortest, longest = fixed + flex * MIN_FLEX_SCALE, fixed + flex * MAX_FLEX_SCALE
    if not shortest - 1e-9 <= length <= longest + 1e-9:
        raise FitError(length, shortest, longest, speed)
    scale = (length - fixed) / flex
    flexible = [d for d in drafts if d.flexible]
    for d in flexible:
        d.duration *= scale
    # Put any floating-point remainder on the last flexible event so the sum is exact.
    flexible[-1].duration += length - sum(d.duration for d in drafts)


def _assemble(routine: Routine, speed: float, drafts: list[_Draft]) -> Timeline:
    events: list[Event] = []
    t = 0.0
    language = routine.meta.language
    words = phrases(language)
    for d in drafts:
        text = words["marker_breaths"].format(n=d.step.count) if d.kind == "breathe" else d.text   # "2 Atemzüge"
        events.append(Event(t, d.duration, d.kind, d.section, text, d.step, d.flexible, d.pace, d.voice))
        t += d.duration
    total = t
    first: dict[int, Event] = {}
    last: dict[int, Event] = {}
    for e in events:             # one pass: a routine may have thousands of sections
        first.setdefault(e.section, e)
        last[e.section] = e
    spans: list[SectionSpan] = []
    untitled = words["introduction"]     # the chapter of text before any heading
    for index, section in enumerate(routine.sections):
        start = first[index].start if index in first else (spans[-1].start + spans[-1].duration if spans else 0.0)
        end = last[index].end if index in last else start
        spans.append(SectionSpan(section.title or untitled, start, end - start, section.side,
                                 section.beat, section.ambient, section.voice))
    return Timeline(routine.meta.title, speed, tuple(events), tuple(spans), total, language, breathe_cues(language))
