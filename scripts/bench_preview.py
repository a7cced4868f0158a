"""Studio previews: time to the first sound, i.e. until `Previewer.preview()` returns the WAV's
samples (the browser starts playing as soon as the bytes arrive). Issue 12's goals: within
1 s for a cached sentence, within 2 s for a new sentence of 20 words.

    scripts/bench_preview.py            # or from scripts/bench

  - cached sentence, warm previewer: a step of desk-break already spoken (in the store), the
    narrator open; one step near the start and one near the end (the bed is run up to it);
  - cached sentence, a new Previewer: read from the store, no worker starts;
  - new 20-word sentence, warmed worker: `warm()` done (worker started, voice loaded);
  - new 20-word sentence, fully cold: a new Previewer, no worker yet, the voice's calibration
    read from the store (as in a new process, any time after the voice's first use);
  - where a cold preview's time goes: starting a worker process, loading the voice, and
    calibrating its speed (done once per voice: kept in the store for every later run).

Default settings (piper joe, brown bed, 44.1 kHz stereo), a fresh store in a temp folder.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))                  # voiceguide from this checkout

from voiceguide import api                     # noqa: E402
from voiceguide.preview import Previewer, Span  # noqa: E402
from voiceguide.script.parse import parse_routine  # noqa: E402
from voiceguide.session import Resources       # noqa: E402

COLOURS = ("amber", "golden", "silver", "copper", "violet", "crimson", "pearly", "rosy")


def twenty_words(colour: str) -> str:
    return (f"Now rest your hands on your knees and let the {colour} light of evening "
            f"settle slowly over your tired shoulders.")


def fresh(colour: str) -> tuple[object, Span]:
    """A routine whose second step is a new 20-word sentence, and that step's span."""
    sentence = twenty_words(colour)
    routine = parse_routine(f'+++\ntitle = "Bench"\n+++\n# Bench\n{sentence}\n', "bench.routine.md")
    timeline = api.plan(routine)
    return routine, Span("event", next(i for i, e in enumerate(timeline.events) if e.text == sentence))


def timed(previewer: Previewer, routine, span: Span) -> tuple[float, object]:
    start = time.perf_counter()
    preview = previewer.preview(routine, api.settings(routine), span)
    return time.perf_counter() - start, preview


def spread(xs: list[float]) -> str:
    xs = sorted(xs)
    return f"{xs[0]:.2f} / {xs[len(xs) // 2]:.2f} / {xs[-1]:.2f} s (min / median / max of {len(xs)})"


def bench_cached(store: Path, runs: int = 5) -> dict:
    routine = api.load("desk-break")
    timeline = api.length(routine, cache_dir=store).timeline
    says = [i for i, e in enumerate(timeline.events) if e.kind == "say"]
    rows = {}
    with Previewer(Resources(store)) as previewer:
        for label, index in (("near the start", says[1]), ("near the end", says[-2])):
            timed(previewer, routine, Span("event", index))          # speaks it (and opens the narrator)
            times = [timed(previewer, routine, Span("event", index))[0] for _ in range(runs)]
            at = api.length(routine, cache_dir=store).timeline.events[index].start
            rows[label] = times
            print(f"  cached sentence, warm previewer, step {index} {label} ({at:.0f} s in): {spread(times)}",
                  flush=True)
    times = []
    for _ in range(runs):
        with Previewer(Resources(store)) as previewer:      # the store has it: no worker starts
            times.append(timed(previewer, routine, Span("event", says[1]))[0])
    rows["new previewer"] = times
    print(f"  cached sentence, a new Previewer (read from the store, no worker): {spread(times)}", flush=True)
    return rows


def bench_new(store: Path, runs: int = 3) -> dict:
    colours = iter(COLOURS)
    rows: dict = {"warmed": [], "cold": []}
    with Previewer(Resources(store)) as previewer:
        first, _ = fresh("plain")
        started = time.perf_counter()
        previewer.warm(first, api.settings(first)).join()
        rows["warm_call"] = time.perf_counter() - started
        for _ in range(runs):
            routine, span = fresh(next(colours))
            seconds, preview = timed(previewer, routine, span)
            assert preview.synthesized == 1
            rows["warmed"].append(seconds)
        routine = api.load("stress-relief")
        seconds, preview = timed(previewer, routine, Span("first", seconds=60))
        rows["first_minute"] = seconds
    print(f"  new 20-word sentence, after warm() ({rows['warm_call']:.2f} s in the background): "
          f"{spread(rows['warmed'])}", flush=True)
    print(f"  the first minute of stress-relief, nothing cached, after warm(): {rows['first_minute']:.2f} s "
          f"({preview.synthesized} sentences spoken)", flush=True)
    from voiceguide.voices import piper_engine
    for _ in range(2):
        routine, span = fresh(next(colours))
        piper_engine._CALIBRATIONS.clear()      # as a new process: the calibration comes from the store
        with Previewer(Resources(store)) as previewer:
            seconds, preview = timed(previewer, routine, span)
        assert preview.synthesized == 1
        rows["cold"].append(seconds)
    print(f"  new 20-word sentence, fully cold (a new Previewer, no worker; the voice's calibration read "
          f"from the store, as in any run after the first): {spread(rows['cold'])}", flush=True)
    return rows


def explain_cold() -> dict:
    """Where a cold start goes, measured on the engine's own worker pool."""
    from voiceguide.voices.piper_engine import PiperEngine
    rows = {}
    engine = PiperEngine(jobs=1)
    model = engine._voice_arg("default")
    try:
        started = time.perf_counter()
        with engine.pool.worker() as worker:
            rows["start"] = time.perf_counter() - started
            started = time.perf_counter()
            calibration = worker.call("load", {"voice": model, "calibration": None}, 120)
            rows["load_and_calibrate"] = time.perf_counter() - started
    finally:
        engine.close()
    engine = PiperEngine(jobs=1)
    try:
        with engine.pool.worker() as worker:
            known = {k: float(v) for k, v in calibration.items() if k.startswith("d")}
            started = time.perf_counter()
            worker.call("load", {"voice": model, "calibration": known}, 120)
            rows["load"] = time.perf_counter() - started
    finally:
        engine.close()
    print(f"  a cold preview's wait: worker process start {rows['start']:.2f} s, voice load "
          f"{rows['load']:.2f} s, speed calibration {rows['load_and_calibrate'] - rows['load']:.2f} s "
          f"(once per voice and store: it is kept in the store's 'voices' namespace)", flush=True)
    return rows


def main() -> int:
    print("Studio previews (time until preview() returns; piper joe, brown bed, 44.1 kHz stereo):", flush=True)
    with tempfile.TemporaryDirectory(prefix="voiceguide-bench-preview-") as tmp:
        bench_cached(Path(tmp) / "store")
        bench_new(Path(tmp) / "store")
    explain_cold()
    return 0


if __name__ == "__main__":
    sys.exit(main())
