"""Atomic output: a file appears complete under its final name, or not at all.

Everything is written to a hidden temporary file in the destination directory (same file
system, so the final rename is atomic) and moved into place only when writing succeeded.
On any error, including Ctrl-C, the temporary file is removed and an existing output is left
untouched. Without `force`, an existing output is never replaced: the final step links the
temporary file to the output name, which fails if the name was taken meanwhile.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator


class OutputExistsError(FileExistsError):
    """The output file exists and overwriting was not allowed."""

    def __init__(self, path: Path):
        self.path = path
        super().__init__(f"{path} already exists (use --force to overwrite it)")


def check_writable(path: str | os.PathLike, force: bool = False) -> Path:
    """Fail early (before any rendering) if `path` cannot be written."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory")
    if path.exists() and not force:
        raise OutputExistsError(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise FileNotFoundError(f"output directory {parent} does not exist")
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, *, force: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success it becomes `path`.

    The temporary name keeps the output's extension (tools that look at it still work).
    """
    path = check_writable(path, force)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".part{path.suffix}")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())       # mkstemp makes 0600; give normal permissions
        if force:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)              # atomic "create only if absent"
            except FileExistsError:
                raise OutputExistsError(path) from None
            except OSError:                     # no hard links here (some FUSE/SMB mounts)
                if path.exists():
                    raise OutputExistsError(path) from None
                os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_text(path: str | os.PathLike, text: str, *, force: bool = False) -> Path:
    """Write a small text file atomically (sidecars)."""
    with atomic_output(path, force=force) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
