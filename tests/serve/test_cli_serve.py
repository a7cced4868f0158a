"""`voiceguide serve` as a user starts it: a subprocess printing the feed's URL and its QR
code, serving until SIGTERM (exit 0). It listens on 127.0.0.1 only, in --lan mode too."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("uvicorn", reason="the studio extra (starlette, uvicorn, jinja2) is not installed")
segno = pytest.importorskip("segno", reason="segno draws the QR code")

from serve_support import raw, served  # noqa: E402,F401  (served: a fixture)
from voiceguide.serve import qr  # noqa: E402

# segno's compact terminal output draws LIGHT modules: two module rows a character.
HALVES = {"█": (0, 0), " ": (1, 1), "▀": (0, 1), "▄": (1, 0)}


def modules(text: str) -> list[list[int]]:
    """The dark (1) / light (0) modules the printed code shows, quiet zone included."""
    rows: list[list[int]] = []
    for line in text.splitlines():
        pairs = [HALVES[c] for c in line]
        rows += [[upper for upper, _ in pairs], [lower for _, lower in pairs]]
    return rows


def matrix_with_border(url: str, border: int = 4) -> list[list[int]]:
    code = segno.make(url, error="m")
    size = len(code.matrix) + 2 * border
    light = [0] * size
    return [light] * border + [[0] * border + [int(m) for m in row] + [0] * border for row in code.matrix] \
        + [light] * border


def serve_process(folder: Path, cache: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "VOICEGUIDE_CACHE_DIR": str(cache), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "voiceguide", "serve", str(folder), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_the_printed_qr_code_is_the_feed_url():
    url = "http://192.168.1.20:8766/abcdefghijklmnopqrstuvwx/feed.xml"
    shown = modules(qr.terminal(url))
    expected = matrix_with_border(url)
    assert shown[:len(expected)] == expected                 # an odd count of rows: the last half is padding
    assert modules(qr.terminal(url + "x"))[:len(expected)] != expected
    svg = qr.svg(url)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>") and "<?xml" not in svg


def test_serve_lan_prints_the_url_and_its_qr_code_and_stops_on_sigterm(served, tmp_path):
    proc = serve_process(served, tmp_path / "cache", "--lan", "--host", "127.0.0.1", "--port", "0")
    try:
        first = proc.stdout.readline()
        match = re.fullmatch(rf"voiceguide serve: serving {re.escape(str(served))} read-only at "
                             r"(http://127\.0\.0\.1:\d+/([A-Za-z0-9_-]{22,})/) \(Ctrl\+C to stop\)\n", first)
        assert match, (first, proc.stderr.read() if proc.poll() is not None else "")
        url, token = match.groups()
        assert proc.stdout.readline() == f"Feed: {url}feed.xml\n"
        code = []
        while not (line := proc.stdout.readline()).startswith("Scan the code"):
            assert line, "the output ended before the QR code did"
            code.append(line)
        expected = matrix_with_border(url + "feed.xml")
        assert modules("".join(code))[:len(expected)] == expected
        assert (served / ".voiceguide-serve-token").read_text().strip() == token
        assert raw(url, f"/{token}/bedtime.mp3")[2] == (served / "bedtime.mp3").read_bytes()
        assert raw(url, "/bedtime.mp3")[0] == 404
        assert raw(url, f"/{token}/feed.xml")[0] == 200
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert out.strip().endswith("voiceguide serve: stopped") and "Traceback" not in err
    logged = [line for line in err.splitlines() if " GET " in line]
    assert len(logged) == 3 and token not in err, err
    assert any(line.startswith("127.0.0.1 GET /<token>/bedtime.mp3 200 ") for line in logged), logged
    with pytest.raises(OSError):
        raw(url, f"/{token}/bedtime.mp3")


def test_serve_without_lan_says_only_this_computer_can_reach_it(served, tmp_path):
    proc = serve_process(served, tmp_path / "cache", "--port", "0")
    try:
        first = proc.stdout.readline()
        match = re.search(r"at (http://127\.0\.0\.1:\d+/) ", first)
        assert match, first
        assert proc.stdout.readline() == f"Feed: {match.group(1)}feed.xml\n"
        assert "add --lan" in proc.stdout.readline()
        assert raw(match.group(1), "/bedtime.mp3")[0] == 200
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0 and "█" not in out and not (served / ".voiceguide-serve-token").exists()


def test_a_folder_that_does_not_exist_is_one_line_and_status_2(tmp_path):
    proc = serve_process(tmp_path / "nowhere", tmp_path / "cache")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and out == ""
    assert err.splitlines() == [f"Error: {tmp_path / 'nowhere'}: no such folder"]
