"""The sound files a session names (ambient bed, chime), checked before any work.

A name of a built-in sound stays a name; anything else must be a readable file that ffmpeg
decodes, found beside the routine when its front matter named it, else from the working
folder. Problems name the setting (spelled by each face) or the front-matter line.
"""
from __future__ import annotations

import functools
import os
import stat
from pathlib import Path

from .errors import Named, SettingError
from .script.model import Routine
from .script.parse import excerpt
from .settings import Settings
from .sound.beds import BEDS
from .sound.chimes import KINDS as CHIME_KINDS, SYNTHS as CHIME_SYNTHS, find_asset as find_chime_asset
from .sound.ffmpeg import FFmpegError, decode_stream

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


def _sound_file(routine: Routine, settings: Settings, what: str, min_seconds: float, names: str) -> str:
    """The setting's value as a readable, decodable audio file (absolute, so ffmpeg never
    reads it as a URL)."""
    name = getattr(settings, what)
    from_routine = settings.from_routine(what)
    # Named by the front matter: its line; given as an option: the setting, as each face spells it.
    where: tuple[str | Named, ...] = (f"{routine.source}:{routine.meta.lines.get(what, 1)}: {what}",) \
        if from_routine else (Named(what),)

    def problem(message: str) -> SettingError:
        return SettingError(*where, f" '{excerpt(name)}'", message)
    path: Path | None = None
    try:
        given = Path(name.strip()).expanduser()
        if from_routine and not given.is_absolute() and Path(routine.source).is_file():
            given = Path(routine.source).parent / given
        path = given.absolute()
        info = path.stat()
    except (OSError, ValueError, RuntimeError):   # missing, NUL byte, name too long, no home
        missing = f" (no such file: {excerpt(str(path), 200)})" if path is not None else ""
        raise problem(f" is neither {names} nor a readable sound file{missing}") from None
    if not stat.S_ISREG(info.st_mode):
        raise problem(f" is neither {names} nor a readable sound file ({path} is not a file)")
    if not os.access(path, os.R_OK):
        raise problem(f": {path} is not readable")
    reason = _probe(str(path), info.st_mtime_ns, info.st_size, min_seconds)
    if reason is not None:
        raise problem(f": {path} is not a usable sound file: {reason}")
    return str(path)


def ambient(routine: Routine, settings: Settings) -> str:
    """The bed: a built-in name as it is, else the checked sound file's absolute path."""
    if settings.ambient.strip().lower() in (*BEDS, "none"):
        return settings.ambient
    return _sound_file(routine, settings, "ambient", MIN_BED_SECONDS, f"a bed ({', '.join(sorted(BEDS))}, none)")


def chime(routine: Routine, settings: Settings) -> str:
    """Like `ambient`, for the chime: a built-in sound stays, a file must decode."""
    key = settings.chime.strip()
    try:
        builtin = key.lower() in (*CHIME_SYNTHS, "none") or find_chime_asset(key) is not None
    except (OSError, ValueError):
        builtin = False
    if builtin:
        return settings.chime
    return _sound_file(routine, settings, "chime", 0.0, f"a chime ({', '.join(CHIME_KINDS)}, none)")
