"""A player in one file: `OUT.html` beside `OUT.mp3`, a page that plays the session offline.

The page must work when opened from `file://` on a phone or a laptop, with no network: so it
holds everything but the audio itself. The audio is named by a relative URL (the page lives
beside it); chapters and transcript cues are inline JSON, the artwork an inline `data:` URL,
the style and script inline. Nothing is fetched from anywhere else.

It plays and pauses, lists the chapters (click to seek), highlights the transcript as it
plays, and tells the Media Session API the title, artwork and how to move between chapters,
so a phone's lock screen shows the session and its next/previous buttons skip by chapter.
"""
from __future__ import annotations

import base64
import html
import io
import json
import re
from importlib import resources
from pathlib import Path
from typing import Sequence
from urllib.parse import quote

from ..script.phrases import phrases
from ..timeline import Timeline
from .atomic import write_text
from .sidecars import cues
from .tags import ALBUM, Chapter

ARTWORK_SIZE = 512
"""Pixels a side of the page's artwork: what lock screens show, and a page a tenth the size
of one carrying the 1400-pixel podcast cover."""

LABELS = ("player", "previous_chapter", "play", "next_chapter", "position", "chapters", "transcript")
"""The page's words, from the routine's phrase table (script/phrases.py), as {{L_KEY}} slots."""
_SLOT = re.compile(r"\{\{([A-Z_]+)\}\}")


def player_path(audio_path: str | Path) -> Path:
    """Where the page for `audio_path` goes: bedtime.mp3 -> bedtime.html."""
    return Path(audio_path).with_suffix(".html")


def artwork(picture: bytes, size: int = ARTWORK_SIZE) -> dict[str, str]:
    """The Media Session artwork entry for a picture (PNG or JPEG bytes): scaled down to
    `size` and inlined as a data: URL, so the page stays one offline file."""
    from PIL import Image
    with Image.open(io.BytesIO(picture)) as image:
        image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
        if max(image.size) > size:
            image.thumbnail((size, size), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        image.save(out, "PNG", optimize=True)
        width, height = image.size
    encoded = base64.b64encode(out.getvalue()).decode("ascii")
    return {"src": f"data:image/png;base64,{encoded}", "sizes": f"{width}x{height}", "type": "image/png"}


def _chapter_of(start: float, chapters: Sequence[Chapter]) -> int:
    found = 0
    for i, chapter in enumerate(chapters):
        if chapter.start <= start + 1e-6:
            found = i
    return found


def player_data(timeline: Timeline, audio_name: str, chapters: Sequence[Chapter], *, duration: float,
                description: str = "", picture: bytes | None = None) -> dict:
    """Everything the page shows, as the JSON it carries: times in seconds, each cue with the
    index of the chapter it is heard in (the page groups the transcript by chapter)."""
    words = phrases(timeline.language)
    return {
        "title": timeline.title,
        "description": description,
        "artist": ALBUM,
        "audio": audio_name,
        "duration": round(duration, 3),
        "chapters": [{"title": c.title, "start": round(c.start, 3), "end": round(c.end, 3)}
                     for c in chapters],
        "cues": [{"start": round(c.start, 3), "end": round(c.end, 3), "text": c.text,
                  "chapter": _chapter_of(c.start, chapters)} for c in cues(timeline)],
        "artwork": artwork(picture) if picture else None,
        "labels": {key: words[key] for key in ("play", "pause")},     # the play button's, as it turns
    }


def _inline_json(data: dict) -> str:
    """JSON safe inside a <script> element: no `</script>`, no `<!--`, whatever the titles say."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") \
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def player_html(timeline: Timeline, audio_name: str, chapters: Sequence[Chapter], *, duration: float,
                description: str = "", picture: bytes | None = None) -> str:
    """The page for the audio file `audio_name` (a name in the page's own folder)."""
    data = player_data(timeline, audio_name, chapters, duration=duration, description=description,
                       picture=picture)
    slots = {
        "LANG": html.escape(timeline.language or "en"),      # what a screen reader reads it as
        "TITLE": html.escape(timeline.title),
        "DESCRIPTION": html.escape(description),
        "AUDIO_SRC": html.escape(quote(audio_name, safe="")),
        "DATA": _inline_json(data),
    }
    words = phrases(timeline.language)          # the labels in the routine's language
    slots.update({f"L_{key.upper()}": html.escape(words[key]) for key in LABELS})
    template = resources.files(__package__).joinpath("player_template.html").read_text(encoding="utf-8")
    return _SLOT.sub(lambda m: slots[m.group(1)], template)     # one pass: inserted text is never re-read


def write_player(timeline: Timeline, audio_path: str | Path, chapters: Sequence[Chapter], *,
                 duration: float, description: str = "", picture: bytes | None = None,
                 force: bool = False) -> Path:
    """Write the page beside `audio_path` (atomically, as every output) and return its path."""
    audio_path = Path(audio_path)
    page = player_html(timeline, audio_path.name, chapters, duration=duration, description=description,
                       picture=picture)
    return write_text(player_path(audio_path), page, force=force)
