"""Streaming encoders: float32 blocks in, a finished audio file out.

Blocks are handed to a writer thread through a short queue; the thread converts them and
writes them into ffmpeg's stdin (or, for WAV, straight into a `wave` file). Rendering in the
caller's thread, the conversion, and ffmpeg's own encoding (a separate process, the other
core) all overlap, so an export takes about as long as the slowest of them.

WAV is written by Python with seeded TPDF dither: the same session gives the same bytes.
Lossy formats receive float samples (f32le) so nothing is quantised before the codec; FLAC
receives the same dithered 16-bit samples as WAV.
"""
from __future__ import annotations

import contextlib
import errno
import os
import queue
import re
import signal
import subprocess
import tempfile
import threading
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from ..sound.blocks import Program
from ..sound.ffmpeg import FFmpegError, encoders, ffmpeg_exe
from .atomic import OutputWriteError, atomic_output, check_writable, temp_beside, writing
from .tags import Chapter, Tags, ffmetadata, write_id3, write_vorbis


class EncodeError(RuntimeError):
    """Encoding failed (the one-line message carries ffmpeg's complaint)."""


@dataclass(frozen=True)
class Format:
    name: str
    codec: str | None        # ffmpeg encoder; None: written by Python (wav)
    muxer: str | None
    pcm: str                 # what goes down the pipe: "f32le" or "s16le"
    quality_flag: str | None  # how `quality` is passed (e.g. "-q:a", "-b:a")
    default_quality: str | None
    rate: int | None = None  # forced output sample rate (opus is 48 kHz only)
    chapters: str = "ffmetadata"   # how tags/chapters get in: ffmetadata, id3, vorbis
    description: str = ""


FORMATS: dict[str, Format] = {
    "mp3": Format("mp3", "libmp3lame", "mp3", "f32le", "-q:a", "4", chapters="id3",
                  description="MP3, LAME VBR; quality 0 (best) .. 9, default 4 (~165 kbit/s), "
                              "or a bitrate like 128k (ABR)"),
    "wav": Format("wav", None, None, "s16le", None, None, chapters="id3",
                  description="WAV, 16-bit PCM with TPDF dither (24-bit with bit_depth=24)"),
    "flac": Format("flac", "flac", "flac", "s16le", "-compression_level", "8", chapters="vorbis",
                   description="FLAC, lossless 16-bit; quality = compression level 0..12"),
    "ogg": Format("ogg", "libvorbis", "ogg", "f32le", "-q:a", "5", chapters="vorbis",
                  description="Ogg Vorbis; quality -1..10, default 5 (~160 kbit/s), or a bitrate"),
    "opus": Format("opus", "libopus", "opus", "f32le", "-b:a", "96k", rate=48000, chapters="vorbis",
                   description="Opus in Ogg at 48 kHz; quality = bitrate, default 96k"),
    "m4a": Format("m4a", "aac", "ipod", "f32le", "-b:a", "128k",
                  description="AAC in MP4 (iTunes-style m4a); quality = bitrate, default 128k"),
    "m4b": Format("m4b", "aac", "ipod", "f32le", "-b:a", "128k",
                  description="AAC audiobook (m4b) with chapters; quality = bitrate"),
}
ALIASES = {"oga": "ogg", "vorbis": "ogg", "aac": "m4a", "mp4": "m4a", "wave": "wav"}


def resolve_format(path: str | Path, fmt: str | None = None) -> Format:
    """The format named explicitly, or the one the output's extension implies."""
    key = (fmt or Path(path).suffix.lstrip(".")).lower()
    key = ALIASES.get(key, key)
    if key not in FORMATS:
        known = ", ".join(FORMATS)
        raise ValueError(f"unknown audio format '{key or Path(path).name}': use one of {known}")
    f = FORMATS[key]
    if f.codec and f.codec not in encoders():
        raise EncodeError(f"this ffmpeg has no {f.codec} encoder, so it cannot write {key}")
    return f


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


class Dither:
    """TPDF dither + rounding to 16/24-bit integers, seeded: identical input, identical bytes.
    Random numbers are drawn frame by frame, so the result does not depend on block sizes."""

    def __init__(self, channels: int, bits: int = 16, seed: int = 0):
        self.channels, self.bits = channels, bits
        self.scale = float(2 ** (bits - 1) - 1)
        self._rng = np.random.Generator(np.random.PCG64(seed))

    def __call__(self, block: np.ndarray) -> np.ndarray:
        x = np.asarray(block, np.float64).reshape(len(block), self.channels)
        r = self._rng.random((len(x), 2 * self.channels))
        tpdf = r[:, :self.channels] - r[:, self.channels:]
        q = np.floor(x * self.scale + tpdf + 0.5)
        lo, hi = -self.scale - 1, self.scale
        return np.clip(q, lo, hi).astype(np.int32)


def _pcm_bytes(ints: np.ndarray, bits: int) -> bytes:
    if bits == 16:
        return ints.astype("<i2").tobytes()
    b = ints.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3]   # 24-bit little endian
    return b.tobytes()


class _Writer(threading.Thread):
    """Consumes blocks from a bounded queue and hands them to `sink` in order."""

    def __init__(self, sink: Callable[[np.ndarray], None], depth: int = 6):
        super().__init__(daemon=True, name="voiceguide-encode")
        self.sink = sink
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.discarding = False

    def run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.error is None and not self.discarding:
                try:
                    self.sink(item)
                except BaseException as exc:   # reported to the producer
                    self.error = exc

    def put(self, block: np.ndarray) -> None:
        while True:
            if self.error is not None:
                raise self.error
            try:
                self.queue.put(block, timeout=0.5)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        self.queue.put(None)
        self.join()


def _feed(blocks: Iterable[np.ndarray], sink: Callable[[np.ndarray], None], channels: int,
          stop: Callable[[], None] | None = None) -> int:
    """Push `blocks` through a writer thread into `sink`. On any error or Ctrl-C the queued
    blocks are dropped and `stop` runs first (it kills ffmpeg, so a write blocked on its
    pipe returns at once instead of the writer draining the queue)."""
    frames = 0
    writer = _Writer(sink)
    writer.start()
    try:
        for block in blocks:
            b = np.asarray(block, np.float32)
            if b.ndim == 1:
                b = b[:, None]
            if b.shape[1] != channels:
                raise ValueError(f"block has {b.shape[1]} channels, expected {channels}")
            if not np.all(np.isfinite(b)):
                raise ValueError("audio block contains NaN or infinity")
            writer.put(b)
            frames += len(b)
    except BaseException:
        writer.discarding = True
        if stop is not None:
            stop()
        raise
    finally:
        writer.close()
    if writer.error is not None:
        raise writer.error
    return frames


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
            w.writeframesraw(_pcm_bytes(dither(block), bits))

    try:
        frames = _feed(blocks, sink, channels)
    except BaseException:
        with contextlib.suppress(Exception):
            w.close()
        raise
    with writing(target):
        w.close()
    return frames


_BITRATE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kK])?(?:bps|b/s)?$")


def quality_args(fmt: Format, quality: str | int | float | None) -> list[str]:
    """ffmpeg options for `quality`: the format's own scale (MP3 VBR 0-9, Vorbis -1..10,
    FLAC level 0-12) or, for any lossy format, a bitrate such as "128k".
    Raises ValueError for anything else, before any audio is rendered."""
    if fmt.codec is None:
        if quality is not None:
            raise ValueError("wav has no quality setting (it is lossless PCM)")
        return []
    if quality is None:
        return [fmt.quality_flag, fmt.default_quality]
    q = str(quality).strip()
    lossy = fmt.name != "flac"
    scales = {"mp3": (0, 9), "ogg": (-1, 10), "flac": (0, 12)}
    if fmt.quality_flag == "-q:a" or fmt.name == "flac":
        lo, hi = scales[fmt.name]
        try:
            value = float(q)
        except ValueError:
            value = None
        if value is not None and not q.lower().endswith("k"):
            if not lo <= value <= hi:
                raise ValueError(f"{fmt.name} quality must be {lo}..{hi}, not {q}")
            return [fmt.quality_flag, f"{value:g}" if fmt.name != "flac" else str(int(value))]
    m = _BITRATE.match(q)
    if lossy and m:
        kbps = float(m.group(1)) if m.group(2) or float(m.group(1)) < 1000 else float(m.group(1)) / 1000
        if not 6 <= kbps <= 512:
            raise ValueError(f"{fmt.name} bitrate must be 6k..512k, not {q}")
        return ["-b:a", f"{kbps:g}k"]
    what = {"mp3": "VBR quality 0-9 or a bitrate like 128k", "ogg": "quality -1..10 or a bitrate like 128k",
            "flac": "compression level 0-12"}.get(fmt.name, "a bitrate like 96k")
    raise ValueError(f"bad {fmt.name} quality '{q}': use {what}")


def ffmpeg_command(fmt: Format, out: Path | int, sample_rate: int, channels: int,
                   quality: str | int | None, metadata_file: Path | None) -> list[str]:
    """The encoder's command line; `out` is a path, or an open file descriptor that the
    child inherits (ffmpeg's seekable `fd:` protocol)."""
    cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
           "-f", fmt.pcm, "-ar", str(sample_rate), "-ac", str(channels), "-i", "pipe:0"]
    if metadata_file is not None:
        cmd += ["-f", "ffmetadata", "-i", str(metadata_file),
                "-map", "0:a", "-map_metadata", "1", "-map_chapters", "1"]
    else:
        cmd += ["-map", "0:a", "-map_metadata", "-1", "-map_chapters", "-1"]
    cmd += ["-c:a", fmt.codec]
    cmd += quality_args(fmt, quality)
    if fmt.rate and fmt.rate != sample_rate:
        cmd += ["-ar", str(fmt.rate)]
    if fmt.name == "mp3":
        cmd += ["-write_xing", "1", "-id3v2_version", "0"]   # tags come from mutagen
    if fmt.name == "flac":
        cmd += ["-sample_fmt", "s16"]
    # bitexact: no encoder version strings or creation times, so output is reproducible.
    cmd += ["-fflags", "+bitexact", "-flags:a", "+bitexact"]
    cmd += ["-fd", str(out), "-f", fmt.muxer, "fd:"] if isinstance(out, int) else ["-f", fmt.muxer, str(out)]
    return cmd


def _start_ffmpeg(cmd: list[str], err, out_fd: int | None = None) -> subprocess.Popen:
    """ffmpeg in its own session: a terminal's Ctrl-C reaches only voiceguide, which stops
    ffmpeg itself once the temporary output is abandoned. If voiceguide is killed outright,
    ffmpeg reads end-of-file on its stdin and exits by itself.

    On POSIX ffmpeg writes to a descriptor of the temp file rather than to its name: an
    ffmpeg that outlives its render (a Ctrl-C inside Popen, before the caller holds the
    process) can then only finish an unlinked file, never bring the temp name back."""
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err,
                            start_new_session=os.name == "posix",
                            pass_fds=(out_fd,) if out_fd is not None else ())


def _reap(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _write_ffmpeg(tmp: Path, target: Path, blocks, fmt: Format, sample_rate: int, channels: int,
                  quality, tags: Tags | None, chapters: Sequence[Chapter]) -> int:
    with contextlib.ExitStack() as stack:
        meta_path = None
        if fmt.chapters == "ffmetadata" and (tags or chapters):
            meta_path = temp_beside(target, ".part.ffmeta")     # swept like the output's temp
            stack.callback(meta_path.unlink, missing_ok=True)
            with writing(target):
                meta_path.write_text(ffmetadata(tags, chapters), encoding="utf-8")
        err = stack.enter_context(tempfile.TemporaryFile())
        out_fd = None
        if os.name == "posix":
            out_fd = os.open(tmp, os.O_WRONLY | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0))
            stack.callback(os.close, out_fd)
        cmd = ffmpeg_command(fmt, tmp if out_fd is None else out_fd, sample_rate, channels, quality, meta_path)
        proc = _start_ffmpeg(cmd, err, out_fd)
        stack.callback(_reap, proc)
        dither = Dither(channels) if fmt.pcm == "s16le" else None

        def sink(block: np.ndarray) -> None:
            data = _pcm_bytes(dither(block), 16) if dither else block.astype("<f4").tobytes()
            proc.stdin.write(data)

        try:
            with contextlib.suppress(OSError, AttributeError):   # a 1 MiB pipe: fewer stalls
                import fcntl
                fcntl.fcntl(proc.stdin.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
            frames = _feed(blocks, sink, channels, stop=proc.kill)
            proc.stdin.close()
            rc = proc.wait()
        except BaseException as exc:
            proc.kill()
            rc = proc.wait()
            if isinstance(exc, BrokenPipeError):     # ffmpeg quit: say why, not "broken pipe"
                raise ffmpeg_failure(_stderr(err), rc, fmt.name, tmp, target) from None
            raise
        finally:
            with contextlib.suppress(Exception):
                proc.stdin.close()
        if rc != 0:
            raise ffmpeg_failure(_stderr(err), rc, fmt.name, tmp, target)
        return frames


WRITE_ERRNOS = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO)
"""Errors that mean "the output cannot be written" when ffmpeg reports them."""


def ffmpeg_failure(stderr: str, rc: int, fmt: str, tmp: Path, target: Path) -> Exception:
    """One clear line for a failed ffmpeg: OutputWriteError when it could not write (disk
    full, file too large, read-only), else EncodeError with ffmpeg's last complaint."""
    for code in WRITE_ERRNOS:
        if os.strerror(code) in stderr:
            return OutputWriteError(target, os.strerror(code))
    if os.name == "posix" and rc == -signal.SIGXFSZ:          # over the file size limit (ulimit -f)
        return OutputWriteError(target, os.strerror(errno.EFBIG))
    lines = [line.strip() for line in stderr.replace(str(tmp), str(target)).splitlines() if line.strip()]
    how = f"killed by signal {-rc}" if rc < 0 else f"exit {rc}"
    return EncodeError(f"ffmpeg could not encode {fmt} ({how}): {lines[-1] if lines else 'no message'}")


def _stderr(err) -> str:
    err.seek(0)
    return err.read().decode("utf-8", "replace")


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
           bit_depth: int = 16) -> EncodeResult:
    """Stream `blocks` (float32, (frames, channels)) into `path`, atomically.

    `format` defaults to the extension; `quality` is format-specific (see FORMATS). Tags
    and chapters are embedded as the container allows (see `voiceguide.export.tags`).
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
            frames = _write_ffmpeg(tmp, path, blocks, fmt, sample_rate, channels, quality, tags, chapters)
        with _tagging(path):
            if fmt.chapters == "id3" and (tags or chapters):
                write_id3(tmp, tags, chapters, wav=fmt.name == "wav")
            elif fmt.chapters == "vorbis":
                write_vorbis(tmp, tags, chapters)
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
