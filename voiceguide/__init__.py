"""voiceguide: offline, voice-guided audio sessions from plain-text routine scripts.

The library API, usable without the CLI (see docs/python.md):

    >>> import voiceguide
    >>> routine = voiceguide.load("desk-break")        # a built-in name or a routine file
    >>> timeline = voiceguide.plan(routine, speed=1.2)  # settings by name, checked
    >>> round(timeline.total) > 60
    True

`voiceguide.render(routine, "out.mp3", ...)` writes the session to a file and
`voiceguide.play(routine, ...)` plays it through the speakers.
"""
from .api import load, play, plan, render, validate
from .errors import SettingError, VoiceguideError
from .library import RoutineNotFound, builtin_names, builtin_text, load_routine, plan_routine
from .limits import DEFAULT_LIMITS, LimitError, Limits
from .script.model import Breathe, Chime, Hold, Meta, Pause, Routine, Say, Section
from .script.parse import Problem, RoutineError, parse_routine
from .settings import Settings
from .timeline import Event, FitError, Timeline, estimate_speech

__version__ = "0.1.0"

__all__ = [
    "Breathe", "Chime", "DEFAULT_LIMITS", "Event", "FitError", "Hold", "LimitError", "Limits", "Meta", "Pause",
    "Problem", "Routine", "RoutineError", "RoutineNotFound", "Say", "Section", "SettingError", "Settings",
    "Timeline", "VoiceguideError", "builtin_names", "builtin_text", "estimate_speech", "load", "load_routine",
    "parse_routine", "plan", "plan_routine", "play", "render", "validate",
]
