"""Transcript sidecars (WebVTT, SRT, plain text) and the timeline JSON, from the Timeline.

Cues come straight from the timeline, which is what the audio was mixed from, so captions
line up with the words: one cue per spoken sentence, and one per breathing cue (shown for
the whole inhale or exhale it announces).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from ..script.durations import format_duration
from ..script.model import Breathe, Hold, Wait
from ..script.phrases import phrases
from ..timeline import Timeline
from .atomic import check_writable, write_text

SIDECARS = ("vtt", "srt", "txt", "json")


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str
    section: int


def cues(timeline: Timeline) -> list[Cue]:
    out = []
    for e in timeline.events:
        if e.kind == "say" and e.text.strip():
            out.append(Cue(e.start, e.end, e.text.strip(), e.section))
        elif e.kind == "breathe" and isinstance(e.step, Breathe):
            b = e.step
            for i in range(b.count):
                t = e.start + i * (b.inhale + b.exhale)
                out.append(Cue(t, t + b.inhale, timeline.cues[0], e.section))
                out.append(Cue(t + b.inhale, t + b.inhale + b.exhale, timeline.cues[1], e.section))
    return out


def timestamp(seconds: float, sep: str = ".") -> str:
    ms = max(0, int(round(seconds * 1000)))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _vtt_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _note(text: str) -> str:
    # A NOTE may not contain "-->" or a blank line.
    return " ".join(text.replace("-->", "->").split())


def vtt(timeline: Timeline) -> str:
    parts = ["WEBVTT", f"NOTE {_note(timeline.title)}"]
    section = None
    for c in cues(timeline):
        if c.section != section:
            section = c.section
            parts.append(f"NOTE Section: {_note(timeline.sections[section].title)}")
        parts.append(f"{timestamp(c.start)} --> {timestamp(c.end)}\n{_vtt_text(c.text)}")
    return "\n\n".join(parts) + "\n"


def srt(timeline: Timeline) -> str:
    parts = [f"{i}\n{timestamp(c.start, ',')} --> {timestamp(c.end, ',')}\n{c.text}"
             for i, c in enumerate(cues(timeline), 1)]
    return "\n\n".join(parts) + "\n" if parts else ""


def txt(timeline: Timeline, markers: bool = True) -> str:
    """The script as heard: a paragraph per line, a blank line between sections, and (with
    `markers`) holds, chimes and breathing in parentheses."""
    lines: list[str] = [timeline.title, ""]
    words = phrases(timeline.language)     # the markers in the routine's language
    section, paragraph, step = None, [], None

    def flush() -> None:
        if paragraph:
            lines.append(" ".join(paragraph))
            paragraph.clear()

    for e in timeline.events:
        if e.section != section:
            flush()
            if section is not None and lines[-1] != "":
                lines.append("")
            section = e.section
        if e.kind == "say" and e.text.strip():
            if e.step is not step:
                flush()
            step = e.step
            paragraph.append(e.text.strip())
            continue
        if e.kind == "pause":
            continue
        flush()
        step = None
        if not markers:
            continue
        if e.kind in ("hold", "wait"):
            lines.append(f"({words['marker_' + e.kind]} {format_duration(e.duration)})")
        elif e.kind == "chime" and not isinstance(e.step, (Hold, Wait)):
            lines.append(f"({words['marker_chime']})")
        elif e.kind == "breathe" and isinstance(e.step, Breathe):
            b = e.step
            lines.append(f"({words['marker_breaths'].format(n=b.count)}: {timeline.cues[0]} {format_duration(b.inhale)}, "
                         f"{timeline.cues[1]} {format_duration(b.exhale)})")
    flush()
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def timeline_json(timeline: Timeline) -> str:
    return json.dumps(timeline.to_json(), indent=2, ensure_ascii=False) + "\n"


def write_vtt(timeline: Timeline, path, *, force: bool = False) -> Path:
    return write_text(path, vtt(timeline), force=force)


def write_srt(timeline: Timeline, path, *, force: bool = False) -> Path:
    return write_text(path, srt(timeline), force=force)


def write_txt(timeline: Timeline, path, *, force: bool = False) -> Path:
    return write_text(path, txt(timeline), force=force)


def write_json(timeline: Timeline, path, *, force: bool = False) -> Path:
    return write_text(path, timeline_json(timeline), force=force)


WRITERS = {"vtt": write_vtt, "srt": write_srt, "txt": write_txt, "json": write_json}


def sidecar_paths(audio_path: str | Path, kinds: Iterable[str]) -> dict[str, Path]:
    audio_path = Path(audio_path)
    out = {}
    for kind in kinds:
        if kind not in WRITERS:
            raise ValueError(f"unknown sidecar '{kind}': use {', '.join(SIDECARS)}")
        out[kind] = audio_path.with_suffix(f".{kind}") if kind != "json" else \
            audio_path.with_name(audio_path.stem + ".timeline.json")
    return out


def write_sidecars(timeline: Timeline, audio_path: str | Path, kinds: Sequence[str] = SIDECARS,
                   *, force: bool = False) -> list[Path]:
    """Write `kinds` next to `audio_path` (session.vtt, session.srt, session.txt,
    session.timeline.json). All targets are checked before any is written."""
    paths = sidecar_paths(audio_path, kinds)
    for p in paths.values():
        check_writable(p, force)
    return [WRITERS[k](timeline, p, force=force) for k, p in paths.items()]
