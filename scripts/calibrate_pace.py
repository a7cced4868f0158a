"""Measure each voice's pace again and print the `timeline.PACES` table (and how well it fits).

    .venv/bin/python scripts/calibrate_pace.py                 # piper's joe and espeak's en-us
    .venv/bin/python scripts/calibrate_pace.py --engine pyttsx3 --speeds 1,0.85,1.1

Every distinct sentence of the built-in routines and the starter is spoken at each speed (a
temporary cache, never the user's) and its trimmed duration, exactly what the planner gets,
is fitted by least squares on the sentence's letters and clause breaks (timeline.Pace) at
speed 1.0. Other speeds show how the engine's speed control follows the estimate's law
(lengths.speed_scale); the last lines give each routine's estimated and measured speech.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from voiceguide import library  # noqa: E402
from voiceguide.lengths import speed_scale  # noqa: E402
from voiceguide.script.parse import parse_routine  # noqa: E402
from voiceguide.starter import STARTER  # noqa: E402
from voiceguide.timeline import CLAUSE_BREAKS, Pace, spoken_texts  # noqa: E402
from voiceguide.voices import Narrator  # noqa: E402


def corpus() -> dict[str, list[str]]:
    """Routine name -> its distinct spoken sentences (the starter too)."""
    routines = {name: library.load_routine(name) for name in library.builtin_names()}
    routines["starter"] = parse_routine(STARTER, "starter.routine.md")
    return {name: spoken_texts(library.plan_routine(r)) for name, r in routines.items()}


def features(spoken: str) -> list[float]:
    return [sum(ch.isalpha() for ch in spoken), sum(spoken.count(c) for c in CLAUSE_BREAKS), 1.0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", action="append", help="piper and/or pyttsx3 (default: both)")
    parser.add_argument("--speeds", default="1", help="comma-separated; 1 is always measured")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    speeds = [1.0] + [s for s in map(float, args.speeds.split(",")) if s != 1.0]
    routines = corpus()
    texts = list(dict.fromkeys(t for ts in routines.values() for t in ts))
    for engine in args.engine or ["piper", "pyttsx3"]:
        with tempfile.TemporaryDirectory() as cache, \
                Narrator(engine=engine, cache=cache, jobs=args.jobs, fallback=False) as narrator:
            voice = narrator.request("", 1.0).voice.split(":", 1)[0]
            spoken = [narrator.normalize(t) for t in texts]
            seconds = {}
            for speed in speeds:
                started = time.monotonic()
                seconds[speed] = np.array([s.duration for s in narrator.prepare(texts, speed)])
                print(f"{engine} {voice}: {len(texts)} sentences at speed {speed:g} "
                      f"in {time.monotonic() - started:.0f} s", file=sys.stderr)
        x = np.array([features(s) for s in spoken])
        y = seconds[1.0]
        coef, *_ = np.linalg.lstsq(x, y, rcond=None)
        pace = Pace(*(round(float(c), 4) for c in coef))
        rms = float(np.sqrt(np.mean((x @ coef - y) ** 2)))
        print(f'    "{engine}": {{"{voice}": {pace!r}}},   # rms {rms:.3f} s a sentence')
        for speed in speeds[1:]:
            ratio = seconds[speed].sum() / y.sum()
            print(f"      speed {speed:g}: speech x{ratio:.4f} of speed 1, law says x{speed_scale(engine, speed):.4f}")
        index = {t: i for i, t in enumerate(texts)}
        for name, ts in routines.items():
            rows = [index[t] for t in ts]
            est = sum(pace.seconds(spoken[i]) for i in rows)
            real = float(y[rows].sum())
            print(f"      {name:<14} speech at 1.0: estimated {est:6.1f} s, measured {real:6.1f} s ({est / real - 1:+.1%})")


if __name__ == "__main__":
    main()
