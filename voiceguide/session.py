"""The session room: a routine and its settings, prepared once for every face.

    check (limits, sound files; the draft plan on estimated speech)
    -> narrate every sentence (parallel, cached) -> plan again with measured durations
    -> the mix's options -> a `Mix` (render and play each bring their own parts)

`render` writes the prepared session to a file and `play` sends it to the speakers; the
CLI, batch and the studio reach both through `voiceguide.api`. Nothing here knows a face.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import inputs
from .library import plan_session as plan
from .script.model import Routine
from .settings import Settings
from .sound.mix import Mix, MixOptions, MixParts
from .timeline import Timeline, from_speech_key, paced_speed, spoken
from .voices import Narrator, SynthesisError

Progress = Callable[[str, float, float], None]
"""(stage, done, total): stages are "voice" (sentences), "measure" and "encode" (seconds)."""
Warn = Callable[[str], None]

MEMORY_LIMIT = 24 << 20   # bytes of synthesized speech kept in memory (the rest is on disk)


@dataclass(frozen=True)
class Resources:
    """Where and how speech is made; none of it changes what the session sounds like."""

    store: Path | None = None        # the disk store's folder (voiceguide.store); None: keep nothing
    jobs: int | None = None          # speech worker processes (None: one per CPU)


@dataclass(frozen=True)
class Checked:
    """What is known before any synthesis: the draft plan (estimated speech) and the input
    files (routine, ambient and chime files) that no output may overwrite."""

    draft: Timeline
    inputs: list[Path]
    ambient: str                     # a bed name, or the checked file's absolute path
    chime: str


def check(routine: Routine, settings: Settings) -> Checked:
    """Before any synthesis: the (estimated) session fits the limits and its sound files decode."""
    draft = plan(routine, settings, fit=False)
    ambient, chime = inputs.ambient(routine, settings), inputs.chime(routine, settings)
    found = [Path(routine.source)] if Path(routine.source).is_file() else []
    found += [Path(value) for value in (ambient, chime) if Path(value).is_absolute()]
    return Checked(draft, found, ambient, chime)


def _at_its_line(exc: SynthesisError, routine: Routine, timeline: Timeline) -> SynthesisError:
    """The sentence no engine could speak, reported at the routine line it comes from."""
    line = next((e.step.line for e in timeline.events
                 if e.text == exc.text and e.step is not None and e.step.line > 0), None)
    if line is not None:
        exc.args = (f"{routine.source}:{line}: {exc}",)
    return exc


@dataclass
class Prepared:
    """A session ready to mix: every sentence spoken (in the narrator's memory or on disk)
    and the timeline measured. Close it (or use `with`) to stop the speech workers."""

    routine: Routine
    settings: Settings
    checked: Checked
    narrator: Narrator
    timeline: Timeline
    warnings: list[str] = field(default_factory=list)

    def mix_options(self, resources: Resources, sample_rate: int | None = None,
                    channels: int | None = None) -> MixOptions:
        s = self.settings
        return MixOptions(
            sample_rate=sample_rate or s.sample_rate,
            channels=channels or (1 if s.mono else 2),
            ambient=self.checked.ambient,
            ambient_volume=s.ambient_volume,
            chime=self.checked.chime,
            sleep=s.sleep,
            start_bell=s.bells,
            end_bell=s.bells,
            clip_store=str(resources.store) if resources.store is not None else None,
        )

    def mix(self, options: MixOptions, parts: MixParts = MixParts()) -> Mix:
        """The session's mix (live play passes its own parts)."""
        narrator, speed = self.narrator, self.timeline.speed

        def speech(key: str) -> tuple[np.ndarray, int]:
            text, pace = from_speech_key(key)          # a {pace}d sentence: at its own speed
            said = narrator.speech(text, paced_speed(speed, pace))
            return said.samples, said.sample_rate

        return Mix(self.timeline, speech, options, parts)

    def close(self) -> None:
        self.narrator.close()

    def __enter__(self) -> "Prepared":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def narrator_for(routine: Routine, settings: Settings, resources: Resources, on_warning: Warn | None) -> Narrator:
    """The narrator that speaks this session (no worker starts until a sentence needs one)."""
    return Narrator(engine=settings.engine, voice=settings.voice, cache=resources.store,
                    pronounce=routine.meta.pronounce, jobs=resources.jobs, on_warning=on_warning,
                    memory_limit=MEMORY_LIMIT)


def prepare(routine: Routine, settings: Settings, resources: Resources = Resources(), *,
            checked: Checked | None = None, progress: Progress | None = None,
            on_warning: Warn | None = None) -> Prepared:
    """Check (unless `checked` is given), synthesize every sentence, and plan with the
    measured durations."""
    checked = checked or check(routine, settings)
    warnings: list[str] = []

    def warn(message: str) -> None:
        warnings.append(message)
        if on_warning is not None:
            on_warning(message)

    narrator = narrator_for(routine, settings, resources, warn)
    try:
        texts = spoken(checked.draft)            # (sentence, speed): {pace} speaks at its own
        step = 4 * narrator.jobs   # a few sentences per worker between progress reports
        for done in range(0, len(texts), step):
            batch = texts[done:done + step]
            try:
                for speed in dict.fromkeys(speed for _, speed in batch):
                    narrator.prepare([text for text, at in batch if at == speed], speed)
            except SynthesisError as exc:
                raise _at_its_line(exc, routine, checked.draft) from None
            if progress is not None:
                progress("voice", min(done + step, len(texts)), len(texts))
        timeline = plan(routine, settings, timer=narrator.timer())
    except BaseException:
        narrator.close()
        raise
    return Prepared(routine, settings, checked, narrator, timeline, warnings)
