"""The podcast feed: parsed with feedparser, every field checked against the files it describes
(byte length, MIME type, duration decoded by ffmpeg, dates from mtimes, chapters as embedded,
transcripts and covers that exist), guids stable, writes atomic; then `render --feed` and
`batch --feed` for real."""
from __future__ import annotations

import calendar
import errno
import io
import json
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote

import feedparser
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from voiceguide import feed as feeds
from voiceguide.cli import main
from voiceguide.export.artwork import embed_picture, read_picture
from voiceguide.export.atomic import OutputWriteError
from voiceguide.export.encode import decoded_frames, encode
from voiceguide.export.tags import Chapter, Tags, read_chapters
from conftest import quiet_routine

SR = 22050
BASE = "http://192.168.1.20:8766/sleep/"
EPOCH = 1_700_000_000          # the files' times, an hour apart
EXPECTED_MIME = {"mp3": "audio/mpeg", "m4a": "audio/x-m4a", "m4b": "audio/mp4", "ogg": "audio/ogg",
                 "opus": "audio/ogg", "flac": "audio/flac", "wav": "audio/wav"}
SECONDS = dict(zip(EXPECTED_MIME, (3.2, 3.7, 4.2, 4.8, 5.3, 5.8, 6.2)))   # none near a half second
CHAPTERS = [("Arrive", 0.0), ("Breathe & rest", 1.25), ("Close <slowly>", 2.5)]
NS = feeds.NS


def tone(seconds: float):
    t = np.arange(int(seconds * SR)) / SR
    x = (0.1 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)[:, None]
    for i in range(0, len(x), 4096):
        yield x[i:i + 4096]


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """One short file per format, tagged, with three chapters (no picture embedded)."""
    folder = tmp_path_factory.mktemp("made")
    for ext, seconds in SECONDS.items():
        chapters = [Chapter(title, start, CHAPTERS[i + 1][1] if i + 1 < len(CHAPTERS) else seconds)
                    for i, (title, start) in enumerate(CHAPTERS)]
        encode(tone(seconds), folder / f"{ext}-session.{ext}", sample_rate=SR, channels=1,
               tags=Tags(title=f"Session in {ext}", description=f"About {ext} & more", artist="Sam"),
               chapters=chapters)
    return folder


@pytest.fixture
def folder(made, tmp_path) -> Path:
    """A copy of the files, each an hour newer than the one before (sorted by name)."""
    out = tmp_path / "phone"
    shutil.copytree(made, out)
    for i, path in enumerate(sorted(out.iterdir())):
        os.utime(path, (EPOCH + 3600 * i, EPOCH + 3600 * i))
    return out


def local(url: str, folder: Path) -> Path:
    """The file a feed URL points at (every URL must lie under the base URL)."""
    assert url.startswith(BASE), url
    return folder / unquote(url[len(BASE):])


def parse(folder: Path) -> feedparser.FeedParserDict:
    parsed = feedparser.parse((folder / "feed.xml").read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def test_every_field_matches_the_files(folder):
    (folder / "mp3-session.vtt").write_text("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nArrive.\n")
    (folder / "mp3-session.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nArrive.\n")
    result = feeds.write_feed(folder, base_url=BASE, title="Sleep well", author="Sam Example")
    assert result.skipped == [] and len(result.episodes) == len(EXPECTED_MIME)
    parsed = parse(folder)
    channel = parsed.feed
    assert channel.title == "Sleep well" and channel.link == BASE and channel.author == "Sam Example"
    picture = local(channel.image.href, folder)
    with Image.open(picture) as image:
        assert image.size == (1400, 1400)
    audio = sorted(p for p in folder.iterdir() if p.suffix.lstrip(".") in EXPECTED_MIME)
    newest_first = sorted(audio, key=lambda p: -p.stat().st_mtime)
    assert [local(e.enclosures[0].href, folder) for e in parsed.entries] == newest_first
    for entry in parsed.entries:
        [enclosure] = entry.enclosures
        path = local(enclosure.href, folder)
        ext = path.suffix.lstrip(".")
        assert int(enclosure.length) == path.stat().st_size == len(path.read_bytes())
        assert enclosure.type == EXPECTED_MIME[ext]
        assert entry.title == f"Session in {ext}" and entry.summary == f"About {ext} & more"
        assert entry.author == "Sam"
        assert calendar.timegm(entry.published_parsed) == int(path.stat().st_mtime)
        frames, rate = decoded_frames(path)
        assert abs(int(entry.itunes_duration) - frames / rate) <= 0.55, (ext, entry.itunes_duration, frames / rate)
        assert not entry.guidislink and entry.id
        chapters_url = entry.podcast_chapters
        assert chapters_url["type"] == "application/json+chapters"
        document = json.loads(local(chapters_url["url"], folder).read_text(encoding="utf-8"))
        assert document["version"] == "1.2.0" and document["fileName"] == path.name
        embedded = read_chapters(path)
        assert [c["title"] for c in document["chapters"]] == [c.title for c in embedded] == [t for t, _ in CHAPTERS]
        for written, inside, (_, start) in zip(document["chapters"], embedded, CHAPTERS):
            assert abs(written["startTime"] - inside.start) < 0.001 and abs(written["startTime"] - start) < 0.002
            assert abs(written["endTime"] - inside.end) < 0.001
        with Image.open(local(entry.image.href, folder)) as cover:
            assert cover.size == (1400, 1400)
    assert len({e.id for e in parsed.entries}) == len(parsed.entries)


def transcripts(folder: Path) -> dict[str, list[dict[str, str]]]:
    """Each item's podcast:transcript elements (feedparser keeps only one of them)."""
    root = ET.parse(folder / "feed.xml").getroot()
    return {item.findtext("title"): [dict(t.attrib) for t in item.findall("podcast:transcript", NS)]
            for item in root.iter("item")}


def test_transcripts_that_exist_are_linked_and_others_are_not(folder):
    (folder / "mp3-session.vtt").write_text("WEBVTT\n")
    (folder / "mp3-session.srt").write_text("")
    feeds.write_feed(folder, base_url=BASE)
    found = transcripts(folder)
    assert found["Session in mp3"] == [
        {"url": BASE + "mp3-session.srt", "type": "application/x-subrip", "rel": "captions"},
        {"url": BASE + "mp3-session.vtt", "type": "text/vtt", "rel": "captions"}]
    assert all(links == [] for title, links in found.items() if title != "Session in mp3")
    assert all(local(link["url"], folder).is_file() for link in found["Session in mp3"])


def test_an_embedded_picture_becomes_the_episode_cover(folder):
    buffer = io.BytesIO()
    Image.new("RGB", (1400, 1400), (10, 120, 200)).save(buffer, "JPEG")
    embed_picture(folder / "flac-session.flac", "flac", buffer.getvalue())
    feeds.write_feed(folder, base_url=BASE)
    [entry] = [e for e in parse(folder).entries if e.title == "Session in flac"]
    with Image.open(local(entry.image.href, folder)) as cover:
        assert cover.format == "PNG" and cover.size == (1400, 1400)
        assert cover.convert("RGB").getpixel((700, 700)) == pytest.approx((10, 120, 200), abs=3)
    with Image.open(io.BytesIO(read_picture(folder / "flac-session.flac"))) as inside:
        assert inside.format == "JPEG"


def test_the_same_files_give_the_same_bytes_and_guids_survive_rewrites(folder):
    first = feeds.write_feed(folder, base_url=BASE)
    before = (folder / "feed.xml").read_bytes()
    guids = {e.enclosures[0].href: e.id for e in parse(folder).entries}
    again = feeds.write_feed(folder)               # base URL kept from the feed itself
    assert again.written == [] and (folder / "feed.xml").read_bytes() == before
    assert feeds.feed_xml(folder, BASE) == before
    assert len(first.written) == 1 + 2 * len(EXPECTED_MIME) + 1      # feed.png, chapters and covers, feed.xml
    # A re-rendered file (other content, other length, newer) and another base URL: same guid.
    path = folder / "mp3-session.mp3"
    path.unlink()
    encode(tone(2.2), path, sample_rate=SR, channels=1, tags=Tags(title="Rewritten"))
    feeds.write_feed(folder, base_url="https://example.org/other/", title="Another title")
    moved = {local(e.enclosures[0].href.replace("https://example.org/other/", BASE), folder): e.id
             for e in parse_any(folder).entries}
    assert {local(url, folder): guid for url, guid in guids.items()} == moved


def parse_any(folder: Path) -> feedparser.FeedParserDict:
    return feedparser.parse((folder / "feed.xml").read_bytes())


def test_title_author_and_base_url_are_kept_from_the_previous_feed(folder):
    feeds.write_feed(folder, base_url=BASE, title="Sleep well", author="Sam")
    feeds.write_feed(folder)
    channel = parse(folder).feed
    assert (channel.title, channel.author, channel.link) == ("Sleep well", "Sam", BASE)
    feeds.write_feed(folder, author="Alex")
    assert parse(folder).feed.author == "Alex" and parse(folder).feed.title == "Sleep well"


def test_without_a_title_the_folder_names_the_feed(folder):
    feeds.write_feed(folder)
    parsed = feedparser.parse((folder / "feed.xml").read_bytes())
    assert parsed.feed.title == "phone" and parsed.feed.link == feeds.DEFAULT_BASE_URL


def test_the_channel_language_is_the_one_most_episodes_are_in(folder, tmp_path):
    feeds.write_feed(folder, base_url=BASE)        # files without language tags: no <language>
    assert ET.parse(folder / "feed.xml").getroot().find("channel/language") is None
    assert all(e.language == "" for e in feeds.scan(folder)[0])
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for i, (name, language) in enumerate((("english.mp3", "en"), ("more-english.ogg", "en"),
                                          ("deutsch.m4a", "de"))):       # the German one is the newest
        encode(tone(1.5), mixed / name, sample_rate=SR, channels=1, tags=Tags(title=name, language=language))
        os.utime(mixed / name, (EPOCH + 3600 * i, EPOCH + 3600 * i))
    feeds.write_feed(mixed, base_url=BASE)
    channel = ET.parse(mixed / "feed.xml").getroot().find("channel")
    assert [e.text for e in channel.iter("language")] == ["en"]           # one, on the channel only
    assert parse(mixed).feed.language == "en"
    assert {e.path.name: e.language for e in feeds.scan(mixed)[0]} == \
        {"english.mp3": "en", "more-english.ogg": "en", "deutsch.m4a": "de"}
    assert channel.findtext("description") == "Voice-guided sessions: mixed."
    (mixed / "more-english.ogg").unlink()           # one each: the newest episode's language
    feeds.write_feed(mixed)
    assert parse(mixed).feed.language == "de"
    channel = ET.parse(mixed / "feed.xml").getroot().find("channel")
    assert channel.findtext("description") == "Sprachgeführte Sitzungen: mixed."     # in its language


def test_a_language_tag_that_names_no_language_is_not_the_channels(tmp_path):
    """Foreign files may say "German" or ISO 639-2's undetermined, multiple, no linguistic
    content and uncoded: none is a <language> (RSS wants a language tag), so the one English
    file, though the oldest, names the channel's language."""
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    said = ("en", "German", "und", "mul", "zxx", "mis", "Deutsch (Österreich)")      # newest last
    for i, language in enumerate(said):
        name = f"{i}.ogg"
        encode(tone(1.0), foreign / name, sample_rate=SR, channels=1, tags=Tags(title=name, language=language))
        os.utime(foreign / name, (EPOCH + 3600 * i, EPOCH + 3600 * i))
    assert {e.path.name: e.language for e in feeds.scan(foreign)[0]} == {
        "0.ogg": "en", **{f"{i}.ogg": "" for i in range(1, len(said))}}
    feeds.write_feed(foreign, base_url=BASE)
    assert [e.text for e in ET.parse(foreign / "feed.xml").getroot().iter("language")] == ["en"]
    assert (feeds.episode_language(" pt_br "), feeds.episode_language("DE-at")) == ("pt-BR", "de-AT")


def test_two_files_with_one_title_are_told_apart_by_their_names(folder):
    for ext in ("ogg", "opus"):
        (folder / f"{ext}-session.{ext}").unlink()
    for name in ("bedtime.ogg", "bedtime-slow.ogg"):
        encode(tone(2.0), folder / name, sample_rate=SR, channels=1, tags=Tags(title="Bedtime"))
    feeds.write_feed(folder, base_url=BASE)
    titles = {e.title for e in parse(folder).entries}
    assert {"Bedtime (bedtime)", "Bedtime (bedtime-slow)"} <= titles and "Bedtime" not in titles


def test_odd_names_and_titles_stay_valid_and_links_out_of_the_folder_are_left_out(folder, tmp_path):
    name = "Nuit #2 – ça & 100%.mp3"
    encode(tone(2.0), folder / name, sample_rate=SR, channels=1, tags=Tags(title="Bell\x07 <one> & \x1b[2Jtwo"))
    outside = tmp_path / "elsewhere.mp3"
    shutil.copy(folder / "mp3-session.mp3", outside)
    (folder / "linked.mp3").symlink_to(outside)
    feeds.write_feed(folder, base_url=BASE)
    parsed = parse(folder)                    # not bozo: the control characters are gone
    [odd] = [e for e in parsed.entries if e.title.startswith("Bell")]
    assert odd.title == "Bell <one> & [2Jtwo"
    assert local(odd.enclosures[0].href, folder) == folder / name and "#" not in odd.enclosures[0].href
    assert not any(e.enclosures[0].href.endswith("linked.mp3") for e in parsed.entries)


def test_feed_xml_writes_nothing_and_links_only_what_exists(folder):
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    xml = feeds.feed_xml(folder, "http://127.0.0.1:9999/tok3n")
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before
    parsed = feedparser.parse(xml)
    assert len(parsed.entries) == len(EXPECTED_MIME)
    assert all(e.enclosures[0].href.startswith("http://127.0.0.1:9999/tok3n/") for e in parsed.entries)
    assert not any("podcast_chapters" in e for e in parsed.entries)      # no chapters file yet


def test_the_feed_is_replaced_whole_or_not_at_all(folder, monkeypatch):
    feeds.write_feed(folder, base_url=BASE, author="Sam")
    before = (folder / "feed.xml").read_bytes()
    real = Path.write_bytes

    def half_then_full(self: Path, data: bytes) -> int:
        real(self, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", half_then_full)
    with pytest.raises(OutputWriteError, match="feed.xml: cannot write: No space left on device"):
        feeds.write_feed(folder, author="Alex")      # only feed.xml changes
    monkeypatch.undo()
    assert (folder / "feed.xml").read_bytes() == before
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("url, message", [
    ("ftp://host/", "must be an absolute http:// or https:// URL"),
    ("/relative/", "must be an absolute http:// or https:// URL"),
    ("http://host/?a=1", "may not have a query"),
])
def test_a_bad_base_url_is_one_line(folder, url, message):
    result = CliRunner().invoke(main, ["feed", str(folder), "--base-url", url])
    assert result.exit_code == 2 and message in result.output and len(result.output.strip().splitlines()) == 1


def test_the_command_warns_about_unreadable_files_and_refuses_an_empty_folder(folder, tmp_path):
    (folder / "broken.mp3").write_bytes(b"not audio at all" * 10)
    result = CliRunner().invoke(main, ["feed", str(folder), "--title", "Sleep"])
    assert result.exit_code == 0, result.output
    assert "warning: broken.mp3: left out of the feed" in result.output
    assert f"wrote {folder / 'feed.xml'} ({len(EXPECTED_MIME)} episodes)" in result.output
    assert len(parse_any(folder).entries) == len(EXPECTED_MIME)
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(main, ["feed", str(empty)])
    assert result.exit_code == 2 and "no audio files" in result.output and not (empty / "feed.xml").exists()
    result = CliRunner().invoke(main, ["feed", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "no such folder" in result.output


# ---------------------------------------------------------------------------------------------
# render --feed and batch --feed, for real

ROUTINE = """\
# Arrive
Let your shoulders drop. [pause 1s]

# Close
Well done.
"""


def test_render_feed_writes_the_transcript_chapters_and_feed(tmp_path, cache_env):
    routine = tmp_path / "unwind.routine.md"
    routine.write_text(quiet_routine(ROUTINE, title="Unwind"))
    out = tmp_path / "phone" / "unwind.mp3"
    out.parent.mkdir()
    result = CliRunner().invoke(main, ["render", str(routine), "-o", str(out), "--feed"])
    assert result.exit_code == 0, result.output
    assert f"wrote {out.parent / 'feed.xml'} (1 episode)" in result.output
    parsed = feedparser.parse((out.parent / "feed.xml").read_bytes())
    [entry] = parsed.entries
    assert entry.title == "Unwind" and entry.enclosures[0].href == feeds.DEFAULT_BASE_URL + "unwind.mp3"
    assert parsed.feed.language == "en"      # the routine's language (the default), via the file's tags
    assert int(entry.enclosures[0].length) == out.stat().st_size
    assert entry.podcast_transcript["type"] == "text/vtt" and entry.podcast_transcript["url"].endswith("/unwind.vtt")
    assert [t["language"] for t in transcripts(out.parent)["Unwind"]] == ["en"]     # the episode's language
    vtt = (out.parent / "unwind.vtt").read_text()
    assert vtt.startswith("WEBVTT") and "Let your shoulders drop." in vtt
    document = json.loads((out.parent / "unwind.chapters.json").read_text())
    assert [(c["title"], round(c["startTime"], 3)) for c in document["chapters"]] == \
        [(c.title, round(c.start, 3)) for c in read_chapters(out)] and \
        [c["title"] for c in document["chapters"]] == ["Arrive", "Close"]
    embedded = read_picture(out)            # every render embeds a cover (drawn by default)
    assert embedded is not None and (out.parent / "unwind.cover.png").read_bytes() == embedded
    assert entry.image.href == feeds.DEFAULT_BASE_URL + "unwind.cover.png"


def test_batch_feed_links_every_output_and_renders_again_for_a_missing_transcript(tmp_path, cache_env):
    source = tmp_path / "routines"
    source.mkdir()
    for name in ("unwind", "unwind-again"):
        (source / f"{name}.routine.md").write_text(quiet_routine(ROUTINE, title="Unwind"))
    plain = CliRunner().invoke(main, ["batch", str(source), "-o", str(tmp_path / "out"), "-q"])
    assert plain.exit_code == 0, plain.output
    assert not list((tmp_path / "out").glob("*.vtt")) and not (tmp_path / "out" / "feed.xml").exists()
    fed = CliRunner().invoke(main, ["batch", str(source), "-o", str(tmp_path / "out"), "--feed"])
    assert fed.exit_code == 0, fed.output
    assert "2 items: 2 rendered, 0 up to date, 0 failed" in fed.output     # the transcripts were missing
    found = transcripts(tmp_path / "out")
    assert set(found) == {"Unwind (unwind)", "Unwind (unwind-again)"}
    for title, links in found.items():
        stem = title[len("Unwind ("):-1]
        assert [link["url"].rsplit("/", 1)[1] for link in links] == [f"{stem}.vtt"]
    again = CliRunner().invoke(main, ["batch", str(source), "-o", str(tmp_path / "out"), "--feed"])
    assert "2 items: 0 rendered, 2 up to date, 0 failed" in again.output
    assert "is up to date (2 episodes)" in again.output
