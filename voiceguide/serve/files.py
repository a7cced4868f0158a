"""Which files `serve` hands out: regular files inside FOLDER whose real path stays inside it,
none hidden (neither the name asked for nor what a symlink leads to), of a podcast's kinds.

The URL path is checked segment by segment (no empty, `.`, `..` or hidden segment, no
backslash or control character) BEFORE it touches the file system, and then the resolved path
is checked again, so neither `..` (encoded or not) nor a symlink leads out. Only the kinds of
file a feed, its sidecars and a player page need are served: serving a folder by mistake
does not hand out its other documents.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..studio.security import inside

MEDIA_TYPES = {
    ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".m4b": "audio/mp4", ".ogg": "audio/ogg",
    ".opus": "audio/ogg", ".oga": "audio/ogg", ".flac": "audio/flac", ".wav": "audio/wav",
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
    ".vtt": "text/vtt; charset=utf-8", ".srt": "application/x-subrip; charset=utf-8",
    ".json": "application/json", ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
AUDIO = (".mp3", ".m4a", ".m4b", ".ogg", ".opus", ".oga", ".flac", ".wav")
SIDECAR_ONLY = (".txt",)
"""Kinds served only beside an audio file of the same name (a transcript, not any notes)."""
SEGMENT = re.compile(r"^[^/\\\x00-\x1f\x7f.][^/\\\x00-\x1f\x7f]{0,254}$")
MAX_DEPTH = 8


def media_type(path: Path) -> str | None:
    return MEDIA_TYPES.get(path.suffix.lower())


def served_file(folder: Path, relative: str) -> Path | None:
    """The real path of `relative` (the URL path below the served root, decoded) inside
    `folder` (a real path), or None: not there, not a file, hidden, leading out, another kind."""
    parts = relative.split("/")
    if not relative or len(parts) > MAX_DEPTH or not all(SEGMENT.match(part) for part in parts):
        return None
    if media_type(Path(parts[-1])) is None:
        return None
    real = inside(folder, folder.joinpath(*parts))
    if real is None or real == folder:
        return None
    if any(part.startswith(".") for part in real.relative_to(folder).parts):
        return None                           # a symlink to a hidden file inside FOLDER
    if media_type(real) != media_type(Path(parts[-1])) or not real.is_file():
        return None                           # a.mp3 -> notes.txt is not audio
    if real.suffix.lower() in SIDECAR_ONLY and not _beside_audio(folder, parts):
        return None
    return real


def _beside_audio(folder: Path, parts: list[str]) -> bool:
    stem = Path(parts[-1]).stem
    return any(served_file(folder, "/".join([*parts[:-1], stem + suffix])) is not None for suffix in AUDIO)
