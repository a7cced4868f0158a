"""Past renders in FOLDER: the audio files, their chapters (read back from the file) and their
transcript cues (from the WebVTT file beside them), for the page's player."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from .jobs import file_url
from .security import inside

AUDIO_SUFFIXES = (".mp3", ".m4a", ".m4b", ".ogg", ".opus", ".flac", ".wav")
SERVED_SUFFIXES = (*AUDIO_SUFFIXES, ".vtt")
_TIME = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")


def duration(path: Path) -> float | None:
    """The audio's length from its header (mutagen), or None if it cannot be read."""
    try:
        import mutagen
        info = mutagen.File(str(path))
        seconds = float(info.info.length) if info is not None and info.info is not None else None
    except Exception:                     # a broken or foreign file: no length, still listed
        return None
    return round(seconds, 3) if seconds is not None and seconds > 0 else None


def transcript_of(path: Path) -> Path | None:
    vtt = path.with_suffix(".vtt")
    return vtt if vtt.is_file() and inside(path.parent, vtt) is not None else None


def listing(folder: Path) -> list[dict[str, Any]]:
    """The audio files directly in `folder` (not hidden, not leading out of it), newest first."""
    found = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        if entry.name.startswith(".") or not entry.name.lower().endswith(AUDIO_SUFFIXES):
            continue
        real = inside(folder, Path(entry.path))
        if real is None or not real.is_file():
            continue
        info = real.stat()
        transcript = transcript_of(Path(entry.path))
        found.append({"file": entry.name, "size": info.st_size, "modified": round(info.st_mtime, 3),
                      "duration": duration(real), "transcript": transcript.name if transcript else None,
                      "url": file_url(entry.name)})
    found.sort(key=lambda r: (-r["modified"], r["file"]))
    return found


def seconds(stamp: str) -> float:
    match = _TIME.match(stamp.strip())
    if match is None:
        raise ValueError(f"not a WebVTT time: {stamp!r}")
    hours, minutes, secs = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + float(secs)


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def parse_vtt(text: str) -> list[dict[str, Any]]:
    """The cues of a WebVTT file: start, end (seconds) and text; NOTE blocks and anything
    unreadable are skipped."""
    cues = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [line for line in block.split("\n") if line.strip()]
        at = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if at is None or lines[0].startswith(("NOTE", "WEBVTT", "STYLE", "REGION")) and at != 0:
            continue
        start, _, rest = lines[at].partition("-->")
        try:
            begin, end = seconds(start), seconds(rest.split()[0] if rest.split() else "")
        except ValueError:
            continue
        cues.append({"start": round(begin, 3), "end": round(end, 3), "text": _unescape("\n".join(lines[at + 1:]))})
    return cues


def info(folder: Path, name: str, real: Path) -> dict[str, Any]:
    """One render: its length, chapters read back from the file, cues from its transcript."""
    from ..export.tags import read_chapters
    try:
        chapters = [{"title": c.title, "start": round(c.start, 3), "end": round(c.end, 3)}
                    for c in read_chapters(real)]
    except Exception:                     # no chapters readable: still playable
        chapters = []
    transcript = transcript_of(folder / name)
    cues = []
    if transcript is not None:
        try:
            cues = parse_vtt(transcript.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            cues = []
    return {"file": name, "url": file_url(name), "duration": duration(real), "chapters": chapters,
            "cues": cues, "transcript": transcript.name if transcript else None}
