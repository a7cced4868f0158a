"""The session's cover art: drawn from its title, or the user's own picture, or none.

A drawn cover is 1400×1400 (the podcast convention): a moon over still water, its reflection
and a few slow ripples, under the routine's title. Its colours come from a hash of the
routine's name, so every session has its own and the same one always looks the same. Colours
are chosen in OKLCH (a perceptual space), so every hue is equally calm and the title keeps
its contrast whatever the hue. Drawing takes about 0.15 s, most of it the PNG compression
(scripts/bench_cover.py).

Pillow is imported when a cover is made, not with the module: the CLI starts without it.
"""
from __future__ import annotations

import functools
import hashlib
import os
import stat
from pathlib import Path

import numpy as np

from ..errors import Named, SettingError
from ..script.model import Routine
from ..script.parse import excerpt
from ..settings import Settings
from .artwork import MAX_BYTES, checked_picture

SIZE = 1400
DRAWN, NONE = "drawn", "none"
_MARGIN = 110                    # around the title
MAX_TITLE = 200                  # characters of the title that are ever drawn (three lines hold fewer)
_HORIZON = 0.63                  # of the height: where the sky meets the water
_MOON = (0.5, 0.47, 0.075)       # centre x, y and radius, as fractions of the size
_MURKY = (80.0, 125.0)           # hues left out: olive and khaki at dusk lightness look muddy
FONT = "DejaVuSans-Bold.ttf"     # in fonts/, with its licence


def routine_name(routine: Routine) -> str:
    """The name a routine goes by ("bedtime" for bedtime.routine.md or builtin:bedtime)."""
    source = routine.source.removeprefix("builtin:")
    name = Path(source).name
    for suffix in (".md", ".routine", ".txt"):
        name = name.removesuffix(suffix)
    return name or routine.meta.title


# -- colour ----------------------------------------------------------------------------------


def _oklch_to_srgb(lightness: np.ndarray, chroma: np.ndarray, hue_degrees: np.ndarray) -> np.ndarray:
    """OKLCH (Björn Ottosson's OKLab in polar form) -> sRGB in 0..1, element-wise; (..., 3)."""
    h = np.radians(hue_degrees)
    a, b = chroma * np.cos(h), chroma * np.sin(h)
    l_ = lightness + 0.3963377774 * a + 0.2158037573 * b
    m_ = lightness - 0.1055613458 * a - 0.0638541728 * b
    s_ = lightness - 0.0894841775 * a - 1.2914855480 * b
    lms = np.stack([l_ ** 3, m_ ** 3, s_ ** 3], axis=-1)
    matrix = np.array([[4.0767416621, -3.3077115913, 0.2309699292],
                       [-1.2684380046, 2.6097574011, -0.3413193965],
                       [-0.0041960863, -0.7034186147, 1.7076147010]])
    linear = np.clip(lms @ matrix.T, 0.0, 1.0)
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)


def _colour(lightness: float, chroma: float, hue: float) -> np.ndarray:
    return _oklch_to_srgb(np.array(lightness), np.array(chroma), np.array(hue)).astype(np.float32)


def hue_of(name: str) -> float:
    """A hue in degrees, stable for a name (sha256, not Python's salted hash())."""
    digest = hashlib.sha256(name.strip().casefold().encode("utf-8")).digest()
    hue = int.from_bytes(digest[:2], "big") / 65536 * (360.0 - _MURKY[1] + _MURKY[0])
    return hue if hue < _MURKY[0] else hue + _MURKY[1] - _MURKY[0]


# -- the motif --------------------------------------------------------------------------------


def _sky_and_water(hue: float) -> np.ndarray:
    """(SIZE, 1, 3) rows of colour: a dusk sky brightening towards the horizon, the water a
    little darker below it and darkening with depth."""
    y = np.linspace(0.0, 1.0, SIZE)
    sky = np.clip(y / _HORIZON, 0, 1)
    water = np.clip((y - _HORIZON) / (1 - _HORIZON), 0, 1)
    below = y > _HORIZON
    lightness = np.where(below, 0.36 - 0.16 * water ** 0.7, 0.21 + 0.21 * sky ** 1.7)
    chroma = np.where(below, 0.050 - 0.012 * water, 0.050 + 0.025 * sky)
    hues = np.where(below, hue + 14.0 - 18.0 * water, hue + 24.0 * sky ** 2)   # warmer near the horizon
    return _oklch_to_srgb(lightness, chroma, hues).astype(np.float32)[:, None, :]


def _moon(light_amount: np.ndarray, cx: float, cy: float, radius: float, horizon: int) -> None:
    """Add a soft-edged disc and its wide, faint glow (sky only) to `light_amount`, in place.
    The glow is a Gaussian, so it is the outer product of two short vectors."""
    xs = np.arange(SIZE, dtype=np.float32) - cx
    ys = np.arange(horizon, dtype=np.float32) - cy
    spread = radius * 3.2
    light_amount[:horizon] += 0.20 * np.outer(np.exp(-(ys / spread) ** 2), np.exp(-(xs / spread) ** 2))
    top, bottom = int(cy - radius - 2), int(cy + radius + 3)
    left, right = int(cx - radius - 2), int(cx + radius + 3)
    box = np.sqrt(ys[top:bottom, None] ** 2 + xs[None, left:right] ** 2)
    disc = np.clip(radius - box + 0.5, 0.0, 1.0) * 0.9
    patch = light_amount[top:bottom, left:right]
    np.maximum(patch, disc, out=patch)


def _water(light_amount: np.ndarray, cx: float, radius: float, horizon: int) -> None:
    """Add the moon's reflection (a column of light breaking into bands, fading with depth)
    and a few ripples spreading from it, wider apart as they travel (water only), in place."""
    rows = SIZE - horizon
    depth = (np.arange(rows, dtype=np.float32) / rows)[:, None]
    xs = (np.arange(SIZE, dtype=np.float32) - cx)[None, :]
    column = np.exp(-(xs / (radius * (0.7 + 1.4 * depth))) ** 2)
    bands = (0.5 + 0.5 * np.cos(depth * 80.0) ** 2) * 0.32 * (1 - depth) ** 1.6
    light = column * bands
    centre = rows * 0.42
    ring = np.sqrt(xs ** 2 + ((depth * rows - centre) / 0.22) ** 2) / (SIZE * 0.5)   # 0 .. ~1 at the edge
    phase = np.cos(np.float32(np.pi * 4.5) * ring ** np.float32(0.7))
    crest = phase * phase
    crest *= crest
    crest *= crest
    crest *= crest                                                   # cos^16: thin crests
    fade = np.clip(1.0 - ring, 0.0, 1.0) ** 2 * np.clip(ring * 9.0 - 0.4, 0.0, 1.0)
    light += crest * fade * 0.26
    light_amount[horizon:] += light


def _motif(hue: float) -> np.ndarray:
    """The picture without the title: (SIZE, SIZE, 3) float32 in 0..1."""
    horizon = int(_HORIZON * SIZE)
    cx, cy, radius = (f * SIZE for f in _MOON)
    amount = np.zeros((SIZE, SIZE), np.float32)
    _moon(amount, cx, cy, radius, horizon)
    _water(amount, cx, radius, horizon)
    np.clip(amount, 0.0, 1.0, out=amount)
    base = _sky_and_water(hue)
    light = _colour(0.95, 0.035, hue + 40.0)
    return base + amount[..., None] * (light - base)


# -- the title --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _font(size: int):
    """DejaVu Sans Bold at `size`, shipped with the package: one look for every language, and
    glyphs for Latin, Greek and Cyrillic (Pillow's built-in font has ASCII only)."""
    from importlib import resources

    from PIL import ImageFont

    with resources.as_file(resources.files(__package__) / "fonts" / FONT) as path:
        return ImageFont.truetype(str(path), size)


def _mask(font, character: str) -> tuple[tuple[int, int], bytes]:
    mask = font.getmask(character)
    return mask.size, bytes(mask)


def drawable(text: str) -> bool:
    """Whether the font has a glyph for every character of `text`. A missing one would draw
    as the .notdef box, so each character's mask is compared with that of U+FFFF, which no
    font has."""
    font = _font(32)
    box = _mask(font, "\uffff")
    return all(_mask(font, c) != box for c in set(text) if not c.isspace())


def _wrapped(title: str, font, width: int) -> list[str]:
    """The title's words in lines no wider than `width` (a word wider than that is cut)."""
    lines: list[str] = []
    for word in title.split():
        if lines and font.getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
            continue
        while len(word) > 1 and font.getlength(word) > width:
            cut = next(i for i in range(len(word) - 1, 0, -1) if font.getlength(word[:i]) <= width or i == 1)
            lines.append(word[:cut])
            word = word[cut:]
        lines.append(word)
    return lines


def _fitted(title: str, width: int, height: int):
    """(font, lines) for the largest size at which the title fits the box in at most three
    lines; a longer title is cut with an ellipsis at the smallest size."""
    title = title[:MAX_TITLE]
    for size in range(136, 63, -8):
        font = _font(size)
        lines = _wrapped(title, font, width)
        if len(lines) <= 3 and len(lines) * size * 1.2 <= height:
            return font, lines
    lines = lines[:3]
    while len(lines[-1]) > 1 and font.getlength(lines[-1] + "…") > width:
        lines[-1] = lines[-1][:-1]
    lines[-1] = lines[-1].rstrip() + "…"
    return font, lines


def _draw_title(image, title: str, hue: float) -> None:
    from PIL import ImageDraw

    text = " ".join(title.split())
    if not text or not drawable(text[:MAX_TITLE]):     # boxes would say less than no title
        return
    top, bottom = _MARGIN, int((_MOON[1] - _MOON[2] * 1.6) * SIZE)
    font, lines = _fitted(text, SIZE - 2 * _MARGIN, bottom - top)
    step = font.size * 1.2
    first = (top + bottom) / 2 - step * (len(lines) - 1) / 2
    ink = tuple(int(round(c * 255)) for c in _colour(0.97, 0.02, hue + 40.0))
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((SIZE / 2, first + i * step), line, font=font, fill=ink, anchor="mm")


@functools.lru_cache(maxsize=16)
def cover_png(title: str, name: str | None = None) -> bytes:
    """A drawn cover: PNG bytes, SIZE×SIZE, the title over a motif coloured by `name` (the
    routine's name; the title if None). The same arguments give the same picture."""
    from io import BytesIO

    from PIL import Image

    hue = hue_of(name if name is not None else title)
    pixels = (np.clip(_motif(hue), 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    _draw_title(image, title, hue)
    out = BytesIO()
    image.save(out, "PNG", compress_level=6)
    return out.getvalue()


def routine_cover_png(routine: Routine) -> bytes:
    return cover_png(routine.meta.title, routine_name(routine))


# -- the session's choice ---------------------------------------------------------------------


def session_cover(routine: Routine, settings: Settings) -> bytes | None:
    """The picture to embed: drawn, none, or the user's image file checked (PNG or JPEG bytes).

    A file named by the front matter is found beside the routine and must be inside the
    routine's folder (a routine from elsewhere cannot pick up pictures from the rest of the
    disk); one given as an option is found from the working folder. Raises SettingError with
    one line, naming the front-matter line or the option."""
    value = settings.cover.strip()
    if value.lower() == NONE:
        return None
    if value.lower() == DRAWN:
        return routine_cover_png(routine)
    from_routine = settings.from_routine("cover")
    where: tuple[str | Named, ...] = (f"{routine.source}:{routine.meta.lines.get('cover', 1)}: cover",) \
        if from_routine else (Named("cover"),)

    def problem(message: str) -> SettingError:
        return SettingError(*where, f" '{excerpt(value)}'", message)

    source = Path(routine.source)
    folder = (source.parent if source.is_file() else Path.cwd()).absolute()
    path = Path(value)
    try:
        path = path.expanduser()
        if from_routine and not path.is_absolute():
            path = folder / path
        path = path.absolute()
        outside = from_routine and not path.resolve().is_relative_to(folder.resolve())
        info = None if outside else path.stat()
    except (OSError, ValueError, RuntimeError):   # missing, NUL byte, name too long, a loop
        raise problem(f" is neither {DRAWN}, {NONE} nor an image file (no such file: {excerpt(str(path), 200)})") \
            from None
    if info is None:
        raise problem(f" is outside the routine's folder; put the picture in {folder}")
    if not stat.S_ISREG(info.st_mode):
        raise problem(f": {path} is not a file")
    if info.st_size > MAX_BYTES:
        raise problem(f": {path} is larger than {MAX_BYTES // 1_000_000} MB")
    if not os.access(path, os.R_OK):
        raise problem(f": {path} is not readable")
    try:
        return checked_picture(path.read_bytes())
    except OSError as exc:
        raise problem(f": cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise problem(f": {path} {exc}") from None
