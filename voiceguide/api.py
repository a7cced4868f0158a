"""The library as other programs use it: load a routine, plan it, render it, play it.

    >>> import voiceguide
    >>> routine = voiceguide.load("desk-break")
    >>> voiceguide.plan(routine, speed=1.2).total > 60
    True

Settings are keyword arguments named as in the settings schema (`voiceguide.settings`:
speed, length, voice, ambient, ...); each is checked, and anything not given comes from the
routine's front matter, else the default. The faces (CLI, batch, studio) call these too.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .library import load_routine
from .limits import Limits
from .script.model import Routine
from .settings import Settings, check, resolve
from .timeline import Timeline

if TYPE_CHECKING:       # the heavy parts load only when a session is rendered or played
    from .lengths import SessionLength
    from .live.session import PlayResult
    from .to_file import RenderResult
    from .session import Progress

Warn = Callable[[str], None]


def load(ref: str | os.PathLike[str], *, max_session: float | None = None) -> Routine:
    """A built-in routine by name, or a routine file by path. Raises RoutineError listing every
    problem (FILE:LINE: message), RoutineNotFound, or LimitError."""
    limits = Limits() if max_session is None else Limits(max_session=check("max_session", max_session))
    return load_routine(ref, limits)


def settings(routine: Routine, **options: Any) -> Settings:
    """The session's settings: each option given (not None), else the front matter's, else
    the default. Raises SettingError naming a setting whose value is wrong."""
    return resolve(options, routine.meta.settings)


def _routine(routine: Routine | str | os.PathLike[str], options: dict[str, Any]) -> Routine:
    if isinstance(routine, Routine):
        return routine
    return load(routine, max_session=options.get("max_session"))


def length(routine: Routine | str | os.PathLike[str], *, cache_dir: str | os.PathLike[str] | None = None,
           **options: Any) -> "SessionLength":
    """How long the render will be, and its plan: measured when every sentence is in the store
    at `cache_dir` (rendered or played before), else estimated from the voice's calibrated
    pace (within about 1 % on the built-ins). Never synthesizes; an unknown `{voice NAME}`
    fails as the render would (session.check_voices)."""
    from .lengths import session_length
    from .session import check_voices
    routine = _routine(routine, options)
    chosen = settings(routine, **options)
    length = session_length(routine, chosen, cache_dir)
    check_voices(routine, chosen)
    return length


def plan(routine: Routine | str | os.PathLike[str], *, cache_dir: str | os.PathLike[str] | None = None,
         **options: Any) -> Timeline:
    """How the session will be timed, before any audio exists (see `length`)."""
    timeline = length(routine, cache_dir=cache_dir, **options).timeline
    assert timeline is not None
    return timeline


def render(routine: Routine | str | os.PathLike[str], output: str | os.PathLike[str], *,
           transcripts: tuple[str, ...] = (), timeline: str | os.PathLike[str] | None = None,
           picture: str | os.PathLike[str] | None = None, player: bool = False, force: bool = False,
           cache_dir: str | os.PathLike[str] | None = None, jobs: int | None = None,
           progress: "Progress | None" = None, on_warning: Warn | None = None, **options: Any) -> "RenderResult":
    """Render the session to `output` (its extension picks the format unless `format=`).
    `transcripts` ("vtt", "srt", "txt") are written beside it; `timeline` and `picture` name a
    JSON timeline and a PNG to write too; `player` writes an offline HTML page that plays it
    (out.mp3 -> out.html, see voiceguide.export.player). `cache_dir` keeps synthesized speech
    for next time (None: nothing is kept). The file appears whole or not at all."""
    from .to_file import Outputs, render as render_file
    from .session import Resources
    routine = _routine(routine, options)
    outputs = Outputs(tuple(transcripts), _path(timeline), _path(picture), force, player=player)
    return render_file(routine, Path(output), settings(routine, **options), outputs,
                       Resources(_path(cache_dir), jobs), progress=progress, on_warning=on_warning)


def play(routine: Routine | str | os.PathLike[str], *, device: str | None = None,
         cache_dir: str | os.PathLike[str] | None = None, jobs: int | None = None,
         progress: "Progress | None" = None, on_warning: Warn | None = None, **options: Any) -> "PlayResult":
    """Play the session through the speakers now (or `device`, part of an output's name), to
    the end. Raises AudioUnavailable when there is no audio output."""
    from .live.session import PlayOptions, play as play_session
    from .session import Resources
    routine = _routine(routine, options)
    chosen = PlayOptions(settings(routine, **options), Resources(_path(cache_dir), jobs), device=device)
    return play_session(routine, chosen, progress=progress, on_warning=on_warning)


def _path(value: str | os.PathLike[str] | None) -> Path | None:
    return None if value is None else Path(value)


def validate(routine: Routine | str | os.PathLike[str], *, cache_dir: str | os.PathLike[str] | None = None,
             **options: Any) -> Timeline:
    """Everything a render checks before any work: the routine parses, the session fits its
    limits (and a requested length), its ambient and chime files decode, and its cover image
    is one. Returns the plan."""
    from . import inputs
    from .lengths import session_length
    from .session import check_voices
    routine = _routine(routine, options)
    chosen = settings(routine, **options)
    timeline = session_length(routine, chosen, cache_dir).timeline
    assert timeline is not None
    inputs.ambient(routine, chosen)
    inputs.chime(routine, chosen)
    if chosen.cover.strip().lower() != "drawn":         # the user's picture: found, inside, an image
        from .export.cover import session_cover
        session_cover(routine, chosen)
    check_voices(routine, chosen)      # each {voice NAME} is a voice an engine has
    return timeline
