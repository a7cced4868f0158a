"""Limits that protect the machine (voiceguide.limits), sound files checked before any speech,
and outputs that may never overwrite an input or each other."""
from __future__ import annotations

import dataclasses
import os
import stat
import wave
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from voiceguide.cli import main
from voiceguide.errors import VoiceguideError
from voiceguide.library import load_routine, plan_routine
from voiceguide.limits import DEFAULT_LIMITS, LimitError, Limits
from voiceguide import inputs
from voiceguide.api import render
from voiceguide.settings import cli_flag, resolve
from voiceguide.script.parse import RoutineError, parse_routine
from conftest import routine_text


def resolve_ambient(value, routine, from_routine=True):
    """The ambient setting as the front matter (or, not from_routine, an option) gives it."""
    return inputs.ambient(routine, resolve({}, {"ambient": value}) if from_routine else resolve({"ambient": value}))


def resolve_chime(value, routine, from_routine=True):
    return inputs.chime(routine, resolve({}, {"chime": value}) if from_routine else resolve({"chime": value}))

HOUR = 3600.0


def write(path: Path, body: str, front: str = 'title = "Test"') -> Path:
    path.write_text(routine_text(body, front), encoding="utf-8")
    return path


def tone_wav(path: Path, seconds: float, rate: int = 8000) -> Path:
    samples = (0.3 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * rate)) / rate) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return path


def cli(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


@pytest.fixture(autouse=True)
def no_synthesis(monkeypatch, private_cache):
    """Every check here must fail before a speech engine starts."""
    from voiceguide.voices import Narrator

    def refuse(*args, **kwargs):
        raise AssertionError("speech synthesis started")
    monkeypatch.setattr(Narrator, "prepare", refuse)
    monkeypatch.setattr(Narrator, "speech", refuse)
    monkeypatch.setenv("VOICEGUIDE_AUDIO_BACKEND", "null")


def test_defaults_are_one_frozen_place():
    assert DEFAULT_LIMITS == Limits(max_session=4 * HOUR, max_file_bytes=1_000_000, max_step_chars=2_000)
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_LIMITS.max_session = 1.0  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# File size and text per step


def test_file_size_is_checked_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "big.routine.md"
    path.write_bytes(routine_text("Hello.\n").encode() + b"x\n\n" * 1000)
    assert load_routine(path, Limits(max_file_bytes=5000)).meta.title == "Test"

    def no_reading(*args, **kwargs):
        raise AssertionError("the file was opened")
    monkeypatch.setattr(Path, "open", no_reading)
    monkeypatch.setattr(Path, "read_bytes", no_reading)
    with pytest.raises(RoutineError) as info:
        load_routine(path, Limits(max_file_bytes=1000))
    assert str(info.value) == f"{path}:1: the file is {path.stat().st_size:,} bytes; a routine script may be at most 1,000 bytes"


def test_text_per_step_is_reported_at_its_line():
    ok = "Rest. " * 333 + "Go."                     # 2,001 characters... minus the last space
    assert len(" ".join(ok.split())) == 2001
    with pytest.raises(RoutineError) as info:
        parse_routine(routine_text(f"# One\nFine.\n\n{ok}\n"), "r.md")
    assert [str(p) for p in info.value.problems] == [
        "r.md:7: this paragraph has 2,001 characters; a step may have at most 2,000 "
        "(split it into paragraphs with blank lines)"]
    fine = parse_routine(routine_text("Rest. " * 333 + "\n"), "r.md")
    assert len(fine.steps[0].text) == 1997


def test_text_limit_covers_headings_and_is_configurable():
    with pytest.raises(RoutineError) as info:
        parse_routine(routine_text("# A rather long title\nShort.\n\nA long paragraph here.\n"), "r.md",
                      Limits(max_step_chars=15))
    assert [(p.line, p.message.split(" has ")[0]) for p in info.value.problems] == [
        (4, "this heading"), (7, "this paragraph")]


# ---------------------------------------------------------------------------------------------
# Session length


def test_a_step_that_passes_the_session_limit_is_named(tmp_path):
    path = write(tmp_path / "long.routine.md", "# One\nRest.\n[hold 3h]\n\n[hold 2h]\n")
    routine = load_routine(path)
    with pytest.raises(LimitError) as info:
        plan_routine(routine)
    assert str(info.value).startswith(f"{path}:8: the session would run 5h")
    assert "over the 4h session limit (raise it with max_session)" in str(info.value)   # the library's name
    assert "(raise it with --max-session)" in info.value.spelled(cli_flag)                 # the CLI's
    assert plan_routine(routine, limits=Limits(max_session=6 * HOUR)).total > 5 * HOUR


def test_length_and_sleep_count(tmp_path):
    routine = load_routine(write(tmp_path / "r.routine.md", "Hello. [pause 1h]\n"))
    with pytest.raises(LimitError, match="^the requested length 5h is over the 4h session limit"):
        plan_routine(routine, length=5 * HOUR)
    assert plan_routine(routine, length=5 * HOUR, limits=Limits(max_session=6 * HOUR)).total == pytest.approx(5 * HOUR)
    with pytest.raises(LimitError, match=r"^the session would run 4h[0-9hms.]* with sleep 3h, over the 4h"):
        plan_routine(routine, sleep=3 * HOUR)
    with pytest.raises(LimitError, match="a 3h session plus sleep 2h is over"):
        plan_routine(routine, length=3 * HOUR, sleep=2 * HOUR)
    with pytest.raises(LimitError, match="^sleep 5h is over"):
        plan_routine(routine, sleep=5 * HOUR)


def test_front_matter_length_errors_point_at_its_line(tmp_path):
    path = write(tmp_path / "r.routine.md", "Hello.\n", 'title = "T"\ndescription = "x"\nlength = "5h"')
    with pytest.raises(LimitError, match=rf"^{path}:4: 'length' 5h is over the 4h session limit"):
        plan_routine(load_routine(path))
    path = write(tmp_path / "s.routine.md", "Hello.\n", 'title = "T"\nlength = "3h"')
    result = cli("plan", str(path))
    assert result.exit_code == 2 and result.stderr.startswith(f"{path}:3: cannot fit the session into 3h")


def test_cli_session_limit_flag_on_plan_and_validate(tmp_path):
    path = write(tmp_path / "r.routine.md", "Hello. [pause 1h]\n")
    over = cli("plan", str(path), "--length", "5h")
    assert over.exit_code == 2
    assert over.stderr == "the requested length 5h is over the 4h session limit (raise it with --max-session)\n"
    assert "Total: 5h" in cli("plan", str(path), "--length", "5h", "--max-session", "6h").stdout
    held = write(tmp_path / "held.routine.md", "Hello.\n[hold 5h]\n")
    refused = cli("validate", str(held))
    assert refused.exit_code == 2 and refused.stderr.startswith(f"{held}:5: the session would run 5h")
    assert cli("validate", str(held), "--max-session", "6h").exit_code == 0
    assert "Invalid value for '--max-session'" in cli("plan", str(path), "--max-session", "nan").stderr


def test_render_play_and_batch_share_the_flag(tmp_path):
    path = write(tmp_path / "r.routine.md", "Hello.\n", 'title = "T"\nambient = "none"')
    for command in ("render", "play", "batch"):
        assert "--max-session" in cli(command, "--help").stdout, command
    out = tmp_path / "out.wav"
    rendered = cli("render", str(path), "-o", str(out), "--sleep", "5h")
    assert rendered.exit_code == 2 and rendered.stderr == "--sleep 5h is over the 4h session limit (raise it with --max-session)\n"
    played = cli("play", str(path), "--length", "4h1s")
    assert played.exit_code == 2 and "over the 4h session limit" in played.stderr
    tight = cli("render", str(path), "-o", str(out), "--max-session", "1s")
    assert tight.exit_code == 2 and tight.stderr.startswith(f"{path}:5: the session would run")
    assert not out.exists()


def test_render_api_applies_the_limit_from_its_options(tmp_path):
    routine = load_routine(write(tmp_path / "r.routine.md", "Hello.\n[hold 5h]\n", 'title = "T"\nambient = "none"'))
    with pytest.raises(LimitError):
        render(routine, tmp_path / "out.wav")
    assert resolve({"max_session": 6 * HOUR}).limits.max_session == 6 * HOUR
    assert list(tmp_path.iterdir()) == [tmp_path / "r.routine.md"]


# ---------------------------------------------------------------------------------------------
# Ambient and chime files: checked before any speech, errors at the front-matter line


def test_ambient_file_from_the_front_matter_is_relative_to_the_routine(tmp_path, monkeypatch):
    folder = tmp_path / "routines"
    folder.mkdir()
    tone_wav(folder / "rain.wav", 1.0)
    routine = load_routine(write(folder / "r.routine.md", "Hello.\n", 'title = "T"\nambient = "rain.wav"'))
    assert resolve_ambient("rain.wav", routine) == str(folder / "rain.wav")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(VoiceguideError, match=r"^ambient 'rain.wav' is neither a bed"):
        resolve_ambient("rain.wav", routine, from_routine=False)    # an option: the working folder
    assert resolve_ambient("routines/rain.wav", routine, from_routine=False) == str(folder / "rain.wav")
    assert resolve_ambient("Brown", routine) == "Brown" and resolve_ambient("NONE", routine) == "NONE"


@pytest.mark.parametrize("make, says", [
    (lambda p: None, "is neither a bed (brown, drone, fire, ocean, pink, rain, stream, white, wind, none) nor a readable sound file"),
    (lambda p: p.write_text("not audio at all\n"), "is not a usable sound file: ffmpeg cannot decode it"),
    (lambda p: tone_wav(p, 0.05), "is not a usable sound file: it is too short (under 0.1 s)"),
    (lambda p: tone_wav(p, 0.0), "is not a usable sound file: it holds no audio"),
    (lambda p: p.mkdir(), "is not a file"),
    (lambda p: os.mkfifo(p), "is not a file"),
])
def test_bad_ambient_files_fail_at_the_ambient_line(tmp_path, make, says):
    make(tmp_path / "bed.wav")
    path = write(tmp_path / "r.routine.md", "Hello.\n", 'title = "T"\nspeed = 1.0\nambient = "bed.wav"')
    result = cli("render", str(path), "-o", str(tmp_path / "out.wav"))
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"{path}:4: ambient 'bed.wav'") and says in result.stderr
    assert not (tmp_path / "out.wav").exists()
    assert cli("validate", str(path)).stderr == result.stderr          # validate checks it too


def test_bad_chime_file_fails_at_the_chime_line_and_good_ones_resolve(tmp_path):
    (tmp_path / "ding.wav").write_bytes(b"RIFF not really")
    path = write(tmp_path / "r.routine.md", "Hello. [chime]\n", 'title = "T"\nchime = "ding.wav"\nambient = "none"')
    result = cli("play", str(path))
    assert result.exit_code == 2 and result.stderr.startswith(f"{path}:3: chime 'ding.wav'")
    routine = load_routine(path)
    tone_wav(tmp_path / "ding.wav", 0.3)
    assert resolve_chime("ding.wav", routine) == str(tmp_path / "ding.wav")
    assert resolve_chime("bell", routine) == "bell" and resolve_chime("None", routine) == "None"
    bad = cli("render", str(path), "-o", str(tmp_path / "o.wav"), "--chime", "nope")
    assert bad.stderr.startswith("--chime 'nope' is neither a chime (bowl, bell, wood, gong, none)")


# ---------------------------------------------------------------------------------------------
# Outputs never overwrite inputs or each other


def test_the_output_may_not_be_the_routine_even_with_force(tmp_path):
    path = write(tmp_path / "r.routine.md", "Hello.\n", 'title = "T"\nambient = "none"')
    before = path.read_bytes()
    link = tmp_path / "link.wav"
    link.symlink_to(path)
    for output, extra in ((path, ["--format", "wav"]), (link, []), (Path(f"{tmp_path}/./r.routine.md"), ["--format", "wav"])):
        result = cli("render", str(path), "-o", str(output), "--force", *extra)
        assert result.exit_code == 2, output
        assert "would overwrite the input" in result.stderr and str(path) in result.stderr
    for flag in ("--timeline", "--png"):
        result = cli("render", str(path), "-o", str(tmp_path / "o.wav"), flag, str(path), "--force")
        assert result.exit_code == 2 and f"the output ({flag}) would overwrite the input" in result.stderr
    png = cli("plan", str(path), "--png", str(path))
    assert png.exit_code == 2 and "--png would overwrite the routine itself" in png.stderr
    assert path.read_bytes() == before


def test_the_output_may_not_be_the_ambient_file(tmp_path):
    tone_wav(tmp_path / "bed.wav", 1.0)
    path = write(tmp_path / "r.routine.md", "Hello.\n", 'title = "T"\nambient = "bed.wav"')
    result = cli("render", str(path), "-o", str(tmp_path / "bed.wav"), "--force")
    assert result.exit_code == 2 and "would overwrite the input" in result.stderr


@pytest.mark.parametrize("extra, says", [
    (["-o", "x.vtt", "--format", "wav", "--transcript", "vtt"], "--transcript vtt and -o would write the same file"),
    (["-o", "x.wav", "--timeline", "x.wav"], "--timeline and -o would write the same file"),
    (["-o", "x.wav", "--timeline", "x.png", "--png", "x.png"], "--png and --timeline would write the same file"),
    (["-o", "x.wav", "--transcript", "txt", "--timeline", "x.txt"], "--timeline and --transcript txt would"),
])
def test_two_outputs_of_one_render_may_not_coincide(tmp_path, monkeypatch, extra, says):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path / "r.routine.md", "Hello.\n", 'title = "T"\nambient = "none"')
    result = cli("render", str(path), *extra, "--force")
    assert result.exit_code == 2 and says in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.routine.md"]


def test_devices_and_fifos_are_never_replaced(tmp_path):
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    path = write(tmp_path / "r.routine.md", "Hello.\n", 'title = "T"\nambient = "none"')
    for args in (["render", str(path), "-o", str(fifo), "--force"],
                 ["new", str(fifo), "--force"],
                 ["plan", str(path), "--png", str(fifo)]):
        result = cli(*args)
        assert result.exit_code == 2 and "is not a regular file" in result.stderr, args
        assert stat.S_ISFIFO(fifo.stat().st_mode), args


def test_missing_output_folder_is_one_line(tmp_path):
    path = write(tmp_path / "r.routine.md", "Hello.\n", 'title = "T"\nambient = "none"')
    result = cli("render", str(path), "-o", str(tmp_path / "no" / "x.wav"))
    assert result.exit_code == 2
    assert result.stderr == f"{tmp_path / 'no' / 'x.wav'}: cannot write: its folder {tmp_path / 'no'} does not exist\n"


def test_a_length_is_only_fitted_once_the_real_durations_are_known(tmp_path):
    """Before synthesis the durations are estimates: a length they cannot meet may still be
    met by the real voice, so the pre-synthesis plan checks the limit but does not fit."""
    from voiceguide.timeline import FitError
    routine = load_routine(str(write(tmp_path / "a.routine.md", "# A\n\nBreathe in slowly.\n\n[hold 30s]\n")))
    natural = plan_routine(routine).total
    with pytest.raises(FitError) as caught:
        plan_routine(routine, length=natural * 10)
    near = caught.value.longest * 1.1                    # out of reach of the estimates, not of a voice
    with pytest.raises(FitError):
        plan_routine(routine, length=near)
    unfitted = plan_routine(routine, length=near, fit=False)
    assert unfitted.total == pytest.approx(natural)
    with pytest.raises(FitError):                         # hopeless either way: refused at once
        plan_routine(routine, length=natural * 10, fit=False)
    with pytest.raises(LimitError):                       # the limit still applies
        plan_routine(routine, length=5 * HOUR, fit=False)
