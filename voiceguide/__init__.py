"""voiceguide: offline, voice-guided audio sessions from plain-text routine scripts.

The library API, usable without the CLI:

    >>> import voiceguide
    >>> routine = voiceguide.load_routine("desk-break")      # built-in name or a path
    >>> timeline = voiceguide.plan(routine, speed=1.2)
    >>> round(timeline.total) > 60
    True
"""
from .errors import VoiceguideError
from .library import RoutineNotFound, builtin_names, builtin_text, load_routine, plan_routine
from .limits import DEFAULT_LIMITS, LimitError, Limits
from .script.model import Breathe, Chime, Hold, Meta, Pause, Routine, Say, Section
from .script.parse import Problem, RoutineError, parse_routine
from .timeline import Event, FitError, Timeline, estimate_speech, plan

__version__ = "0.1.0"

__all__ = [
    "Breathe", "Chime", "DEFAULT_LIMITS", "Event", "FitError", "Hold", "LimitError", "Limits", "Meta", "Pause",
    "Problem", "Routine", "RoutineError", "RoutineNotFound", "Say", "Section", "Timeline", "VoiceguideError",
    "builtin_names", "builtin_text", "estimate_speech", "load_routine", "parse_routine", "plan", "plan_routine",
]
