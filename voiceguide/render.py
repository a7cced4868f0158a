"""Routine -> finished audio file: the one pipeline both `render` and the batch tools use.

    narrate every sentence (parallel, cached) -> plan with measured durations -> mix blocks
    (voice, bed, chimes, ducking) -> master (loudness, true peak) -> stream into the encoder
    -> tags, chapters, sidecars. Every output is written to a temp file and renamed.

Nothing here holds the whole session in memory: the mix is rendered block by block twice
(one pass to measure loudness, one to encode), which is cheaper than keeping an hour of audio.
"""
from __future__ import annotations

import functools
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from .errors import VoiceguideError
from .memory import tune_allocator
from .export.atomic import OutputWriteError, atomic_output, check_writable
from .export.encode import EncodeResult, encode, quality_args, resolve_format
from .export.sidecars import sidecar_paths, write_json, write_sidecars
from .export.tags import Tags, chapters_from_timeline
from .library import plan_routine
from .limits import DEFAULT_LIMITS, Limits
from .script.model import Routine
from .script.parse import excerpt
from .sound.beds import BEDS
from .sound.chimes import SYNTHS as CHIME_SYNTHS, find_asset as find_chime_asset
from .sound.ffmpeg import FFmpegError, decode_stream
from .sound.master import Mastered, MasterOptions, Measurement
from .sound.mix import Mix, MixOptions, MixParts
from .timeline import Timeline, spoken_texts
from .voices import Narrator, SynthesisError

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
    cache: str | None = None         # the store's folder (voiceguide.store); None: no disk cache
    jobs: int | None = None
    max_session: float = DEFAULT_LIMITS.max_session   # seconds, counting length and sleep

    @property
    def limits(self) -> Limits:
        return Limits(max_session=self.max_session)


@dataclass
class RenderResult:
    path: Path
    timeline: Timeline
    loudness: Measurement | None
    encoded: EncodeResult
    sidecars: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0             # wall time of the render


MIN_BED_SECONDS = 0.1     # a shorter ambient file cannot be looped (see sound.beds.FileBed)


@functools.lru_cache(maxsize=32)
def _probe(path: str, mtime_ns: int, size: int, min_seconds: float) -> str | None:
    """None if ffmpeg decodes at least `min_seconds` of audio from `path`, else why not.
    Only that much is decoded (one ffmpeg start); the cache key changes when the file does."""
    rate = 8000
    want = max(1, int(min_seconds * rate))
    blocks = decode_stream(path, rate, 1, chunk_frames=want)
    try:
        first = next(blocks, None)
    except (OSError, FFmpegError) as exc:
        reason = str(exc).strip().splitlines()
        return f"ffmpeg cannot decode it ({excerpt(reason[-1], 120) if len(reason) > 1 else 'not audio'})"
    finally:
        blocks.close()
    if first is None or len(first) < want:
        return "it holds no audio" if first is None or not len(first) else \
            f"it is too short (under {min_seconds:g} s)"
    return None


def _sound_file(name: str, what: str, routine: Routine, from_routine: bool, min_seconds: float,
                names: str) -> str:
    """`name` as a readable, decodable audio file (absolute, so ffmpeg never reads it as a URL):
    relative to the routine's folder when the routine named it, else to the working folder."""
    if from_routine:
        where = f"{routine.source}:{routine.meta.lines.get(what, 1)}: {what} '{excerpt(name)}'"
    else:
        where = f"--{what} '{excerpt(name)}'"
    path: Path | None = None
    try:
        given = Path(name.strip()).expanduser()
        if from_routine and not given.is_absolute() and Path(routine.source).is_file():
            given = Path(routine.source).parent / given
        path = given.absolute()
        info = path.stat()
    except (OSError, ValueError, RuntimeError):   # missing, NUL byte, name too long, no home
        missing = f" (no such file: {excerpt(str(path), 200)})" if path is not None else ""
        raise VoiceguideError(f"{where} is neither {names} nor a readable sound file{missing}") from None
    if not stat.S_ISREG(info.st_mode):
        raise VoiceguideError(f"{where} is neither {names} nor a readable sound file ({path} is not a file)")
    if not os.access(path, os.R_OK):
        raise VoiceguideError(f"{where}: {path} is not readable")
    problem = _probe(str(path), info.st_mtime_ns, info.st_size, min_seconds)
    if problem is not None:
        raise VoiceguideError(f"{where}: {path} is not a usable sound file: {problem}")
    return str(path)


def resolve_ambient(name: str, routine: Routine, from_routine: bool = True) -> str:
    """A bed name stays; anything else must be a decodable sound file, relative to the routine's
    folder when the front matter names it. Errors point at the `ambient =` line."""
    key = name.strip().lower()
    if key in BEDS or key == "none":
        return name
    beds = f"a bed ({', '.join(sorted(BEDS))}, none)"
    return _sound_file(name, "ambient", routine, from_routine, MIN_BED_SECONDS, beds)


def resolve_chime(name: str, routine: Routine, from_routine: bool = True) -> str:
    """Like resolve_ambient, for the chime: a built-in sound stays, a file must decode."""
    key = name.strip()
    try:
        builtin = key.lower() == "none" or key in CHIME_SYNTHS or find_chime_asset(key) is not None
    except (OSError, ValueError):
        builtin = False
    if builtin:
        return name
    return _sound_file(name, "chime", routine, from_routine, 0.0, f"a chime ({', '.join(sorted(CHIME_SYNTHS))}, none)")


def check_inputs(routine: Routine, options: RenderOptions) -> list[Path]:
    """Before any synthesis: the (estimated) session fits the limits and its sound files decode. Returns
    the input files (routine, ambient, chime) no output may overwrite."""
    speed = routine.meta.speed if options.speed is None else options.speed
    plan_routine(routine, speed=speed, length=options.length, sleep=options.sleep, limits=options.limits,
                 fit=False)
    inputs = [Path(routine.source)] if Path(routine.source).is_file() else []
    for value in (resolve_ambient(options.ambient or routine.meta.ambient, routine, not options.ambient),
                  resolve_chime(options.chime or routine.meta.chime, routine, not options.chime)):
        if Path(value).is_absolute():
            inputs.append(Path(value))
    return inputs


def _same_file(path: Path) -> str:
    """A key equal for two names of one file (symlinks, `./`, `..`)."""
    return os.path.normcase(os.path.realpath(path))


def _check_outputs(output: Path, options: RenderOptions, inputs: Sequence[Path] = ()) -> None:
    """Fail before any work if an output exists (without force), cannot be written, is one of
    the inputs (even with force), coincides with another output, or a format is unknown."""
    try:
        quality_args(resolve_format(output, options.format), options.quality)
    except ValueError as exc:
        raise VoiceguideError(f"{output}: {exc}") from None
    named = [("-o", output), *((f"--transcript {kind}", path)
                                for kind, path in sidecar_paths(output, options.transcripts).items())]
    named += [(flag, p) for flag, p in (("--timeline", options.timeline_path), ("--png", options.picture))
              if p is not None]
    sources = {}
    for source in inputs:
        sources.setdefault(_same_file(source), source)
    seen: dict[str, str] = {}
    for flag, target in named:
        try:
            key = _same_file(target)
        except (OSError, ValueError) as exc:
            raise VoiceguideError(f"{excerpt(str(target), 200)}: not a usable output name ({exc})") from None
        if key in sources:
            raise VoiceguideError(f"{target}: the output ({flag}) would overwrite the input {sources[key]}; "
                                  f"choose another name")
        if key in seen:
            raise VoiceguideError(f"{target}: {flag} and {seen[key]} would write the same file")
        seen[key] = flag
        try:
            if target.exists() and not target.is_dir() and not target.is_file():
                raise VoiceguideError(f"{target}: is not a regular file (a device, FIFO or socket); "
                                      f"choose a file name")
            check_writable(target, options.force)
        except (VoiceguideError, FileExistsError, OutputWriteError):
            raise
        except OSError as exc:
            raise VoiceguideError(f"{excerpt(str(target), 200)}: cannot write: {exc.strerror or exc}") from None


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
    limits = dict(sleep=options.sleep, limits=options.limits)
    draft = plan_routine(routine, speed=speed, length=options.length, fit=False, **limits)
    texts = spoken_texts(draft)
    step = 4 * narrator.jobs   # a few sentences per worker between progress reports
    for done in range(0, len(texts), step):
        try:
            narrator.prepare(texts[done:done + step], speed)
        except SynthesisError as exc:
            raise _at_its_line(exc, routine, draft) from None
        if progress is not None:
            progress("voice", min(done + step, len(texts)), len(texts))
    return plan_routine(routine, speed=speed, length=options.length, timer=narrator.timer(), **limits)


def _at_its_line(exc: SynthesisError, routine: Routine, timeline: Timeline) -> SynthesisError:
    """The sentence no engine could speak, reported at the routine line it comes from."""
    line = next((e.step.line for e in timeline.events
                 if e.text == exc.text and e.step is not None and e.step.line > 0), None)
    if line is not None:
        exc.args = (f"{routine.source}:{line}: {exc}",)
    return exc


def mix_options(routine: Routine, options: RenderOptions) -> MixOptions:
    """The mixer's settings: the options, else the routine's front matter."""
    meta = routine.meta
    return MixOptions(
        sample_rate=options.sample_rate,
        channels=1 if options.mono else 2,
        ambient=resolve_ambient(options.ambient or meta.ambient, routine, not options.ambient),
        ambient_volume=meta.ambient_volume if options.ambient_volume is None else options.ambient_volume,
        chime=resolve_chime(options.chime or meta.chime, routine, not options.chime),
        sleep=options.sleep,
        start_bell=options.bells,
        end_bell=options.bells,
        clip_store=str(options.cache) if options.cache else None,
    )


def build_mix(routine: Routine, timeline: Timeline, narrator: Narrator, options: RenderOptions,
              parts: MixParts = MixParts()) -> Mix:
    """The session's mix (live play passes its own parts)."""
    speed = timeline.speed

    def speech(text: str) -> tuple[np.ndarray, int]:
        spoken = narrator.speech(text, speed)
        return spoken.samples, spoken.sample_rate

    return Mix(timeline, speech, mix_options(routine, options), parts)


def render(routine: Routine, output: str | Path, options: RenderOptions = RenderOptions(),
           progress: Progress | None = None, on_warning: Callable[[str], None] | None = None) -> RenderResult:
    """Render `routine` into `output` (format from its extension unless options.format)."""
    started = time.monotonic()
    tune_allocator()
    output = Path(output)
    _check_outputs(output, options, check_inputs(routine, options))
    warnings: list[str] = []

    def warn(message: str) -> None:
        warnings.append(message)
        if on_warning is not None:
            on_warning(message)

    meta = routine.meta
    with Narrator(engine=options.engine or meta.engine, voice=options.voice or meta.voice,
                  cache=options.cache or None, pronounce=meta.pronounce, jobs=options.jobs,
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
