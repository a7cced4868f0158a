"""`voiceguide serve` as a phone meets it: a real server on 127.0.0.1 (in --lan mode too, with
its token), asked with raw, hostile requests."""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

pytest.importorskip("uvicorn", reason="the studio extra (starlette, uvicorn, jinja2) is not installed")

from serve_support import raw, served, tone_mp3  # noqa: E402,F401  (served: a fixture)
from voiceguide.serve.gate import RateLimit, shown_path  # noqa: E402
from voiceguide.serve.server import TOKEN_FILE, folder_token, start  # noqa: E402


@pytest.fixture
def lan(served):
    """`serve --lan`, listening on 127.0.0.1 only (the token is what --lan adds); its log lines."""
    lines: list[str] = []
    serving = start(served, host="127.0.0.1", lan=True, log_line=lines.append)
    serving.lines = lines
    yield serving
    serving.stop()


def root(serving) -> str:
    return "/" + serving.token


def test_lan_urls_carry_the_token_and_nothing_answers_without_it(lan, served):
    audio = (served / "bedtime.mp3").read_bytes()
    assert lan.url == f"http://127.0.0.1:{lan.port}/{lan.token}/" and lan.feed_url == lan.url + "feed.xml"
    status, headers, body = raw(lan.url, root(lan) + "/bedtime.mp3")
    assert status == 200 and body == audio and headers["content-type"] == "audio/mpeg"
    assert headers["accept-ranges"] == "bytes" and headers["x-content-type-options"] == "nosniff"
    for path in ("/bedtime.mp3", "/feed.xml", "/", f"/{lan.token[:-1]}/bedtime.mp3", f"/{lan.token}x/bedtime.mp3",
                 f"/x/{lan.token}/bedtime.mp3", f"/{lan.token.upper()}/bedtime.mp3", f"/{lan.token}"):
        status, _, body = raw(lan.url, path)
        assert status == 404 and json.loads(body) == {"error": "not found"}, path
    for method in ("POST", "PUT", "DELETE"):                      # without the token: still only 404
        assert raw(lan.url, "/bedtime.mp3", method)[0] == 404


def test_only_files_inside_the_folder_and_never_hidden_ones(lan, served):
    assert raw(lan.url, root(lan) + "/sub/deep.mp3")[2] == b"ID3 nested file bytes"
    assert raw(lan.url, root(lan) + "/bedtime.vtt")[1]["content-type"].startswith("text/vtt")
    hostile = ["/../outside/secret.mp3", "/sub/../../outside/secret.mp3", "/%2e%2e/outside/secret.mp3",
               "/sub/%2e%2e/%2e%2e/outside/secret.mp3", "/..%2foutside%2fsecret.mp3", "/%2E%2E%2Foutside/secret.mp3",
               "/link-out.mp3", "/linked-dir/secret.mp3", "/.hidden.mp3", "/%2ehidden.mp3", "/.git/x.mp3",
               "/link-hidden.mp3", "/notes.txt", "/notes.mp3", "/./bedtime.mp3", "//bedtime.mp3",
               "/sub", "/sub/", "/", "/" + TOKEN_FILE, "/bedtime.mp3%00.txt", "/sub\\..\\bedtime.mp3",
               "/" + str(served / "bedtime.mp3"), "/%2f" + str(served / "bedtime.mp3").lstrip("/")]
    for path in hostile:
        status, _, body = raw(lan.url, root(lan) + path)
        assert status in (400, 404) and b"SECRET" not in body and not body.startswith(b"ID3"), path
    assert raw(lan.url, root(lan) + "/bedtime.mp3")[0] == 200          # and it goes on serving


def test_only_get_and_head(lan, served):
    size = (served / "bedtime.mp3").stat().st_size
    status, headers, body = raw(lan.url, root(lan) + "/bedtime.mp3", "HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) == size
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND", "TRACE"):
        status, headers, body = raw(lan.url, root(lan) + "/bedtime.mp3", method)
        assert status == 405 and headers["allow"] == "GET, HEAD", method
        assert "read-only" in json.loads(body)["error"]
    assert (served / "bedtime.mp3").stat().st_size == size


def test_range_requests_let_a_player_seek(lan, served):
    audio = (served / "bedtime.mp3").read_bytes()
    status, headers, body = raw(lan.url, root(lan) + "/bedtime.mp3", headers={"Range": "bytes=100-1099"})
    assert status == 206 and body == audio[100:1100]
    assert headers["content-range"] == f"bytes 100-1099/{len(audio)}" and headers["content-length"] == "1000"
    status, headers, body = raw(lan.url, root(lan) + "/bedtime.mp3", headers={"Range": "bytes=-64"})
    assert status == 206 and body == audio[-64:]
    status, headers, body = raw(lan.url, root(lan) + "/bedtime.mp3", headers={"Range": f"bytes={len(audio) - 10}-"})
    assert status == 206 and body == audio[-10:]
    status, headers, _ = raw(lan.url, root(lan) + "/bedtime.mp3", headers={"Range": f"bytes={len(audio) + 5}-"})
    assert status == 416 and headers["content-range"] == f"bytes */{len(audio)}"


def test_one_log_line_per_request_without_the_token(lan):
    before = len(lan.lines)
    raw(lan.url, root(lan) + "/bedtime.mp3", headers={"Range": "bytes=0-9"})
    raw(lan.url, "/guess/bedtime.mp3")
    raw(lan.url, root(lan) + "/bedtime.mp3", "DELETE")
    deadline = time.monotonic() + 10          # a line is written once its response has gone out
    while len(lan.lines) < before + 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    new = sorted(lan.lines[before:], key=lambda line: line.split()[1:3])
    assert len(new) == 3, new
    assert re.fullmatch(r"127\.0\.0\.1 DELETE /<token>/bedtime\.mp3 405 \d+B \d+ms", new[0]), new[0]
    assert re.fullmatch(r"127\.0\.0\.1 GET /<token>/bedtime\.mp3 206 10B \d+ms", new[1]), new[1]
    assert re.fullmatch(r"127\.0\.0\.1 GET /guess/bedtime\.mp3 404 \d+B \d+ms", new[2]), new[2]
    assert not any(lan.token in line for line in lan.lines)
    assert shown_path("/a\x1b[2Jb", None) == "/a\\x1b[2Jb"                  # no terminal escapes in the log


def test_the_rate_limit_answers_429_then_lets_the_client_back(served):
    now = [0.0]
    serving = start(served, host="127.0.0.1", lan=True, limit=RateLimit(rate=1.0, burst=3, clock=lambda: now[0]),
                    log_line=lambda line: None)
    try:
        statuses = [raw(serving.url, root(serving) + "/bedtime.mp3", "HEAD")[0] for _ in range(3)]
        status, headers, _ = raw(serving.url, root(serving) + "/bedtime.mp3")
        assert statuses == [200, 200, 200] and status == 429 and int(headers["retry-after"]) >= 1
        assert raw(serving.url, "/wrong-token/bedtime.mp3")[0] == 429        # guessing is slowed down too
        now[0] += 1.0
        assert raw(serving.url, root(serving) + "/bedtime.mp3", "HEAD")[0] == 200
    finally:
        serving.stop()


def test_rate_limit_buckets_are_per_client_and_refill():
    now = [0.0]
    limit = RateLimit(rate=2.0, burst=2, clock=lambda: now[0])
    assert [limit.allow("a"), limit.allow("a")] == [0.0, 0.0] and limit.allow("a") == pytest.approx(0.5)
    assert limit.allow("b") == 0.0
    now[0] += 0.5
    assert limit.allow("a") == 0.0 and limit.allow("a") > 0


def test_without_lan_there_is_no_token_but_only_this_address_is_answered(served):
    serving = start(served, host="127.0.0.1", log_line=lambda line: None)
    try:
        assert serving.token is None and serving.url == f"http://127.0.0.1:{serving.port}/"
        assert raw(serving.url, "/bedtime.mp3")[2] == (served / "bedtime.mp3").read_bytes()
        assert raw(serving.url, "/bedtime.mp3", headers={"Host": f"localhost:{serving.port}"})[0] == 200
        status, _, body = raw(serving.url, "/bedtime.mp3", headers={"Host": f"evil.example:{serving.port}"})
        assert status == 403 and "Host" in json.loads(body)["error"]                 # DNS rebinding
        assert raw(serving.url, "/../outside/secret.mp3")[0] == 404
        assert raw(serving.url, "/bedtime.mp3", "POST")[0] == 405
    finally:
        serving.stop()
    with pytest.raises(OSError):
        raw(serving.url, "/bedtime.mp3")


def test_the_token_is_kept_in_a_hidden_file_so_a_subscribed_phone_keeps_working(tmp_path):
    first = folder_token(tmp_path)
    assert len(first) >= 22 and folder_token(tmp_path) == first
    assert (tmp_path / TOKEN_FILE).stat().st_mode & 0o077 == 0                  # only its owner reads it
    renewed = folder_token(tmp_path, new=True)
    assert renewed != first and folder_token(tmp_path) == renewed
    (tmp_path / TOKEN_FILE).write_text("short\n")                               # tampered: a new one
    assert folder_token(tmp_path) not in ("short", renewed)


def test_a_missing_folder_is_one_line(tmp_path):
    from voiceguide.errors import VoiceguideError
    with pytest.raises(VoiceguideError, match="no such folder"):
        start(tmp_path / "nowhere")


def test_the_feed_is_made_with_the_served_address_and_every_link_in_it_is_fetchable(lan, served):
    feedparser = pytest.importorskip("feedparser", reason="feedparser (the dev extra) parses the feed")
    from urllib.parse import urlsplit
    from voiceguide.feed import write_feed
    write_feed(served)                            # as `render --feed` leaves the folder: feed.xml + sidecars
    (served / "bedtime.txt").write_text("Hello.\n")
    status, headers, body = raw(lan.url, root(lan) + "/feed.xml")
    assert status == 200 and headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert raw(lan.url, root(lan) + "/feed.xml", "HEAD")[2] == b""
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "sessions" and [e.title for e in feed.entries] == ["Bedtime"]
    entry = feed.entries[0]
    enclosure = entry.enclosures[0]
    audio = (served / "bedtime.mp3").read_bytes()
    assert enclosure.href == lan.url + "bedtime.mp3" and int(enclosure.length) == len(audio)
    links = [enclosure.href, entry.image.href, feed.feed.image.href]
    links += re.findall(rb'<podcast:(?:chapters|transcript) url="([^"]+)"', body)
    assert len(links) == 6, links                  # audio, two covers, chapters, vtt and txt transcripts
    for link in links:
        link = link.decode() if isinstance(link, bytes) else link
        assert link.startswith(lan.url), link                      # the served address, token included
        status, _, fetched = raw(lan.url, urlsplit(link).path)
        assert status == 200 and fetched == (served / Path(urlsplit(link).path).name).read_bytes(), link
    chapters = json.loads(raw(lan.url, root(lan) + "/bedtime.chapters.json")[2])
    assert [c["title"] for c in chapters["chapters"]] == ["One", "Two"]
    # The feed follows the address the phone used (here: another name for this machine).
    other = raw(lan.url, root(lan) + "/feed.xml", headers={"Host": f"localhost:{lan.port}"})[2]
    assert feedparser.parse(other).entries[0].enclosures[0].href == f"http://localhost:{lan.port}/{lan.token}/bedtime.mp3"
    # A transcript as text beside its audio is served; other text files are not.
    assert raw(lan.url, root(lan) + "/bedtime.txt")[2] == b"Hello.\n"
    assert raw(lan.url, root(lan) + "/notes.txt")[0] == 404


def test_an_empty_folder_has_an_empty_feed(tmp_path):
    feedparser = pytest.importorskip("feedparser", reason="feedparser (the dev extra) parses the feed")
    serving = start(tmp_path, host="127.0.0.1", log_line=lambda line: None)
    try:
        status, _, body = raw(serving.url, "/feed.xml")
        assert status == 200 and feedparser.parse(body).entries == []
        assert feedparser.parse(body).feed.links[0].href.startswith(serving.url)
    finally:
        serving.stop()
