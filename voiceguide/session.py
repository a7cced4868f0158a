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
from .script.phrases import is_english
from .errors import Named, SettingError
from .settings import Settings, beat_glide
from .sound.mix import Mix, MixOptions, MixParts
from .timeline import Timeline, from_speech_key, paced_speed, speech_voice, spoken
from .voices import EngineUnavailable, Narrator, SynthesisError, UnknownEngine, VoiceNotFound
from .voices.language import NoVoiceForLanguage

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
    check_beat(routine, settings)
    draft = plan(routine, settings, fit=False)
    ambient, chime = inputs.ambient(routine, settings), inputs.chime(routine, settings)
    found = [Path(routine.source)] if Path(routine.source).is_file() else []
    found += [Path(value) for value in (ambient, chime) if Path(value).is_absolute()]
    return Checked(draft, found, ambient, chime)


def check_beat(routine: Routine, settings: Settings) -> None:
    """A binaural beat is a different tone in each ear: refused in mono before any work."""
    beat = beat_glide(settings.beat) is not None or any(s.beat is not None for s in routine.sections)
    if beat and settings.mono and settings.beat_mode == "binaural":
        raise SettingError(Named("beat_mode"), ": binaural needs two channels (a tone in each ear); with ",
                           Named("mono"), " use ", Named("beat_mode"), " isochronic")


def sound_options(settings: Settings) -> dict[str, object]:
    """The mix options that come straight from the settings: the spatial voice and the
    beat tone (render, play and the studio's preview all mix with them)."""
    return dict(spatial=settings.spatial, beat=settings.beat, beat_mode=settings.beat_mode,
                carrier=settings.carrier, beat_volume=settings.beat_volume)


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
    voices: dict[str, Narrator] = field(default_factory=dict)    # each `{voice NAME}` section's

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
            **sound_options(s),  # type: ignore[arg-type]
        )

    def mix(self, options: MixOptions, parts: MixParts = MixParts()) -> Mix:
        """The session's mix (live play passes its own parts)."""
        narrator, voices, speed = self.narrator, self.voices, self.timeline.speed

        def speech(key: str) -> tuple[np.ndarray, int]:
            text, pace = from_speech_key(key)          # a {pace}d sentence: at its own speed
            voice = speech_voice(key)                  # a {voice NAME} section's: in its voice
            said = (narrator if voice is None else voices[voice]).speech(text, paced_speed(speed, pace))
            return said.samples, said.sample_rate

        return Mix(self.timeline, speech, options, parts)

    def close(self) -> None:
        _close(self.narrator, self.voices)

    def __enter__(self) -> "Prepared":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def narrator_for(routine: Routine, settings: Settings, resources: Resources, on_warning: Warn | None) -> Narrator:
    """The narrator that speaks this session (no worker starts until a sentence needs one).
    A voice the routine names, or its language, that no engine has fails at its line."""
    try:
        return Narrator(engine=settings.engine, voice=settings.voice, cache=resources.store,
                        pronounce=routine.meta.pronounce, jobs=resources.jobs, on_warning=on_warning,
                        memory_limit=MEMORY_LIMIT, language=routine.meta.language)
    except VoiceNotFound as exc:
        raise located(routine, settings, exc) from None


def located(routine: Routine, settings: Settings, exc: VoiceNotFound) -> VoiceNotFound:
    """`exc` at the front-matter line it comes from: `language` for a language no voice
    speaks (it is front matter only), `voice` when the routine named the voice."""
    key = "language" if isinstance(exc, NoVoiceForLanguage) else "voice" if settings.from_routine("voice") else None
    if key is None:
        return exc
    where = f"{routine.source}:{routine.meta.lines.get(key, 1)}: "
    return type(exc)(where + (str(exc) if key == "language" else f"voice: {exc}"))


def voice_narrators(routine: Routine, narrator: Narrator) -> dict[str, Narrator]:
    """A narrator for each `{voice NAME}` of the routine's headings, on the session narrator's
    engines (the same workers and cache); an unknown voice fails here, before any synthesis,
    at the line of the first heading that names it."""
    voices: dict[str, Narrator] = {}
    try:
        for section in routine.sections:
            name = section.voice
            if name is not None and name not in voices:
                voices[name] = voice_narrator(routine, narrator, name)
    except BaseException:
        _close(None, voices)
        raise
    return voices


def voice_narrator(routine: Routine, narrator: Narrator, name: str) -> Narrator:
    """The narrator of the routine's `{voice NAME}` on `narrator`'s engines, or VoiceNotFound
    at the line of the first heading that names it (the studio's preview opens them one by one)."""
    try:
        return narrator.for_voice(name)
    except VoiceNotFound as exc:
        line = next((s.line for s in routine.sections if s.voice == name), 1)
        raise VoiceNotFound(f"{routine.source}:{line}: unknown voice '{name}' ({exc})") from None


def check_voices(routine: Routine, settings: Settings) -> None:
    """Each `{voice NAME}` of the headings is a voice one of the session's engines has
    (`validate`, `plan` and the studio ask; VoiceNotFound as `prepare` says it), without
    speaking. A piper voice is known from its files; espeak's are listed by a worker, once
    per process (the engine keeps the list). The session's own voice is judged too when it
    is not the default or the routine is not in English (a voice must speak its language)."""
    if settings.voice not in ("", "default") or not is_english(routine.meta.language):
        try:
            narrator_for(routine, settings, Resources(None, jobs=1), None).close()
        except (EngineUnavailable, UnknownEngine):
            return  # no engine to ask: a render says so (validate does not judge engines)
    if all(s.voice is None for s in routine.sections):
        return
    try:        # the engines the session would try, without asking for its voice or language
        narrator = Narrator(engine=settings.engine, voice="default", jobs=1)
    except (EngineUnavailable, VoiceNotFound, UnknownEngine):
        return  # no engine to ask: a render says so (validate does not judge engines)
    try:
        _close(None, voice_narrators(routine, narrator))
    finally:
        narrator.close()


def _close(narrator: Narrator | None, voices: dict[str, Narrator]) -> None:
    """Section voices first: they share the session narrator's engines, which it stops."""
    for speaker in voices.values():
        speaker.close()
    if narrator is not None:
        narrator.close()


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
    voices: dict[str, Narrator] = {}
    try:
        voices = voice_narrators(routine, narrator)
        # (sentence, speed) of each voice: {pace} speaks at its own speed, {voice} in its voice
        speakers = [(narrator, spoken(checked.draft))]
        speakers += [(speaker, spoken(checked.draft, name)) for name, speaker in voices.items()]
        total, done = sum(len(texts) for _, texts in speakers), 0
        for speaker, texts in speakers:
            step = 4 * speaker.jobs   # a few sentences per worker between progress reports
            for start in range(0, len(texts), step):
                batch = texts[start:start + step]
                try:
                    for speed in dict.fromkeys(speed for _, speed in batch):
                        speaker.prepare([text for text, at in batch if at == speed], speed)
                except SynthesisError as exc:
                    raise _at_its_line(exc, routine, checked.draft) from None
                done += len(batch)
                if progress is not None:
                    progress("voice", done, total)
        timeline = plan(routine, settings, timer=narrator.timer(),
                        voices={name: speaker.timer() for name, speaker in voices.items()})
    except BaseException:
        _close(narrator, voices)
        raise
    return Prepared(routine, settings, checked, narrator, timeline, warnings, voices)
