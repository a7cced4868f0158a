"""The studio in a real browser (Debian's chromium driven by playwright): the whole flow a
user walks, from copying a built-in to downloading the render, checked against the API."""
from __future__ import annotations

import os

import pytest

from browser_support import VIEWPORT, StudioApi, keep_screenshot, png_size
from support.browser import missing_browser, running_browser

pytestmark = pytest.mark.skipif(missing_browser() is not None, reason=str(missing_browser()))

CARET_LINE = "() => { const t = document.getElementById('editor'); return t.value.slice(0, t.selectionStart).split('\\n').length; }"
EDITOR_TEXT = "() => document.getElementById('editor').value"


@pytest.fixture(scope="module")
def studio(tmp_path_factory, speech_cache):
    from voiceguide.studio.server import start
    folder = tmp_path_factory.mktemp("studio-folder")
    running = start(folder, port=0, store=speech_cache)
    api = StudioApi(running.url, running.token)
    try:
        yield running, folder, api
    finally:
        api.close()
        running.stop()


@pytest.fixture(scope="module")
def browser():
    with running_browser() as browser:
        yield browser


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"the page raised: {errors}"


def open_studio(page, running, route: str = "") -> None:
    page.goto(running.url + route)
    page.wait_for_selector("body[data-ready]")


def test_whole_flow(studio, page, tmp_path):
    running, folder, api = studio

    # 1. The library lists the built-ins; copy desk-break into the folder and open it.
    open_studio(page, running)
    names = page.eval_on_selector_all("#cards .card", "cards => cards.map(c => c.dataset.name)")
    assert names == [r["name"] for r in api.get("/api/routines")]
    page.click('[data-testid="copy-desk-break"]')
    assert page.input_value("#name-input") == "desk-break"
    page.click("#name-ok")
    page.wait_for_selector("body[data-view='editor']")
    page.wait_for_function("document.getElementById('routine-name').textContent === 'desk-break.routine.md'")
    copied = folder / "desk-break.routine.md"
    assert copied.exists()
    original = page.evaluate(EDITOR_TEXT)
    assert original == copied.read_text()
    page.wait_for_selector("svg#timeline rect[data-index]")

    # 2. A broken directive shows at its line, with the API's message; fixing it clears it.
    page.click("#editor")
    page.keyboard.press("Control+End")
    page.keyboard.type("\n\nRest a moment. [hold forever]")
    text = page.evaluate(EDITOR_TEXT)
    line = text.split("\n").index("Rest a moment. [hold forever]") + 1
    problem = page.wait_for_selector(f'#problems .problem[data-line="{line}"]')
    expected = [p["message"] for p in api.post("/api/validate", {"text": text, "name": "desk-break"})["problems"]
                if p["line"] == line]
    assert expected and "forever" in expected[0]
    assert problem.query_selector(".message").inner_text() == expected[0]
    assert page.query_selector(f'#gutter .num.bad[data-line="{line}"]')
    assert page.query_selector(f'#highlight .line.bad[data-line="{line}"]')
    page.keyboard.press("Control+Home")
    problem.click()
    assert page.evaluate(CARET_LINE) == line
    page.fill("#editor", original)
    page.wait_for_selector('#problems[data-count="0"]', state="attached")
    assert not page.query_selector("#gutter .num.bad")

    # 3. Click a spoken step in the timeline: the caret goes to its line and it plays.
    plan = api.post("/api/plan", {"text": original, "settings": {}, "name": "desk-break"})
    index, event = next((i, e) for i, e in enumerate(plan["events"]) if e["kind"] == "say" and e["line"])
    page.wait_for_function(f"document.querySelector('svg#timeline').dataset.events === '{len(plan['events'])}'")
    hover = page.eval_on_selector(f'svg#timeline rect[data-index="{index}"] title', "t => t.textContent")
    assert event["text"] in hover and hover.startswith("say")
    page.click(f'svg#timeline rect[data-index="{index}"]')
    assert page.evaluate(CARET_LINE) == event["line"]
    page.wait_for_function("document.getElementById('preview-audio').currentTime > 0.3")
    page.click("#stop")
    assert page.evaluate("document.getElementById('preview-audio').paused")

    # Compare speeds: the same step at 0.8, 1.0 and 1.2 in turn, the one playing labelled.
    page.click("#compare-speeds")
    for speed in ("0.8", "1.0"):
        page.wait_for_selector(f'#preview-label[data-current="speed {speed}"]')
        assert f"speed {speed}" in page.inner_text("#preview-label")
    page.wait_for_function("document.getElementById('preview-audio').currentTime > 0.1")
    page.click("#stop")

    # 4. Render to MP3; the progress only goes up, and reaches 100 %.
    page.evaluate("""() => {
        const bar = document.getElementById('progress');
        window.seen = [];
        new MutationObserver(() => window.seen.push(Number(bar.getAttribute('aria-valuenow'))))
            .observe(bar, {attributes: true, attributeFilter: ['aria-valuenow']});
    }""")
    assert page.input_value("#format") == "mp3"
    page.click("#render")
    page.wait_for_selector('#progress[aria-valuenow="100"]', timeout=150_000)
    seen = page.evaluate("window.seen")
    assert seen[-1] == 100 and seen == sorted(seen), seen
    page.wait_for_selector("#player")
    assert (folder / "desk-break.mp3").exists() and (folder / "desk-break.vtt").exists()
    page.wait_for_selector('#renders li[data-file="desk-break.mp3"]')

    # 5. Download it: its duration and chapters are the plan's.
    with page.expect_download() as info:
        page.click("#download-audio")
    download = tmp_path / "download.mp3"
    info.value.save_as(download)
    assert info.value.suggested_filename == "desk-break.mp3"
    import mutagen
    from voiceguide.export.tags import read_chapters
    plan = api.post("/api/plan", {"text": original, "settings": {}, "name": "desk-break"})
    assert mutagen.File(download).info.length == pytest.approx(plan["total"], abs=0.3)
    chapters = read_chapters(download)
    assert [c.title for c in chapters] == [s["title"] for s in plan["sections"]]
    assert [c.start for c in chapters] == pytest.approx([s["start"] for s in plan["sections"]], abs=0.05)
    assert page.eval_on_selector_all("#chapters li", "lis => lis.length") == len(chapters)

    # The chapter list seeks, and the transcript follows the player.
    page.click("#chapters li:nth-child(3)")
    page.wait_for_function(f"document.getElementById('player').currentTime > {chapters[2].start + 0.5}")
    page.wait_for_selector("#cues .active")
    active = page.eval_on_selector("#cues .active", "c => [Number(c.dataset.start), c.textContent]")
    assert chapters[1].start < active[0] <= chapters[2].start + 1.5 and active[1]
    page.evaluate("document.getElementById('player').pause()")

    # The first minute plays from the start of the session.
    page.click("#play-first")
    page.wait_for_function("document.getElementById('preview-audio').currentTime > 0.3")
    page.click("#stop")

    # 6. A screenshot of the editor, the timeline and the finished render.
    page.click(f'svg#timeline rect[data-index="{index}"]')
    page.click("#stop")
    shot = tmp_path / "studio.png"
    page.screenshot(path=str(shot))
    assert png_size(shot) == (VIEWPORT["width"], VIEWPORT["height"])
    keep_screenshot(shot, os.environ.get("VOICEGUIDE_SCREENSHOT"))


def test_settings_form_has_one_control_per_setting(studio, page):
    running, folder, api = studio
    schema = api.get("/api/settings")["properties"]
    open_studio(page, running, "#/edit/bedtime")
    page.wait_for_selector("svg#timeline rect[data-index]")
    controls = page.eval_on_selector_all("#settings [data-setting]", "cs => cs.map(c => c.dataset.setting)")
    assert sorted(controls) == sorted(schema)
    for name, prop in schema.items():
        control = page.query_selector(f'#settings [data-setting="{name}"]')
        help_text = page.inner_text(f'#settings .setting[data-name="{name}"] .help')
        assert prop["description"] in help_text
        if "minimum" in prop:
            assert float(control.get_attribute("min")) == prop["minimum"]
            assert float(control.get_attribute("max")) == prop["maximum"]
        if "enum" in prop:
            options = control.eval_on_selector_all("option", "os => os.map(o => o.value).filter(Boolean)")
            assert options == prop["enum"]
        if "examples" in prop:      # the voices, suggested as the user types
            listed = page.eval_on_selector(f'#settings [data-setting="{name}"]',
                                           "c => Array.from(c.list.options).map(o => o.value)")
            assert listed == prop["examples"] and "joe" in listed

    # Only what the user changed is sent; the timeline follows it.
    before = float(page.get_attribute("svg#timeline", "data-total"))
    with page.expect_request(lambda r: r.url.endswith("/api/plan")) as request:
        page.fill('#settings [data-setting="speed"]', "1.6")
    assert request.value.post_data_json["settings"] == {"speed": 1.6}
    page.wait_for_function(f"Number(document.querySelector('svg#timeline').dataset.total) < {before}")


def test_new_routine_and_save_conflict(studio, page):
    running, folder, api = studio
    open_studio(page, running)
    page.click("#new-routine")
    page.fill("#name-input", "../escape")
    page.click("#name-ok")
    page.wait_for_selector("#name-error:not([hidden])")
    page.fill("#name-input", "conflict")
    page.click("#name-ok")
    page.wait_for_function("document.getElementById('routine-name').textContent === 'conflict.routine.md'")
    path = folder / "conflict.routine.md"
    assert page.evaluate(EDITOR_TEXT) == path.read_text()
    assert api.get("/api/routines/conflict")["text"] == path.read_text()

    # Saving over a file changed on disk says so; Overwrite saves anyway.
    path.write_text(path.read_text() + "\nChanged on disk.\n")
    page.click("#editor")
    page.keyboard.press("Control+End")
    page.keyboard.type("\nChanged in the page.")
    page.keyboard.press("Control+s")
    page.wait_for_selector("#conflict:not([hidden])")
    assert "changed on disk" in page.inner_text("#conflict-text")
    assert "Changed on disk." in path.read_text()
    page.click("#conflict-overwrite")
    page.wait_for_selector("#conflict", state="hidden")
    assert path.read_text() == page.evaluate(EDITOR_TEXT)

    # Again, and this time take the disk's version.
    path.write_text(path.read_text() + "\nChanged on disk again.\n")
    page.keyboard.type("\nMore.")
    page.click("#save")
    page.wait_for_selector("#conflict:not([hidden])")
    page.click("#conflict-reload")
    page.wait_for_function("document.getElementById('editor').value.includes('Changed on disk again.')")
    assert page.evaluate(EDITOR_TEXT) == path.read_text()


def test_narrow_window_fits(studio, page):
    running, folder, api = studio
    page.set_viewport_size({"width": 420, "height": 800})
    open_studio(page, running, "#/edit/desk-break")
    page.wait_for_selector("svg#timeline rect[data-index]")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a narrow window"


def test_render_cancel_leaves_nothing(studio, page):
    running, folder, api = studio
    open_studio(page, running, "#/edit/bedtime")
    page.wait_for_selector("svg#timeline rect[data-index]")
    page.click("#render")
    page.wait_for_selector("#cancel:visible")
    page.click("#cancel")
    page.wait_for_selector('#progress[data-phase="cancelled"]')
    assert page.is_hidden("#cancel") and page.is_enabled("#render")
    assert not [f.name for f in folder.iterdir() if f.name.startswith("bedtime")]


def test_a_hold_too_short_for_its_step_is_a_warning_at_its_line(studio, page):
    """What `validate --lint` says shows as a warning at its line, not as a problem."""
    running, folder, api = studio
    (folder / "short-holds.routine.md").write_text('+++\ntitle = "Short holds"\n+++\n# Wrists\nRest your hands. [hold 3s]\n')
    open_studio(page, running, "#/edit/short-holds")
    page.wait_for_selector('#problems[data-count="0"]', state="attached")
    page.click("#editor")
    page.keyboard.press("Control+End")
    page.keyboard.type("\nCircle your wrists ten times each way. [hold 5s]")
    text = page.evaluate(EDITOR_TEXT)
    line = text.split("\n").index("Circle your wrists ten times each way. [hold 5s]") + 1
    warning = page.wait_for_selector(f'#problems .warning[data-line="{line}"]')
    expected = api.post("/api/validate", {"text": text, "name": "short-holds"})["warnings"]
    assert [w["line"] for w in expected] == [line]
    assert warning.query_selector(".message").inner_text() == expected[0]["message"]
    assert page.query_selector(f'#gutter .num.warn[data-line="{line}"]')
    assert page.get_attribute("#problems", "data-count") == "0"      # a warning is not a problem
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    page.keyboard.type("40s]")
    page.wait_for_selector('#problems[data-warnings="0"]', state="attached")
    assert not page.query_selector("#gutter .num.warn")


def test_listen_on_your_phone_shows_the_feed_address_and_its_qr_code(studio, page):
    """The button starts `serve --lan` for FOLDER (here on 127.0.0.1 only) and the dialog shows
    its feed URL and a QR code big enough to scan; "Stop sharing" ends it."""
    import re
    import urllib.request
    running, folder, api = studio
    phone = running._app.state.studio.phone
    phone.host = "127.0.0.1"                              # tests never listen on the network
    open_studio(page, running)
    page.click("#phone")
    page.wait_for_selector("#phone-dialog[open]")
    url = page.input_value("#phone-url")
    token = (folder / ".voiceguide-serve-token").read_text().strip()
    assert re.fullmatch(rf"http://127\.0\.0\.1:\d+/{re.escape(token)}/feed\.xml", url), url
    box = page.locator("#phone-qr svg").bounding_box()
    assert box is not None and box["width"] >= 150 and abs(box["width"] - box["height"]) < 2
    assert page.evaluate("document.querySelector('#phone-qr svg') instanceof SVGSVGElement")
    import io
    from PIL import Image
    drawn = Image.open(io.BytesIO(page.locator("#phone-qr svg").screenshot())).convert("L")
    dark = drawn.point(lambda value: 255 if value < 100 else 0).histogram()[255] / (drawn.width * drawn.height)
    assert 0.25 < dark < 0.65, dark                       # a QR code is drawn (about half its modules dark)
    assert page.is_visible("#phone-note")                 # 127.0.0.1: the page says a phone cannot use it
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200 and b"<rss" in response.read()
    page.click("#phone-stop")
    page.wait_for_selector("#phone-dialog", state="hidden")
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=2)
