"""Narration speed per engine: seconds of speech produced per second of wall time, with a
cold cache (includes starting the worker processes) and a warm one (every sentence cached).

    .venv/bin/python scripts/bench_voices.py                        # built-in sample sentences
    .venv/bin/python scripts/bench_voices.py --routine hand-massage  # every sentence of a routine
    .venv/bin/python scripts/bench_voices.py --text-file notes.txt --engine piper --jobs 1,2

Importable: `bench(texts, engines=("piper", "pyttsx3"), jobs=(2,), speed=1.0)` returns a
list of BenchResult; `routine_texts("hand-massage")` gives a routine's spoken sentences.
The cache used is a temporary directory, never the user's.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from voiceguide.script.sentences import split_sentences  # noqa: E402
from voiceguide.voices import Narrator  # noqa: E402

SAMPLE = [
    "Sit comfortably and rest both hands in your lap.",
    "Let your shoulders drop away from your ears, and take a slow breath in through the nose.",
    "Now bring your right thumb to the center of your left palm.",
    "Press gently and make small circles, moving outward toward the base of each finger.",
    "Take your time with each finger.",
    "Hold it lightly at the base, and slide your grip all the way to the tip, as if you were pulling on a glove.",
    "Turn your hand over and stroke the back of it from the wrist to the knuckles.",
    "Notice any places that feel tight, and give them a little more attention.",
    "Keep this up for 30s, then switch hands.",
    "When you are ready, shake both hands loosely for a few seconds.",
    "Then let them rest again, warm and relaxed, and breathe out slowly.",
    "Good.",
]


@dataclass(frozen=True)
class BenchResult:
    engine: str
    jobs: int
    sentences: int
    speech_seconds: float    # total duration of the synthesized speech
    cold_seconds: float      # wall time with an empty cache, worker start-up included
    warm_seconds: float      # wall time with every sentence cached
    fallbacks: int

    @property
    def cold_rate(self) -> float:
        """Seconds of speech per second of wall time, cold."""
        return self.speech_seconds / self.cold_seconds if self.cold_seconds else float("inf")

    @property
    def warm_rate(self) -> float:
        return self.speech_seconds / self.warm_seconds if self.warm_seconds else float("inf")


def routine_texts(ref: str) -> tuple[list[str], Mapping[str, str]]:
    """Every distinct sentence a routine speaks (built-in name or file), and its pronunciations."""
    from voiceguide.library import load_routine
    from voiceguide.timeline import plan, spoken_texts

    routine = load_routine(ref)
    return spoken_texts(plan(routine)), routine.meta.pronounce


def bench(
    texts: Iterable[str],
    engines: Sequence[str] = ("piper", "pyttsx3"),
    jobs: Sequence[int] = (os.cpu_count() or 1,),
    speed: float = 1.0,
    pronounce: Mapping[str, str] | None = None,
) -> list[BenchResult]:
    texts = list(dict.fromkeys(texts))
    results = []
    for engine in engines:
        for n in jobs:
            with tempfile.TemporaryDirectory(prefix="voiceguide-bench-") as cache:
                start = time.perf_counter()
                with Narrator(engine, cache=cache, jobs=n, fallback=False, pronounce=pronounce) as narrator:
                    speeches = narrator.prepare(texts, speed)
                cold = time.perf_counter() - start
                start = time.perf_counter()
                with Narrator(engine, cache=cache, jobs=n, fallback=False, pronounce=pronounce) as warm_narrator:
                    warm_narrator.prepare(texts, speed)
                    assert warm_narrator.stats.synthesized == 0, "warm run synthesized something"
                warm = time.perf_counter() - start
            results.append(BenchResult(engine, n, len(texts), sum(s.duration for s in speeches), cold, warm,
                                       narrator.stats.fallbacks))
    return results


def format_results(results: Sequence[BenchResult]) -> str:
    lines = [f"{'engine':<8} {'jobs':>4} {'sentences':>9} {'speech':>8} {'cold':>8} {'cold x':>7} {'warm':>7} {'warm x':>8}"]
    for r in results:
        lines.append(
            f"{r.engine:<8} {r.jobs:>4} {r.sentences:>9} {r.speech_seconds:>7.1f}s {r.cold_seconds:>7.2f}s "
            f"{r.cold_rate:>6.1f}x {r.warm_seconds:>6.2f}s {r.warm_rate:>7.0f}x"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--routine", help="built-in routine name or routine file: bench its sentences")
    source.add_argument("--text-file", type=Path, help="plain text; split into sentences")
    parser.add_argument("--engine", default="piper,pyttsx3", help="comma-separated engines (default: piper,pyttsx3)")
    parser.add_argument("--jobs", default=str(os.cpu_count() or 1), help="comma-separated worker counts to try")
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)

    pronounce: Mapping[str, str] | None = None
    if args.routine:
        texts, pronounce = routine_texts(args.routine)
    elif args.text_file:
        texts = split_sentences(args.text_file.read_text(encoding="utf-8"))
    else:
        texts = SAMPLE
    engines = [e.strip() for e in args.engine.split(",") if e.strip()]
    jobs = [int(j) for j in args.jobs.split(",") if j.strip()]
    results = bench(texts, engines, jobs, args.speed, pronounce)
    if args.json:
        print(json.dumps([asdict(r) | {"cold_rate": r.cold_rate, "warm_rate": r.warm_rate} for r in results], indent=2))
    else:
        print(format_results(results))
        print(f"({os.cpu_count()} CPUs; cold includes starting the workers; 'x' = seconds of speech per second)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
