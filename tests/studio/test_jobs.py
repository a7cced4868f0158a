"""Render jobs end to end with the real voice: progress over server-sent events, the finished
file (measured), its chapters and transcript, the queue, cancelling (nothing partial is left),
failures, and the sweep of what a killed studio left."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from voiceguide.export.tags import read_chapters

from api_support import folder, leftovers, make_studio, tiny_routine  # noqa: F401  (fixtures)

mutagen = pytest.importorskip("mutagen")


def events_of(stream_text: str) -> list[tuple[str, dict]]:
    """(event, data) of a text/event-stream body."""
    out = []
    for block in stream_text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((fields["event"], json.loads(fields["data"])))
    return out


@pytest.fixture
def warm(folder, speech_cache, make_studio):
    return make_studio(folder, speech_cache)


def render(studio, **body) -> str:
    r = studio.client.post("/api/render", json=body)
    assert r.status_code == 202, r.text
    return r.json()["job"]


def wait_state(studio, job: str, states: tuple[str, ...], timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = studio.client.get(f"/api/jobs/{job}").json()
        if info["state"] in states:
            return info
        time.sleep(0.05)
    raise AssertionError(f"job {job} never reached {states}: {info}")


def test_a_render_streams_progress_and_ends_with_the_file_its_chapters_and_cues(warm):
    job = render(warm, text=tiny_routine("Tiny hands"), name="tiny", format="mp3")
    stream = warm.client.get(f"/api/jobs/{job}/events")
    assert stream.headers["content-type"].startswith("text/event-stream")
    events = events_of(stream.text)
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "done" and kinds.count("done") == 1 and set(kinds[:-1]) == {"progress"}
    percents = [data["percent"] for kind, data in events if kind == "progress"]
    assert percents == sorted(percents) and all(0 <= p < 100 for p in percents)
    assert {data["phase"] for kind, data in events if kind == "progress"} >= {"voice", "encode"}
    done = events[-1][1]
    path = warm.folder / "tiny.mp3"
    assert done["file"] == "tiny.mp3" and done["url"] == "/files/tiny.mp3" and done["transcript_url"] == "/files/tiny.vtt"
    measured = mutagen.File(path).info.length
    assert abs(measured - done["duration"]) < 0.1 and measured > 3
    assert [c["title"] for c in done["chapters"]] == ["One", "Two"]
    assert [c.title for c in read_chapters(path)] == ["One", "Two"]
    assert done["chapters"][-1]["end"] == pytest.approx(done["duration"], abs=0.01)
    assert [c["text"] for c in done["cues"]] == ["One.", "Hands resting.", "Two.", "Breathe out slowly.", "Well done."]
    assert (warm.folder / "tiny.vtt").is_file() and leftovers(warm.folder) == []
    info = warm.client.get(f"/api/jobs/{job}").json()
    assert info == {"id": job, "state": "done", "phase": "encode", "percent": 100.0, "eta": 0.0, "file": "tiny.mp3",
                    "error": None}
    file = warm.client.get(f"/api/jobs/{job}/file")
    assert file.content == path.read_bytes() and file.headers["content-disposition"].startswith("attachment")
    again = events_of(warm.client.get(f"/api/jobs/{job}/events").text)       # a late listener: the end only
    assert again == [("done", done)]

    listing = warm.client.get("/api/renders").json()
    assert [(r["file"], r["transcript"]) for r in listing] == [("tiny.mp3", "tiny.vtt")]
    assert abs(listing[0]["duration"] - measured) < 0.05
    info = warm.client.get("/api/renders/tiny.mp3").json()
    assert [c["title"] for c in info["chapters"]] == ["One", "Two"]
    assert [(c["text"], c["start"]) for c in info["cues"]] == [(c["text"], c["start"]) for c in done["cues"]]

    second = render(warm, text=tiny_routine("Tiny hands"), name="tiny", format="mp3")
    assert wait_state(warm, second, ("done", "failed"))["file"] == "tiny-2.mp3"
    third = render(warm, text=tiny_routine("Tiny hands"), name="tiny", format="ogg")   # tiny.vtt is taken
    assert wait_state(warm, third, ("done", "failed"))["file"] == "tiny-3.ogg"
    assert (warm.folder / "tiny-2.vtt").is_file() and (warm.folder / "tiny-3.vtt").is_file()
    assert [c.title for c in read_chapters(warm.folder / "tiny-3.ogg")] == ["One", "Two"]


def test_a_saved_or_built_in_routine_renders_by_name_and_text_is_named_from_its_title(warm):
    (warm.folder / "mine.routine.md").write_text(tiny_routine("Mine"))
    job = render(warm, name="mine", format="wav", settings={"sample_rate": 16000, "mono": True})
    assert wait_state(warm, job, ("done", "failed"))["file"] == "mine.wav"
    info = mutagen.File(warm.folder / "mine.wav").info
    assert info.sample_rate == 16000 and info.channels == 1
    job = render(warm, text=tiny_routine("Hands, at night!"))
    assert wait_state(warm, job, ("done", "failed"))["file"] == "Hands-at-night.mp3"
    assert warm.client.post("/api/render", json={"name": "nobody"}).status_code == 404
    r = warm.client.post("/api/render", json={"name": "mine", "format": "aiff"})
    assert r.status_code == 400 and "format" in r.json()["error"]
    r = warm.client.post("/api/render", json={"text": "+++\ntitle = \"x\"\n+++\n[hold]\n", "name": "bad"})
    assert r.status_code == 400 and r.json()["problems"][0]["line"] == 4
    r = warm.client.post("/api/render", json={"text": tiny_routine() + "[hold 5h]\n", "name": "endless"})
    assert r.status_code == 400 and r.json()["error"].startswith("endless.routine.md:11: the session would run")
    assert not (warm.folder / "endless.mp3").exists()


class Stalled:
    """A render whose progress stops at the first report of `stage` until the job is cancelled
    (or `release` is set): a cancel that lands exactly mid-voice or mid-encode, every time."""

    def __init__(self, studio, stage: str):
        self.studio, self.stage = studio, stage
        self.reached, self.release = threading.Event(), threading.Event()
        self.temp_files: list[str] = []
        real = studio.state.jobs.render

        def render(routine, output, *, progress, **options):
            def report(stage: str, done: float, total: float) -> None:
                if stage == self.stage and not self.reached.is_set():
                    job = next(j for j in studio.state.jobs._jobs.values() if j.output == Path(output))
                    self.temp_files = leftovers(studio.folder)
                    self.reached.set()
                    deadline = time.monotonic() + 60
                    while not (job.cancel.is_set() or self.release.is_set()) and time.monotonic() < deadline:
                        time.sleep(0.01)
                progress(stage, done, total)
            return real(routine, output, progress=report, **options)

        studio.state.jobs.render = render


@pytest.mark.parametrize("stage", ["voice", "encode"])
def test_cancelling_leaves_nothing_partial(folder, tmp_path, make_studio, stage):
    studio = make_studio(folder, tmp_path / "cold-store")      # cold: the voice really works
    stalled = Stalled(studio, stage)
    job = render(studio, text=tiny_routine(), name="cut", format="m4b" if stage == "encode" else "mp3")
    events: list = []
    listener = threading.Thread(target=lambda: events.extend(events_of(studio.client.get(f"/api/jobs/{job}/events").text)))
    listener.start()
    assert stalled.reached.wait(120)
    if stage == "encode":
        assert any(name.startswith(".cut.") for name in stalled.temp_files), stalled.temp_files   # mid-encode
    r = studio.client.delete(f"/api/jobs/{job}")
    assert r.status_code == 200 and r.json() == {"state": "cancelled"}
    listener.join(30)
    assert [kind for kind, _ in events][-1] == "cancelled" and [k for k, _ in events].count("cancelled") == 1
    assert sorted(p.name for p in folder.iterdir()) == []
    assert studio.client.get(f"/api/jobs/{job}/file").status_code == 404
    assert studio.client.delete(f"/api/jobs/{job}").json() == {"state": "cancelled"}
    assert studio.serving()


def test_jobs_wait_in_a_queue_and_a_queued_job_cancels_at_once(warm):
    stalled = Stalled(warm, "voice")
    first = render(warm, text=tiny_routine(), name="first")
    assert stalled.reached.wait(60)
    second = render(warm, text=tiny_routine(), name="second")
    assert warm.client.get(f"/api/jobs/{second}").json()["state"] == "queued"
    assert warm.client.get(f"/api/jobs/{first}").json()["state"] == "running"
    assert warm.client.delete(f"/api/jobs/{second}").json() == {"state": "cancelled"}
    assert events_of(warm.client.get(f"/api/jobs/{second}/events").text) == [("cancelled", {})]
    stalled.release.set()                                      # let the first one finish
    assert wait_state(warm, first, ("done", "failed", "cancelled"))["state"] == "done"
    assert not (warm.folder / "second.mp3").exists()


def test_a_failed_render_says_why_in_one_line(warm):
    (warm.folder / "noise.wav").write_bytes(b"not audio at all" * 100)
    text = '+++\ntitle = "T"\nambient = "noise.wav"\n+++\n# One\nHands resting.\n'
    job = render(warm, text=text, name="failing")
    events = events_of(warm.client.get(f"/api/jobs/{job}/events").text)
    assert events[-1][0] == "failed"
    error = events[-1][1]["error"]
    assert "noise.wav" in error and "\n" not in error
    assert warm.client.get(f"/api/jobs/{job}").json()["error"] == error
    assert sorted(p.name for p in warm.folder.iterdir()) == ["noise.wav"]


def test_the_studio_sweeps_what_a_killed_studio_left(folder, tmp_path, make_studio):
    dead = 99_999_999                                      # no such process
    left = [folder / f".session.{dead}.abcd1234.part.mp3", folder / f".session.{dead}.abcd1234.part.ffmeta"]
    mine = folder / ".notes.txt"
    for path in (*left, mine):
        path.write_bytes(b"half")
    make_studio(folder, tmp_path / "store")
    assert sorted(p.name for p in folder.iterdir()) == [".notes.txt"]
