"""Atomic output: a file appears complete under its final name, or not at all.

Everything is written to a hidden temporary file in the destination directory (same file
system, so the final rename is atomic) and moved into place only when writing succeeded.
On any error, including Ctrl-C, the temporary file is removed and an existing output is left
untouched. Without `force`, an existing output is never replaced: the final step links the
temporary file to the output name, which fails if the name was taken meanwhile.

After SIGKILL nothing can clean up, so the temporary name carries the writer's pid,
`.NAME.<pid>.<random>.partEXT`, and the next write into that directory sweeps temporary
files whose process is gone (see `voiceguide.tempfiles`).

A write that fails for lack of room or permission raises OutputWriteError, one line such as
"cannot write out.mp3: No space left on device".
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

from .. import tempfiles
from ..errors import Named, Spelled, VoiceguideError

OUTPUT_TEMPS = tempfiles.pattern(r"\..+?", r"\.part(?:\.[^.]*)?")
"""Names of the temporary files of outputs (and of their ffmpeg metadata)."""


class OutputExistsError(Spelled, FileExistsError):
    """The output file exists and overwriting was not allowed (`force` spelled per face)."""

    def __init__(self, path: Path):
        self.path = path
        super().__init__(self._spell_parts((f"{path} already exists (use ", Named("force"), " to overwrite it)")))


class OutputWriteError(OSError):
    """An output could not be written: disk full, file too large, read-only or unwritable folder."""

    def __init__(self, path: str | os.PathLike, reason: str | BaseException):
        code = reason.errno if isinstance(reason, OSError) else None
        if isinstance(reason, OSError):
            reason = reason.strerror or str(reason)
        self.path, self.reason = Path(path), str(reason)
        super().__init__(code, self.reason)      # errno and strerror, as for any OSError

    def __str__(self) -> str:
        return f"{self.path}: cannot write: {self.reason}"     # FILE: what is wrong, as every error


@contextlib.contextmanager
def writing(path: str | os.PathLike) -> Iterator[None]:
    """Report an OSError raised while writing `path` as OutputWriteError (one clear line)."""
    try:
        yield
    except (OutputExistsError, OutputWriteError, BrokenPipeError):
        raise
    except OSError as exc:
        raise OutputWriteError(path, exc) from exc


def check_writable(path: str | os.PathLike, force: bool = False) -> Path:
    """Fail early (before any rendering) if `path` cannot be written: it exists (without
    `force`), it is a folder or a device, its folder is missing, or a file cannot be created
    there. Every failure is one clear line (OutputWriteError, OutputExistsError)."""
    path = Path(path)
    if "\x00" in str(path):
        raise OutputWriteError(repr(str(path))[1:-1], "a file name cannot contain a NUL byte")
    with writing(path):      # a name too long: one line too
        if path.is_dir():
            raise OutputWriteError(path, "it is a folder")
        if path.exists() and not path.is_file():      # even with force, /dev/null stays a device
            raise VoiceguideError(f"{path}: is not a regular file (a device, FIFO or socket); choose a file name")
        if path.exists() and not force:
            raise OutputExistsError(path)
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise OutputWriteError(path, f"its folder {parent} does not exist")
        # root ignores mode bits: only trying tells (read-only mounts, /sys)
        tempfiles.create(parent, f".{path.stem}", ".part.probe").unlink()
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _publish(tmp: Path, path: Path, force: bool) -> None:
    os.chmod(tmp, 0o666 & ~_umask())       # mkstemp makes 0600; give normal permissions
    if force:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)                  # atomic "create only if absent"
    except FileExistsError:
        raise OutputExistsError(path) from None
    except OSError:                         # no hard links here (some FUSE/SMB mounts)
        if path.exists():
            raise OutputExistsError(path) from None
        os.replace(tmp, path)


def temp_beside(path: Path, suffix: str) -> Path:
    """A swept temporary file next to `path` (e.g. ffmpeg's metadata input)."""
    with writing(path):
        return tempfiles.create(path.parent if str(path.parent) else Path("."), f".{path.stem}", suffix)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, *, force: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success it becomes `path`.

    The temporary name keeps the output's extension (tools that look at it still work).
    """
    path = check_writable(path, force)
    tempfiles.sweep(path.parent if str(path.parent) else Path("."), OUTPUT_TEMPS)
    tmp = temp_beside(path, f".part{path.suffix}")
    try:
        yield tmp
        with writing(path):
            _publish(tmp, path, force)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_text(path: str | os.PathLike, text: str, *, force: bool = False) -> Path:
    """Write a small text file atomically (sidecars)."""
    with atomic_output(path, force=force) as tmp, writing(path):
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
