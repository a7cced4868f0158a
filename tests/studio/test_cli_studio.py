"""`voiceguide studio` as a user starts it: a real server on 127.0.0.1, stopped with Ctrl+C."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from voiceguide import library

pytest.importorskip("uvicorn", reason="the studio extra (starlette, uvicorn, jinja2) is not installed")

from voiceguide.studio.server import start  # noqa: E402


def fetch(url: str, *, host: str | None = None, method: str = "GET", token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, method=method, data=b"{}" if method != "GET" else None)
    if host is not None:
        request.add_header("Host", host)
    if token is not None:
        request.add_header("X-Voiceguide-Token", token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def studio_process(folder: Path, cache: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "VOICEGUIDE_CACHE_DIR": str(cache), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "voiceguide", "studio", str(folder), "--no-browser", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_the_command_serves_the_folder_until_ctrl_c(tmp_path):
    folder = tmp_path / "my routines"
    folder.mkdir()
    (folder / "mine.routine.md").write_text(library.builtin_text("desk-break"))
    proc = studio_process(folder, tmp_path / "cache", "--port", "0")
    try:
        line = proc.stdout.readline()
        match = re.fullmatch(rf"voiceguide studio: serving {re.escape(str(folder))} at (http://127\.0\.0\.1:(\d+)/) "
                             r"\(Ctrl\+C to stop\)\n", line)
        assert match, (line, proc.stderr.read() if proc.poll() is not None else "")
        url = match.group(1)
        status, page = fetch(url)
        assert status == 200 and b'name="voiceguide-token"' in page
        token = re.search(rb'name="voiceguide-token" content="([^"]+)"', page).group(1).decode()
        status, body = fetch(url + "api/routines")
        assert status == 200 and json.loads(body)[0]["name"] == "mine"
        assert fetch(url + "api/routines", host="evil.example:" + match.group(2))[0] == 403   # DNS rebinding
        assert fetch(url + "api/validate", method="POST")[0] == 403                          # no token
        assert fetch(url + "api/validate", method="POST", token=token)[0] == 400            # {} has no text
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=2)


def test_a_folder_that_does_not_exist_is_one_line_and_status_2(tmp_path):
    proc = studio_process(tmp_path / "nowhere", tmp_path / "cache")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.splitlines() == [f"Error: {tmp_path / 'nowhere'}: no such folder"] and out == ""


def test_a_taken_port_asked_for_is_an_error_and_the_default_falls_back(tmp_path, monkeypatch):
    running = start(tmp_path, port=0, store=tmp_path / "cache")
    try:
        proc = studio_process(tmp_path, tmp_path / "cache", "--port", str(running.port))
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 2 and err.startswith("Error: ") and len(err.splitlines()) == 1
        from voiceguide.cli import studio as command
        monkeypatch.setattr(command, "DEFAULT_PORT", running.port)
        chosen = command._start(start, tmp_path, "127.0.0.1", None, 1)
        try:
            assert chosen.port != running.port and fetch(chosen.url + "api/settings")[0] == 200
        finally:
            chosen.stop()
    finally:
        running.stop()
        running.stop()                        # idempotent


def test_start_serves_on_a_free_port_and_stop_cancels_the_renders(tmp_path):
    running = start(tmp_path, port=0, store=tmp_path / "cache", token="fixed")
    assert running.url == f"http://127.0.0.1:{running.port}/" and running.token == "fixed"
    studio = running._app.state.studio
    started = time.monotonic()
    running.stop()
    assert studio.jobs._closed and time.monotonic() - started < 20
    with pytest.raises(OSError):
        urllib.request.urlopen(running.url, timeout=2)


WITHOUT_THE_EXTRA = """
import sys
class Missing:
    def find_spec(self, name, *args):
        if name.split(".")[0] in ("starlette", "uvicorn", "jinja2"):
            raise ImportError(f"No module named {name!r}")
sys.meta_path.insert(0, Missing())
from voiceguide.cli import main
main(sys.argv[1:])
"""


def test_without_the_studio_extra_the_command_says_how_to_get_it(tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", WITHOUT_THE_EXTRA, *args], capture_output=True, text=True,
                              timeout=60, env={**os.environ, "VOICEGUIDE_CACHE_DIR": str(tmp_path / "cache")})
    assert run("--help").returncode == 0 and "studio" in run("--help").stdout
    result = run("studio", "--no-browser", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["voiceguide studio needs the studio extra: pip install 'voiceguide[studio]'"]
