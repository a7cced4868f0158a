"""`render --player`: one offline HTML page beside the audio. The page is read as a file (one
self-contained document, no URL to anywhere, data that matches the audio's chapters and
transcript, written atomically) and driven in Debian's chromium from file:// (chapters seek,
the transcript follows, the Media Session knows the title, artwork and chapter buttons)."""
from __future__ import annotations

import base64
import dataclasses
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
from click.testing import CliRunner

from voiceguide.cli import main
from voiceguide.errors import SettingError
from voiceguide.export.atomic import OutputExistsError, OutputWriteError
from voiceguide.export.encode import export
from voiceguide.export.player import ARTWORK_SIZE, player_path, write_player
from voiceguide.export.sidecars import cues
from voiceguide.export.tags import chapters_from_timeline
from voiceguide.timeline import plan
from support.browser import missing_browser, running_browser

from .conftest import short_routine

PHONE = {"width": 390, "height": 844}
URL = re.compile(r"https?:", re.IGNORECASE)


class _Page(HTMLParser):
    """The parts of the page the tests look at: the inline data, every src/href, the tags."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self.lang: str | None = None
        self._in_data = False
        self.data_text = ""
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        self.links += [v for k, v in attrs.items() if k in ("src", "href", "srcset", "poster", "action") and v]
        if tag == "script":
            self.scripts.append(attrs)
            self._in_data = attrs.get("id") == "player-data"

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_data = False

    def handle_data(self, data):
        if self._in_data:
            self.data_text += data


def read_page(path: Path) -> tuple[_Page, dict]:
    page = _Page(path.read_text(encoding="utf-8"))
    return page, json.loads(page.data_text)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def expected_cue(timeline, chapters, t: float) -> int:
    """The cue the page should highlight at `t`, by the page's rule, computed independently:
    the last cue started, unless it belongs to an earlier chapter than the one playing (then
    that chapter's first cue)."""
    heard = cues(timeline)
    chapter = max(i for i, c in enumerate(chapters) if c.start <= t + 1e-3)
    started = [i for i, c in enumerate(heard) if c.start <= t + 1e-3]
    first_of_chapter = next(i for i, c in enumerate(heard) if c.start >= chapters[chapter].start - 2e-3)
    if not started or heard[started[-1]].start < chapters[chapter].start - 2e-3:
        return first_of_chapter
    return started[-1]


@pytest.fixture(scope="module")
def cover():
    from voiceguide.export.cover import cover_png
    return cover_png("Evening wind-down", "player-test")


@pytest.fixture(scope="module")
def session(tmp_path_factory, timeline, voice, cover):
    """An MP3 with a space and an accent in its name, and its page."""
    from voiceguide.sound.mix import mix
    program = mix(timeline, voice, sample_rate=44100, ambient="pink")
    folder = tmp_path_factory.mktemp("player")
    audio = folder / "évening session.mp3"
    export(program, audio)
    duration = program.frames / program.sample_rate
    chapters = chapters_from_timeline(timeline, end=duration)
    page = write_player(timeline, audio, chapters, duration=duration, description="Three short parts.",
                        picture=cover)
    return audio, page, chapters, duration


# -- the file ------------------------------------------------------------------------------------


def test_page_is_beside_the_audio_and_names_it_relatively(session):
    audio, page, _, _ = session
    assert page == audio.with_suffix(".html") == player_path(audio)
    parsed, data = read_page(page)
    audio_srcs = [link for link in parsed.links if not link.startswith("data:")]
    assert audio_srcs == [quote(audio.name, safe="")]
    assert data["audio"] == audio.name


def test_page_is_self_contained_and_offline(session):
    _, page, _, _ = session
    text = page.read_text(encoding="utf-8")
    parsed, data = read_page(page)
    assert not URL.search(text), URL.search(text)
    assert "link" not in parsed.tags and "iframe" not in parsed.tags
    assert all("src" not in attrs for attrs in parsed.scripts), "scripts are inline"
    assert "@import" not in text and "url(" not in text.replace("data:", "")
    assert data["artwork"]["src"].startswith("data:image/png;base64,")


def test_inline_data_matches_the_audio(session, timeline):
    _, page, chapters, duration = session
    _, data = read_page(page)
    assert data["title"] == timeline.title and data["description"] == "Three short parts."
    assert data["duration"] == pytest.approx(duration, abs=1e-3)
    assert [c["title"] for c in data["chapters"]] == [c.title for c in chapters] == ["Arrive", "Breathe", "Close"]
    for got, want in zip(data["chapters"], chapters):
        assert got["start"] == pytest.approx(want.start, abs=1e-3)
        assert got["end"] == pytest.approx(want.end, abs=1e-3)
    heard = cues(timeline)
    assert [c["text"] for c in data["cues"]] == [c.text for c in heard]
    assert "Breathe in." in [c["text"] for c in data["cues"]]
    for got, want in zip(data["cues"], heard):
        assert got["start"] == pytest.approx(want.start, abs=1e-3)
        assert chapters[got["chapter"]].start <= want.start + 1e-6 < chapters[got["chapter"]].end


def test_artwork_is_the_cover_scaled_for_the_lock_screen(session, cover):
    from PIL import Image
    _, page, _, _ = session
    _, data = read_page(page)
    art = base64.b64decode(data["artwork"]["src"].split(",", 1)[1])
    assert png_size(art) == (ARTWORK_SIZE, ARTWORK_SIZE) and data["artwork"]["sizes"] == "512x512"
    small, again = (np.asarray(Image.open(io.BytesIO(png)).convert("RGB").resize((32, 32)), np.float32)
                    for png in (cover, art))
    assert np.abs(small - again).mean() < 6, "the page's artwork is the cover, scaled"
    assert np.abs(small - small.mean(axis=(0, 1))).mean() > 6, "and the cover is not one flat colour"


def test_without_a_picture_there_is_no_artwork(tmp_path, timeline):
    page = write_player(timeline, tmp_path / "a.mp3", chapters_from_timeline(timeline), duration=timeline.total)
    _, data = read_page(page)
    assert data["artwork"] is None and "data:image" not in page.read_text()


def test_titles_cannot_break_out_of_the_page(tmp_path, voice):
    nasty = '</script><script>alert(1)</script> & "quotes" <!-- \u2028 {{DATA}}'
    routine = short_routine()
    routine = dataclasses.replace(routine, meta=dataclasses.replace(routine.meta, title=nasty))
    timeline = plan(routine, timer=voice.timer)
    page = write_player(timeline, tmp_path / 'odd "name" <1>.mp3', chapters_from_timeline(timeline),
                        duration=timeline.total, description=nasty)
    text = page.read_text(encoding="utf-8")
    assert "<script>alert" not in text and "<!--" not in text
    parsed, data = read_page(page)
    assert data["title"] == nasty and data["description"] == nasty
    assert parsed.tags.count("script") == 2
    assert quote('odd "name" <1>.mp3', safe="") in parsed.links


def test_the_page_is_in_the_routines_language(tmp_path, voice, timeline):
    routine = short_routine()
    german = plan(dataclasses.replace(routine, meta=dataclasses.replace(routine.meta, language="de")),
                  timer=voice.timer)
    assert german.language == "de"
    for name, planned, lang in (("de", german, "de"), ("en", timeline, "en"),
                                ("odd", dataclasses.replace(german, language='de"><b x="'), 'de"><b x="')):
        page = write_player(planned, tmp_path / f"{name}.mp3", chapters_from_timeline(planned), duration=planned.total)
        parsed, _ = read_page(page)
        assert parsed.lang == lang and "b" not in parsed.tags       # a quote cannot end the attribute
    text = (tmp_path / "de.html").read_text(encoding="utf-8")       # its words too, for screen readers
    assert '<h2 id="chapters-heading">Kapitel</h2>' in text and 'aria-label="Vorheriges Kapitel"' in text
    assert '"labels":{"play":"Abspielen","pause":"Pause"}' in text and "{{" not in text
    english = (tmp_path / "en.html").read_text(encoding="utf-8")
    assert '<h2 id="transcript-heading">Transcript</h2>' in english and 'aria-label="Play"' in english


# -- written atomically --------------------------------------------------------------------------


def test_an_existing_page_is_kept_without_force(tmp_path, timeline):
    audio = tmp_path / "s.mp3"
    player_path(audio).write_text("mine")
    with pytest.raises(OutputExistsError):
        write_player(timeline, audio, chapters_from_timeline(timeline), duration=timeline.total)
    assert player_path(audio).read_text() == "mine"
    write_player(timeline, audio, chapters_from_timeline(timeline), duration=timeline.total, force=True)
    assert "player-data" in player_path(audio).read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.html"]


def test_a_failed_write_leaves_nothing(tmp_path, timeline, monkeypatch):
    import errno
    from voiceguide.export import atomic

    def full(*_):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(atomic, "_publish", full)
    with pytest.raises(OutputWriteError, match="No space left"):
        write_player(timeline, tmp_path / "s.mp3", chapters_from_timeline(timeline), duration=timeline.total)
    assert list(tmp_path.iterdir()) == []


def test_render_checks_the_page_before_any_work(tmp_path):
    from voiceguide import api
    from voiceguide.to_file import Outputs, check_outputs
    routine = short_routine()
    chosen = api.settings(routine)
    out = tmp_path / "s.mp3"
    player_path(out).write_text("mine")
    with pytest.raises(OutputExistsError):
        check_outputs(out, chosen, Outputs(player=True))
    check_outputs(out, chosen, Outputs(player=False))
    with pytest.raises(SettingError, match="write the same file") as caught:
        check_outputs(out, chosen, Outputs(picture=player_path(out), player=True, force=True))
    assert set(caught.value.settings) == {"picture", "player"}


# -- in the browser, from file:// -----------------------------------------------------------------

browser_test = pytest.mark.skipif(missing_browser() is not None, reason=str(missing_browser()))

RECORD_HANDLERS = """
window.__handlers = {};
if (navigator.mediaSession) {
  const set = navigator.mediaSession.setActionHandler.bind(navigator.mediaSession);
  navigator.mediaSession.setActionHandler = (action, handler) => { window.__handlers[action] = handler; set(action, handler); };
}
"""
CURRENT_CUE = "() => { const n = document.querySelector('#transcript .cue.now'); return n ? Number(n.dataset.index) : -1; }"


@pytest.fixture(scope="module")
def browser():
    with running_browser() as browser:
        yield browser


@pytest.fixture
def phone(browser, session):
    """The page at a phone's width, opened from file://, with every request it makes."""
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda request: requests.append(request.url))
    page.add_init_script(RECORD_HANDLERS)
    page.goto(session[1].as_uri())
    page.wait_for_selector("body[data-ready]")
    page.wait_for_function("document.getElementById('audio').readyState >= 1")   # the audio loaded
    yield page, requests
    context.close()
    assert not errors, f"the page raised: {errors}"


def _time(page) -> float:
    return page.evaluate("document.getElementById('audio').currentTime")


@browser_test
def test_the_audio_loads_from_the_relative_url_and_nothing_else_is_fetched(phone, session):
    page, requests = phone
    audio, html, _, duration = session
    assert page.evaluate("document.getElementById('audio').duration") == pytest.approx(duration, abs=0.1)
    assert requests and all(url.startswith(("file://", "data:")) for url in requests), requests
    assert {url for url in requests if url.startswith("file://")} == {html.as_uri(), audio.as_uri()}


@browser_test
def test_clicking_a_chapter_seeks_and_the_transcript_follows(phone, session, timeline):
    page, _ = phone
    _, _, chapters, _ = session
    for i in (2, 0, 1):
        page.click(f"#chapters button[data-index='{i}']")
        assert _time(page) == pytest.approx(chapters[i].start, abs=2e-3)
        assert page.get_attribute(f"#chapters button[data-index='{i}']", "aria-current") == "true"
        assert page.text_content("#now-chapter") == chapters[i].title
        want = expected_cue(timeline, chapters, chapters[i].start)
        page.wait_for_function(f"({CURRENT_CUE})() === {want}")
        assert page.text_content("#transcript .cue.now") == cues(timeline)[want].text
    # Anywhere in the session, the highlight is on the cue heard there.
    for j, cue in enumerate(cues(timeline)):
        middle = (cue.start + cue.end) / 2
        page.evaluate(f"document.getElementById('audio').currentTime = {middle}")
        page.wait_for_function(f"({CURRENT_CUE})() === {expected_cue(timeline, chapters, middle)}")
        assert expected_cue(timeline, chapters, middle) == j


@browser_test
def test_play_and_pause_and_the_transcript_follows_playback(phone, session, timeline):
    page, _ = phone
    _, _, chapters, _ = session
    page.click("#chapters button[data-index='1']")
    page.click("#play")
    page.wait_for_function("!document.getElementById('audio').paused")
    page.wait_for_selector("#play[aria-pressed='true'][aria-label='Pause']")     # the button shows it
    later = next(c for c in cues(timeline) if c.start > chapters[1].start + 0.5)
    page.wait_for_function(f"document.getElementById('audio').currentTime > {later.start + 0.1}", timeout=20_000)
    page.click("#play")
    page.wait_for_function("document.getElementById('audio').paused")
    page.wait_for_selector("#play[aria-pressed='false'][aria-label='Play']")
    stopped = _time(page)
    assert stopped > later.start
    page.wait_for_function(f"({CURRENT_CUE})() === {expected_cue(timeline, chapters, stopped)}")


@browser_test
def test_media_session_has_the_title_artwork_and_chapter_buttons(phone, session, timeline):
    page, _ = phone
    _, _, chapters, _ = session
    meta = page.evaluate("""() => { const m = navigator.mediaSession.metadata;
        return {title: m.title, album: m.album, artwork: m.artwork.map(a => ({src: a.src.slice(0, 22), sizes: a.sizes}))}; }""")
    assert meta["title"] == timeline.title == "Evening wind-down"
    assert meta["artwork"] == [{"src": "data:image/png;base64,", "sizes": "512x512"}]
    assert meta["album"] == chapters[0].title
    actions = page.evaluate("Object.keys(window.__handlers)")
    assert {"play", "pause", "previoustrack", "nexttrack", "seekto"} <= set(actions)
    # The lock screen's buttons call these very handlers: next and previous move by chapter.
    page.evaluate("window.__handlers.nexttrack()")
    assert _time(page) == pytest.approx(chapters[1].start, abs=2e-3)
    page.evaluate("window.__handlers.nexttrack()")
    assert _time(page) == pytest.approx(chapters[2].start, abs=2e-3)
    assert page.evaluate("navigator.mediaSession.metadata.album") == chapters[2].title
    page.evaluate("window.__handlers.nexttrack()")                    # no chapter after the last
    assert _time(page) == pytest.approx(chapters[2].start, abs=2e-3)
    page.evaluate("window.__handlers.previoustrack()")                # at a chapter's start: the one before
    assert _time(page) == pytest.approx(chapters[1].start, abs=2e-3)
    page.evaluate(f"document.getElementById('audio').currentTime = {chapters[2].start + 4}")
    page.evaluate("window.__handlers.previoustrack()")                # inside a chapter: its start
    assert _time(page) == pytest.approx(chapters[2].start, abs=2e-3)
    page.evaluate("window.__handlers.seekto({seekTime: 5})")
    assert _time(page) == pytest.approx(5, abs=2e-3)


@browser_test
@pytest.mark.parametrize("width", [320, 390])
def test_fits_a_phone_screen(browser, session, width):
    context = browser.new_context(viewport={"width": width, "height": 700})
    try:
        page = context.new_page()
        page.goto(session[1].as_uri())
        page.wait_for_selector("body[data-ready]")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        box = page.locator("#play").bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, "a thumb-sized play button"
    finally:
        context.close()


# -- render --player, with the real voice ---------------------------------------------------------

BODY = """\
# Arrive
Let your shoulders soften. [hold 2s]

# Breathe
[breathe 1 in 2s out 2s]

# Close
Well done.
"""


@pytest.fixture
def routine_file(tmp_path):
    from conftest import quiet_routine      # tests/conftest.py
    path = tmp_path / "wind-down.routine.md"
    path.write_text(quiet_routine(BODY, title="Wind down"))
    return path


def test_render_player_writes_the_page_for_the_audio(routine_file, tmp_path, cache_env):
    from voiceguide import api
    from voiceguide.export.cover import routine_cover_png
    from voiceguide.export.encode import decoded_frames
    from voiceguide.export.tags import read_chapters
    out = tmp_path / "wind down.mp3"
    result = CliRunner().invoke(main, ["render", str(routine_file), "-o", str(out), "--player"])
    assert result.exit_code == 0, result.output
    page = out.with_suffix(".html")
    assert f"wrote {page}" in result.output
    parsed, data = read_page(page)
    assert quote(out.name, safe="") in parsed.links and not URL.search(page.read_text())
    assert data["title"] == "Wind down"
    frames, rate = decoded_frames(out)
    assert data["duration"] == pytest.approx(frames / rate, abs=0.1)
    embedded = read_chapters(out)
    assert [c["title"] for c in data["chapters"]] == [c.title for c in embedded] == ["Arrive", "Breathe", "Close"]
    for got, want in zip(data["chapters"], embedded):
        assert got["start"] == pytest.approx(want.start, abs=0.01)
    texts = [c["text"] for c in data["cues"]]
    assert {"Let your shoulders soften.", "Well done."} <= set(texts)
    assert sorted({c["chapter"] for c in data["cues"]}) == [0, 1, 2]
    assert [c["chapter"] for c in data["cues"]] == sorted(c["chapter"] for c in data["cues"])
    drawn = routine_cover_png(api.load(str(routine_file)))
    assert data["artwork"] is not None and len(base64.b64decode(data["artwork"]["src"].split(",")[1])) < len(drawn)


def test_render_player_without_cover_has_no_artwork(routine_file, tmp_path, cache_env):
    out = tmp_path / "plain.ogg"
    result = CliRunner().invoke(main, ["render", str(routine_file), "-o", str(out), "--player", "--no-cover", "-q"])
    assert result.exit_code == 0, result.output
    _, data = read_page(out.with_suffix(".html"))
    assert data["artwork"] is None and data["audio"] == "plain.ogg"


def test_render_player_refuses_an_existing_page_before_any_work(routine_file, tmp_path, cache_env):
    out = tmp_path / "s.mp3"
    out.with_suffix(".html").write_text("mine")
    result = CliRunner().invoke(main, ["render", str(routine_file), "-o", str(out), "--player"])
    assert result.exit_code == 2, result.output
    assert "s.html already exists (use --force" in result.output and "Traceback" not in result.output
    assert not out.exists() and out.with_suffix(".html").read_text() == "mine"
