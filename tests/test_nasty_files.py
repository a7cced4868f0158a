"""A corpus of nasty routine files through the real `voiceguide` program: every one gets exit 2 and
clean `FILE:LINE: message` lines (or exit 0 where the file is in fact fine), never a traceback,
never a hang (each process has a timeout that only a hang would reach).

The corpus is generated at test time (the 20 MB file included), so nothing big is committed.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from voiceguide.cli import main

VOICEGUIDE = str(Path(sys.executable).with_name("voiceguide"))
TIMEOUT = 120                 # seconds: a hang guard for a busy shared machine, not a timing test
H = '+++\ntitle = "T"\n+++\n'  # front matter: the body starts on line 4


@dataclass(frozen=True)
class Nasty:
    name: str
    data: bytes
    line: int | None          # the line the first problem is reported at (None: any line)
    says: str = ""            # a fragment of that message ("" and no line: the file is valid)
    plan_ok: bool = False     # only a sound file is wrong: plan works, validate/render/play refuse

    @property
    def valid(self) -> bool:
        return self.line is None and not self.says


def _text(name: str, text: str, line: int | None, says: str = "", plan_ok: bool = False) -> Nasty:
    return Nasty(name, text.encode("utf-8"), line, says, plan_ok)


CORPUS: list[Nasty] = [
    # size, encoding, binary
    Nasty("huge-20mb", H.encode() + b"Hello there.\n" * 1_600_000, 1, "at most 1,000,000 bytes"),
    Nasty("one-byte-over", H.encode() + b"a" * (1_000_001 - len(H)), 1, "at most 1,000,000 bytes"),
    Nasty("binary", bytes(range(256)) * 40, 2, "not UTF-8"),
    Nasty("nul-bytes", (H + "Hello\x00 there.\n").encode(), 4, "NUL bytes"),
    Nasty("latin-1", (H + "Café au lait.\n").encode("latin-1"), 4, "not UTF-8"),
    Nasty("utf-16-bom", (H + "Hello.\n").encode("utf-16"), 1, "UTF-16"),
    Nasty("utf-16-be-bom", b"\xfe\xff" + (H + "Hello.\n").encode("utf-16-be"), 1, "UTF-16"),
    Nasty("utf-32-bom", (H + "Hello.\n").encode("utf-32"), 1, "UTF-32"),
    Nasty("surrogate-bytes", H.encode() + b"Hi \xed\xa0\x80.\n", 4, "not UTF-8"),
    _text("escape-codes", H + "Hello \x1b[31m there.\n", 4, "control character U+001B"),
    _text("escape-in-heading", H + "# \x1b[2J Clear\nHi.\n", 4, "control character U+001B"),
    _text("utf-8-bom", "\ufeff" + H + "Hello.\n", None),
    _text("crlf", (H + "# One\nHello.\n[pause 1s]\n").replace("\n", "\r\n"), None),
    _text("cr-only", (H + "Hello.\n").replace("\n", "\r"), None),
    # structure
    _text("empty", "", 1, "the file is empty"),
    _text("whitespace-only", "  \n\t\n\n", 1, "the file is empty"),
    _text("no-front-matter", "Hello.\n", 1, "must start with '+++'"),
    _text("unterminated-front-matter", '+++\ntitle = "T"\nHello.\n', 1, "never closed"),
    _text("only-front-matter", H, 3, "no steps"),
    _text("unclosed-comment", H + "<!-- hi\n" * 10_000, 4, "never closed with '-->'"),
    _text("sections-5000-over-the-limit",
          H + "".join(f"# Part {i}\nRest your hands, part {i}.\n[pause 5s]\n\n" for i in range(5000)), None,
          "session limit"),
    _text("sections-3000-fine", H + "".join(f"# S{i} {{silent}}\n[pause 100ms]\n" for i in range(3000)), None),
    _text("heading-flags-100k", H + "# a" + " {sides}" * 100_000 + "\nRest your {side} hand.\n", None),
    _text("hashes-100k", H + "#" * 100_000 + " x\n", 4, "too deep"),
    _text("brackets-100k", H + "[" * 100_000 + "\n", 4, "unmatched square bracket"),
    _text("braces-100k", H + "{" * 100_000 + "\n", 4, "unmatched brace"),
    # lines and steps too long
    _text("one-line-750kb", H + "word " * 150_000 + "\n", 4, "at most 2,000"),
    _text("no-spaces-900kb", H + "a" * 900_000 + "\n", 4, "at most 2,000"),
    _text("heading-of-spaces-900kb", H + "# a" + " " * 900_000 + "b\n", 4, "at most 2,000"),
    _text("paragraph-2001-chars", H + "Rest now. " * 200 + "x\n", 4, "2,001 characters"),
    # absurd durations
    _text("hold-999999h", H + "Rest.\n[hold 999999h]\n", 5, "session limit"),
    _text("pause-1e308s", H + "[pause 1e308s]\n", 4, "bad duration"),
    _text("pause-400-digits", H + "[pause " + "9" * 400 + "s]\n", 4, "too large"),
    _text("hold-negative", H + "[hold -5s]\n", 4, "bad duration '-5s'"),
    _text("hold-zero", H + "[hold 0s]\n", 4, "longer than zero"),
    _text("hold-nan", H + "[hold nans]\n", 4, "bad duration"),
    _text("hold-inf", H + "[hold infs]\n", 4, "bad duration"),
    _text("hold-arabic-digits", H + "[hold ٣s]\n", 4, "bad duration"),
    _text("breathe-superscript", H + "[breathe ²]\n", 4, "write [breathe 5]"),
    _text("breathe-5000-digits", H + "[breathe " + "9" * 5000 + "]\n", 4, "write [breathe 5]"),
    _text("breathe-999999h", H + "[breathe 100 in 999999h out 999999h]\n", 4, "session limit"),
    _text("length-nan", '+++\ntitle = "T"\nlength = nan\n+++\nHi.\n', 3, "length: must be"),
    _text("length-inf", '+++\ntitle = "T"\nlength = inf\n+++\nHi.\n', 3, "length: must be a finite"),
    _text("length-negative", '+++\ntitle = "T"\nlength = -5\n+++\nHi.\n', 3, "longer than zero"),
    _text("length-1e308", '+++\ntitle = "T"\nlength = 1e308\n+++\nHi.\n', 3, "session limit"),
    _text("length-999999h", '+++\ntitle = "T"\nlength = "999999h"\n+++\nHi.\n', 3, "session limit"),
    _text("length-400-digit-int", '+++\ntitle = "T"\nlength = 1' + "0" * 400 + "\n+++\nHi.\n", 3, "finite"),
    _text("length-5000-digit-int", '+++\ntitle = "T"\nlength = 1' + "0" * 5000 + "\n+++\nHi.\n", 2,
          "not valid TOML"),
    _text("length-cannot-fit", '+++\ntitle = "T"\nlength = "3h"\n+++\nHi.\n', 3, "cannot fit"),
    _text("speed-nan", '+++\ntitle = "T"\nspeed = nan\n+++\nHi.\n', 3, "speed: must be a number"),
    _text("ambient-volume-inf", '+++\ntitle = "T"\nambient_volume = inf\n+++\nHi.\n', 3, "ambient_volume: "),
    # front matter
    _text("bad-toml", '+++\ntitle = "T\n+++\nHi.\n', 2, "not valid TOML"),
    _text("toml-nested-100k", '+++\ntitle = "T"\nx = ' + "[" * 100_000 + "\n+++\nHi.\n", 2, "not valid TOML"),
    _text("wrong-types", '+++\ntitle = 5\nspeed = "fast"\npronounce = 3\nlength = [1]\n+++\nHi.\n', 2,
          "'title' must be a string"),
    _text("title-nul-escape", '+++\ntitle = "\\u0000"\n+++\nHi.\n', 2, "control characters"),
    _text("title-newline", '+++\ntitle = "two\\nlines"\n+++\nHi.\n', 2, "control characters"),
    _text("key-with-newline", '+++\ntitle = "T"\n"weird\\nkey" = 1\n+++\nHi.\n', 3, "unknown front-matter key"),
    _text("unknown-keys-50k", '+++\ntitle = "T"\n' + "".join(f"k{i} = 1\n" for i in range(50_000)) + "+++\nHi.\n",
          3, "unknown front-matter key 'k0'"),
    _text("pronounce-nested", '+++\ntitle = "T"\n[pronounce]\na = {b = 1}\n+++\nHi.\n', 3, "[pronounce]"),
    # sound files named by the front matter
    _text("ambient-missing-file", '+++\ntitle = "T"\nambient = "rain.wav"\n+++\nHi.\n', 3,
          "ambient 'rain.wav' is neither a bed", plan_ok=True),
    _text("ambient-not-audio", '+++\ntitle = "T"\nambient = "ambient-not-audio.routine.md"\n+++\nHi.\n', 3,
          "not a usable sound file", plan_ok=True),
    _text("chime-folder", '+++\ntitle = "T"\nspeed = 1.0\nchime = "."\n+++\nHi. [chime]\n', 4,
          "chime '.' is neither a chime", plan_ok=True),
]
FAILING = [n for n in CORPUS if not n.valid]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("nasty")
    paths = {}
    for nasty in CORPUS:
        path = folder / f"{nasty.name}.routine.md"
        path.write_bytes(nasty.data)
        paths[nasty.name] = path
    return paths


def voiceguide(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([VOICEGUIDE, *args], capture_output=True, text=True, timeout=TIMEOUT,
                          stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})


def assert_clean_errors(stderr: str, path: Path, nasty: Nasty) -> None:
    """Every line is `FILE:LINE: message`, short; the first names the expected line and problem."""
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert 1 <= len(lines) <= 51, f"{nasty.name}: {len(lines)} lines"
    pattern = re.compile(rf"^{re.escape(str(path))}:(\d+): \S")
    for text in lines:
        assert pattern.match(text), f"{nasty.name}: not FILE:LINE: {text[:200]!r}"
        assert len(text) < 700, f"{nasty.name}: a {len(text)}-character line"
    if nasty.line is not None:
        assert pattern.match(lines[0]).group(1) == str(nasty.line), lines[0][:200]
    assert nasty.says in lines[0], lines[0][:200]


@pytest.mark.parametrize("nasty", CORPUS, ids=lambda n: n.name)
def test_validate_in_a_real_process(nasty, corpus):
    path = corpus[nasty.name]
    done = voiceguide("validate", str(path))
    if nasty in FAILING:
        assert done.returncode == 2, done.stdout[-300:]
        assert done.stdout == ""
        assert_clean_errors(done.stderr, path, nasty)
    else:
        assert done.returncode == 0, done.stderr[-300:]
        assert done.stdout.startswith(f"{path}: ok (") and done.stderr == ""


@pytest.mark.parametrize("nasty", CORPUS, ids=lambda n: n.name)
def test_plan_json_in_a_real_process(nasty, corpus):
    path = corpus[nasty.name]
    done = voiceguide("plan", str(path), "--json")
    if nasty.valid or nasty.plan_ok:
        assert done.returncode == 0, done.stderr[-300:]
        assert json.loads(done.stdout)["events"]
    else:
        assert done.returncode == 2 and done.stdout == ""
        assert_clean_errors(done.stderr, path, nasty)


@pytest.mark.parametrize("nasty", FAILING, ids=lambda n: n.name)
def test_render_refuses_before_any_speech_in_a_real_process(nasty, corpus, tmp_path):
    path = corpus[nasty.name]
    out = tmp_path / "out.wav"
    done = voiceguide("render", str(path), "-o", str(out), "--engine", "pyttsx3",
                      env={"VOICEGUIDE_CACHE_DIR": str(tmp_path / "cache")})
    assert done.returncode == 2
    assert_clean_errors(done.stderr, path, nasty)
    assert not out.exists() and not (tmp_path / "cache").exists(), "nothing written, nothing synthesized"


@pytest.mark.parametrize("nasty", FAILING, ids=lambda n: n.name)
def test_plan_table_and_play_with_null_audio(nasty, corpus, monkeypatch):
    monkeypatch.setenv("VOICEGUIDE_AUDIO_BACKEND", "null")
    path = corpus[nasty.name]
    for args in (["plan", str(path)], ["play", str(path)]):
        result = CliRunner().invoke(main, args)
        if nasty.plan_ok and args[0] == "plan":
            assert result.exit_code == 0 and "Total: " in result.stdout
            continue
        assert result.exit_code == 2 and result.stdout == "", args
        assert_clean_errors(result.stderr, path, nasty)


def test_batch_reports_every_nasty_file_in_a_real_process(corpus, tmp_path):
    """A folder of the failing files: every item fails with its own FILE:LINE, nothing is written."""
    folder = tmp_path / "routines"
    folder.mkdir()
    chosen = [n for n in FAILING if n.name != "huge-20mb"]   # one 20 MB copy is enough
    for nasty in chosen:
        os.link(corpus[nasty.name], folder / corpus[nasty.name].name)
    done = voiceguide("batch", str(folder), "-o", str(tmp_path / "out"), "-q", "--engine", "pyttsx3",
                      env={"VOICEGUIDE_CACHE_DIR": str(tmp_path / "cache")})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    for nasty in chosen:
        assert re.search(rf"^{re.escape(nasty.name)}\.mp3: {re.escape(str(folder))}/{re.escape(nasty.name)}"
                         rf"\.routine\.md:\d+: ", done.stderr, re.M), nasty.name
    assert not list((tmp_path / "out").glob("*.mp3"))


# ---------------------------------------------------------------------------------------------
# Things that are not routine files at all


def test_devices_fifos_folders_and_missing_files_are_one_line(tmp_path):
    fifo = tmp_path / "pipe.routine.md"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.routine.md"
    loop.symlink_to(loop)
    cases = {
        "/dev/zero": "is not a regular file",           # read from, never written: it would never end
        str(fifo): "is not a regular file",             # opening it would wait for a writer forever
        str(tmp_path) + "/": "is a folder",
        str(tmp_path / "absent.routine.md"): "no such file",
        str(tmp_path / ("n" * 300 + ".routine.md")): "File name too long",
        str(loop): "cannot read",
    }
    for ref, says in cases.items():
        for command in ("validate", "plan"):
            done = voiceguide(command, ref)
            assert done.returncode == 2, (command, ref)
            assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
            assert says in done.stderr, (ref, done.stderr)


def test_names_that_are_not_routines(tmp_path):
    for args in (["show", "../routines/bedtime"], ["show", "x" * 300], ["plan", "x" * 300],
                 ["new", str(tmp_path / ("n" * 300 + ".md"))], ["new", str(tmp_path / "no" / "such" / "x.md")],
                 ["plan", "desk-break", "--png", str(tmp_path / ("n" * 300 + ".png"))]):
        done = voiceguide(*args)
        assert done.returncode == 2, args
        assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
    assert list(tmp_path.iterdir()) == []
