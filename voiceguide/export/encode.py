"""Streaming encoders: float32 blocks in, a finished, tagged audio file out, atomically.

Blocks are handed to a writer thread through a short queue (feed.py); the thread converts
them and writes them into ffmpeg's stdin (ffmpeg_pipe.py) or, for WAV, straight into a
`wave` file (here). Rendering in the caller's thread, the conversion, and ffmpeg's own
encoding (a separate process, the other core) all overlap, so an export takes about as long
as the slowest of them. The formats and their quality settings are in formats.py.

WAV is written by Python with seeded TPDF dither (dither.py): the same session gives the
same bytes. Lossy formats receive float samples (f32le) so nothing is quantised before the
codec; FLAC receives the same dithered 16-bit samples as WAV.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from ..sound.blocks import Program
from ..sound.ffmpeg import FFmpegError, ffmpeg_exe
from .artwork import embed_picture
from .atomic import OutputWriteError, atomic_output, check_writable, writing
from .dither import Dither, pcm_bytes
from .feed import feed
from .ffmpeg_pipe import ffmpeg_failure, write_ffmpeg
from .formats import ALIASES, FORMATS, EncodeError, Format, quality_args, resolve_format
from .tags import Chapter, Tags, write_id3, write_mp4_language, write_vorbis

__all__ = ["ALIASES", "FORMATS", "EncodeError", "EncodeResult", "Format", "decoded_frames", "encode",
           "export", "ffmpeg_failure", "probe_rate", "quality_args", "resolve_format"]


@dataclass(frozen=True)
class EncodeResult:
    path: Path
    format: str
    frames: int              # frames written (at the input sample rate)
    sample_rate: int
    channels: int

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate


def _write_wav(tmp: Path, target: Path, blocks, sample_rate: int, channels: int, bits: int) -> int:
    """Write a WAV; an OSError while writing (disk full) becomes OutputWriteError for `target`.
    Errors of the blocks themselves pass through unchanged."""
    dither = Dither(channels, bits)
    with writing(target):
        w = wave.open(str(tmp), "wb")
    w.setnchannels(channels)
    w.setsampwidth(bits // 8)
    w.setframerate(sample_rate)

    def sink(block: np.ndarray) -> None:
        with writing(target):
            w.writeframesraw(pcm_bytes(dither(block), bits))

    try:
        frames = feed(blocks, sink, channels)
    except BaseException:
        with contextlib.suppress(Exception):
            w.close()
        raise
    with writing(target):
        w.close()
    return frames


@contextlib.contextmanager
def _tagging(target: Path) -> Iterator[None]:
    """Tag writers (mutagen) wrap OSErrors in their own exception: report those as write errors."""
    try:
        yield
    except OutputWriteError:
        raise
    except Exception as exc:
        cause = exc if isinstance(exc, OSError) else (exc.__cause__ or exc.__context__)
        if isinstance(cause, OSError):
            raise OutputWriteError(target, cause) from exc
        raise


def encode(blocks: Iterable[np.ndarray], path: str | os.PathLike, *, sample_rate: int,
           channels: int, format: str | None = None, quality: str | int | None = None,
           tags: Tags | None = None, chapters: Sequence[Chapter] = (), force: bool = False,
           bit_depth: int = 16, cover: bytes | None = None) -> EncodeResult:
    """Stream `blocks` (float32, (frames, channels)) into `path`, atomically.

    `format` defaults to the extension; `quality` is format-specific (see FORMATS). Tags
    and chapters are embedded as the container allows (see `voiceguide.export.tags`), and
    `cover` (PNG or JPEG bytes) as its front cover (see `voiceguide.export.artwork`).
    Raises OutputExistsError without `force` if `path` exists, before consuming any block.
    """
    path = Path(path)
    fmt = resolve_format(path, format)
    quality_args(fmt, quality)                      # a bad value fails before any work
    if bit_depth not in (16, 24) or (bit_depth == 24 and fmt.name != "wav"):
        raise ValueError("bit_depth 24 is available for wav only; use 16")
    check_writable(path, force)
    with atomic_output(path, force=force) as tmp:
        if fmt.codec is None:
            frames = _write_wav(tmp, path, blocks, sample_rate, channels, bit_depth)
        else:
            frames = write_ffmpeg(tmp, path, blocks, fmt, sample_rate, channels, quality, tags, chapters)
        with _tagging(path):
            if fmt.chapters == "id3" and (tags or chapters):
                write_id3(tmp, tags, chapters, wav=fmt.name == "wav")
            elif fmt.chapters == "vorbis":
                write_vorbis(tmp, tags, chapters)
            elif fmt.name in ("m4a", "m4b") and tags and tags.language:     # ffmpeg wrote all but the language
                write_mp4_language(tmp, tags.language)
            if cover is not None:
                embed_picture(tmp, fmt.name, cover)
    return EncodeResult(path, fmt.name, frames, sample_rate, channels)


def export(program: Program, path: str | os.PathLike, **kwargs) -> EncodeResult:
    """Render `program` (a Mix or Mastered) straight into `path`. kwargs as for `encode`."""
    return encode(program.blocks(), path, sample_rate=program.sample_rate,
                  channels=program.channels, **kwargs)


def decoded_frames(path: str | os.PathLike, sample_rate: int | None = None) -> tuple[int, int]:
    """(frames, sample rate) of a file as ffmpeg decodes it: the ground truth for durations."""
    from ..sound.ffmpeg import decode_stream

    rate = sample_rate or probe_rate(path)
    return sum(len(c) for c in decode_stream(path, rate, 1)), rate


def probe_rate(path: str | os.PathLike) -> int:
    """The first audio stream's sample rate, from ffmpeg's banner (there is no ffprobe)."""
    import re

    proc = subprocess.run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-i", str(path)],
                          capture_output=True, text=True)
    m = re.search(r"Audio: .*?, (\d+) Hz", proc.stderr)
    if not m:
        raise FFmpegError(f"no audio stream in {path}")
    return int(m.group(1))
