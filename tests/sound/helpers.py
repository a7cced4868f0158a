"""Shared builders: small routines planned with a synthetic voice whose clips are exactly as
long as the plan says. (A module of its own, not conftest, so nothing clashes with the
top-level tests/conftest.py.)"""
from __future__ import annotations

import numpy as np

from voiceguide.script.model import Breathe, Chime, Hold, Meta, Pause, Routine, Say, Section
from support.synthetic import SyntheticVoice
from voiceguide.timeline import plan


def routine(*sections: tuple[str, tuple]) -> Routine:
    return Routine(Meta(title="Test session"),
                   tuple(Section(title, i + 1, 1, True, None, steps) for i, (title, steps) in enumerate(sections)),
                   "test")


def standard_steps() -> tuple:
    return (
        Say("Welcome", 1, is_title=True),
        Say("Settle in and let your shoulders drop. Breathe out slowly.", 2),
        Hold(8.0, 3),
        Say("Good. Now we breathe together.", 4),
        Breathe(2, 5, inhale=3.0, exhale=4.0),
        Chime(6),
        Pause(4.0, 7),
        Say("That is the end of the session.", 8),
    )


def standard_timeline(voice: SyntheticVoice):
    return plan(routine(("Welcome", standard_steps())), timer=voice.timer)


def rms_db(x: np.ndarray) -> float:
    x = np.asarray(x, np.float64)
    return 10 * np.log10(np.mean(x * x) + 1e-30)


def frames(t: float, sr: int) -> int:
    return int(np.floor(t * sr + 0.5))
