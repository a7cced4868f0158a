"""Small sessions for the player tests: a synthetic voice (clips exactly as long as planned),
a low sample rate, and helpers to drive a Controller with keys at exact output frames."""
from __future__ import annotations

import numpy as np

from voiceguide.live.commands import Command
from voiceguide.live.controller import Controller
from voiceguide.live.cues import Cues
from voiceguide.script.model import Breathe, Hold, Meta, Routine, Say, Section
from voiceguide.sound.mix import mix
from support.synthetic import SyntheticVoice
from voiceguide.timeline import plan

SR = 16000


def steps(hold: float = 40.0) -> tuple:
    return (
        Say("Welcome", 1, is_title=True),
        Say("Settle in and let your shoulders drop. Breathe out slowly.", 2),
        Hold(hold, 3),
        Say("Good. Now we breathe together.", 4),
        Breathe(1, 5, inhale=2.0, exhale=3.0),
        Say("Stretch your fingers wide.", 6),
        Hold(10.0, 7),
        Say("That is the end.", 8),
    )


def timeline(voice: SyntheticVoice, hold: float = 40.0):
    routine = Routine(Meta(title="Test session"), (Section("Welcome", 1, 1, True, None, steps(hold)),), "test")
    return plan(routine, timer=voice.timer)


def silent_cues() -> Cues:
    names = ["pause", "resume", "nothing", *(c.value for c in Command)]
    return Cues({name: np.zeros(1, np.float32) for name in names})


def controller(voice: SyntheticVoice, *, ambient: str = "none", cues: bool = False, hold: float = 40.0,
               gain_db: float = 0.0, **options) -> Controller:
    m = mix(timeline(voice, hold), voice, sample_rate=SR, ambient=ambient, **options)
    return Controller(m, gain_db=gain_db, cues=None if cues else silent_cues())


def run(ctl: Controller, presses=(), block: int = 1000, limit: float = 600.0) -> np.ndarray:
    """Render until the session ends, pressing keys at output times (seconds) exactly."""
    presses = sorted(((int(round(t * SR)), c) for t, c in presses), key=lambda p: p[0])
    out, done = [], 0
    while not ctl.state.finished and done < limit * SR:
        n = block
        if presses:
            n = min(n, presses[0][0] - done)
        if n <= 0:
            ctl.apply(presses.pop(0)[1])
            continue
        x = ctl.render(n)
        if not len(x):
            break
        out.append(x)
        done += len(x)
    return np.concatenate(out) if out else np.zeros((0, 2), np.float32)


def frames(seconds: float) -> int:
    return int(np.floor(seconds * SR + 0.5))


def rms_db(x: np.ndarray) -> float:
    x = np.asarray(x, np.float64)
    return float(10 * np.log10(np.mean(x * x) + 1e-30))


def event(ctl: Controller, kind: str, n: int = 0) -> int:
    """Index of the n-th event of `kind`."""
    return [i for i, e in enumerate(ctl.events) if e.kind == kind][n]


def said(ctl: Controller, text: str) -> int:
    """Index of the say event that starts with `text`."""
    return next(i for i, e in enumerate(ctl.events) if e.kind == "say" and e.text.startswith(text))
