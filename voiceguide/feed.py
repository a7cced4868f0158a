"""A podcast feed of the audio files in a folder, so a phone's podcast app can subscribe.

RSS 2.0 with the iTunes and Podcasting 2.0 namespaces, one item per audio file: an enclosure
with the file's exact byte length and MIME type, `itunes:duration`, the cover, and, when the
files are there, `podcast:chapters` (NAME.chapters.json) and `podcast:transcript` (NAME.vtt,
.srt, .txt). Everything in the feed comes from the files: titles and chapters from their tags,
dates from their modification times, so writing it twice gives the same bytes. The channel's
`<language>` is the one most episodes' language tags name (RSS 2.0 has one per channel).

    write_feed(folder)                     FOLDER/feed.xml and the sidecars it links (atomic)
    feed_xml(folder, base_url)             the XML only, never writing (serve builds it per request)

Podcast apps need absolute URLs, hence a base URL: `--base-url`, else the one the folder's
feed.xml already has, else http://127.0.0.1:8766/ (`voiceguide serve` replaces it with its
own). A guid comes from the file's name alone, so it survives re-rendering, a new base URL and
a serve token: an app never sees one session twice.
"""
from __future__ import annotations

import email.utils
import json
import re
import unicodedata
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote, urlsplit

from .errors import VoiceguideError
from .export.atomic import atomic_output, writing
from .export.tags import Chapter, read_tags_and_chapters
from .script.phrases import ENGLISH, PhraseFileError, Phrases, phrases
from .settings import language_tag

FEED_NAME = "feed.xml"
FEED_IMAGE = "feed.png"
DEFAULT_BASE_URL = "http://127.0.0.1:8766/"
CHAPTERS_TYPE = "application/json+chapters"
CHAPTERS_VERSION = "1.2.0"
AUDIO_TYPES = {".mp3": "audio/mpeg", ".m4a": "audio/x-m4a", ".m4b": "audio/mp4", ".ogg": "audio/ogg",
               ".oga": "audio/ogg", ".opus": "audio/ogg", ".flac": "audio/flac", ".wav": "audio/wav"}
"""Extension -> the enclosure's MIME type (Apple's names where it has one)."""
TRANSCRIPT_TYPES = {".txt": "text/plain", ".srt": "application/x-subrip", ".vtt": "text/vtt"}
"""Transcript sidecars a render writes (bedtime.vtt), linked in this order when present: WebVTT,
the one the namespace recommends, last, since readers that keep one (feedparser) keep the last."""
NO_LANGUAGE = ("und", "mul", "zxx", "mis")
"""ISO 639-2 codes that are shaped like a language tag but name none a podcast app could show."""
CATEGORY = "Health & Fitness"
NS = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
      "podcast": "https://podcastindex.org/namespace/1.0",
      "atom": "http://www.w3.org/2005/Atom"}
GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://voiceguide.invalid/episode")
"""Episode guids are uuid5(this, file name): stable, and nothing about the host in them."""

for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)


@dataclass(frozen=True)
class Episode:
    """One audio file as the feed shows it."""

    path: Path
    title: str
    description: str
    artist: str
    size: int                 # bytes
    mtime: float              # seconds since the epoch
    duration: float           # seconds
    mime: str
    chapters: tuple[Chapter, ...]
    language: str = ""        # BCP 47, from the file's tags; "" if it says none

    @property
    def guid(self) -> str:
        return episode_guid(self.path.name)


@dataclass
class FeedResult:
    """What write_feed wrote, and the files it left out (each with why)."""

    path: Path
    episodes: list[Episode]
    written: list[Path] = field(default_factory=list)    # sidecars created or changed
    skipped: list[str] = field(default_factory=list)


def episode_guid(file_name: str) -> str:
    return str(uuid.uuid5(GUID_NAMESPACE, unicodedata.normalize("NFC", file_name)))


def chapters_path(audio: Path) -> Path:
    return audio.with_name(audio.stem + ".chapters.json")


def cover_path(audio: Path) -> Path:
    """NAME.cover.png: not NAME.png, which is where `render --png` draws the session."""
    return audio.with_name(audio.stem + ".cover.png")


def normal_base_url(base_url: str) -> str:
    """An absolute http(s) URL ending in "/" (apps resolve nothing relative), or one line why not."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise VoiceguideError(f"{base_url}: the base URL must be an absolute http:// or https:// URL")
    if parts.query or parts.fragment:
        raise VoiceguideError(f"{base_url}: the base URL may not have a query (?) or fragment (#)")
    url = base_url.strip()
    return url if url.endswith("/") else url + "/"


def audio_files(folder: Path) -> list[Path]:
    """The audio files directly in `folder`: not hidden (temporary files are), and not links
    to files outside it (`serve` would refuse them)."""
    inside = folder.resolve()
    return sorted(p for p in folder.iterdir()
                  if p.suffix.lower() in AUDIO_TYPES and not p.name.startswith(".") and p.is_file()
                  and p.resolve().is_relative_to(inside))


def read_episode(path: Path) -> Episode:
    """An episode from the file itself: tags, chapters, length, size and time."""
    import mutagen

    tags, chapters = read_tags_and_chapters(path)
    audio = mutagen.File(str(path))
    if audio is None or not getattr(audio.info, "length", 0):
        raise ValueError("not an audio file mutagen can read")
    info = path.stat()
    return Episode(path, tags.get("title") or path.stem, tags.get("comment") or tags.get("description") or "",
                   tags.get("artist", ""), info.st_size, info.st_mtime, float(audio.info.length),
                   AUDIO_TYPES[path.suffix.lower()], tuple(chapters), episode_language(tags.get("language", "")))


def scan(folder: str | Path) -> tuple[list[Episode], list[str]]:
    """Every readable audio file in `folder`, newest first (then by name); the unreadable
    ones as "NAME: why" lines."""
    folder = _folder(folder)
    episodes, skipped = [], []
    for path in audio_files(folder):
        try:
            episodes.append(read_episode(path))
        except Exception as exc:   # a broken or foreign file must not take the feed down
            why = (str(exc).splitlines() or [type(exc).__name__])[0]
            skipped.append(f"{path.name}: left out of the feed ({why})")
    episodes.sort(key=lambda e: (-int(e.mtime), e.path.name))
    return episodes, skipped


def chapters_json(episode: Episode) -> str:
    """The Podcasting 2.0 JSON chapters file of one episode (its chapters as embedded)."""
    document = {"version": CHAPTERS_VERSION, "title": episode.title, "fileName": episode.path.name,
                "chapters": [{"startTime": round(c.start, 3), "endTime": round(c.end, 3), "title": c.title}
                             for c in episode.chapters]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _folder(folder: str | Path) -> Path:
    folder = Path(folder)
    if not folder.exists():
        raise VoiceguideError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise VoiceguideError(f"{folder}: is not a folder")
    return folder


@dataclass(frozen=True)
class Channel:
    title: str
    author: str
    base_url: str


def channel(folder: Path, base_url: str | None = None, title: str | None = None,
            author: str | None = None) -> Channel:
    """What was given, else what the folder's feed.xml says, else the defaults (the folder's name)."""
    previous = _previous(folder / FEED_NAME)
    name = folder.resolve().name or "voiceguide"
    return Channel(title=title or previous.get("title") or name,
                   author=author if author is not None else previous.get("author", ""),
                   base_url=normal_base_url(base_url or previous.get("base_url") or DEFAULT_BASE_URL))


def _previous(path: Path) -> dict[str, str]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return {}
    found = {"title": root.findtext("channel/title"),
             "author": root.findtext("channel/itunes:author", namespaces=NS)}
    self_link = root.find("channel/atom:link[@rel='self']", NS)
    href = self_link.get("href", "") if self_link is not None else ""
    if href.endswith("/" + FEED_NAME):
        found["base_url"] = href[:-len(FEED_NAME)]
    return {k: v.strip() for k, v in found.items() if v and v.strip()}


def episode_language(tagged: str) -> str:
    """A file's language tag as a feed's `<language>`: a BCP 47 tag, else "" (free text such as
    "German", or a code that names no language: undetermined, multiple, none, uncoded)."""
    tag = language_tag(tagged)
    return "" if tag in NO_LANGUAGE else tag


def feed_language(episodes: list[Episode]) -> str:
    """The language most episodes are tagged with (ties: the newest episode's), "" if none is."""
    newest_first = sorted(episodes, key=lambda e: -e.mtime)
    count: dict[str, int] = {}
    for e in newest_first:
        if e.language:
            count[e.language] = count.get(e.language, 0) + 1
    most = max(count.values(), default=0)
    return next((e.language for e in newest_first if e.language and count[e.language] == most), "")


def _words(language: str) -> Phrases:
    """The phrase table of the channel's language (English when it has none, or a broken one:
    a feed is no place to stop for it)."""
    try:
        return phrases(language) if language else ENGLISH
    except PhraseFileError:
        return ENGLISH


def _rfc2822(mtime: float) -> str:
    return email.utils.format_datetime(datetime.fromtimestamp(int(mtime), timezone.utc))


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""Characters XML 1.0 cannot carry (a tag may hold them); ElementTree would write them as they are."""


def _sub(parent: ET.Element, tag: str, content: str | None = None, **attributes: str) -> ET.Element:
    prefix, _, local = tag.rpartition(":")
    attributes = {k: _NOT_XML.sub("", v) for k, v in attributes.items()}
    element = ET.SubElement(parent, f"{{{NS[prefix]}}}{local}" if prefix else local, attributes)
    if content is not None:
        element.text = _NOT_XML.sub("", content)
    return element


def _titles(episodes: list[Episode]) -> dict[Path, str]:
    """Each episode's title; titles two files share get the file's name (variants of one routine)."""
    count: dict[str, int] = {}
    for e in episodes:
        count[e.title] = count.get(e.title, 0) + 1
    return {e.path: e.title if count[e.title] == 1 else f"{e.title} ({e.path.stem})" for e in episodes}


def _item(channel_element: ET.Element, episode: Episode, title: str, feed: Channel) -> None:
    url = lambda p: feed.base_url + quote(p.name)    # noqa: E731
    item = _sub(channel_element, "item")
    _sub(item, "title", title)
    _sub(item, "itunes:title", title)
    if episode.description:
        _sub(item, "description", episode.description)
    _sub(item, "guid", episode.guid, isPermaLink="false")
    _sub(item, "pubDate", _rfc2822(episode.mtime))
    _sub(item, "enclosure", url=url(episode.path), length=str(episode.size), type=episode.mime)
    _sub(item, "itunes:duration", str(int(round(episode.duration))))
    if episode.artist or feed.author:
        _sub(item, "itunes:author", episode.artist or feed.author)
    _sub(item, "itunes:episodeType", "full")
    _sub(item, "itunes:explicit", "false")
    if cover_path(episode.path).is_file():
        _sub(item, "itunes:image", href=url(cover_path(episode.path)))
    if chapters_path(episode.path).is_file():
        _sub(item, "podcast:chapters", url=url(chapters_path(episode.path)), type=CHAPTERS_TYPE)
    for suffix, mime in TRANSCRIPT_TYPES.items():
        transcript = episode.path.with_suffix(suffix)
        if transcript.is_file():
            attributes = {"rel": "captions"} if suffix != ".txt" else {}
            if episode.language:        # the episode's own, as Podcasting 2.0 lets a transcript say
                attributes["language"] = episode.language
            _sub(item, "podcast:transcript", url=url(transcript), type=mime, **attributes)


def render_xml(folder: Path, episodes: list[Episode], feed: Channel) -> bytes:
    """The feed document for `episodes` (already scanned); links only sidecars that exist."""
    from . import __version__

    rss = ET.Element("rss", {"version": "2.0"})
    ch = _sub(rss, "channel")
    _sub(ch, "title", feed.title)
    _sub(ch, "link", feed.base_url)
    language = feed_language(episodes)
    description = _words(language)["feed_description"].format(title=feed.title)
    _sub(ch, "description", description)
    if language:
        _sub(ch, "language", language)
    _sub(ch, "atom:link", href=feed.base_url + FEED_NAME, rel="self", type="application/rss+xml")
    _sub(ch, "generator", f"voiceguide {__version__}")
    if episodes:
        _sub(ch, "lastBuildDate", _rfc2822(max(e.mtime for e in episodes)))
    if feed.author:
        _sub(ch, "itunes:author", feed.author)
    _sub(ch, "itunes:summary", description)
    _sub(ch, "itunes:type", "episodic")
    _sub(ch, "itunes:explicit", "false")
    _sub(ch, "itunes:category", text=CATEGORY)
    if (folder / FEED_IMAGE).is_file():
        image_url = feed.base_url + FEED_IMAGE
        _sub(ch, "itunes:image", href=image_url)
        image = _sub(ch, "image")
        _sub(image, "url", image_url)
        _sub(image, "title", feed.title)
        _sub(image, "link", feed.base_url)
    titles = _titles(episodes)
    for episode in episodes:
        _item(ch, episode, titles[episode.path], feed)
    ET.indent(rss, space="  ")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(rss, encoding="unicode").encode("utf-8") + b"\n"


def feed_xml(folder: str | Path, base_url: str, title: str | None = None, author: str | None = None) -> bytes:
    """The feed of `folder` with URLs under `base_url`, built from the files as they are now.
    Writes nothing (for `serve`, which builds it per request with its own URL); links the
    chapters, transcripts and covers that exist (write_feed writes the missing ones)."""
    folder = _folder(folder)
    episodes, _ = scan(folder)
    return render_xml(folder, episodes, channel(folder, base_url, title, author))


def _write_if_changed(path: Path, data: bytes) -> bool:
    """Write `data` to `path` atomically unless it holds exactly that already."""
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    with atomic_output(path, force=True) as tmp, writing(path):
        tmp.write_bytes(data)
    return True


def _png(data: bytes) -> bytes:
    """A picture as PNG bytes (a user's cover may be a JPEG; the sidecar is NAME.cover.png)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return data
    import io

    from PIL import Image

    out = io.BytesIO()
    with Image.open(io.BytesIO(data)) as image:
        image.convert("RGB").save(out, "PNG")
    return out.getvalue()


def episode_cover(audio: Path, title: str) -> bytes:
    """The episode's picture: the one embedded in the file, else the one a render draws for it
    (bedtime.mp3 is coloured as the routine "bedtime" is)."""
    from .export.artwork import read_picture
    from .export.cover import cover_png

    try:
        picture = read_picture(audio)
        return _png(picture) if picture else cover_png(title, audio.stem)
    except Exception:      # a picture that does not decode: draw one instead
        return cover_png(title, audio.stem)


def write_sidecars(folder: Path, episodes: list[Episode], feed: Channel) -> list[Path]:
    """The files the feed links that come from the audio itself: each episode's chapters JSON
    and cover, and the feed's picture (drawn from its title). Only new or changed ones are written."""
    from .export.cover import cover_png

    wanted = {folder / FEED_IMAGE: cover_png(feed.title)}
    for episode in episodes:
        wanted[chapters_path(episode.path)] = chapters_json(episode).encode("utf-8")
        wanted[cover_path(episode.path)] = episode_cover(episode.path, episode.title)
    return [path for path, data in wanted.items() if _write_if_changed(path, data)]


def write_feed(folder: str | Path, base_url: str | None = None, title: str | None = None,
               author: str | None = None) -> FeedResult:
    """Write FOLDER/feed.xml (atomically) with the sidecars it links. Title, author and base
    URL not given are kept from the folder's previous feed. A folder without audio is an error."""
    folder = _folder(folder)
    feed = channel(folder, base_url, title, author)
    episodes, skipped = scan(folder)
    if not episodes:
        kinds = ", ".join(sorted({s.lstrip(".") for s in AUDIO_TYPES}))
        raise VoiceguideError(f"{folder}: no audio files ({kinds}) to put in a feed")
    written = write_sidecars(folder, episodes, feed)
    path = folder / FEED_NAME
    if _write_if_changed(path, render_xml(folder, episodes, feed)):
        written.append(path)
    return FeedResult(path, episodes, written, skipped)
