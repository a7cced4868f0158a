"""How long a session will be, before it is rendered: what `voiceguide list` and `plan` show.

The render plans with each sentence's measured duration and the file is exactly
`timeline.total` long (plus `sleep`, which these commands do not take). So the length is
the same plan with the best durations known without speaking: the speech cache's, when it
holds the sentence for this engine, voice and speed, else the voice's calibrated pace
(timeline.PACES). Looking never synthesizes and never starts an engine worker.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable
from pathlib import Path

from .library import plan_session
from .script.durations import format_clock, format_duration
from .script.model import Routine
from .settings import Settings, resolve
from .timeline import DEFAULT_PACE, Pace, SpeechTimer, Timeline, pace_for
from .voices import EngineUnavailable, Narrator, SpeechCache, UnknownEngine, VoiceNotFound
from .voices.pyttsx3_engine import BASE_WPM, words_per_minute
from .voices.registry import canonical


@dataclass(frozen=True)
class SessionLength:
    """A session's expected length, and whether every sentence's duration was measured."""

    seconds: float
    measured: bool
    fitted: bool = False      # a requested length: the render is fitted to it, so it is exact
    engine: str = ""          # the engine that will speak ("" if none is usable)
    timeline: Timeline | None = field(default=None, repr=False, compare=False)


def speed_scale(engine: str, speed: float) -> float:
    """Speech duration at `speed` over that at 1.0, as the engine applies speed: piper picks
    its length scale so duration follows 1/speed; espeak speaks at a whole words-per-minute
    rate (measured: totals within 0.7 % of BASE_WPM / rate from speed 0.85 to 1.6)."""
    if engine == "pyttsx3":
        return BASE_WPM / words_per_minute(speed)
    return 1.0 / speed


class LengthTimer:
    """A timeline.SpeechTimer that reads measured durations from the speech cache and
    estimates the rest; `measured` stays True while every sentence came from the cache."""

    def __init__(self, narrator: Narrator | None, engine: str, pace: Pace):
        self.narrator, self.engine, self.pace = narrator, engine, pace
        self.cache: SpeechCache | None = narrator.cache if narrator is not None else None
        self.measured = self.cache is not None
        self._known: dict[tuple[str, float], float] = {}

    def close(self) -> None:
        """Drop the narrator's engines (none of them started a worker)."""
        if self.narrator is not None:
            self.narrator.close()

    def __call__(self, sentence: str, speed: float) -> float:
        key = (sentence, speed)
        if key not in self._known:
            self._known[key] = self._seconds(sentence, speed)
        return self._known[key]

    def _seconds(self, sentence: str, speed: float) -> float:
        spoken = sentence if self.narrator is None else self.narrator.normalize(sentence)
        estimate = self.pace.seconds(spoken) * speed_scale(self.engine, speed)
        if self.cache is None or self.narrator is None:
            return estimate       # no cache folder (measured stays False), or no engine
        if not estimate:
            return 0.0     # nothing to say: the narrator speaks silence, never the cache
        speech = self.cache.get(self.narrator.request(sentence, speed))
        if speech is None:
            self.measured = False
            return estimate
        return speech.duration


def _narrator(routine: Routine, engine: str, voice: str, cache: str | os.PathLike[str] | None) -> Narrator | None:
    """A narrator that only picks the engine (the registry's choice for `auto`) and computes
    cache keys, or None if that would need a worker (pyttsx3 lists its voices from one, so only
    its default voice is known without) or no engine works."""
    if voice not in ("", "default") and engine != "piper":
        return None
    try:
        return Narrator(engine=engine, voice=voice, cache=None if cache is None else Path(cache),
                        pronounce=routine.meta.pronounce, jobs=1, fallback=False, language=routine.meta.language)
    except (EngineUnavailable, VoiceNotFound, UnknownEngine):
        return None


def length_timer(routine: Routine, *, engine: str, voice: str,
                 cache: str | os.PathLike[str] | None = None) -> LengthTimer:
    """The timer for planning `routine` as it will be rendered with `engine` and `voice` (from
    its resolved settings), reading durations from the speech cache in folder `cache`."""
    name = canonical(engine)    # checked already by the settings; "espeak" -> "pyttsx3"
    narrator = _narrator(routine, name, voice, cache)
    if narrator is None:
        spoken_by = "" if name == "auto" else name
        return LengthTimer(None, spoken_by, pace_for(spoken_by, voice) if spoken_by else DEFAULT_PACE)
    label = narrator.request("", 1.0).voice.split(":", 1)[0]    # "joe:<model hash>:..." -> "joe"
    return LengthTimer(narrator, narrator.engine.name, pace_for(narrator.engine.name, label))


def session_length(routine: Routine, settings: Settings | None = None,
                   cache: str | os.PathLike[str] | None = None,
                   wrap: Callable[[str, LengthTimer], SpeechTimer] | None = None) -> SessionLength:
    """How long the render of `routine` with `settings` (default: its front matter's) will be,
    and whether that is measured (every sentence found in the store folder `cache`) or
    estimated from the voice's pace. `wrap(voice name, timer)` may stand in front of each
    voice's timer (the studio remembers what they read)."""
    settings = settings or resolve({}, routine.meta.settings)
    timer = length_timer(routine, engine=settings.engine, voice=settings.voice, cache=cache)
    voices = {name: length_timer(routine, engine=settings.engine, voice=name, cache=cache)     # {voice NAME}
              for name in dict.fromkeys(s.voice for s in routine.sections if s.voice is not None)}
    use = wrap or (lambda _name, each: each)
    try:
        timeline = plan_session(routine, settings, timer=use(settings.voice, timer),
                                voices={name: use(name, each) for name, each in voices.items()})
    finally:
        for each in (timer, *voices.values()):
            each.close()
    measured = timer.measured and all(each.measured for each in voices.values())
    return SessionLength(timeline.total, measured, fitted=settings.length is not None, engine=timer.engine,
                         timeline=timeline)


LEGEND = "~ estimated from the voice's pace; without ~: measured from the speech cache (rendered before)"


def format_length(length: SessionLength) -> str:
    """"14m12.3s" when measured, "~14m10s" when estimated (whole seconds: no false precision)."""
    if length.measured or length.fitted:
        return format_duration(length.seconds)
    return "~" + format_duration(round(length.seconds))


def total_line(length: SessionLength) -> str:
    """The `plan` table's last line."""
    how = "fitted to the length asked for" if length.fitted else \
        "measured from the speech cache" if length.measured else "estimated from the voice's pace"
    clock = format_clock(length.seconds if length.measured or length.fitted else round(length.seconds))
    return f"Total: {format_length(length)} ({clock}; {how})"
