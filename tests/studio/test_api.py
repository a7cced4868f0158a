"""The studio's HTTP API through Starlette's test client: every endpoint, happy paths and errors."""
from __future__ import annotations

import hashlib
import io
import re
import time
import wave

import pytest
from click.testing import CliRunner

from voiceguide import library, settings
from voiceguide.cli import main
from voiceguide.limits import DEFAULT_LIMITS
from voiceguide.starter import STARTER

from api_support import AUTH, folder, leftovers, make_studio, studio, tiny_routine  # noqa: F401  (fixtures)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_the_page_carries_the_token_and_the_built_ins(studio):
    r = studio.client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert f'<meta name="voiceguide-token" content="{AUTH["X-Voiceguide-Token"]}">' in r.text
    assert studio.client.head("/").status_code == 200


def test_settings_are_the_render_schema(studio):
    from voiceguide.voices.installed import suggested_voices
    assert studio.client.get("/api/settings").json() == settings.json_schema("render", {"voices": suggested_voices()})


def test_the_listing_has_folder_routines_first_and_a_copy_hides_its_built_in(studio):
    (studio.folder / "zz-mine.routine.md").write_text(tiny_routine("Zed"))
    (studio.folder / "bedtime.routine.md").write_text(tiny_routine("My bedtime"))
    (studio.folder / "broken.routine.md").write_text("+++\ntitle = \"B\"\n+++\n# A\nWords [paws 3s]\n")
    (studio.folder / "not a name.routine.md").write_text(tiny_routine())
    listing = studio.client.get("/api/routines").json()
    names = [(r["name"], r["builtin"]) for r in listing]
    builtins = [n for n in library.builtin_names() if n != "bedtime"]
    assert names == [("bedtime", False), ("broken", False), ("zz-mine", False), *((n, True) for n in builtins)]
    mine = listing[0]
    assert mine["title"] == "My bedtime" and mine["error"] is None
    assert mine["length"] > 3 and re.fullmatch(r"~\d+s", mine["length_text"])
    assert listing[1]["error"] == "broken.routine.md:5: unknown directive [paws 3s] (expected pause, hold, wait, " \
                                  "chime, breathe or caution)"
    assert listing[1]["length"] is None
    desk = next(r for r in listing if r["name"] == "desk-break")
    assert desk["description"] and desk["suits"] and desk["caution"] and desk["length"] > 60


def test_reading_a_routine_gives_its_text_and_version(studio):
    builtin = studio.client.get("/api/routines/bedtime").json()
    assert builtin == {"name": "bedtime", "text": library.builtin_text("bedtime"), "builtin": True,
                       "version": sha(library.builtin_text("bedtime"))}
    (studio.folder / "bedtime.routine.md").write_text("mine")
    assert studio.client.get("/api/routines/bedtime").json() == {"name": "bedtime", "text": "mine",
                                                                 "builtin": False, "version": sha("mine")}
    assert studio.client.get("/api/routines/nobody").status_code == 404
    (studio.folder / "latin.routine.md").write_bytes("+++\ntitle = \"Caf\xe9\"\n+++\n".encode("latin-1"))
    r = studio.client.get("/api/routines/latin")
    assert r.status_code == 400 and "not UTF-8" in r.json()["error"]
    (studio.folder / "huge.routine.md").write_bytes(b"a" * (DEFAULT_LIMITS.max_file_bytes + 1))
    assert studio.client.get("/api/routines/huge").status_code == 400
    errors = {r["name"]: r["error"] for r in studio.client.get("/api/routines").json()}
    assert errors["latin"] == "latin.routine.md:2: the file is not UTF-8 text (is it a routine script?)"
    assert errors["huge"].startswith("huge.routine.md:1: the file is 1,000,001 bytes")


def test_saving_is_atomic_and_refuses_to_overwrite_a_changed_file(studio):
    text = tiny_routine()
    r = studio.client.put("/api/routines/mine", json={"text": text, "version": None})
    assert r.status_code == 200 and r.json() == {"name": "mine", "version": sha(text), "problems": []}
    path = studio.folder / "mine.routine.md"
    assert path.read_text() == text and leftovers(studio.folder) == []
    edited = text + "More words.\n"
    r = studio.client.put("/api/routines/mine", json={"text": edited, "version": sha(text)})
    assert r.status_code == 200 and path.read_text() == edited
    path.write_text("changed by another editor")               # meanwhile, on disk
    r = studio.client.put("/api/routines/mine", json={"text": text, "version": sha(edited)})
    assert r.status_code == 409
    assert r.json() == {"error": "mine.routine.md changed on disk since it was opened; reload it or save with force",
                        "version": sha("changed by another editor")}
    assert path.read_text() == "changed by another editor"
    assert studio.client.put("/api/routines/mine", json={"text": text}).status_code == 409   # no version: exists
    r = studio.client.put("/api/routines/mine", json={"text": text, "version": sha(edited), "force": True})
    assert r.status_code == 200 and path.read_text() == text


def test_invalid_routines_can_be_saved_but_not_oversized_or_binary_text(studio):
    broken = "+++\ntitle = \"B\"\n+++\n# A\n[hold]\n"
    r = studio.client.put("/api/routines/wip", json={"text": broken})
    assert r.status_code == 200
    assert [p["text"] for p in r.json()["problems"]] == ["wip.routine.md:5: [hold]: write [hold 30s]"]
    assert (studio.folder / "wip.routine.md").read_text() == broken
    too_big = "a" * (DEFAULT_LIMITS.max_file_bytes + 1)
    r = studio.client.put("/api/routines/big", json={"text": too_big})
    assert r.status_code == 400 and "at most 1,000,000 bytes" in r.json()["error"]
    r = studio.client.put("/api/routines/nul", json={"text": "+++\x00"})
    assert r.status_code == 400 and "NUL" in r.json()["error"]
    for body in ({"text": 3}, {"text": "x", "version": 1}, {"text": "x", "force": "yes"}, {}):
        assert studio.client.put("/api/routines/typed", json=body).status_code == 400, body
    assert sorted(p.name for p in studio.folder.iterdir()) == ["wip.routine.md"]


def test_new_routines_come_from_the_starter_or_a_built_in(studio):
    r = studio.client.post("/api/routines", json={"name": "hands"})
    assert r.status_code == 201 and r.json() == {"name": "hands", "version": sha(STARTER)}
    assert (studio.folder / "hands.routine.md").read_text() == STARTER
    r = studio.client.post("/api/routines", json={"name": "desk", "from": "desk-break"})
    assert r.status_code == 201
    assert (studio.folder / "desk.routine.md").read_text() == library.builtin_text("desk-break")
    r = studio.client.post("/api/routines", json={"name": "hands", "from": "bedtime"})
    assert r.status_code == 409 and (studio.folder / "hands.routine.md").read_text() == STARTER
    r = studio.client.post("/api/routines", json={"name": "other", "from": "no-such-built-in"})
    assert r.status_code == 404 and not (studio.folder / "other.routine.md").exists()
    assert leftovers(studio.folder) == []


BROKEN_CASES = {
    "directives": "+++\ntitle = \"T\"\n+++\n# A\nWords. [paws 3s]\n[pause 0s]\n[breathe x]\n",
    "front matter": "+++\ntitle = \"T\"\nspeed = 9\nvoice = 3\n+++\n# A\nWords.\n",
    "no front matter": "# A\nWords.\n",
    "length": "+++\ntitle = \"T\"\nlength = \"2s\"\n+++\n# A\nA long sentence that takes far more than two seconds.\n",
    "ambient": "+++\ntitle = \"T\"\nambient = \"missing.wav\"\n+++\n# A\nWords.\n",
    "limit": "+++\ntitle = \"T\"\n+++\n# A\nWords.\n[hold 5h]\n",
    "section voice": "+++\ntitle = \"T\"\nengine = \"pyttsx3\"\n+++\n# A\nWords.\n\n# B {voice nobody-here}\nWords.\n",
}


@pytest.mark.parametrize("case", sorted(BROKEN_CASES))
def test_problems_are_what_voiceguide_validate_prints(studio, case, monkeypatch, tmp_path):
    text = BROKEN_CASES[case]
    problems = studio.client.post("/api/validate", json={"text": text, "name": "check"}).json()["problems"]
    (studio.folder / "check.routine.md").write_text(text)
    monkeypatch.chdir(studio.folder)
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(tmp_path / "store"))
    result = CliRunner().invoke(main, ["validate", "check.routine.md"])
    assert result.exit_code == 2
    assert [p["text"] for p in problems] == result.stderr.splitlines()
    for p in problems:
        assert p["text"] == f"check.routine.md:{p['line']}: {p['message']}"


def test_an_unknown_section_voice_is_marked_at_its_heading(studio):
    problems = studio.client.post("/api/validate", json={"text": BROKEN_CASES["section voice"], "name": "v"}).json()
    assert [(p["line"], p["message"].split(" (")[0]) for p in problems["problems"]] == \
        [(8, "unknown voice 'nobody-here'")]
    fixed = BROKEN_CASES["section voice"].replace("nobody-here", "gmw/en-gb-x-rp")
    assert studio.client.post("/api/validate", json={"text": fixed, "name": "v"}).json()["problems"] == []


def test_a_fine_routine_has_no_problems(studio):
    for name in ("desk-break", "bedtime"):
        r = studio.client.post("/api/validate", json={"text": library.builtin_text(name), "name": name})
        assert r.json() == {"problems": [], "warnings": []}      # the built-ins lint clean too


def test_warnings_are_what_validate_lint_prints(studio, monkeypatch, tmp_path):
    text = ("+++\ntitle = \"T\"\n+++\n# A\nCircle your wrists ten times each way. [hold 6s]\n\n"
            "Rest your hands. [hold 5s]\n\nStroke each finger from base to tip. [hold 3s]\n")
    answer = studio.client.post("/api/validate", json={"text": text, "name": "check"}).json()
    (studio.folder / "check.routine.md").write_text(text)
    monkeypatch.chdir(studio.folder)
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(tmp_path / "store"))
    result = CliRunner().invoke(main, ["validate", "--lint", "check.routine.md"])
    assert result.exit_code == 0 and answer["problems"] == []
    assert [w["line"] for w in answer["warnings"]] == [5, 9]
    assert [w["text"] for w in answer["warnings"]] == [l for l in result.stderr.splitlines() if ": warning: " in l]
    broken = text + "[hold forever]\n"             # a routine that does not parse has problems, not warnings
    answer = studio.client.post("/api/validate", json={"text": broken, "name": "check"}).json()
    assert answer["problems"] and answer["warnings"] == []


def routine_of_500_lines() -> tuple[str, list[int]]:
    """A 500-line routine with a mistake on three lines, and those lines."""
    lines = ["+++", 'title = "Long"', 'ambient = "none"', "+++", ""]
    section = 0
    while len(lines) < 500:
        section += 1
        lines += [f"# Section {section}", f"Rest your hands and breathe slowly, round {section}.",
                  "Stroke each finger from the base to the tip. [pause 2s]", "[hold 10s]",
                  "Press gently on the palm for a moment.", "[breathe 2]", "", "<!-- a comment -->", ""]
    lines = lines[:500]
    lines[119], lines[300], lines[449] = "[rest 3s]", "[hold]", "[pause soon]"
    return "\n".join(lines) + "\n", [120, 301, 450]


def test_validating_500_lines_finds_each_problem_at_its_line(studio):
    text, wrong = routine_of_500_lines()
    assert text.count("\n") == 500
    (studio.folder / "long.routine.md").write_text(text)
    with pytest.raises(library.RoutineError) as raised:
        library.load_routine(studio.folder / "long.routine.md")
    problems = studio.client.post("/api/validate", json={"text": text, "name": "long"}).json()["problems"]
    assert [p["line"] for p in problems] == wrong
    assert [p["message"] for p in problems] == [p.message for p in raised.value.problems]
    fixed = text.replace("[rest 3s]", "[pause 3s]").replace("[hold]", "[hold 5s]").replace("[pause soon]", "")
    started = time.perf_counter()
    assert studio.client.post("/api/validate", json={"text": fixed, "name": "long"}).json()["problems"] == []
    print(f"validate, 500 valid lines, through the test client: {1000 * (time.perf_counter() - started):.1f} ms")


def test_the_plan_is_the_plan_json_schema_with_indices_and_lines(studio):
    text = library.builtin_text("desk-break")
    r = studio.client.post("/api/plan", json={"text": text, "name": "desk-break", "settings": {"speed": 1.2}})
    assert r.status_code == 200
    plan = r.json()
    routine = library.load_routine("desk-break")
    expected = library.plan_routine(routine, speed=1.2).to_json()
    assert [e["kind"] for e in plan["events"]] == [e["kind"] for e in expected["events"]]
    assert [s["title"] for s in plan["sections"]] == [s["title"] for s in expected["sections"]]
    assert plan["measured"] is False and plan["length_text"].startswith("~")
    assert [e["index"] for e in plan["events"]] == list(range(len(plan["events"])))
    lines = text.splitlines()
    said = [e for e in plan["events"] if e["kind"] == "say" and e["line"] is not None]
    assert said and all(e["text"].split()[0] in lines[e["line"] - 1] for e in said)
    slower = studio.client.post("/api/plan", json={"text": text, "settings": {"speed": 0.8}}).json()
    assert slower["total"] > plan["total"]


def test_plan_errors_name_the_line_or_the_setting(studio):
    r = studio.client.post("/api/plan", json={"text": "+++\ntitle = \"T\"\n+++\n# A\n[hold]\n", "name": "x"})
    assert r.status_code == 400
    assert r.json() == {"error": "x.routine.md:5: [hold]: write [hold 30s]",
                        "problems": [{"line": 5, "message": "[hold]: write [hold 30s]",
                                      "text": "x.routine.md:5: [hold]: write [hold 30s]"}]}
    text = tiny_routine()
    for given, error in (({"speed": 3}, "speed: 3 is out of range (0.5 to 2)"),
                         ({"speed": "fast"}, "speed: must be a number from 0.5 to 2"),
                         ({"colour": "red"}, "unknown setting 'colour'")):
        r = studio.client.post("/api/plan", json={"text": text, "settings": given})
        assert r.status_code == 400 and r.json()["error"].startswith(error), r.json()


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as w:
        return w.getnframes() / w.getframerate()


@pytest.fixture
def warm_studio(folder, speech_cache, make_studio):
    return make_studio(folder, speech_cache, preview_wait=0.5)


def test_a_preview_is_wav_with_its_place_in_the_session(warm_studio):
    text = tiny_routine()
    plan = warm_studio.client.post("/api/plan", json={"text": text, "name": "tiny"}).json()
    say = next(e for e in plan["events"] if e["kind"] == "say" and "Breathe" in e["text"])
    r = warm_studio.client.post("/api/preview", json={"text": text, "name": "tiny", "event": say["index"]})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/wav"
    duration = float(r.headers["x-voiceguide-duration"])
    assert abs(float(r.headers["x-voiceguide-start"]) - say["start"]) < 0.5
    assert abs(wav_seconds(r.content) - duration) < 0.05 and duration > 0.5
    whole = warm_studio.client.post("/api/preview", json={"text": text, "name": "tiny", "first": 60})
    assert whole.status_code == 200 and wav_seconds(whole.content) > wav_seconds(r.content)
    section = warm_studio.client.post("/api/preview", json={"text": text, "name": "tiny", "section": 1})
    assert section.status_code == 200 and float(section.headers["x-voiceguide-start"]) > 0


def test_preview_errors(warm_studio):
    text = tiny_routine()
    for extra, words in (({"event": 999}, "event 999 does not exist"), ({}, "exactly one"),
                         ({"event": 1, "first": 10}, "exactly one"), ({"first": -1}, "'first'"),
                         ({"event": True}, "'event'"), ({"event": 0, "settings": {"speed": 5}}, "speed")):
        r = warm_studio.client.post("/api/preview", json={"text": text, **extra})
        assert r.status_code == 400, extra
        assert words in r.json()["error"], r.json()


def test_previews_are_bounded(warm_studio):
    slots = warm_studio.state._previews
    assert slots.acquire(timeout=1) and slots.acquire(timeout=1)   # two previews are running
    try:
        r = warm_studio.client.post("/api/preview", json={"text": tiny_routine(), "event": 0})
        assert r.status_code == 503 and r.json()["error"].startswith("busy")
    finally:
        slots.release()
        slots.release()
    assert warm_studio.client.post("/api/preview", json={"text": tiny_routine(), "event": 0}).status_code == 200


def test_files_support_ranges_and_downloads(studio):
    (studio.folder / "session.mp3").write_bytes(bytes(range(256)) * 4)
    (studio.folder / "session.vtt").write_text("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello &amp; welcome\n")
    r = studio.client.get("/files/session.mp3", headers={"Range": "bytes=10-19"})
    assert r.status_code == 206 and r.content == bytes(range(10, 20))
    assert "content-disposition" not in r.headers
    r = studio.client.get("/files/session.mp3?download=1")
    assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment")
    assert len(r.content) == 1024
    r = studio.client.get("/files/session.vtt")
    assert r.headers["content-type"].startswith("text/vtt") and "Hello" in r.text
    info = studio.client.get("/api/renders/session.mp3").json()
    assert info["cues"] == [{"start": 0.0, "end": 1.5, "text": "Hello & welcome"}]
    assert info["chapters"] == [] and info["duration"] is None
    listing = studio.client.get("/api/renders").json()
    assert [(r["file"], r["transcript"], r["size"], r["url"]) for r in listing] == \
        [("session.mp3", "session.vtt", 1024, "/files/session.mp3")]
