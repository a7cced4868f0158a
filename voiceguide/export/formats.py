"""The output formats: what each one is, how ffmpeg makes it, and how its quality is spelt.

Checked before any audio is rendered, so a bad format or quality fails in the first second.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..settings import FORMAT_ALIASES
from ..sound.ffmpeg import encoders


class EncodeError(RuntimeError):
    """Encoding failed (the one-line message carries ffmpeg's complaint)."""


@dataclass(frozen=True)
class Format:
    name: str
    codec: str | None        # ffmpeg encoder; None: written by Python (wav)
    muxer: str | None
    pcm: str                 # what goes down the pipe: "f32le" or "s16le"
    quality_flag: str | None  # how `quality` is passed (e.g. "-q:a", "-b:a")
    default_quality: str | None
    rate: int | None = None  # forced output sample rate (opus is 48 kHz only)
    chapters: str = "ffmetadata"   # how tags/chapters get in: ffmetadata, id3, vorbis
    description: str = ""


FORMATS: dict[str, Format] = {
    "mp3": Format("mp3", "libmp3lame", "mp3", "f32le", "-q:a", "4", chapters="id3",
                  description="MP3, LAME VBR; quality 0 (best) .. 9, default 4 (~165 kbit/s), "
                              "or a bitrate like 128k (ABR)"),
    "wav": Format("wav", None, None, "s16le", None, None, chapters="id3",
                  description="WAV, 16-bit PCM with TPDF dither (24-bit with bit_depth=24)"),
    "flac": Format("flac", "flac", "flac", "s16le", "-compression_level", "8", chapters="vorbis",
                   description="FLAC, lossless 16-bit; quality = compression level 0..12"),
    "ogg": Format("ogg", "libvorbis", "ogg", "f32le", "-q:a", "5", chapters="vorbis",
                  description="Ogg Vorbis; quality -1..10, default 5 (~160 kbit/s), or a bitrate"),
    "opus": Format("opus", "libopus", "opus", "f32le", "-b:a", "96k", rate=48000, chapters="vorbis",
                   description="Opus in Ogg at 48 kHz; quality = bitrate, default 96k"),
    "m4a": Format("m4a", "aac", "ipod", "f32le", "-b:a", "128k",
                  description="AAC in MP4 (iTunes-style m4a); quality = bitrate, default 128k"),
    "m4b": Format("m4b", "aac", "ipod", "f32le", "-b:a", "128k",
                  description="AAC audiobook (m4b) with chapters; quality = bitrate"),
}
ALIASES = FORMAT_ALIASES   # names and aliases are the settings schema's (its `format` setting)


def resolve_format(path: str | Path, fmt: str | None = None) -> Format:
    """The format named explicitly, or the one the output's extension implies."""
    key = (fmt or Path(path).suffix.lstrip(".")).lower()
    key = ALIASES.get(key, key)
    if key not in FORMATS:
        known = ", ".join(FORMATS)
        raise ValueError(f"unknown audio format '{key or Path(path).name}': use one of {known}")
    f = FORMATS[key]
    if f.codec and f.codec not in encoders():
        raise EncodeError(f"this ffmpeg has no {f.codec} encoder, so it cannot write {key}")
    return f


_BITRATE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kK])?(?:bps|b/s)?$")


def quality_args(fmt: Format, quality: str | int | float | None) -> list[str]:
    """ffmpeg options for `quality`: the format's own scale (MP3 VBR 0-9, Vorbis -1..10,
    FLAC level 0-12) or, for any lossy format, a bitrate such as "128k".
    Raises ValueError for anything else, before any audio is rendered."""
    if fmt.codec is None:
        if quality is not None:
            raise ValueError("wav has no quality setting (it is lossless PCM)")
        return []
    if quality is None:
        return [fmt.quality_flag, fmt.default_quality]
    q = str(quality).strip()
    lossy = fmt.name != "flac"
    scales = {"mp3": (0, 9), "ogg": (-1, 10), "flac": (0, 12)}
    if fmt.quality_flag == "-q:a" or fmt.name == "flac":
        lo, hi = scales[fmt.name]
        try:
            value = float(q)
        except ValueError:
            value = None
        if value is not None and not q.lower().endswith("k"):
            if not lo <= value <= hi:
                raise ValueError(f"{fmt.name} quality must be {lo}..{hi}, not {q}")
            return [fmt.quality_flag, f"{value:g}" if fmt.name != "flac" else str(int(value))]
    m = _BITRATE.match(q)
    if lossy and m:
        kbps = float(m.group(1)) if m.group(2) or float(m.group(1)) < 1000 else float(m.group(1)) / 1000
        if not 6 <= kbps <= 512:
            raise ValueError(f"{fmt.name} bitrate must be 6k..512k, not {q}")
        return ["-b:a", f"{kbps:g}k"]
    what = {"mp3": "VBR quality 0-9 or a bitrate like 128k", "ogg": "quality -1..10 or a bitrate like 128k",
            "flac": "compression level 0-12"}.get(fmt.name, "a bitrate like 96k")
    raise ValueError(f"bad {fmt.name} quality '{q}': use {what}")
