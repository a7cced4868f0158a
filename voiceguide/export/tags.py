"""Tags and chapters: writing them for every format and reading them back.

How each container gets its chapters:
  mp3        ID3v2.3 CHAP frames plus a CTOC table of contents, written with mutagen after
             encoding (what podcast apps read);
  m4a / m4b  QuickTime chapters written by ffmpeg from an `-f ffmetadata` input at encode
             time (mutagen cannot write MP4 chapters);
  ogg, opus, flac  CHAPTERxxx / CHAPTERxxxNAME Vorbis comments (the Vorbis chapter
             extension), written with mutagen after encoding. ffmpeg 9 writes none for
             Vorbis and FLAC and places Opus ones about a second late, so we do it ourselves;
  wav        an ID3 chunk (mutagen) with the same CHAP/CTOC frames as mp3.

The language (a BCP 47 tag) goes in as ID3 TLAN (ISO 639-2, langcodes.py) plus TXXX:LANGUAGE
with the whole tag, so "de-AT" comes back as it went in; as a LANGUAGE Vorbis comment; and in
m4a/m4b as the freeform atom `----:com.apple.iTunes:LANGUAGE` (mutagen, after encoding: ffmpeg's
ipod muxer drops a `language` key), which is where Picard keeps it and ffmpeg reads it.
"""
from __future__ import annotations

import datetime
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..sound.ffmpeg import FFmpegError, ffmpeg_exe
from ..timeline import Timeline
from .langcodes import from_iso639_2, iso639_2

ALBUM = "voiceguide"


@dataclass(frozen=True)
class Chapter:
    title: str
    start: float   # seconds
    end: float


@dataclass(frozen=True)
class Tags:
    title: str
    description: str = ""
    album: str = ALBUM
    artist: str = ""
    date: str = field(default_factory=lambda: datetime.date.today().isoformat())
    language: str = ""       # BCP 47 ("de", "pt-BR"); empty: not said

    def fields(self) -> dict[str, str]:
        """Generic names (ffmpeg's) of the non-empty tags."""
        out = {"title": self.title, "album": self.album, "artist": self.artist, "date": self.date,
               "comment": self.description, "description": self.description, "language": self.language}
        return {k: v for k, v in out.items() if v}


def chapters_from_timeline(timeline: Timeline, end: float | None = None) -> list[Chapter]:
    """One chapter per section with any length. They tile [0, end]: the first starts at 0,
    the last runs to `end` (the program's length, which a sleep tail makes longer)."""
    end = timeline.total if end is None else end
    spans = [s for s in timeline.sections if s.duration > 1e-6]
    chapters = []
    for i, s in enumerate(spans):
        start = 0.0 if i == 0 else s.start
        stop = spans[i + 1].start if i + 1 < len(spans) else end
        chapters.append(Chapter(s.title, start, max(stop, start)))
    return chapters


# -- ffmetadata --------------------------------------------------------------------------

_ESCAPE = re.compile(r"([=;#\\\n])")


def _escape(text: str) -> str:
    return _ESCAPE.sub(r"\\\1", text)


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


def ffmetadata(tags: Tags | None, chapters: Sequence[Chapter] = ()) -> str:
    """The text of an ffmpeg metadata file (`-f ffmetadata`), times in milliseconds."""
    lines = [";FFMETADATA1"]
    if tags:
        lines += [f"{k}={_escape(v)}" for k, v in tags.fields().items()]
    for ch in chapters:
        lines += ["", "[CHAPTER]", "TIMEBASE=1/1000", f"START={_ms(ch.start)}",
                  f"END={_ms(ch.end)}", f"title={_escape(ch.title)}"]
    return "\n".join(lines) + "\n"


def parse_ffmetadata(text: str) -> tuple[dict[str, str], list[Chapter]]:
    """Global tags and chapters from ffmetadata text (as `ffmpeg -f ffmetadata -` prints)."""
    # Join escaped newlines, then split on unescaped ones.
    rows, buf, escaped = [], [], False
    for c in text:
        if escaped:
            buf.append(c)
            escaped = False
        elif c == "\\":
            buf.append(c)
            escaped = True
        elif c == "\n":
            rows.append("".join(buf))
            buf = []
        else:
            buf.append(c)
    rows.append("".join(buf))
    tags: dict[str, str] = {}
    chapters: list[dict[str, str]] = []
    section = "global"
    for row in rows:
        if not row or row.startswith((";", "#")):
            continue
        if row.startswith("[") and row.endswith("]"):
            section = row[1:-1].upper()
            if section == "CHAPTER":
                chapters.append({})
            continue
        key, _, value = _split_unescaped(row)
        value = re.sub(r"\\(.)", r"\1", value, flags=re.S)
        if section == "global":
            tags[key.lower()] = value
        elif section == "CHAPTER":
            chapters[-1][key.upper()] = value
    out = []
    for ch in chapters:
        num, _, den = ch.get("TIMEBASE", "1/1000").partition("/")
        scale = float(num) / float(den or 1)
        out.append(Chapter(ch.get("TITLE", ""), int(ch.get("START", 0)) * scale,
                           int(ch.get("END", 0)) * scale))
    return tags, out


def _split_unescaped(row: str) -> tuple[str, str, str]:
    i, n = 0, len(row)
    while i < n:
        if row[i] == "\\":
            i += 2
            continue
        if row[i] == "=":
            return row[:i], "=", row[i + 1:]
        i += 1
    return row, "", ""


def read_ffmetadata(path: str | Path) -> tuple[dict[str, str], list[Chapter]]:
    """Tags and chapters of any file, as ffmpeg's demuxer sees them."""
    proc = subprocess.run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error",
                           "-i", str(path), "-f", "ffmetadata", "-"],
                          capture_output=True)
    if proc.returncode != 0:
        raise FFmpegError(f"could not read {path}: {proc.stderr.decode(errors='replace')[-500:]}")
    return parse_ffmetadata(proc.stdout.decode("utf-8", "replace"))


# -- ID3 (mp3, wav) ----------------------------------------------------------------------

def id3_frames(tags: Tags | None, chapters: Sequence[Chapter]) -> list:
    from mutagen.id3 import CHAP, COMM, CTOC, TALB, TDRC, TIT2, TLAN, TPE1, TXXX, CTOCFlags

    frames = []
    if tags:
        frames.append(TIT2(encoding=3, text=[tags.title]))
        frames.append(TALB(encoding=3, text=[tags.album]))
        if tags.artist:
            frames.append(TPE1(encoding=3, text=[tags.artist]))
        if tags.date:
            frames.append(TDRC(encoding=3, text=[tags.date]))
        code = iso639_2(tags.language)
        if tags.description:        # "eng" also when the language is unknown (COMM must name one)
            frames.append(COMM(encoding=3, lang=code or "eng", desc="", text=[tags.description]))
        if tags.language:
            if code:
                frames.append(TLAN(encoding=3, text=[code]))
            frames.append(TXXX(encoding=3, desc="LANGUAGE", text=[tags.language]))
    if chapters:
        ids = [f"chp{i}" for i in range(len(chapters))]
        frames.append(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                           child_element_ids=ids, sub_frames=[TIT2(encoding=3, text=["Chapters"])]))
        for cid, ch in zip(ids, chapters):
            frames.append(CHAP(element_id=cid, start_time=_ms(ch.start), end_time=_ms(ch.end),
                               start_offset=0xFFFFFFFF, end_offset=0xFFFFFFFF,
                               sub_frames=[TIT2(encoding=3, text=[ch.title])]))
    return frames


def write_id3(path: str | Path, tags: Tags | None, chapters: Sequence[Chapter] = (),
              *, wav: bool = False) -> None:
    """Replace the ID3 tag of an mp3 (or the ID3 chunk of a wav) with ours."""
    frames = id3_frames(tags, chapters)
    if wav:
        from mutagen.wave import WAVE

        audio = WAVE(str(path))
        if audio.tags is None:
            audio.add_tags()
        id3 = audio.tags
    else:
        from mutagen.id3 import ID3

        id3 = ID3()
    id3.clear()
    for frame in frames:
        id3.add(frame)
    if wav:
        audio.save(v2_version=3)
    else:
        id3.save(str(path), v2_version=3, v1=0, padding=lambda info: 0)


def read_id3(path: str | Path, *, wav: bool = False) -> tuple[dict[str, str], list[Chapter]]:
    if wav:
        from mutagen.wave import WAVE

        id3 = WAVE(str(path)).tags
    else:
        from mutagen.id3 import ID3

        id3 = ID3(str(path))
    tags: dict[str, str] = {}
    if id3 is None:
        return tags, []
    names = {"TIT2": "title", "TALB": "album", "TPE1": "artist", "TDRC": "date", "TYER": "date"}
    for frame_id, name in names.items():
        frame = id3.get(frame_id)
        if frame is not None:
            tags[name] = str(frame.text[0])
    comments = id3.getall("COMM")
    if comments:
        tags["comment"] = str(comments[0].text[0])
    language, tlan = id3.get("TXXX:LANGUAGE"), id3.get("TLAN")     # the whole tag, else TLAN's
    if language is not None and language.text:
        tags["language"] = str(language.text[0])
    elif tlan is not None and tlan.text:
        tags["language"] = from_iso639_2(str(tlan.text[0]))
    chaps = {f.element_id: f for f in id3.getall("CHAP")}
    order = []
    for toc in id3.getall("CTOC"):
        order += [c for c in toc.child_element_ids if c in chaps]
    order += sorted((c for c in chaps if c not in order), key=lambda c: chaps[c].start_time)
    chapters = []
    for cid in order:
        f = chaps[cid]
        title = f.sub_frames.get("TIT2")
        chapters.append(Chapter(str(title.text[0]) if title else "", f.start_time / 1000, f.end_time / 1000))
    return tags, chapters


def write_mp4_language(path: str | Path, language: str) -> None:
    """Add the language to an m4a/m4b ffmpeg wrote (its other tags and chapters stay)."""
    from mutagen.mp4 import MP4, MP4FreeForm

    audio = MP4(str(path))
    if audio.tags is None:
        audio.add_tags()
    audio.tags["----:com.apple.iTunes:LANGUAGE"] = [MP4FreeForm(language.encode("utf-8"))]
    audio.save()


# -- Vorbis comments (ogg, opus, flac) -----------------------------------------------------

def vorbis_comments(tags: Tags | None, chapters: Sequence[Chapter]) -> list[tuple[str, str]]:
    out = []
    if tags:
        out += [(k.upper(), v) for k, v in tags.fields().items()]
    for i, ch in enumerate(chapters):
        out.append((f"CHAPTER{i:03d}", _clock(ch.start)))
        out.append((f"CHAPTER{i:03d}NAME", ch.title))
    return out


def _clock(seconds: float) -> str:
    ms = _ms(seconds)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _unclock(text: str) -> float:
    h, m, s = text.strip().split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def write_vorbis(path: str | Path, tags: Tags | None, chapters: Sequence[Chapter] = ()) -> None:
    """Replace the Vorbis comments of an ogg/opus/flac file with ours."""
    import mutagen

    audio = mutagen.File(str(path))
    if audio is None:
        raise ValueError(f"{path} is not an ogg, opus or flac file")
    if audio.tags is None:
        audio.add_tags()
    audio.tags.clear()
    for key, value in vorbis_comments(tags, chapters):
        audio.tags.append((key, value))
    audio.save()


def read_vorbis(path: str | Path) -> tuple[dict[str, str], list[Chapter]]:
    import mutagen

    audio = mutagen.File(str(path))
    comments = {k.lower(): v for k, v in (audio.tags or [])}
    starts, names = {}, {}
    for key, value in comments.items():
        m = re.fullmatch(r"chapter(\d{3})(name)?", key)
        if m:
            (names if m.group(2) else starts)[int(m.group(1))] = value
    order = sorted(starts)
    length = float(audio.info.length)
    chapters = []
    for i, n in enumerate(order):
        start = _unclock(starts[n])
        end = _unclock(starts[order[i + 1]]) if i + 1 < len(order) else length
        chapters.append(Chapter(names.get(n, ""), start, end))
    tags = {k: v for k, v in comments.items() if not k.startswith("chapter") and k != "encoder"}
    return tags, chapters


def read_tags_and_chapters(path: str | Path) -> tuple[dict[str, str], list[Chapter]]:
    """Tags (lower-case generic names) and chapters of an exported file, for tests and
    checks: ID3 for mp3/wav, Vorbis comments for ogg/opus/flac, ffmpeg's view for mp4."""
    suffix = Path(path).suffix.lower()
    if suffix == ".mp3":
        return read_id3(path)
    if suffix == ".wav":
        return read_id3(path, wav=True)
    if suffix in (".ogg", ".oga", ".opus", ".flac"):
        return read_vorbis(path)
    tags, chapters = read_ffmetadata(path)
    tags = {k: v for k, v in tags.items()
            if k not in ("encoder", "major_brand", "minor_version", "compatible_brands")}
    return tags, chapters


def read_chapters(path: str | Path) -> list[Chapter]:
    return read_tags_and_chapters(path)[1]
