"""The studio's "Listen on your phone": POST /api/phone starts `serve --lan` for FOLDER (here
on 127.0.0.1: tests never listen on the network) and answers its feed URL and QR code."""
from __future__ import annotations

import re

import pytest

pytest.importorskip("uvicorn", reason="the studio extra (starlette, uvicorn, jinja2) is not installed")
segno = pytest.importorskip("segno", reason="segno draws the QR code")

from starlette.testclient import TestClient  # noqa: E402

from serve_support import raw, served  # noqa: E402,F401  (served: a fixture)
from voiceguide.studio.app import create_app  # noqa: E402
from voiceguide.studio.security import allowed_hosts  # noqa: E402

TOKEN = "studio-token-0123456789"


@pytest.fixture
def studio(served, tmp_path):
    app = create_app(served, token=TOKEN, allowed_hosts=allowed_hosts("127.0.0.1", 8765), store=tmp_path / "store")
    app.state.studio.phone.host = "127.0.0.1"
    yield app
    app.state.studio.close()


def clients(app):
    base = "http://127.0.0.1:8765"
    return (TestClient(app, base_url=base, headers={"X-Voiceguide-Token": TOKEN}),
            TestClient(app, base_url=base))


def test_listen_on_your_phone_serves_the_folder_and_answers_its_feed_url_and_qr_code(studio, served):
    client, bare = clients(studio)
    assert bare.post("/api/phone").status_code == 403                     # the studio's token, as for any change
    assert studio.state.studio.phone._serving is None
    answer = client.post("/api/phone").json()
    token = (served / ".voiceguide-serve-token").read_text().strip()
    assert re.fullmatch(rf"http://127\.0\.0\.1:\d+/{re.escape(token)}/feed\.xml", answer["url"]), answer["url"]
    assert answer["reachable"] is False                                    # 127.0.0.1: no phone reaches it
    path = answer["url"].split(":", 2)[2].split("/", 1)[1]
    status, _, feed = raw(answer["url"], "/" + path)
    assert status == 200 and b"<rss" in feed and answer["url"].replace("feed.xml", "bedtime.mp3").encode() in feed
    assert raw(answer["url"], f"/{token}/bedtime.mp3")[2] == (served / "bedtime.mp3").read_bytes()
    assert raw(answer["url"], "/bedtime.mp3")[0] == 404
    drawn = segno.make(answer["url"], error="m").svg_inline(scale=1, omitsize=True)
    line = re.search(r'class="qrline"[^>]* d="([^"]+)"', drawn).group(1)
    assert answer["qr"].startswith("<svg") and line in answer["qr"]       # the code is of this URL
    assert client.post("/api/phone").json()["url"] == answer["url"]       # pressed again: the same server
    assert client.delete("/api/phone").json() == {"stopped": True}
    with pytest.raises(OSError):
        raw(answer["url"], f"/{token}/bedtime.mp3")
    again = client.post("/api/phone").json()                              # and it can be started again
    assert raw(again["url"], f"/{token}/bedtime.mp3")[0] == 200
    studio.state.studio.close()                                            # the studio stops it with itself
    with pytest.raises(OSError):
        raw(again["url"], f"/{token}/bedtime.mp3")


def test_the_page_has_the_button_and_its_dialog(studio):
    client, _ = clients(studio)
    page = client.get("/").text
    assert 'id="phone"' in page and 'id="phone-dialog"' in page and "/static/phone.js" in page
    assert client.get("/static/phone.js").status_code == 200
