"""Encoding through ffmpeg: the command line, the process (its own session, writing to a
descriptor of the temp file), the PCM pipe into it, and one clear line when it fails."""
from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from ..sound.ffmpeg import ffmpeg_exe
from .atomic import OutputWriteError, temp_beside, writing
from .dither import Dither, pcm_bytes
from .feed import feed
from .formats import EncodeError, Format, quality_args
from .tags import Chapter, Tags, ffmetadata


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


def write_ffmpeg(tmp: Path, target: Path, blocks, fmt: Format, sample_rate: int, channels: int,
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
            data = pcm_bytes(dither(block), 16) if dither else block.astype("<f4").tobytes()
            proc.stdin.write(data)

        try:
            with contextlib.suppress(OSError, AttributeError):   # a 1 MiB pipe: fewer stalls
                import fcntl
                fcntl.fcntl(proc.stdin.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
            frames = feed(blocks, sink, channels, stop=proc.kill)
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
