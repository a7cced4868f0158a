"""The previewer's narrators (preview.py): the session's voice and each `{voice NAME}`
section's, kept open between previews so a sentence already spoken sounds at once.

A session's voices are one `Voices`: the session narrator (engine, voice, language and
pronunciations) and, on its engines (the same workers and store, as a render opens them:
`session.voice_narrator`), a narrator for each section voice a routine names. Each voice
remembers what it has measured, so the preview plans and mixes every section in its own
voice with the render's speech keys and clips. `Narrators` keeps a few `Voices` open, the
least recently used closed.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from .errors import VoiceguideError
from .lengths import speed_scale
from .script.model import Routine
from .session import Resources, narrator_for, voice_narrator
from .settings import Settings
from .timeline import Pace, pace_for
from .voices import Narrator

PREVIEW_JOBS = 2           # speech workers per narrator: a span has a few sentences at most


@dataclass
class Speaker:
    """One voice's narrator and what it has measured (sentence, speed -> seconds: spoken now
    or read from the store; such durations never change)."""

    narrator: Narrator
    pace: Pace
    measured: dict[tuple[str, float], float] = field(default_factory=dict)

    @classmethod
    def of(cls, narrator: Narrator) -> "Speaker":
        label = narrator.request("", 1.0).voice.split(":", 1)[0]    # "joe:<model hash>:..." -> "joe"
        return cls(narrator, pace_for(narrator.engine.name, label))  # as lengths.length_timer picks it


class Timer:
    """A timeline.SpeechTimer: the measured duration of sentences spoken or in the store, else
    the voice's calibrated estimate, as `lengths.LengthTimer` (what `voiceguide plan` uses)."""

    def __init__(self, speaker: Speaker):
        self.speaker = speaker

    def known(self, sentence: str, speed: float) -> bool:
        return (sentence, speed) in self.speaker.measured

    def __call__(self, sentence: str, speed: float) -> float:
        speaker, key = self.speaker, (sentence, speed)
        if key in speaker.measured:
            return speaker.measured[key]
        narrator = speaker.narrator
        estimate = speaker.pace.seconds(narrator.normalize(sentence)) * speed_scale(narrator.engine.name, speed)
        if not estimate:
            return 0.0     # nothing to say: silence, never the store
        stored = narrator.cache.get(narrator.request(sentence, speed)) if narrator.cache is not None else None
        if stored is None:
            return estimate
        speaker.measured[key] = stored.duration
        return stored.duration


@dataclass
class Voices:
    """A session voice's speaker, its section voices' speakers, the warnings they gave, and
    the lock a preview holds while it uses them."""

    session: Speaker
    sections: dict[str, Speaker] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    closed: bool = False

    def speaker(self, voice: str | None) -> Speaker:
        """Who speaks a sentence of a section with this `{voice NAME}` (None: the session's voice)."""
        return self.session if voice is None else self.sections[voice]

    def open_sections(self, routine: Routine) -> None:
        """A speaker for each `{voice NAME}` of the routine not open yet; an unknown voice fails
        at its heading's line, as a render does."""
        for name in dict.fromkeys(s.voice for s in routine.sections if s.voice is not None):
            if name not in self.sections:
                self.sections[name] = Speaker.of(voice_narrator(routine, self.session.narrator, name))

    def timers(self) -> tuple[Timer, dict[str, Timer]]:
        """The plan's timers: the session voice's and each section voice's (timeline.plan)."""
        return Timer(self.session), {name: Timer(speaker) for name, speaker in self.sections.items()}

    @property
    def synthesized(self) -> int:
        """Sentences synthesized so far, in every voice."""
        return sum(s.narrator.stats.synthesized for s in (self.session, *self.sections.values()))

    def close(self) -> None:
        """Section voices first: they share the session narrator's engines, which it stops."""
        self.closed = True
        for speaker in self.sections.values():
            speaker.narrator.close()
        self.session.narrator.close()


class Narrators:
    """The open `Voices` by session voice. Thread-safe: each is used by one preview at a time;
    at most `max_open` stay open (the least recently used is closed once no preview uses it)."""

    def __init__(self, resources: Resources, max_open: int):
        self.resources, self.max_open = resources, max(1, max_open)
        self._open: OrderedDict[tuple, Voices] = OrderedDict()
        self._lock = threading.Lock()
        self._closed = False

    def get(self, routine: Routine, settings: Settings) -> Voices:
        """The open voices for the session's engine, voice and pronunciations (made if need be)."""
        key = (settings.engine, settings.voice, routine.meta.language, tuple(sorted(routine.meta.pronounce.items())))
        evicted: list[Voices] = []
        with self._lock:
            if self._closed:
                raise VoiceguideError("the previewer is closed")
            voices = self._open.get(key)
            if voices is None:
                voices = self._make(routine, settings)
                self._open[key] = voices
                while len(self._open) > self.max_open:
                    evicted.append(self._open.popitem(last=False)[1])
            self._open.move_to_end(key)
        for old in evicted:          # once a preview using it is done
            with old.lock:
                old.close()
        return voices

    def _make(self, routine: Routine, settings: Settings) -> Voices:
        jobs = min(self.resources.jobs or PREVIEW_JOBS, PREVIEW_JOBS)
        warnings: list[str] = []
        narrator = narrator_for(routine, settings, Resources(self.resources.store, jobs), warnings.append)
        return Voices(Speaker.of(narrator), warnings=warnings)

    def locked(self, routine: Routine, settings: Settings) -> Voices:
        """The session's voices with their lock held (retried if they were closed meanwhile)."""
        while True:
            voices = self.get(routine, settings)
            voices.lock.acquire()
            if not voices.closed:
                return voices
            voices.lock.release()

    def close(self) -> None:
        """Stop every speech worker now (a preview still running fails)."""
        with self._lock:
            self._closed = True
            voices = list(self._open.values())
            self._open.clear()
        for each in voices:
            each.close()
