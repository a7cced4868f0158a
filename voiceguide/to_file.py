"""A prepared session -> a finished audio file, with its tags, chapters and sidecars.

    prepare (voiceguide.session: check, narrate, plan) -> mix blocks (voice, bed, chimes,
    ducking) -> master (loudness, true peak) -> stream into the encoder -> tags, chapters,
    sidecars. Every output is written to a temp file and renamed.

Nothing here holds the whole session in memory: the mix is rendered block by block twice
(one pass to measure loudness, one to encode), which is cheaper than keeping an hour of audio.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from .errors import Named, SettingError, VoiceguideError
from .export.atomic import OutputWriteError, atomic_output, check_writable
from .export.cover import session_cover
from .export.encode import EncodeResult, encode, quality_args, resolve_format
from .export.sidecars import sidecar_paths, write_json, write_sidecars
from .export.tags import Tags, chapters_from_timeline
from .memory import tune_allocator
from .script.model import Routine
from .script.parse import excerpt
from .session import Progress, Resources, Warn, check, prepare
from .settings import Settings
from .sound.master import Mastered, MasterOptions, Measurement
from .timeline import Timeline

TRANSCRIPTS = ("vtt", "srt", "txt")


@dataclass(frozen=True)
class Outputs:
    """What a render writes besides the audio (none of it changes the sound)."""

    transcripts: Sequence[str] = ()  # any of vtt, srt, txt: written beside the output
    timeline: Path | None = None     # the measured timeline as JSON
    picture: Path | None = None      # a PNG of the timeline with the rendered waveform
    force: bool = False              # replace existing files
    player: bool = False             # an offline HTML player beside the output (out.mp3 -> out.html)


@dataclass
class RenderResult:
    path: Path
    timeline: Timeline
    loudness: Measurement | None
    encoded: EncodeResult
    sidecars: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0             # wall time of the render


def _same_file(path: Path) -> str:
    """A key equal for two names of one file (symlinks, `./`, `..`)."""
    return os.path.normcase(os.path.realpath(path))


def check_outputs(output: Path, settings: Settings, outputs: Outputs, inputs: Sequence[Path] = ()) -> None:
    """Fail before any work if an output exists (without force), cannot be written, is one of
    the inputs (even with force), coincides with another output, or a format is unknown.
    Outputs are named as each face spells them: the CLI says -o, --timeline, --png."""
    try:
        quality_args(resolve_format(output, settings.format), settings.quality)
    except ValueError as exc:
        raise VoiceguideError(f"{output}: {exc}") from None
    named = [(Named("output"), output), *((Named(f"transcript {kind}"), path)
                                         for kind, path in sidecar_paths(output, outputs.transcripts).items())]
    named += [(Named(name), p) for name, p in (("timeline", outputs.timeline), ("picture", outputs.picture))
              if p is not None]
    if outputs.player:
        from .export.player import player_path
        named.append((Named("player"), player_path(output)))
    sources = {}
    for source in inputs:
        sources.setdefault(_same_file(source), source)
    seen: dict[str, Named] = {}
    for name, target in named:
        try:
            key = _same_file(target)
        except (OSError, ValueError) as exc:
            raise VoiceguideError(f"{excerpt(str(target), 200)}: not a usable output name ({exc})") from None
        if key in sources:
            raise SettingError(f"{target}: the output (", name, f") would overwrite the input {sources[key]}; "
                               f"choose another name")
        if key in seen:
            raise SettingError(f"{target}: ", name, " and ", seen[key], " would write the same file")
        seen[key] = name
        try:
            check_writable(target, outputs.force)
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


def render(routine: Routine, output: str | Path, settings: Settings, outputs: Outputs = Outputs(),
           resources: Resources = Resources(), *, progress: Progress | None = None,
           on_warning: Warn | None = None) -> RenderResult:
    """Render `routine` with `settings` into `output` (format from its extension unless
    settings.format); the audio appears whole or not at all."""
    started = time.monotonic()
    tune_allocator()
    output = Path(output)
    checked = check(routine, settings)
    check_outputs(output, settings, outputs, checked.inputs)
    cover = session_cover(routine, settings)        # drawn, the user's (checked now) or None
    meta = routine.meta
    with prepare(routine, settings, resources, checked=checked, progress=progress,
                 on_warning=on_warning) as prepared:
        timeline = prepared.timeline
        mix = prepared.mix(prepared.mix_options(resources))
        seconds = mix.frames / mix.sample_rate
        if progress is not None:
            progress("measure", 0.0, seconds)
        measuring = None if progress is None else (lambda done: progress("measure", done, seconds))
        mastered = Mastered(mix, MasterOptions(target_lufs=settings.loudness), progress=measuring)
        if progress is not None:
            progress("measure", seconds, seconds)
        chapters = chapters_from_timeline(timeline, end=seconds)
        tags = Tags(title=meta.title, description=meta.description, language=meta.language)
        envelope = Envelope(mix.sample_rate) if outputs.picture is not None else None
        encoded = encode(_tracked(mastered.blocks(), mix.sample_rate, seconds, "encode", progress, envelope),
                         output, sample_rate=mix.sample_rate, channels=mix.channels,
                         format=settings.format, quality=settings.quality, tags=tags,
                         chapters=chapters, cover=cover, force=outputs.force)
    warnings = prepared.warnings
    for message in mix.warnings:
        warnings.append(message)
        if on_warning is not None:
            on_warning(message)
    sidecars = write_sidecars(timeline, output, list(outputs.transcripts), force=outputs.force)
    if outputs.timeline is not None:
        sidecars.append(write_json(timeline, outputs.timeline, force=outputs.force))
    if outputs.picture is not None and envelope is not None:
        from .picture import draw_timeline
        with atomic_output(outputs.picture, force=outputs.force) as tmp:
            draw_timeline(timeline, tmp, envelope.values(), Envelope.rate)
        sidecars.append(outputs.picture)
    if outputs.player:
        from .export.player import write_player
        sidecars.append(write_player(timeline, output, chapters, duration=seconds,
                                     description=meta.description, picture=cover, force=outputs.force))
    return RenderResult(output, timeline, mastered.result, encoded, sidecars, warnings,
                        time.monotonic() - started)
