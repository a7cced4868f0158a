"""One session with lists in speed, voice, ambient or length -> one item per combination,
each with a name that tells it apart (bedtime-speed0.8-joe.mp3)."""
from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any, Mapping

from ..script.durations import format_duration
from ..sound.beds import BEDS
from .model import Item, Where
from .options import DEFAULT_FORMAT, OPTIONS, VARIANT_KEYS


SOUND_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".opus", ".m4a", ".aiff")
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


def _label(key: str, value: Any) -> str:
    """The part of a variant's name that tells it apart: speed0.8, length12m, joe, ocean."""
    if key == "speed":
        return f"speed{value:g}"
    if key == "length":
        return f"length{format_duration(value)}"
    name = Path(str(value)).name
    for suffix in (".onnx", *SOUND_SUFFIXES):
        name = name.removesuffix(suffix)
    return _UNSAFE.sub("_", name).strip("._") or key


def _local_path(value: str, base: Path) -> str:
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def expand(routine: str, name: str, values: Mapping[str, Any], where: Where, base: Path) -> list[Item]:
    """One item per combination of the listed variants (one item when nothing is listed)."""
    listed = [k for k in VARIANT_KEYS if isinstance(values.get(k), list)]
    fmt = values.get("format") or DEFAULT_FORMAT
    items = []
    for combo in itertools.product(*(values[k] for k in listed)):
        chosen = {**values, **dict(zip(listed, combo))}
        ambient, chime = chosen.get("ambient"), chosen.get("chime")
        if ambient and ambient.strip().lower() not in (*BEDS, "none"):
            chosen["ambient"] = _local_path(ambient, base)        # a sound file beside the manifest
        if chime and ("/" in chime or Path(chime).suffix.lower() in SOUND_SUFFIXES):
            chosen["chime"] = _local_path(chime, base)
        cover = chosen.get("cover")
        if cover and cover.strip().lower() not in ("drawn", "none"):
            chosen["cover"] = _local_path(cover, base)            # a picture beside the manifest
        voice = chosen.get("voice")
        if voice and voice.lower().endswith(".onnx"):
            chosen["voice"] = _local_path(voice, base)
        fields = {k: v for k, v in chosen.items() if k in OPTIONS}
        fields["format"] = fmt
        label = "-".join([name, *(_label(k, v) for k, v in zip(listed, combo))])
        items.append(Item(f"{label}.{fmt}", routine, fields, where))
    return items
