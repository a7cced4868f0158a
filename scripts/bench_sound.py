"""What the sound of issue 14 costs: warm renders of the same routine with today's sound and
with everything on. Issue 14's goal: everything on at most 15 % slower than today.

    scripts/bench_sound.py [ROUTINE] [--runs N] [--format mp3]   # or: scripts/bench --only sound

  - today: the brown bed, no beat tone, the voice centred (spatial 0), the bowl chime;
  - each feature alone: rain, stream, wind, fire, a binaural 6>3 Hz glide, an isochronic one,
    the voice at the working hand (spatial 1), and the other chimes;
  - everything on: rain, a binaural 6>3 Hz glide and spatial 1.
Every variant is rendered once to warm the store (speech is the same for all of them), then
`--runs` times in turn; the median wall time is reported against today's.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))                  # voiceguide from this checkout

from voiceguide import api                     # noqa: E402

TODAY = {"ambient": "brown", "beat": "none", "spatial": 0.0, "chime": "bowl"}
VARIANTS: dict[str, dict] = {
    "today (brown, no beat, centred)": TODAY,
    "rain": {**TODAY, "ambient": "rain"},
    "stream": {**TODAY, "ambient": "stream"},
    "wind": {**TODAY, "ambient": "wind"},
    "fire": {**TODAY, "ambient": "fire"},
    "binaural 6>3": {**TODAY, "beat": "6>3", "beat_mode": "binaural"},
    "isochronic 6>3": {**TODAY, "beat": "6>3", "beat_mode": "isochronic"},
    "spatial 1": {**TODAY, "spatial": 1.0},
    "gong chime": {**TODAY, "chime": "gong"},
    "everything on (rain, binaural 6>3, spatial 1)": {**TODAY, "ambient": "rain", "beat": "6>3",
                                                       "beat_mode": "binaural", "spatial": 1.0},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("routine", nargs="?", default="bedtime")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--format", default="mp3")
    args = parser.parse_args()
    routine = api.load(args.routine)
    with tempfile.TemporaryDirectory(prefix="voiceguide-bench-sound-") as tmp:
        folder = Path(tmp)
        out = folder / f"out.{args.format}"
        times: dict[str, list[float]] = {name: [] for name in VARIANTS}
        seconds = 0.0
        for run in range(args.runs + 1):            # run 0 warms the store
            for name, options in VARIANTS.items():
                start = time.perf_counter()
                result = api.render(routine, out, force=True, cache_dir=folder / "store", **options)
                if run:
                    times[name].append(time.perf_counter() - start)
                seconds = result.encoded.seconds
        today = statistics.median(times[next(iter(VARIANTS))])
        print(f"{args.routine}: {seconds / 60:.1f} min of {args.format.upper()}, warm store, "
              f"median of {args.runs} runs each")
        for name, walls in times.items():
            median = statistics.median(walls)
            print(f"  {name:<48} {median:6.2f} s  ({seconds / median:5.0f}x real time)  "
                  f"{(median / today - 1) * 100:+6.1f} % against today")
    return 0


if __name__ == "__main__":
    sys.exit(main())
