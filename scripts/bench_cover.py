"""Cover art: how long drawing a cover takes (issue 15's budget: under 0.3 s, so every render
can afford one) and how long embedding it adds to an export, per format.

    scripts/bench_cover.py

  - drawing: a new cover each time (the cache bypassed), the first one with the font's load;
  - where the time goes: the motif (numpy), the title (Pillow), the PNG encoding;
  - embedding: a one-minute pink-noise export with and without the cover, per format.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))                  # voiceguide from this checkout

import numpy as np                             # noqa: E402
from PIL import Image                          # noqa: E402

from voiceguide.export import cover            # noqa: E402
from voiceguide.export.encode import encode    # noqa: E402
from voiceguide.export.formats import EncodeError, resolve_format  # noqa: E402

TITLES = [("Bedtime wind-down", "bedtime"), ("Desk break", "desk-break"),
          ("A body scan for the end of a long day", "body-scan"), ("Breathe", "breathe")]


def timed(function, *args) -> tuple[float, object]:
    start = time.perf_counter()
    value = function(*args)
    return time.perf_counter() - start, value


def drawing() -> None:
    first, _ = timed(cover.cover_png.__wrapped__, "First", "first")
    times = [timed(cover.cover_png.__wrapped__, f"{title} {i}", f"{name}{i}")[0]
             for i in range(5) for title, name in TITLES]
    print(f"draw a cover: first {first * 1000:.0f} ms (loads the font), then median "
          f"{statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms over {len(times)}")
    motif, pixels = timed(cover._motif, cover.hue_of("bedtime"))
    image = Image.fromarray((np.clip(pixels, 0, 1) * 255 + 0.5).astype(np.uint8), "RGB")
    title, _ = timed(cover._draw_title, image, "Bedtime wind-down", cover.hue_of("bedtime"))
    out = BytesIO()
    png, _ = timed(image.save, out, "PNG")
    print(f"  motif {motif * 1000:.0f} ms, title {title * 1000:.0f} ms, PNG {png * 1000:.0f} ms "
          f"({len(out.getvalue()) / 1000:.0f} kB)")


def embedding() -> None:
    rate, seconds = 44100, 60
    noise = (np.random.default_rng(1).standard_normal((rate * seconds, 2)) * 0.05).astype(np.float32)
    picture = cover.cover_png("Bedtime wind-down", "bedtime")
    with tempfile.TemporaryDirectory() as folder:
        for ext in ("mp3", "m4a", "m4b", "flac", "ogg", "opus", "wav"):
            try:
                resolve_format(f"x.{ext}")
            except EncodeError as exc:
                print(f"  {ext}: skipped ({exc})")
                continue
            spent = {}
            for label, art in (("without", None), ("with", picture)):
                path = Path(folder) / f"{label}.{ext}"
                blocks = (noise[i:i + 8192] for i in range(0, len(noise), 8192))
                spent[label], _ = timed(lambda: encode(blocks, path, sample_rate=rate, channels=2, cover=art,
                                                       force=True))
            print(f"  {ext}: export of {seconds} s {spent['without']:.2f} s, with the cover "
                  f"{spent['with']:.2f} s ({(spent['with'] - spent['without']) * 1000:+.0f} ms)")


if __name__ == "__main__":
    drawing()
    print("embed a cover:")
    embedding()
