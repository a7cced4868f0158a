"""Batch rendering: manifests and their errors at FILE:LINE, folders, variants, content hashes,
then real renders (-j 2, resume, a failing item, Ctrl-C) with tiny routines and pyttsx3."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path

import pytest
from click.testing import CliRunner
from mutagen.mp3 import MP3

from voiceguide.batch import (
    STATE_NAME, ManifestError, State, format_summary, load_manifest, plan_batch, run_batch,
)
from voiceguide.cli import main
from voiceguide.errors import VoiceguideError
from conftest import routine_text

pytestmark = pytest.mark.usefixtures("cache_env")     # the module's warm cache, also for the CLI's batches

ROOT = Path(__file__).resolve().parent.parent
TINY = """\
# One
Relax your hands. [pause 1s]
Well done.
"""


def write_routine(folder: Path, name: str, body: str = TINY, front: str = 'title = "Tiny"\nambient = "none"') -> Path:
    path = folder / f"{name}.routine.md"
    path.write_text(routine_text(body, front))
    return path


def write(folder: Path, text: str, name: str = "batch.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def problems(exc: pytest.ExceptionInfo) -> list[str]:
    return [str(p) for p in exc.value.problems]


# ---------------------------------------------------------------------------------------------
# Manifests


def test_sessions_defaults_and_variants(tmp_path):
    write_routine(tmp_path, "hands")
    manifest = write(tmp_path, """\
[defaults]
ambient = "pink"
speed = 0.9

[[session]]
routine = "hands.routine.md"
speed = [0.8, 1.2]
voice = ["joe", "gmw/en-gb-x-rp"]

[[session]]
routine = "desk-break"
output = "desk"
length = "3m"
format = "wav"
""")
    items = load_manifest(manifest, defaults={"engine": "pyttsx3", "ambient": "white", "format": "flac"})
    assert [i.name for i in items] == [
        "hands-speed0.8-joe.flac", "hands-speed0.8-en-gb-x-rp.flac",
        "hands-speed1.2-joe.flac", "hands-speed1.2-en-gb-x-rp.flac", "desk.wav"]
    first, desk = items[0], items[-1]
    assert first.routine == str((tmp_path / "hands.routine.md").resolve())
    assert (first.options["speed"], first.options["voice"]) == (0.8, "joe")
    assert first.options["ambient"] == "pink"            # manifest [defaults] over the command line
    assert first.options["engine"] == "pyttsx3"          # command line where the manifest says nothing
    assert desk.routine == "desk-break" and desk.options["length"] == 180.0 and desk.options["speed"] == 0.9
    assert (desk.where.file, desk.where.line) == (str(manifest), 12)   # its output line


def test_every_mistake_is_reported_at_its_line(tmp_path):
    manifest = write(tmp_path, """\
[defaults]
ambiant = "brown"
routine = "bedtime"

[[session]]
routine = "bedtime"
speed = 3
loudness = "loud"
engine = ["piper", "pyttsx3"]

[[session]]
routine = "no-such-routine"

[[session]]
routine = "bedtime"
output = "night.mp3"

[[session]]
speed = 1.0
""")
    with pytest.raises(ManifestError) as exc:
        load_manifest(manifest)
    f = str(manifest)
    assert problems(exc) == [
        f"{f}:2: unknown key 'ambiant' in [defaults] (did you mean 'ambient'?)",
        f"{f}:3: 'routine' belongs in a [[session]], not in [defaults]",
        f"{f}:7: speed: 3 is out of range (0.5 to 2)",
        f"{f}:8: loudness: must be a number from -40 to -6 LUFS",
        f"{f}:9: engine: only speed, voice, ambient, length can list variants",
        f"{f}:12: routine: no built-in routine 'no-such-routine' and no file {tmp_path / 'no-such-routine'} "
        f"(built-ins: athlete, bedtime, cold-hands, daily, desk-break, gentle, hand-massage, hands-at-work, "
        f"musician, stiff-hands, stress-relief)",
        f"{f}:16: output: write the name without an extension; the format sets it (format = \"mp3\")",
        f"{f}:18: this session has no routine = \"NAME or FILE\"",
    ]


@pytest.mark.parametrize("text, line, message", [
    ('[[session]]\nroutine = "bedtime"\nspeed = \n', 3, "invalid TOML: Invalid value"),
    ('[session]\nroutine = "bedtime"\n', 1, "write [[session]] (two brackets) for each session"),
    ('[[sesion]]\nroutine = "bedtime"\n', 1, "unknown key 'sesion' (did you mean 'session'?)"),
    ('[defaults]\nspeed = 1.0\n', 1, "no [[session]] in the manifest (see docs/batch.md)"),
    ('[[session]]\nroutine = "bedtime"\nspeed = []\n', 3, "speed: an empty list makes no variants"),
    ('[[session]]\nroutine = "bedtime"\nlength = "12x"\n', 3, "length: bad duration '12x'"),
    ('[[session]]\nroutine = "bedtime"\nspeed = [1.0, 1.0]\n', 3, "speed: a variant is listed twice"),
    ('[[session]]\nroutine = "bedtime"\nmono = "yes"\n', 3, "mono: must be true or false"),
    ('[[session]]\nroutine = "bedtime"\nformat = "mp4a"\n', 3, "format: unknown format 'mp4a'"),
    ('[defaults]\nengine = "pipr"\n[[session]]\nroutine = "bedtime"\n', 2, "engine: unknown engine 'pipr'"),
    ('[[session]]\nroutine = "bedtime"\noutput = "../up"\n', 3, "output: '../up' must be a plain file name"),
    ('[[session]]\nroutine = "missing.routine.md"\n', 2, "routine: no such file"),
])
def test_one_mistake(tmp_path, text, line, message):
    manifest = write(tmp_path, text)
    with pytest.raises(ManifestError) as exc:
        load_manifest(manifest)
    assert len(exc.value.problems) == 1
    assert str(exc.value).startswith(f"{manifest}:{line}: {message}")


def test_two_items_writing_one_file_are_refused_before_any_work(tmp_path):
    manifest = write(tmp_path, """\
[[session]]
routine = "bedtime"
speed = [0.8, 1.0]

[[session]]
routine = "desk-break"
output = "bedtime-speed0.8"

[[session]]
routine = "gentle"
output = "BEDTIME-SPEED1"
""")
    with pytest.raises(ManifestError) as exc:
        plan_batch(manifest, tmp_path / "out")
    assert problems(exc) == [
        f"{manifest}:7: output 'bedtime-speed0.8.mp3' is also written by the session at line 1",
        f"{manifest}:11: output 'BEDTIME-SPEED1.mp3' is also written by the session at line 1",
    ]
    assert not (tmp_path / "out").exists()


def test_folder_mode_finds_routines_and_names_outputs(tmp_path):
    folder = tmp_path / "routines"
    folder.mkdir()
    write_routine(folder, "desk-reset")
    write_routine(folder, "wind-down")
    (folder / "notes.md").write_text("not a routine")
    (folder / "sub").mkdir()
    write_routine(folder / "sub", "nested")
    batch = plan_batch(folder, tmp_path / "out", {"speed": 1.1})
    assert [i.name for i in batch.items] == ["desk-reset.mp3", "wind-down.mp3"]
    assert all(i.options["speed"] == 1.1 and i.output == (tmp_path / "out" / i.name).resolve() for i in batch.items)
    assert all(len(i.digest) == 64 and not i.error for i in batch.items)


def test_source_must_be_a_manifest_or_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(VoiceguideError, match="no \\*.routine.md files in this folder"):
        plan_batch(tmp_path / "empty", tmp_path / "out")
    with pytest.raises(VoiceguideError, match="not a manifest"):
        plan_batch(write_routine(tmp_path, "x"), tmp_path / "out")
    with pytest.raises(VoiceguideError, match="no such manifest or folder"):
        plan_batch(tmp_path / "nothing", tmp_path / "out")


def test_paths_are_relative_to_the_manifest(tmp_path, monkeypatch):
    (tmp_path / "sounds").mkdir()
    (tmp_path / "sounds" / "rain.wav").write_bytes(b"RIFF")
    (tmp_path / "lib").mkdir()
    write_routine(tmp_path / "lib", "hands")
    manifest = write(tmp_path, '[[session]]\nroutine = "lib/hands.routine.md"\nambient = ["sounds/rain.wav", "ocean"]\n')
    monkeypatch.chdir(tmp_path / "lib")
    items = load_manifest(manifest)
    assert [i.name for i in items] == ["hands-rain.mp3", "hands-ocean.mp3"]
    assert items[0].options["ambient"] == str((tmp_path / "sounds" / "rain.wav").resolve())
    assert items[0].routine == str((tmp_path / "lib" / "hands.routine.md").resolve())


def test_the_example_manifest_plans(tmp_path):
    batch = plan_batch(ROOT / "examples" / "variants.toml", tmp_path)
    assert [i.name for i in batch.items] == [
        "bedtime-speed0.8.mp3", "bedtime-speed1.mp3", "desk-ocean-length3m.mp3", "desk-ocean-length4m.mp3",
        "desk-pink-length3m.mp3", "desk-pink-length4m.mp3", "stress-relief.m4b"]
    assert not [i.error for i in batch.items if i.error]
    assert batch.items[2].expected == 180.0


def test_the_docs_show_the_example_manifest():
    text = (ROOT / "docs" / "batch.md").read_text()
    shown = text.split("```toml\n", 1)[1].split("```", 1)[0]
    example = (ROOT / "examples" / "variants.toml").read_text()
    assert example.endswith(shown) and shown.startswith("[defaults]")


def test_the_hash_follows_routine_and_options_only(tmp_path):
    write_routine(tmp_path, "hands")
    manifest = write(tmp_path, '[[session]]\nroutine = "hands.routine.md"\nspeed = [0.9, 1.0]\n')
    first = plan_batch(manifest, tmp_path / "out").items
    again = plan_batch(manifest, tmp_path / "elsewhere").items
    assert [i.digest for i in first] == [i.digest for i in again]          # not the folder
    assert first[0].digest != first[1].digest                              # the option
    write_routine(tmp_path, "hands", TINY.replace("Well done.", "Well done indeed."))
    changed = plan_batch(manifest, tmp_path / "out").items
    assert changed[0].digest != first[0].digest                            # the text


def test_the_hash_follows_an_added_phrase_table(tmp_path, monkeypatch):
    """A routine in a language whose table the user added (script/phrasefiles.py): its words
    ("30s" -> "trenta secondi") are spoken, so editing the table renders the item again."""
    docs = (ROOT / "docs" / "voices.md").read_text(encoding="utf-8")
    italian = docs.split("```toml\n", 1)[1].split("```", 1)[0]
    table = tmp_path / "data" / "phrases" / "it.toml"
    table.parent.mkdir(parents=True)
    table.write_text(italian, encoding="utf-8")
    monkeypatch.setenv("VOICEGUIDE_DATA_DIR", str(tmp_path / "data"))
    write_routine(tmp_path, "mani", "# Mano\nMassaggia il palmo 30s.\n",
                  'title = "Mani"\nlanguage = "it"\nambient = "none"\nengine = "pyttsx3"')
    manifest = write(tmp_path, '[[session]]\nroutine = "mani.routine.md"\n')
    (first,) = plan_batch(manifest, tmp_path / "out").items
    assert first.error == "" and first.digest
    assert plan_batch(manifest, tmp_path / "out").items[0].digest == first.digest      # unchanged
    table.write_text(italian.replace('"secondi"', '"secondi lenti"'), encoding="utf-8")
    assert plan_batch(manifest, tmp_path / "out").items[0].digest != first.digest      # its words


def test_a_routine_with_mistakes_is_one_failed_item(tmp_path):
    folder = tmp_path / "routines"
    folder.mkdir()
    write_routine(folder, "good")
    bad = write_routine(folder, "bad", "# One\nRelax. [pause 5x]\nAnd more. [rest]\n")
    manifest = write(tmp_path, '[[session]]\nroutine = "desk-break"\nlength = "1m"\n')
    batch = plan_batch(folder, tmp_path / "out")
    errors = {i.name: i.error for i in batch.items}
    assert errors["good.mp3"] == ""
    assert errors["bad.mp3"].startswith(f"{bad}:6: ") and errors["bad.mp3"].endswith("(and 1 more problem)")
    too_short = plan_batch(manifest, tmp_path / "out").items[0]
    assert too_short.error.startswith(f"{manifest}:1: cannot fit the session into 1m")


# ---------------------------------------------------------------------------------------------
# Real renders


def audio_seconds(path: Path) -> float:
    if path.suffix == ".wav":
        with wave.open(str(path)) as w:
            return w.getnframes() / w.getframerate()
    return MP3(path).info.length


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, speech_cache):
    """A -j 2 batch of two tiny sessions (MP3, WAV) and one that fails in its worker."""
    folder = tmp_path_factory.mktemp("batch")
    write_routine(folder, "a")
    write_routine(folder, "b", TINY.replace("Well done.", "Shake them out. [pause 2s]\nWell done."))
    manifest = write(folder, """\
[defaults]
engine = "pyttsx3"

[[session]]
routine = "a.routine.md"

[[session]]
routine = "b.routine.md"
format = "wav"

[[session]]
routine = "a.routine.md"
output = "broken"
voice = "no-such-voice"
""")
    batch = plan_batch(manifest, folder / "out")
    results = run_batch(batch, jobs=2, cache=speech_cache)
    return folder, manifest, batch, results


def test_a_parallel_batch_writes_every_output(rendered):
    folder, _, batch, results = rendered
    by_name = {r.item.name: r for r in results}
    assert [r.item.name for r in results] == ["a.mp3", "b.wav", "broken.mp3"]
    for name in ("a.mp3", "b.wav"):
        result, path = by_name[name], folder / "out" / name
        assert result.status == "ok", result.message
        assert abs(audio_seconds(path) - result.duration) < 0.1
        assert 3 < result.duration < 30
    assert (folder / "out" / "a.mp3").read_bytes()[:3] in (b"ID3", b"\xff\xfb")
    assert (folder / "out" / "b.wav").read_bytes()[8:12] == b"WAVE"
    assert by_name["b.wav"].duration > by_name["a.mp3"].duration + 2     # its extra sentence and pause
    state = json.loads((folder / "out" / STATE_NAME).read_text())
    assert set(state["items"]) == {"a.mp3", "b.wav"}
    assert not [p for p in (folder / "out").iterdir() if ".part" in p.name]


def test_a_failing_item_does_not_stop_the_others(rendered):
    folder, _, _, results = rendered
    broken = results[-1]
    assert broken.status == "failed" and "no-such-voice" in broken.message and "\n" not in broken.message
    assert not (folder / "out" / "broken.mp3").exists()
    summary = format_summary(results)
    assert summary.splitlines()[-1] == "3 items: 2 rendered, 0 up to date, 1 failed"


def test_resume_skips_what_is_up_to_date_and_renders_what_changed(rendered, cache_env):
    folder, manifest, batch, _ = rendered
    before = {n: (folder / "out" / n).stat().st_mtime_ns for n in ("a.mp3", "b.wav")}
    again = run_batch(plan_batch(manifest, folder / "out"), jobs=2, cache=cache_env)
    assert [r.status for r in again] == ["skipped", "skipped", "failed"]
    assert again[0].duration > 0                                   # remembered, not measured
    manifest.write_text(manifest.read_text().replace('format = "wav"', 'format = "wav"\nspeed = 1.3'))
    changed = run_batch(plan_batch(manifest, folder / "out"), jobs=1, cache=cache_env)
    assert [r.status for r in changed] == ["skipped", "ok", "failed"]
    assert (folder / "out" / "a.mp3").stat().st_mtime_ns == before["a.mp3"]
    assert (folder / "out" / "b.wav").stat().st_mtime_ns != before["b.wav"]
    assert changed[1].duration < again[1].duration                 # faster speech, shorter session
    state = State.load(folder / "out")
    assert state.up_to_date("b.wav", changed[1].item.digest) and not state.up_to_date("b.wav", batch.items[1].digest)


def test_a_deleted_output_is_rendered_again(rendered):
    folder, manifest, _, _ = rendered
    plan = plan_batch(manifest, folder / "out")
    state = State.load(folder / "out")
    assert state.up_to_date("a.mp3", plan.items[0].digest)
    (folder / "out" / "a.mp3").unlink()
    assert not State.load(folder / "out").up_to_date("a.mp3", plan.items[0].digest)


def test_a_killed_render_process_fails_only_its_item(tmp_path):
    import multiprocessing
    import threading

    folder = tmp_path / "routines"
    folder.mkdir()
    for name in ("k1", "k2", "k3"):        # long holds: encoding takes a while, so it can be caught
        write_routine(folder, name, "# One\nRelax your hands. [hold 300s]\nWell done.\n")
    out = tmp_path / "out"
    batch = plan_batch(folder, out, {"engine": "pyttsx3"})
    results: list = []
    runner = threading.Thread(target=lambda: results.extend(run_batch(batch, jobs=2)))
    runner.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not encoding(out):
        time.sleep(0.02)
    workers = [p for p in multiprocessing.active_children() if p.name == "voiceguide-batch"]
    assert len(workers) == 2
    os.kill(workers[0].pid, signal.SIGKILL)                 # as the out-of-memory killer would
    runner.join(120)
    assert sorted(r.status for r in results) == ["failed", "ok", "ok"]
    failed = next(r for r in results if r.status == "failed")
    assert failed.message == "its render process stopped (exit status -9)"
    assert sorted(p.name for p in out.iterdir()) == sorted([STATE_NAME, *(r.item.name for r in results if r.status == "ok")])


# ---------------------------------------------------------------------------------------------
# The command


def test_cli_renders_skips_and_forces(tmp_path):
    folder = tmp_path / "routines"
    folder.mkdir()
    write_routine(folder, "desk-reset")
    runner = CliRunner()
    args = ["batch", str(folder), "-o", str(tmp_path / "out"), "--engine", "pyttsx3", "--format", "wav"]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert (tmp_path / "out" / "desk-reset.wav").is_file()
    assert "desk-reset.wav  ok" in first.output and "1 item: 1 rendered, 0 up to date, 0 failed" in first.output
    second = runner.invoke(main, args)
    assert second.exit_code == 0 and "1 item: 0 rendered, 1 up to date, 0 failed" in second.output
    forced = runner.invoke(main, [*args, "--force", "-q"])
    assert forced.exit_code == 0 and forced.output == ""
    assert json.loads((tmp_path / "out" / STATE_NAME).read_text())["items"]["desk-reset.wav"]["duration"] > 3


def test_cli_manifest_errors_are_lines_with_status_2(tmp_path):
    manifest = write(tmp_path, '[[session]]\nroutine = "bedtime"\nsped = 0.8\n\n[[session]]\nroutine = "nope"\n')
    result = CliRunner().invoke(main, ["batch", str(manifest), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"{manifest}:3: unknown key 'sped' in [[session]] (did you mean 'speed'?)",
        f"{manifest}:6: routine: no built-in routine 'nope' and no file {tmp_path / 'nope'} "
        f"(built-ins: athlete, bedtime, cold-hands, daily, desk-break, gentle, hand-massage, hands-at-work, "
        f"musician, stiff-hands, stress-relief)"]
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_cli_failed_items_are_one_line_each_and_status_2(tmp_path):
    folder = tmp_path / "routines"
    folder.mkdir()
    bad = write_routine(folder, "bad", "# One\nRelax. [pause 5x]\n")
    result = CliRunner().invoke(main, ["batch", str(folder), "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 2
    assert result.output == f"bad.mp3: {bad}:6: [pause]: bad duration '5x' (write e.g. 500ms, 5s, 1.5s, 2m, 1m30s)\n"


def test_cli_option_mistakes_fail_before_any_work(tmp_path):
    """The settings schema's check runs as click parses the option: the same words as a
    manifest's mistake, under click's usage line, and nothing is made."""
    write_routine(tmp_path, "one")
    result = CliRunner().invoke(main, ["batch", str(tmp_path), "-o", str(tmp_path / "out"), "--engine", "pipr"])
    assert result.exit_code == 2
    assert "Invalid value for '--engine': unknown engine 'pipr' (choose from auto, piper, pyttsx3)" in result.output
    assert not (tmp_path / "out").exists()


def test_cli_scheduler_without_distributed_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)      # import distributed -> ImportError
    result = CliRunner().invoke(main, ["batch", str(tmp_path), "-o", str(tmp_path / "out"),
                                       "--scheduler", "tcp://127.0.0.1:8786"])
    assert result.exit_code == 2
    assert result.output == ("--scheduler needs the distributed package: "
                             "install it with: pip install 'voiceguide[distributed]'\n")


def encoding(out: Path) -> bool:
    """A render is well into encoding: its temporary output has real audio in it. (Not just
    created: a Ctrl-C while ffmpeg is being started is a separate race, in export/encode.py.)"""
    try:
        return any(".part" in p.name and p.stat().st_size > 32768 for p in out.iterdir())
    except OSError:
        return False


def test_ctrl_c_exits_130_and_leaves_no_partial_output(tmp_path, cache_env):
    folder = tmp_path / "routines"
    folder.mkdir()
    for name in ("long-a", "long-b"):      # long holds: encoding takes a while, so it can be caught
        write_routine(folder, name, "# One\nRelax your hands. [hold 600s]\nWell done.\n")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "voiceguide", "batch", str(folder), "-o", str(out),
                             "--engine", "pyttsx3", "-j", "2", "-q"], cwd=ROOT, start_new_session=True,
                            env=dict(os.environ, VOICEGUIDE_CACHE_DIR=str(cache_env)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not encoding(out):
        time.sleep(0.02)
    assert encoding(out), "no render got to encoding"
    os.killpg(proc.pid, signal.SIGINT)                     # what Ctrl-C in a terminal does
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err == "voiceguide: batch cancelled; finished outputs are kept, nothing partial was written\n"
    left = sorted(p.name for p in out.iterdir())
    assert not [n for n in left if ".part" in n]
    for name in left:                                      # anything there is complete and recorded
        if name.endswith(".mp3"):
            assert name in json.loads((out / STATE_NAME).read_text())["items"]
