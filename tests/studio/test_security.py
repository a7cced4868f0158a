"""Every security rule of the studio, each with a hostile request; the server keeps serving."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from voiceguide.studio import security

from api_support import AUTH, folder, make_studio, studio, tiny_routine  # noqa: F401  (fixtures)

OUTSIDE_TEXT = tiny_routine("Outside")


def test_a_foreign_host_is_refused_for_every_method(studio):
    for host in ("evil.example:8765", "127.0.0.1:9999", "evil.example", "127.0.0.1"):
        r = studio.client.get("/api/routines", headers={"Host": host})
        assert r.status_code == 403, host
        assert "Host" in r.json()["error"]
        r = studio.client.put("/api/routines/x", headers={"Host": host}, json={"text": "x"})
        assert r.status_code == 403
    assert not (studio.folder / "x.routine.md").exists()
    assert studio.serving()


def test_the_loopback_names_of_the_served_port_are_answered(studio):
    for host in ("127.0.0.1:8765", "localhost:8765", "[::1]:8765", "LOCALHOST:8765"):
        assert studio.client.get("/api/settings", headers={"Host": host}).status_code == 200, host


def test_a_foreign_origin_is_refused(studio):
    for origin in ("http://evil.example", "http://127.0.0.1:9999", "null", "https://127.0.0.1:8765"):
        r = studio.client.post("/api/routines", json={"name": "made"}, headers={"Origin": origin})
        assert r.status_code == 403, origin
        assert "Origin" in r.json()["error"]
        assert studio.client.get("/api/routines", headers={"Origin": origin}).status_code == 403
    assert not (studio.folder / "made.routine.md").exists()
    r = studio.client.post("/api/routines", json={"name": "made"}, headers={"Origin": "http://127.0.0.1:8765"})
    assert r.status_code == 201
    assert studio.serving()


@pytest.mark.parametrize("method,path,body", [
    ("PUT", "/api/routines/mine", {"text": OUTSIDE_TEXT}),
    ("POST", "/api/routines", {"name": "mine"}),
    ("POST", "/api/validate", {"text": OUTSIDE_TEXT}),
    ("POST", "/api/render", {"text": OUTSIDE_TEXT, "name": "mine"}),
    ("DELETE", "/api/jobs/0123", None),
])
def test_changing_requests_need_the_token(studio, method, path, body):
    for headers in ({}, {"X-Voiceguide-Token": "wrong"}, {"X-Voiceguide-Token": ""},
                    {"X-Voiceguide-Token": AUTH["X-Voiceguide-Token"] + "x"}):
        r = studio.bare.request(method, path, json=body, headers=headers)
        assert r.status_code == 403, headers
        assert "X-Voiceguide-Token" in r.json()["error"]
    assert os.listdir(studio.folder) == []
    assert studio.serving()


def test_get_needs_no_token_but_the_token_is_compared_in_constant_time(studio, monkeypatch):
    assert studio.bare.get("/api/routines").status_code == 200
    compared = []
    real = security.hmac.compare_digest
    monkeypatch.setattr(security.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or real(a, b))
    assert studio.bare.post("/api/validate", json={"text": "x"}, headers={"X-Voiceguide-Token": "nope"}).status_code == 403
    assert compared == [(b"nope", AUTH["X-Voiceguide-Token"].encode())]


def test_an_oversized_body_is_refused_declared_or_streamed(studio):
    big = b'{"text": "' + b"a" * (security.MAX_BODY + 10) + b'"}'
    r = studio.client.post("/api/validate", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "1,048,576" in r.json()["error"]

    def chunks():                              # no Content-Length: counted as it arrives
        yield b'{"text": "'
        for _ in range(20):
            yield b"a" * 65536
        yield b'"}'
    r = studio.client.put("/api/routines/big", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert not (studio.folder / "big.routine.md").exists()
    r = studio.client.post("/api/validate", content=b"{}", headers={"Content-Length": "abc"})
    assert r.status_code == 400
    assert studio.serving()


@pytest.mark.parametrize("name", ["../x", "..", "%2e%2e", "/etc/passwd", "..\\x", "a/b", "x.routine.md",
                                  "-dash", "", "a" * 65, "nul\x00"])
def test_routine_names_are_checked_not_joined(studio, name, tmp_path):
    r = studio.client.post("/api/routines", json={"name": name})
    assert r.status_code == 400 and "not a routine name" in r.json()["error"]
    r = studio.client.post("/api/render", json={"name": name})
    assert r.status_code == 400
    r = studio.client.post("/api/validate", json={"text": OUTSIDE_TEXT, "name": name})
    assert r.status_code == 400
    assert os.listdir(studio.folder) == []
    assert {p.name for p in tmp_path.iterdir()} <= {"store", "studio"}
    assert studio.serving()


@pytest.mark.parametrize("path", ["/api/routines/..%2Fx", "/api/routines/%2e%2e", "/api/routines/..%5Cx",
                                  "/api/routines/%2Fetc%2Fpasswd", "/api/routines/a.b"])
def test_traversal_in_urls_finds_nothing(studio, path, tmp_path):
    (tmp_path / "x.routine.md").write_text(OUTSIDE_TEXT)
    r = studio.client.get(path)
    assert r.status_code in (400, 404), r.text
    assert "error" in r.json()
    r = studio.client.put(path, json={"text": "changed"})
    assert r.status_code in (400, 404, 405)
    assert (tmp_path / "x.routine.md").read_text() == OUTSIDE_TEXT
    assert studio.serving()


def test_a_symlinked_routine_that_leads_out_is_refused_and_not_listed(studio, tmp_path):
    outside = tmp_path / "outside.routine.md"
    outside.write_text(OUTSIDE_TEXT)
    (studio.folder / "evil.routine.md").symlink_to(outside)
    (studio.folder / "loop.routine.md").symlink_to(studio.folder / "loop.routine.md")
    names = [r["name"] for r in studio.client.get("/api/routines").json()]
    assert "evil" not in names and "loop" not in names
    r = studio.client.get("/api/routines/evil")
    assert r.status_code == 403 and "outside" in r.json()["error"]
    assert studio.client.put("/api/routines/evil", json={"text": "x", "force": True}).status_code == 403
    assert studio.client.post("/api/render", json={"name": "evil"}).status_code == 403
    assert studio.client.post("/api/routines", json={"name": "evil"}).status_code == 403
    assert outside.read_text() == OUTSIDE_TEXT
    assert studio.serving()


def test_a_symlink_inside_the_folder_is_followed(studio):
    (studio.folder / "real.routine.md").write_text(OUTSIDE_TEXT)
    (studio.folder / "alias.routine.md").symlink_to(studio.folder / "real.routine.md")
    assert studio.client.get("/api/routines/alias").json()["text"] == OUTSIDE_TEXT


def _with_ambient(value: str) -> str:
    return f'+++\ntitle = "Rain"\nambient = "{value}"\n+++\n# One\nHands resting.\n'


@pytest.fixture
def sound_outside(tmp_path) -> Path:
    path = tmp_path / "rain.wav"
    path.write_bytes(b"RIFF....WAVE")      # never decoded: refused before
    return path


@pytest.mark.parametrize("how", ["relative", "absolute", "symlink"])
def test_an_ambient_file_outside_the_folder_is_refused(studio, sound_outside, how):
    value = {"relative": "../rain.wav", "absolute": str(sound_outside), "symlink": "link.wav"}[how]
    if how == "symlink":
        (studio.folder / "link.wav").symlink_to(sound_outside)
    text = _with_ambient(value)
    problems = studio.client.post("/api/validate", json={"text": text, "name": "rain"}).json()["problems"]
    assert [(p["line"], "outside the studio folder" in p["message"]) for p in problems] == [(3, True)]
    assert problems[0]["text"].startswith("rain.routine.md:3: ambient ")
    for route, extra in (("/api/render", {}), ("/api/preview", {"event": 0})):
        r = studio.client.post(route, json={"text": text, "name": "rain", **extra})
        assert r.status_code == 400, route
        assert r.json()["error"].startswith("rain.routine.md:3: ambient ") and "\n" not in r.json()["error"]
    r = studio.client.post("/api/render", json={"text": tiny_routine(), "name": "ok", "settings": {"chime": value}})
    assert r.status_code == 400 and r.json()["error"].startswith("chime ")
    assert not any(p.suffix == ".mp3" for p in studio.folder.iterdir())
    assert studio.serving()


@pytest.mark.parametrize("name", ["../outside.mp3", "..%2Foutside.mp3", "%2Ftmp%2Foutside.mp3", ".hidden.mp3",
                                  "notes.txt", "sub%2Fx.mp3", "link.mp3", "x.routine.md"])
def test_files_are_served_only_from_the_folder(studio, tmp_path, name):
    (tmp_path / "outside.mp3").write_bytes(b"ID3 outside")
    (studio.folder / ".hidden.mp3").write_bytes(b"ID3 hidden")
    (studio.folder / "notes.txt").write_text("private")
    (studio.folder / "x.routine.md").write_text(OUTSIDE_TEXT)
    (studio.folder / "sub").mkdir()
    (studio.folder / "sub" / "x.mp3").write_bytes(b"ID3 sub")
    (studio.folder / "link.mp3").symlink_to(tmp_path / "outside.mp3")
    for route in ("/files/", "/api/renders/"):
        r = studio.client.get(route + name)
        assert r.status_code == 404, (route, name)
        assert b"ID3" not in r.content and b"private" not in r.content
    assert "link.mp3" not in [r["file"] for r in studio.client.get("/api/renders").json()]
    assert studio.serving()


def test_broken_text_and_bad_requests_are_one_line_400s(studio):
    cases = [
        ("/api/validate", b"{not json"), ("/api/validate", b"[1, 2]"), ("/api/validate", b'{"text": 5}'),
        ("/api/plan", b'{"text": "+++\\ntitle = \\"x\\"\\n+++\\n[paws 3s]\\n"}'),
        ("/api/plan", b'{"text": "x", "settings": []}'), ("/api/render", b'{"text": 1}'),
        ("/api/routines", b'{"name": "ok", "from": 3}'), ("/api/preview", b'{"text": "x", "event": "1"}'),
        ("/api/validate", "\xff".encode("latin-1")),
    ]
    for path, body in cases:
        r = studio.client.post(path, content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (path, body, r.text)
        assert "\n" not in r.json()["error"] and "Traceback" not in r.text
    assert studio.serving()


def test_unknown_jobs_routines_and_routes_are_json_404s(studio):
    for method, path in (("GET", "/api/jobs/nope"), ("GET", "/api/jobs/nope/events"), ("GET", "/api/jobs/nope/file"),
                         ("DELETE", "/api/jobs/nope"), ("GET", "/api/routines/nobody"), ("GET", "/api/nothing"),
                         ("GET", "/static/nothing.js"), ("GET", "/api/renders/none.mp3")):
        r = studio.client.request(method, path)
        assert r.status_code == 404, path
        assert isinstance(r.json()["error"], str)
    r = studio.client.get("/api/validate")
    assert r.status_code == 405 and "GET" in r.json()["error"]
    assert studio.serving()


def test_an_unexpected_error_is_a_500_without_traceback(studio, monkeypatch):
    def broken() -> None:
        raise RuntimeError("disk on fire\nsecond line")
    monkeypatch.setattr(studio.state.folder, "listing", broken)
    r = studio.client.get("/api/routines")
    assert r.status_code == 500
    assert r.json() == {"error": "internal error: disk on fire"}
    assert studio.serving()


def test_pages_cannot_be_framed_or_sniffed(studio):
    r = studio.client.get("/api/settings")
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"


def test_allowed_hosts_follow_the_served_address():
    assert security.allowed_hosts("127.0.0.1", 8765) == ["127.0.0.1:8765", "localhost:8765", "[::1]:8765"]
    assert security.allowed_hosts("192.168.1.5", 9000) == ["192.168.1.5:9000"]
    assert security.allowed_hosts("::1", 80) == ["[::1]:80", "[::1]", "127.0.0.1:80", "127.0.0.1", "localhost:80",
                                                 "localhost"]
