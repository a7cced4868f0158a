"""`voiceguide play` and `voiceguide devices` as a user runs them: a real process, miniaudio's
null backend standing in for a sound card (or no usable backend at all)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from click.testing import CliRunner

from voiceguide.cli import main

NULL = {"VOICEGUIDE_AUDIO_BACKEND": "null"}
# A backend that cannot work here: JACK with no server to talk to (or no JACK library).
NOWHERE = {"VOICEGUIDE_AUDIO_BACKEND": "jack", "JACK_NO_START_SERVER": "1",
           "JACK_DEFAULT_SERVER": "voiceguide-test-no-such-server"}


def voiceguide(*args, env=None, **kwargs):
    full = dict(os.environ, **(env or {}))
    return subprocess.Popen([sys.executable, "-m", "voiceguide", *args], env=full, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def test_plays_a_routine_to_the_end_in_real_time(warm_cache, tiny_file):
    started = time.monotonic()
    proc = voiceguide("play", str(tiny_file), env={**NULL, "VOICEGUIDE_CACHE_DIR": str(warm_cache)})
    out, err = proc.communicate(timeout=60)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, err
    assert out == "" and err == ""                     # no terminal: no status, no keys, no noise
    assert elapsed > 4.0                                # it really played (the session is ~6 s)


def test_no_audio_output_is_exit_3_with_a_hint_to_render(warm_cache, tiny_file):
    proc = voiceguide("play", str(tiny_file), env={**NOWHERE, "VOICEGUIDE_CACHE_DIR": str(warm_cache)})
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "voiceguide render" in err and "audio output" in err


def test_an_unknown_device_is_exit_3_and_names_the_devices(warm_cache, tiny_file):
    proc = voiceguide("play", str(tiny_file), "--device", "no such speaker",
                      env={**NULL, "VOICEGUIDE_CACHE_DIR": str(warm_cache)})
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 3
    assert "no such speaker" in err and "NULL Playback Device" in err and "Traceback" not in err


def test_ctrl_c_fades_out_and_exits_130_with_one_line(warm_cache, tiny_file):
    proc = voiceguide("play", str(tiny_file), env={**NULL, "VOICEGUIDE_CACHE_DIR": str(warm_cache)})
    time.sleep(2.5)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err.strip() == "voiceguide: stopped"
    assert time.monotonic() - sent > 0.8                # it faded out rather than cutting off


def test_devices_lists_the_outputs(monkeypatch):
    monkeypatch.setenv("VOICEGUIDE_AUDIO_BACKEND", "null")
    result = CliRunner().invoke(main, ["devices"])
    assert result.exit_code == 0
    assert "NULL Playback Device" in result.output


def test_devices_without_audio_is_exit_3(monkeypatch):
    for key, value in NOWHERE.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(main, ["devices"])
    assert result.exit_code == 3
    assert "audio output" in result.output


def test_play_help_lists_the_keys():
    result = CliRunner().invoke(main, ["play", "--help"])
    assert result.exit_code == 0
    for words in ("pause", "next step", "repeat", "15 s", "volume", "--device", "--loudness", "--ambient"):
        assert words in result.output
