"""The CLI through click's CliRunner: output, exit statuses, and no tracebacks."""
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from voiceguide import builtin_names, load_routine
from voiceguide.cli import main
from conftest import routine_text


@pytest.fixture
def run():
    def _run(*args: str):
        result = CliRunner().invoke(main, list(args))
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        return result
    return _run


def test_list_shows_every_builtin_with_who_it_suits(run):
    result = run("list")
    assert result.exit_code == 0
    for name in builtin_names():
        assert name in result.output
    assert result.output.count("For: ") == len(builtin_names())
    assert result.output.count("Caution: ") == len(builtin_names())


def test_show_prints_the_script(run):
    name = builtin_names()[0]
    result = run("show", name)
    assert result.exit_code == 0 and result.output.startswith("+++")


def test_show_unknown(run):
    result = run("show", "nope")
    assert result.exit_code == 2 and "no built-in routine 'nope'" in result.output


def test_new_writes_a_valid_starter_and_will_not_overwrite(run, tmp_path):
    target = tmp_path / "mine.routine.md"
    assert run("new", str(target)).exit_code == 0
    load_routine(target)  # parses
    assert run("validate", str(target)).exit_code == 0
    again = run("new", str(target))
    assert again.exit_code == 2 and "already exists" in again.output
    assert run("new", str(target), "--force").exit_code == 0
    assert [p.name for p in tmp_path.iterdir()] == ["mine.routine.md"]  # no temp files left


def test_validate_reports_every_file_and_fails_with_2(run, tmp_path):
    good = tmp_path / "good.routine.md"
    bad = tmp_path / "bad.routine.md"
    good.write_text(routine_text("Hello.\n"))
    bad.write_text(routine_text("Hi. [hold]\n\n[rest]\n", 'title = "T"\nspeed = 5'))
    result = run("validate", str(good), str(bad))
    assert result.exit_code == 2
    assert f"{good}: ok" in result.output
    assert f"{bad}:3: speed: " in result.output
    assert f"{bad}:5: [hold]: write [hold 30s]" in result.output
    assert f"{bad}:7: unknown directive [rest]" in result.output


def test_validate_missing_file(run, tmp_path):
    result = run("validate", str(tmp_path / "absent.routine.md"))
    assert result.exit_code == 2 and "no such file" in result.output


def test_plan_table_has_sections_times_and_total(run):
    result = run("plan", "desk-break")
    assert result.exit_code == 0
    assert "START" in result.output and "Total: " in result.output
    assert "== " in result.output and "hold" in result.output


def test_plan_json_is_the_stable_schema(run, tmp_path):
    path = tmp_path / "r.routine.md"
    path.write_text(routine_text("# One\nHello there. [hold 10s]\n"))
    data = json.loads(run("plan", str(path), "--json").output)
    assert data["title"] == "Test" and data["sections"][0]["title"] == "One"
    assert [e["kind"] for e in data["events"]] == ["pause", "say", "pause", "say", "hold", "chime", "pause"]
    assert data["total"] == pytest.approx(sum(e["duration"] for e in data["events"]))


def test_plan_speed_and_length_options(run):
    slow = json.loads(run("plan", "desk-break", "--json", "--speed", "0.6").output)
    fast = json.loads(run("plan", "desk-break", "--json", "--speed", "1.8").output)
    assert slow["total"] > fast["total"]
    fitted = json.loads(run("plan", "desk-break", "--json", "--length", "3m").output)
    assert fitted["total"] == pytest.approx(180.0, abs=0.001)


@pytest.mark.parametrize("args, message", [
    (("plan", "desk-break", "--length", "1s"), "cannot fit the session into 1s"),
    (("plan", "desk-break", "--speed", "9"), "Invalid value for '--speed'"),
    (("plan", "desk-break", "--length", "soon"), "bad duration 'soon'"),
    (("plan", "no-such-routine"), "no built-in routine 'no-such-routine'"),
    (("plan", "missing/file.routine.md"), "missing/file.routine.md: no such file"),
])
def test_plan_errors_are_one_line_exit_2(run, args, message):
    result = run(*args)
    assert result.exit_code == 2 and message in result.output


def test_plan_of_a_folder_is_an_error(run, tmp_path):
    result = run("plan", str(tmp_path) + "/")
    assert result.exit_code == 2 and "is a folder" in result.output


def test_plan_png_draws_a_picture(run, tmp_path):
    target = tmp_path / "plan.png"
    result = run("plan", "desk-break", "--png", str(target))
    assert result.exit_code == 0
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert [p.name for p in tmp_path.iterdir()] == ["plan.png"]


def test_cache_info_and_clear_cover_speech_clips_play_starts_and_calibrations(run, private_cache):
    import numpy as np
    from voiceguide.sound.clips import ClipStore
    from voiceguide.store import VOICES, Store

    store = ClipStore(private_cache)
    from voiceguide.live.warm import StartCache

    store.put(store.key(np.ones(100, np.float32), 22050, 44100, -20.0), np.zeros(10, np.float32))
    StartCache(private_cache).put(StartCache.key("start"), head=np.zeros(10, np.float32))
    Store(private_cache).put(VOICES, "ab" * 32, b"{}")
    info = run("cache", "info")
    assert info.exit_code == 0 and "1 prepared clips" in info.output and str(private_cache) in info.output
    assert "1 live-play starts" in info.output and "1 voice calibrations" in info.output
    cleared = run("cache", "clear")
    assert cleared.exit_code == 0 and "1 prepared clips, 1 live-play starts and 1 voice calibrations" in cleared.output
    after = run("cache", "info").output
    assert "0 prepared clips" in after and "0 live-play starts" in after and "0 voice calibrations" in after


@pytest.mark.parametrize("writes_audio", [False, True])
def test_a_cancelled_render_says_whether_the_audio_was_written(run, tmp_path, monkeypatch, writes_audio):
    import voiceguide.to_file

    out = tmp_path / "out.mp3"

    def cancelled(routine, output, settings, outputs, resources, **kwargs):
        if writes_audio:                      # the audio is in place; Ctrl-C during the sidecars
            output.write_bytes(b"audio")
        raise KeyboardInterrupt

    monkeypatch.setattr(voiceguide.to_file, "render", cancelled)
    result = run("render", "desk-break", "-o", str(out), "--transcript", "vtt")
    assert result.exit_code == 130
    said = result.output.strip()
    if writes_audio:
        assert said == (f"voiceguide: render cancelled; {out} is complete, its transcript, timeline "
                        f"or picture may be missing")
    else:
        assert said == "voiceguide: render cancelled; nothing was written" and not out.exists()
