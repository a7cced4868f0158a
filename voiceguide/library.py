"""Finding routines: built-in names (package data) or paths to the user's own files.

Also the checked way to plan one (`plan_routine`): the timeline plus the limits that keep a
typo from becoming a day-long session.
"""
from __future__ import annotations

import os
import stat
from importlib import resources
from pathlib import Path
from typing import Mapping

from .errors import VoiceguideError
from .limits import DEFAULT_LIMITS, Limits, check_request, check_session
from .script.model import Routine
from .script.parse import Problem, RoutineError, excerpt, parse_bytes
from .settings import Settings, about, resolve
from .timeline import FitError, SpeechTimer, Timeline, estimate_speech, plan

SUFFIX = ".routine.md"
MAX_ROUTINE_BYTES = DEFAULT_LIMITS.max_file_bytes


class RoutineNotFound(VoiceguideError):
    pass


def builtin_names() -> list[str]:
    """Names of the routines that ship with voiceguide, sorted."""
    folder = resources.files("voiceguide.routines")
    return sorted(p.name[: -len(SUFFIX)] for p in folder.iterdir() if p.name.endswith(SUFFIX))


def builtin_text(name: str) -> str:
    return _builtin_file(name).read_text(encoding="utf-8")


def _builtin_file(name: str):
    """Only the listed names: a name is never a path into (or out of) the package."""
    if name not in builtin_names():
        known = ", ".join(builtin_names())
        raise RoutineNotFound(f"no built-in routine '{excerpt(name)}' and no such file (built-ins: {known})")
    return resources.files("voiceguide.routines").joinpath(name + SUFFIX)


def is_path(ref: str) -> bool:
    """A reference is a path if it looks like one; otherwise it names a built-in routine."""
    if "/" in ref or "\\" in ref or ref.endswith((".md", ".txt")):
        return True
    try:
        return Path(ref).exists()
    except (OSError, ValueError):      # a name too long for the file system, a NUL byte
        return False


def _read_capped(path: Path, ref: str, limit: int) -> bytes:
    """The file's bytes, refusing anything that is not a regular file or is over `limit`
    (a device like /dev/zero never ends; a FIFO may never open)."""
    info = path.stat()
    if stat.S_ISDIR(info.st_mode):
        raise RoutineNotFound(f"{ref}: is a folder, not a routine file")
    if not stat.S_ISREG(info.st_mode):
        raise RoutineNotFound(f"{ref}: is not a regular file (a device, FIFO or socket)")
    too_large = RoutineError([Problem(ref, 1, f"the file is {info.st_size:,} bytes; a routine script "
                                              f"may be at most {limit:,} bytes")])
    if info.st_size > limit:
        raise too_large
    with path.open("rb") as f:
        data = f.read(limit + 1)       # the file may have grown since stat()
    if len(data) > limit:
        raise too_large
    return data


def load_routine(ref: str | Path, limits: Limits = DEFAULT_LIMITS) -> Routine:
    """A built-in routine by name, or a routine file by path (size checked before reading)."""
    ref = os.fspath(ref)
    if not is_path(ref):
        return parse_bytes(_builtin_file(ref).read_bytes(), f"{ref}{SUFFIX}", limits)
    if "\x00" in ref:
        raise RoutineNotFound(f"{excerpt(ref)}: not a valid file name (it contains a NUL byte)")
    try:
        data = _read_capped(Path(ref), ref, limits.max_file_bytes)
    except FileNotFoundError:
        raise RoutineNotFound(f"{ref}: no such file") from None
    except OSError as exc:
        raise RoutineNotFound(f"{excerpt(ref, 200)}: cannot read: {exc.strerror or exc}") from None
    return parse_bytes(data, ref, limits)


ESTIMATE_SLACK = 0.25   # how far estimated speech may be off the real voice's, at most


def plan_session(routine: Routine, settings: Settings, timer: SpeechTimer = estimate_speech,
                 fit: bool = True, voices: Mapping[str, SpeechTimer] | None = None) -> Timeline:
    """The session's timeline for these (resolved) settings, with the session limit applied
    (counting length and sleep), and a front-matter length that cannot be met reported at its
    line. With `fit=False` (before synthesis, on estimated durations) a requested length is
    checked against the limit but not fitted, unless it is out of reach however far the
    estimates are off. `voices`: the timers of `{voice NAME}` sections' voices (timeline.plan)."""
    check_request(routine, settings)
    _check_language(routine, settings)
    speed, length = settings.speed, settings.length
    try:
        try:
            timeline = plan(routine, speed=speed, length=length, timer=timer, wait=settings.wait, voices=voices)
        except FitError as exc:
            if fit or not exc.shortest * (1 - ESTIMATE_SLACK) <= exc.wanted <= exc.longest * (1 + ESTIMATE_SLACK):
                raise
            timeline = plan(routine, speed=speed, length=length, timer=timer, fit=False, wait=settings.wait,
                            voices=voices)
    except FitError as exc:
        if settings.from_routine("length"):
            exc.args = (f"{routine.source}:{routine.meta.lines.get('length', 1)}: {exc}",)
        raise
    if fit or length is None:
        check_session(routine, timeline, settings.sleep, settings.limits)
    return timeline


def _check_language(routine: Routine, settings: Settings) -> None:
    """A routine's language is the one its words are written in, so only its front matter sets
    it: the parser already said its {side} words and [caution] in it, and an option cannot
    translate the rest (docs/routine-format.md, `language`)."""
    own = routine.meta.language
    if settings.given("language") and settings.language != own:
        raise about("language", f'"{settings.language}" is not the language the routine is written in '
                                f'("{own}"); a routine says its language in its front matter: language = "..."')


def plan_routine(routine: Routine, *, speed: float | None = None, length: float | None = None,
                 sleep: float | None = None, limits: Limits = DEFAULT_LIMITS,
                 timer: SpeechTimer = estimate_speech, fit: bool = True) -> Timeline:
    """`plan_session` with settings given one by one (None: the routine's, else the default)."""
    options = {"speed": speed, "length": length, "sleep": sleep, "max_session": limits.max_session}
    return plan_session(routine, resolve(options, routine.meta.settings), timer, fit)
