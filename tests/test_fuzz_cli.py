"""Fuzzing every command with hypothesis: whatever the routine text and the arguments, the CLI
answers with exit 0, or with short error lines and exit 2 (3 for play and devices without audio),
never a traceback.

Runs in-process through click's CliRunner (a subprocess per example would be too slow here;
tests/test_nasty_files.py runs its corpus through real processes). Sessions are kept cheap:
every render and play gets a tiny `--max-session`, so a routine that happens to be valid fails
at the session limit before any speech is synthesized; a few valid routines are rendered for
real at the end. Arguments never contain NUL (argv cannot carry it) or '/' in output names (so
nothing is written outside the test's folder).
"""
from __future__ import annotations

import itertools
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, event, given, settings, strategies as st

from voiceguide import builtin_names
from voiceguide.cli import main

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NULL_AUDIO = {"VOICEGUIDE_AUDIO_BACKEND": "null"}
USAGE = re.compile(r"^(Usage: |Try '|Error: |\s*$)")
MAX_ERROR_LINES = 60          # 50 listed problems, "... and N more", and room for several files
_counter = itertools.count()


@pytest.fixture(scope="module", autouse=True)
def sandbox(tmp_path_factory):
    """A private cache (cache clear must never touch the user's) and a working folder."""
    base = tmp_path_factory.mktemp("fuzz")
    saved = {k: os.environ.get(k) for k in ("VOICEGUIDE_CACHE_DIR", *NULL_AUDIO)}
    os.environ["VOICEGUIDE_CACHE_DIR"] = str(base / "cache")
    os.environ.update(NULL_AUDIO)
    cwd = os.getcwd()
    os.chdir(base)
    yield base
    os.chdir(cwd)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def fresh_dir() -> Path:
    """A new empty folder for one example (hypothesis cannot use function-scoped tmp_path)."""
    path = Path.cwd() / f"ex{next(_counter)}"
    path.mkdir()
    return path


def invoke(args: list[str], allowed: tuple[int, ...] = (0, 2)) -> Result:
    """Run one command and check the house rules for its outcome."""
    result = CliRunner().invoke(main, args)
    shown = f"voiceguide {' '.join(map(repr, args))[:300]}"
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        f"{shown} raised {result.exception!r}"
    assert result.exit_code in allowed, f"{shown} exited {result.exit_code}: {result.output[-500:]}"
    assert "Traceback" not in result.output, shown
    event(f"exit {result.exit_code}" + (": session limit" if "session limit" in result.stderr else ""))
    if result.exit_code != 0:
        lines = result.stderr.splitlines()
        assert lines, f"{shown} failed without a message"
        if not any(line.startswith("Error: ") for line in lines):     # not a click usage error
            assert len(lines) <= MAX_ERROR_LINES, f"{shown}: {len(lines)} error lines"
            assert all(line.strip() for line in lines), f"{shown}: blank error line"
        else:
            assert all(USAGE.match(line) for line in lines[:-1]), result.stderr
    return result


# ---------------------------------------------------------------------------------------------
# Strategies

NASTY_DURATIONS = ["0s", "-5s", "nan", "inf", "nans", "infs", "1e308s", "999999h", "9" * 400 + "s",
                   "1h1h", "5", "s", "", " ", "1.s", "٣s", "5s", "1m30s", "500ms", "1e3s", "0.0001ms"]
DURATION_TEXT = st.one_of(st.sampled_from(NASTY_DURATIONS), st.text(max_size=12))
NUMBER_TEXT = st.one_of(st.sampled_from(["nan", "inf", "-inf", "1e308", "-0", "0.5", "2", "1", "abc", ""]),
                        st.floats(allow_nan=True, allow_infinity=True).map(repr))
ARG_TEXT = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=40)
NAME_TEXT = st.text(st.characters(blacklist_characters="\x00/\\", blacklist_categories=("Cs",)),
                    min_size=1, max_size=40).filter(lambda s: s not in (".", ".."))
TINY_LIMIT = st.sampled_from(["1ms", "1s", "1ms", "1s", "0s", "abc"])   # mostly valid, always tiny

FRONT_VALUES = st.sampled_from([
    'speed = "fast"', "speed = nan", "speed = 1e400", "speed = 0.7", "length = nan", "length = -1",
    "length = 1e308", 'length = "999999h"', 'length = "3m"', "length = 1" + "0" * 400, "length = true",
    'ambient = "nowhere.wav"', 'ambient = "none"', 'ambient = ""', 'chime = "nope"', 'chime = "none"',
    "ambient_volume = inf", "ambient_volume = -10", 'title = "\\u0000"', 'title = "\\u001b[31mred"',
    "x = " + "[" * 3000, 'voice = "\\n"', "[pronounce]\nfoo = 3", "[pronounce]\nfoo = \"fu\"", 'engine = ""',
    'description = """two\nlines"""', "title = 1979-05-27", '"weird\\nkey" = 1',
])
BODY_PIECES = st.sampled_from([
    "Hello there.", "[hold 5s]", "[pause 1ms]", "[pause 1e308s]", "[hold 999999h]", "[hold -1s]",
    "[breathe 5]", "[breathe ²]", "[breathe 100 in 999999h out 1s]", "[breathe " + "9" * 5000 + "]",
    "[chime]", "[chime x]", "[]", "[wait]", "# Title", "## Sides {sides}", "### Deep {silent}",
    "#### Too deep", "{side}", "{nope}", "{", "}", "[", "]", "<!--", "-->", "\t", "\x1b", "\x0c",
    "word " * 500, "# " + "a " * 1200, "+++", "\ufeff", "é", "\r\n", "\n\n",
])
BODY = st.lists(st.one_of(BODY_PIECES, ARG_TEXT), max_size=12).map("\n".join)
ROUTINE_TEXT = st.one_of(
    st.builds(lambda front, body: f'+++\ntitle = "Fuzz"\n{front}\n+++\n{body}\n',
              st.lists(FRONT_VALUES, max_size=3).map("\n".join), BODY),
    st.builds(lambda body: f'+++\ntitle = "Fuzz"\n+++\n{body}\n', BODY),
    ARG_TEXT,
)
VALID_ROUTINE = st.builds(
    lambda front, steps: f'+++\ntitle = "Valid"\n{front}\n+++\n# Start\n' + "\n\n".join(steps) + "\n",
    st.sampled_from(["", 'ambient = "none"', "speed = 1.5", 'length = "2m"', 'chime = "soft"']),
    st.lists(st.sampled_from(["Rest your hands.", "[pause 2s]", "[hold 5s]", "[breathe 2]", "[chime]",
                              "## Side {sides}\nRest your {side} hand."]), min_size=1, max_size=4))
ROUTINE_BYTES = st.one_of(ROUTINE_TEXT.map(lambda t: t.encode("utf-8")),
                          ROUTINE_TEXT.map(lambda t: t.encode("utf-16")),
                          st.binary(max_size=200))


@st.composite
def routine_ref(draw) -> str:
    """A built-in name, a routine file written for this example, a missing file, or any text."""
    kind = draw(st.sampled_from(["builtin", "valid", "file", "file", "file", "missing", "text"]))
    if kind == "builtin":
        return draw(st.sampled_from(builtin_names()))
    if kind == "valid":
        path = fresh_dir() / "v.routine.md"
        path.write_text(draw(VALID_ROUTINE), encoding="utf-8")
        return str(path)
    if kind == "missing":
        return f"missing-{next(_counter)}.routine.md"
    if kind == "text":
        return draw(ARG_TEXT)
    path = fresh_dir() / draw(st.sampled_from(["r.routine.md", "r.md", "r.txt", "r"]))
    path.write_bytes(draw(ROUTINE_BYTES))
    return str(path)


def session_options(draw) -> list[str]:
    """Options from render_options (shared by render, play and batch), each maybe present."""
    args: list[str] = []
    for flag, values in [("--speed", NUMBER_TEXT), ("--length", DURATION_TEXT), ("--sleep", DURATION_TEXT),
                         ("--ambient", st.one_of(st.sampled_from(["brown", "none", "NONE", "x.wav", "."]),
                                                 ARG_TEXT)),
                         ("--ambient-volume", NUMBER_TEXT),
                         ("--chime", st.one_of(st.sampled_from(["bell", "none", "soft", "x.wav"]), ARG_TEXT)),
                         ("--engine", st.sampled_from(["auto", "pyttsx3", "nope", ""])),
                         ("-j", st.sampled_from(["0", "1", "65", "x"]))]:
        if draw(st.integers(0, 3)) == 0:     # each option in a quarter of the examples
            args += [flag, draw(values)]
    if draw(st.booleans()):
        args.append("--bells")
    return args + ["--max-session", draw(TINY_LIMIT)]


# ---------------------------------------------------------------------------------------------
# Commands that read routines


@FUZZ
@given(st.lists(routine_ref(), min_size=1, max_size=3), st.one_of(st.none(), DURATION_TEXT))
def test_fuzz_validate(refs, max_session):
    args = ["validate", *refs] + ([] if max_session is None else ["--max-session", max_session])
    result = invoke(args)
    if result.exit_code == 0:
        assert result.stdout.count(": ok (") == len(refs)


@FUZZ
@given(routine_ref(), st.data())
def test_fuzz_plan(ref, data):
    args = ["plan", ref]
    if data.draw(st.booleans()):
        args += ["--speed", data.draw(NUMBER_TEXT)]
    if data.draw(st.booleans()):
        args += ["--length", data.draw(DURATION_TEXT)]
    if data.draw(st.booleans()):
        args += ["--max-session", data.draw(DURATION_TEXT)]
    as_json = data.draw(st.booleans())
    if as_json:
        args.append("--json")
    result = invoke(args)
    if result.exit_code == 0:
        assert ('"events"' in result.stdout) if as_json else ("Total: " in result.stdout)


@settings(FUZZ, max_examples=10)
@given(routine_ref(), st.one_of(NAME_TEXT, st.sampled_from(["p.png", "p", "p.jpg", "r.routine.md"])))
def test_fuzz_plan_png(ref, name):
    folder = fresh_dir()
    target = folder / name
    result = invoke(["plan", ref, "--png", str(target)])
    if result.exit_code == 0:
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in folder.iterdir() if p.name.startswith(".")], "a temp file was left behind"


@FUZZ
@given(routine_ref(), st.data())
def test_fuzz_render(ref, data):
    folder = fresh_dir()
    name = data.draw(st.one_of(st.sampled_from(["out.wav", "out.mp3", "out", "out.xyz", "out.vtt"]), NAME_TEXT))
    args = ["render", ref, "-o", str(folder / name), *session_options(data.draw)]
    for kind in data.draw(st.lists(st.sampled_from(["vtt", "srt", "txt", "md"]), max_size=2)):
        args += ["--transcript", kind]
    if data.draw(st.booleans()):
        args += ["--timeline", str(folder / data.draw(st.sampled_from(["t.json", name])))]
    if data.draw(st.booleans()):
        args += ["--format", data.draw(st.sampled_from(["wav", "mp3", "flac", "xyz"]))]
    if data.draw(st.booleans()):
        args.append("--force")
    result = invoke(args)
    assert result.exit_code == 2        # nothing can pass a session limit of at most a second
    assert not [p for p in folder.iterdir() if p.name.startswith(".")], "a temp file was left behind"


@settings(FUZZ, max_examples=25)
@given(routine_ref(), st.data())
def test_fuzz_play_with_null_audio(ref, data):
    """Exit 3 (no audio output) is a legitimate answer here too."""
    args = ["play", ref, *session_options(data.draw)]
    if data.draw(st.booleans()):
        args += ["--device", data.draw(st.sampled_from(["NULL", "no such speaker", ""]))]
    if data.draw(st.booleans()):
        args += ["--loudness", data.draw(NUMBER_TEXT)]
    result = invoke(args, allowed=(2, 3))
    assert result.exit_code in (2, 3)


# ---------------------------------------------------------------------------------------------
# Commands that write files or take names


@settings(FUZZ, max_examples=25)
@given(st.one_of(NAME_TEXT, st.sampled_from(["a.routine.md", "a" * 300 + ".md", "sub/x.md"])), st.booleans(),
       st.booleans())
def test_fuzz_new(name, exists, force):
    folder = fresh_dir()
    target = folder / name
    if exists and "/" not in name and len(name) < 200:
        target.write_text("mine")
    result = invoke(["new", str(target), *(["--force"] if force else [])])
    if result.exit_code == 0:
        assert target.read_text(encoding="utf-8").startswith("+++")
    elif exists and "/" not in name and len(name) < 200:
        assert target.read_text() == "mine", "a refused overwrite must leave the file alone"


@FUZZ
@given(st.one_of(st.sampled_from(builtin_names()), ARG_TEXT, st.sampled_from(["../routines/bedtime", "", "."])))
def test_fuzz_show(name):
    result = invoke(["show", name])
    assert (result.exit_code == 0) == (name in builtin_names())


@settings(FUZZ, max_examples=10)
@given(st.lists(st.sampled_from(["--all", "--json"]), unique=True), st.booleans())
def test_fuzz_commands_without_input(flags, clear_first):
    """list, voices, cache info/clear (in a private cache) and devices (null audio, or none: exit 3)."""
    assert "Caution: " in invoke(["list"], allowed=(0,)).stdout
    invoke(["voices", *flags])
    if clear_first:
        invoke(["cache", "clear"])
    info = invoke(["cache", "info"])
    assert info.exit_code == 0 and os.environ["VOICEGUIDE_CACHE_DIR"] in info.stdout
    invoke(["devices"], allowed=(0, 3))


# ---------------------------------------------------------------------------------------------
# batch


def batch_args(source: str, outdir: str, draw) -> list[str]:
    """Arguments for `voiceguide batch`; the lead extends this as batch grows options."""
    args = ["batch", source, "-o", outdir, *session_options(draw)]
    if draw(st.booleans()):
        args += ["--format", draw(st.sampled_from(["wav", "mp3", "xyz"]))]
    if draw(st.booleans()):
        args += ["-j", draw(st.sampled_from(["1", "2", "0", "x"]))]
    return args + ["-q"]


BROKEN_ROUTINE = st.one_of(ARG_TEXT.map(lambda t: "no front matter " + t),
                           BODY.map(lambda b: f'+++\ntitle = "Fuzz"\n+++\n[hold 999999h]\n{b}\n'))
MANIFEST_TEXT = st.one_of(ARG_TEXT, st.sampled_from([
    "[defaults]\nspeed = 9\n", "[[session]]\n", "[[session]]\nroutine = 5\n", "[[session]]\nroutine = \"nope\"\n",
    "defaults = 3\n", "[[session]]\nroutine = \"broken.routine.md\"\nlength = \"nan\"\n", "x = [[[[",
    "[[session]]\nroutine = \"broken.routine.md\"\nambient = \"nowhere.wav\"\n",
]))


@settings(FUZZ, max_examples=20)
@given(st.data())
def test_fuzz_batch(data):
    """Only inputs that cannot render: a broken routine fails its item (exit 2) before any speech."""
    folder = fresh_dir()
    (folder / "broken.routine.md").write_text(data.draw(BROKEN_ROUTINE), encoding="utf-8")
    kind = data.draw(st.sampled_from(["folder", "manifest", "missing"]))
    if kind == "manifest":
        source = folder / "m.toml"
        source.write_text(data.draw(MANIFEST_TEXT), encoding="utf-8")
    else:
        source = folder if kind == "folder" else folder / "absent"
    result = invoke(batch_args(str(source), str(folder / "out"), data.draw))
    assert result.exit_code == 2


# ---------------------------------------------------------------------------------------------
# A few valid fuzzed routines, rendered for real (short text, the fast engine)

WORDS = st.lists(st.sampled_from(["rest", "breathe", "softly", "hands", "now", "slow"]), min_size=1, max_size=3)


@pytest.fixture(scope="module")
def speech_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("speech")


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(WORDS, st.sampled_from(["[pause 300ms]", "[chime]", "[hold 1s]", "[pause 1s fixed]"]),
       st.sampled_from(["wav", "flac"]), st.booleans())
def test_valid_fuzzed_routines_render(words, directive, fmt, silent):
    folder = fresh_dir()
    routine = folder / "ok.routine.md"
    heading = "# Go {silent}" if silent else "# Go"
    routine.write_text(f'+++\ntitle = "Fuzz ok"\nambient = "none"\n+++\n{heading}\n'
                       f'{" ".join(words).capitalize()}. {directive}\n', encoding="utf-8")
    out = folder / f"ok.{fmt}"
    result = invoke(["render", str(routine), "-o", str(out), "--engine", "pyttsx3", "-j", "1", "-q",
                     "--sample-rate", "16000", "--transcript", "txt"], allowed=(0,))
    assert result.exit_code == 0
    assert out.stat().st_size > 1000
    assert out.with_suffix(".txt").read_text(encoding="utf-8").strip()
