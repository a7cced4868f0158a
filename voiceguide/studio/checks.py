"""Routine text -> problems, as `voiceguide validate` reports them, fast enough to run as you type.

The checks are the CLI's: parse (front matter included), the limits, the plan on the speech
durations known without speaking (the store's, else the voice's pace), and the sound files the
routine names, and each `{voice NAME}` (espeak's voices are listed by a worker once per
studio process, then known: a few milliseconds a check). Two things differ on purpose: a sound
file must be inside FOLDER, and it is not decoded here (that takes an ffmpeg start; the render
checks it), so a 500-line routine is checked in a few tens of milliseconds.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .. import api
from ..errors import VoiceguideError, spelled
from ..limits import DEFAULT_LIMITS
from ..script.model import Routine
from ..script.parse import RoutineError, excerpt, parse_bytes, parse_routine
from ..settings import Settings, check_all, cli_flag, offered
from .durations import Durations
from .security import ROUTINE_SUFFIX, Refused, sound_file

RENDER_SETTINGS = tuple(name for name, _ in offered("render"))
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Found:
    """One problem as the studio shows it: at its line, and as `voiceguide validate` prints it."""

    line: int
    message: str
    file: str

    @property
    def text(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "message": self.message, "text": self.text}


class Broken(VoiceguideError):
    """A routine (or its sound files, or its plan) has problems: the first one is the message."""

    def __init__(self, problems: list[Found]):
        self.problems = problems
        super().__init__(problems[0].text if problems else "the routine has problems")


def label(name: str) -> str:
    return f"{name}{ROUTINE_SUFFIX}"


def found(exc: BaseException, source: str, name: str) -> list[Found]:
    """The problems an error reports, each at its line, with the routine named as its file
    name (not the full path the routine was parsed with)."""
    file = label(name)
    if isinstance(exc, RoutineError):
        return [Found(p.line, p.message, file) for p in exc.problems]
    text = spelled(exc, cli_flag)          # settings spelled as `voiceguide validate` does
    problems = []
    for row in text.splitlines() or [text]:
        for prefix in (f"{source}:", f"{file}:"):
            if row.startswith(prefix):
                row = row[len(prefix):]
                break
        match = re.match(r"^(\d+): (.*)$", row, re.S)
        if match:
            problems.append(Found(int(match.group(1)), match.group(2), file))
        else:
            problems.append(Found(1, row.strip(), file))
    return problems


def parse(text: str, source: str, name: str) -> Routine:
    """The routine, or Broken listing every problem. Size and NUL bytes are checked as the CLI
    checks a file (before parsing)."""
    size = len(text.encode("utf-8", "surrogatepass"))
    limit = DEFAULT_LIMITS.max_file_bytes
    if size > limit:
        raise Broken([Found(1, f"the file is {size:,} bytes; a routine script may be at most {limit:,} bytes",
                            label(name))])
    try:
        return parse_routine(text, source)
    except RoutineError as exc:
        raise Broken(found(exc, source, name)) from None


def parse_file(data: bytes, source: str, name: str) -> Routine:
    """A routine file's bytes as `voiceguide validate` reads them (UTF-8, size, then parse)."""
    try:
        return parse(data.decode("utf-8"), source, name)
    except UnicodeDecodeError:
        try:
            return parse_bytes(data, source)          # says which line is not UTF-8 (or UTF-16)
        except RoutineError as exc:
            raise Broken(found(exc, source, name)) from None


def checked_settings(routine: Routine, given: Any) -> Settings:
    """The session's settings from a request's `settings` object (None values: not given).
    Raises VoiceguideError naming a setting that is unknown or wrong."""
    if given is None:
        given = {}
    if not isinstance(given, Mapping):
        raise VoiceguideError("settings must be an object of setting names and values")
    check_all(given, RENDER_SETTINGS)
    return api.settings(routine, **{k: v for k, v in given.items() if v is not None})


def _builtin_sound(what: str, value: str) -> bool:
    from ..sound.beds import BEDS
    from ..sound.chimes import SYNTHS, find_asset
    key = value.strip()
    if what == "ambient":
        return key.lower() in (*BEDS, "none")
    if what == "cover":
        return key.lower() in ("drawn", "none")
    if key.lower() in (*SYNTHS, "none"):
        return True
    return bool(_PLAIN_NAME.match(key)) and find_asset(key) is not None   # a name, never a path


def _names(what: str) -> str:
    from ..sound.beds import BEDS
    from ..sound.chimes import KINDS
    if what == "cover":
        return "drawn, none"
    return f"a bed ({', '.join(sorted(BEDS))}, none)" if what == "ambient" else \
        f"a chime ({', '.join(KINDS)}, none)"


def sound_files(folder: Path, routine: Routine, settings: Settings, name: str) -> dict[str, str]:
    """The ambient, chime and cover FILES the session names, found in FOLDER (relative names
    from FOLDER whoever named them), as real paths to hand the library as options. A name of a
    built-in sound (or cover "drawn" / "none") is left alone. Raises Broken (at the
    front-matter line when the routine named the file) for a file outside FOLDER or missing."""
    chosen: dict[str, str] = {}
    for what in ("ambient", "chime", "cover"):
        value = getattr(settings, what)
        if _builtin_sound(what, value):
            continue
        try:
            chosen[what] = str(sound_file(folder, value, what))
        except Refused as exc:
            message = str(exc)
            if "neither" in message:        # missing: the words `voiceguide validate` uses
                kind = "an image" if what == "cover" else "a readable sound"
                message = (f"{what} '{excerpt(value)}' is neither {_names(what)} nor {kind} file "
                           f"(no such file: {excerpt(str(folder / value.strip()), 200)})")
            if settings.from_routine(what):
                raise Broken([Found(routine.meta.lines.get(what, 1), message, label(name))]) from None
            raise VoiceguideError(message) from None
    return chosen


def problems(folder: Path, text: str, name: str, durations: Durations) -> list[Found]:
    """Everything `voiceguide validate` would report for this text saved as FOLDER/NAME.routine.md,
    without decoding sound files: [] when fine."""
    from ..session import check_voices
    source = str(folder / label(name))
    try:
        routine = parse(text, source, name)
        settings = api.settings(routine)
        durations.length(routine, settings)           # limits, length fit; never synthesizes
        sound_files(folder, routine, settings, name)
        check_voices(routine, settings)               # {voice NAME}: espeak's list, once per process
    except Broken as exc:
        return exc.problems
    except VoiceguideError as exc:
        return found(exc, source, name)
    return []


def warnings(folder: Path, text: str, name: str) -> list[Found]:
    """What `voiceguide validate --lint` warns about (holds too short for what their steps ask),
    for a routine that parses; [] otherwise (its problems say what to fix first)."""
    from ..script.lint import lint
    try:
        routine = parse(text, str(folder / label(name)), name)
    except VoiceguideError:
        return []
    return [Found(w.line, w.message, label(name)) for w in lint(routine)]


def as_json(problems: list[Found]) -> list[dict[str, Any]]:
    return [p.to_json() for p in problems]


__all__ = ["Broken", "Found", "as_json", "checked_settings", "found", "label", "parse", "parse_file",
           "problems", "sound_files", "warnings"]
