"""Temp files that name the process that made them, and a sweep for the ones a killed process left.

Every file voiceguide writes goes through a temp file that is renamed into place when complete
(export/atomic.py, the speech cache, the clip store). Ctrl-C and errors remove it, but after
SIGKILL or a power cut nothing can, so temp files are named `<prefix>.<pid>.<random><suffix>`
and the next writer into that directory removes those whose process is gone (or that are older
than STALE_AFTER, in case the pid was reused). Files without a pid in the name are swept by age.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path

STALE_AFTER = 24 * 3600.0      # seconds: any temp file this old is abandoned, whoever made it
_RANDOM = r"[A-Za-z0-9_]{8}"   # what tempfile.mkstemp puts in the middle
_swept: set[tuple[str, str]] = set()


def create(directory: str | os.PathLike, prefix: str, suffix: str) -> Path:
    """Create an empty, private temp file `<prefix>.<pid>.<random><suffix>` in `directory`."""
    fd, name = tempfile.mkstemp(dir=directory, prefix=f"{prefix}.{os.getpid()}.", suffix=suffix)
    os.close(fd)
    return Path(name)


def pattern(prefix: str, suffix: str) -> re.Pattern[str]:
    """Names made by `create` with a prefix matching regex `prefix` and suffix regex `suffix`
    (group "pid" is absent in files from versions that did not record it)."""
    return re.compile(rf"^{prefix}\.(?:(?P<pid>\d+)\.)?{_RANDOM}{suffix}$")


def process_alive(pid: int) -> bool:
    """True if `pid` runs on this machine (a zombie counts as dead). Without a way to ask
    (not POSIX), assume it does: then only age sweeps."""
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def is_stale(path: Path, match: re.Match[str], now: float | None = None) -> bool:
    try:
        age = (now or time.time()) - path.lstat().st_mtime
    except OSError:
        return False
    if age > STALE_AFTER:
        return True
    pid = match.group("pid")
    return pid is not None and not process_alive(int(pid))


def sweep(directory: str | os.PathLike, names: re.Pattern[str], *, once: bool = False,
          trees: bool = False) -> int:
    """Remove stale temp files matching `names` in `directory`; returns how many went.
    `once`: only the first call per directory and pattern in this process does the work
    (for caches that write many entries). `trees`: the matches are temp directories (made
    with `tempfile.mkdtemp(prefix=f"{prefix}.{pid}.")`), removed with their contents.
    Never raises: sweeping is housekeeping."""
    key = (os.fspath(directory), names.pattern)
    if once and key in _swept:
        return 0
    _swept.add(key)
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0
    now = time.time()
    for entry in entries:
        match = names.match(entry.name)
        is_tree = entry.is_dir(follow_symlinks=False)
        if match is None or is_tree != trees or not (is_tree or entry.is_file(follow_symlinks=False)):
            continue
        path = Path(entry.path)
        if is_stale(path, match, now):
            try:
                shutil.rmtree(path) if trees else path.unlink()
                removed += 1
            except OSError:
                pass
    return removed
