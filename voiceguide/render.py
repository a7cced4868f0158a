"""Routine -> finished audio file: the one pipeline both `render` and the batch tools use.

    narrate every sentence (parallel, cached) -> plan with measured durations -> mix blocks
    (voice, bed, chimes, ducking) -> master (loudness, true peak) -> stream into the encoder
    -> tags, chapters, sidecars. Every output is written to a temp file and renamed.

Nothing here holds the whole session in memory: the mix is rendered block by block twice
(one pass to measure loudness, one to encode), which is cheaper than keeping an hour of audio.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from .errors import VoiceguideError
from .memory import tune_allocator
from .export.atomic import atomic_output, check_writable
from .export.encode import EncodeResult, encode, quality_args, resolve_format
from .export.sidecars import sidecar_paths, write_json, write_sidecars
from .export.tags import Tags, chapters_from_timeline
from .script.model import Routine
from .sound.beds import BEDS
from .sound.master import Mastered, MasterOptions, Measurement
from .sound.mix import Mix, MixOptions
from .timeline import Timeline, plan, spoken_texts
from .voices import Narrator, default_cache_dir

Progress = Callable[[str, float, float], None]
"""(stage, done, total): stages are "voice" (sentences), "measure" and "encode" (seconds)."""

TRANSCRIPTS = ("vtt", "srt", "txt")
MEMORY_LIMIT = 24 << 20   # bytes of synthesized speech kept in memory (the rest is on disk)


@dataclass(frozen=True)
class RenderOptions:
    """Everything that changes the output. None means: what the routine's front matter says."""

    speed: float | None = None
    length: float | None = None
    engine: str | None = None
    voice: str | None = None
    ambient: str | None = None
    ambient_volume: float | None = None
    chime: str | None = None
    sleep: float = 0.0
    bells: bool = False              # a bell at the start and after the last words
    format: str | None = None        # default: from the output's extension
    quality: str | None = None
    sample_rate: int = 44100
    mono: bool = False
    loudness: float = -16.0          # integrated LUFS
    transcripts: Sequence[str] = ()  # any of vtt, srt, txt: written beside the output
    timeline_path: Path | None = None
    picture: Path | None = None      # a PNG of the timeline with the rendered waveform
    force: bool = False
    cache: bool = True
    jobs: int | None = None


@dataclass
class RenderResult:
    path: Path
    timeline: Timeline
    loudness: Measurement | None
    encoded: EncodeResult
    sidecars: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0             # wall time of the render


def resolve_ambient(name: str, routine: Routine) -> str:
    """A bed name stays; anything else is a sound file, relative to the routine's folder."""
    if name in BEDS or name == "none":
        return name
    path = Path(name).expanduser()
    if not path.is_absolute() and Path(routine.source).is_file():
        path = Path(routine.source).parent / path
    if not path.is_file():
        beds = ", ".join(sorted(BEDS))
        raise VoiceguideError(f"{routine.source}: ambient '{name}' is neither a bed ({beds}, none) "
                              f"nor a readable sound file ({path})")
    return str(path)


def _check_outputs(output: Path, options: RenderOptions) -> None:
    """Fail before any work if an output exists (without force) or a format is unknown."""
    try:
        quality_args(resolve_format(output, options.format), options.quality)
    except ValueError as exc:
        raise VoiceguideError(f"{output}: {exc}") from None
    targets = [output, *sidecar_paths(output, options.transcripts).values()]
    targets += [p for p in (options.timeline_path, options.picture) if p is not None]
    for target in targets:
        check_writable(target, options.force)


class Envelope:
    """Peak level per tenth of a second of a block stream, for the session picture."""

    rate = 10.0

    def __init__(self, sample_rate: int):
        self.hop = int(sample_rate / self.rate)
        self.peaks: list[float] = []
        self._carry = np.zeros(0, np.float32)

    def add(self, block: np.ndarray) -> None:
        level = np.concatenate([self._carry, np.abs(block).max(axis=1)])
        whole = len(level) // self.hop * self.hop
        self.peaks.extend(level[:whole].reshape(-1, self.hop).max(axis=1).tolist())
        self._carry = level[whole:]

    def values(self) -> np.ndarray:
        tail = [float(self._carry.max())] if len(self._carry) else []
        return np.array(self.peaks + tail, np.float32)


def _tracked(blocks: Iterator[np.ndarray], sample_rate: int, total: float, stage: str,
             progress: Progress | None, envelope: Envelope | None) -> Iterator[np.ndarray]:
    done = 0
    for block in blocks:
        done += len(block)
        if envelope is not None:
            envelope.add(block)
        if progress is not None:
            progress(stage, done / sample_rate, total)
        yield block


def narrate_and_plan(routine: Routine, options: RenderOptions, narrator: Narrator,
                     progress: Progress | None = None) -> Timeline:
    """Synthesize every sentence, then plan with the measured durations."""
    meta = routine.meta
    speed = meta.speed if options.speed is None else options.speed
    texts = spoken_texts(plan(routine, speed=speed))
    step = 4 * narrator.jobs   # a few sentences per worker between progress reports
    for done in range(0, len(texts), step):
        narrator.prepare(texts[done:done + step], speed)
        if progress is not None:
            progress("voice", min(done + step, len(texts)), len(texts))
    return plan(routine, speed=speed, length=options.length, timer=narrator.timer())


def mix_options(routine: Routine, options: RenderOptions) -> MixOptions:
    """The mixer's settings: the options, else the routine's front matter."""
    meta = routine.meta
    return MixOptions(
        sample_rate=options.sample_rate,
        channels=1 if options.mono else 2,
        ambient=resolve_ambient(options.ambient or meta.ambient, routine),
        ambient_volume=meta.ambient_volume if options.ambient_volume is None else options.ambient_volume,
        chime=options.chime or meta.chime,
        sleep=options.sleep,
        start_bell=options.bells,
        end_bell=options.bells,
        clip_store=str(default_cache_dir() / "clips") if options.cache else None,
    )


def build_mix(routine: Routine, timeline: Timeline, narrator: Narrator, options: RenderOptions,
              mix_class: type[Mix] = Mix) -> Mix:
    """The session's mix (live play passes its own Mix subclass)."""
    speed = timeline.speed

    def speech(text: str) -> tuple[np.ndarray, int]:
        spoken = narrator.speech(text, speed)
        return spoken.samples, spoken.sample_rate

    return mix_class(timeline, speech, mix_options(routine, options))


def render(routine: Routine, output: str | Path, options: RenderOptions = RenderOptions(),
           progress: Progress | None = None, on_warning: Callable[[str], None] | None = None) -> RenderResult:
    """Render `routine` into `output` (format from its extension unless options.format)."""
    started = time.monotonic()
    tune_allocator()
    output = Path(output)
    _check_outputs(output, options)
    warnings: list[str] = []

    def warn(message: str) -> None:
        warnings.append(message)
        if on_warning is not None:
            on_warning(message)

    meta = routine.meta
    with Narrator(engine=options.engine or meta.engine, voice=options.voice or meta.voice,
                  cache=options.cache, pronounce=meta.pronounce, jobs=options.jobs,
                  on_warning=warn, memory_limit=MEMORY_LIMIT) as narrator:
        timeline = narrate_and_plan(routine, options, narrator, progress)
        mix = build_mix(routine, timeline, narrator, options)
        seconds = mix.frames / mix.sample_rate
        if progress is not None:
            progress("measure", 0.0, seconds)
        mastered = Mastered(mix, MasterOptions(target_lufs=options.loudness))
        if progress is not None:
            progress("measure", seconds, seconds)
        chapters = chapters_from_timeline(timeline, end=seconds)
        tags = Tags(title=meta.title, description=meta.description)
        envelope = Envelope(mix.sample_rate) if options.picture is not None else None
        encoded = encode(_tracked(mastered.blocks(), mix.sample_rate, seconds, "encode", progress, envelope),
                         output, sample_rate=mix.sample_rate, channels=mix.channels,
                         format=options.format, quality=options.quality, tags=tags,
                         chapters=chapters, force=options.force)
    for message in mix.warnings:
        warn(message)
    sidecars = write_sidecars(timeline, output, list(options.transcripts), force=options.force)
    if options.timeline_path is not None:
        sidecars.append(write_json(timeline, options.timeline_path, force=options.force))
    if options.picture is not None and envelope is not None:
        from .picture import draw_timeline
        with atomic_output(options.picture, force=options.force) as tmp:
            draw_timeline(timeline, tmp, envelope.values(), Envelope.rate)
        sidecars.append(options.picture)
    return RenderResult(output, timeline, mastered.result, encoded, sidecars, warnings,
                        time.monotonic() - started)
