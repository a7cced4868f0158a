"""Single keys from a terminal: decoding, cbreak mode and its restoration, and the whole
`play` command driven through a pseudo-terminal (keys typed, Ctrl-C, the terminal as it
was afterwards)."""
from __future__ import annotations

import os
import select
import sys
import time

import pytest

from voiceguide.live.commands import Command
from voiceguide.live.keys import Decoder, TerminalKeys
from voiceguide.live.status import clock, format_status
from voiceguide.live.controller import Now

try:
    import termios
except ImportError:                                  # Windows: keys come from msvcrt there
    termios = None
posix = pytest.mark.skipif(termios is None, reason="pseudo-terminals are POSIX")


@pytest.mark.parametrize("typed, expected", [
    (" ", [Command.PAUSE]),
    ("nN\x1b[C\x1bOC", [Command.SKIP] * 4),
    ("rR\x1b[D", [Command.REPEAT] * 3),
    ("+=-_", [Command.LONGER, Command.LONGER, Command.SHORTER, Command.SHORTER]),
    ("\x1b[A\x1b[B", [Command.LOUDER, Command.SOFTER]),
    ("qQ", [Command.QUIT, Command.QUIT]),
    ("x7\t\x1b[1;5C", [Command.SKIP]),          # other keys ignored; ctrl-right is still right
    ("\x1bx", []),                               # a lone Escape
])
def test_decoder(typed, expected):
    assert Decoder().feed(typed) == expected


def test_decoder_keeps_a_split_escape_sequence():
    d = Decoder()
    assert d.feed("n\x1b") == [Command.SKIP]
    assert d.feed("[") == []
    assert d.feed("Aq") == [Command.LOUDER, Command.QUIT]


@posix
def test_cbreak_inside_and_the_terminal_restored_after_even_on_errors():
    master, slave = os.openpty()
    try:
        with os.fdopen(slave, "r", closefd=False) as stream:
            before = termios.tcgetattr(slave)
            with pytest.raises(RuntimeError):
                with TerminalKeys(stream) as keys:
                    inside = termios.tcgetattr(slave)
                    assert not inside[3] & termios.ICANON and not inside[3] & termios.ECHO
                    assert inside[3] & termios.ISIG          # Ctrl-C still interrupts
                    os.write(master, b" \x1b[C")
                    assert keys.poll(1.0) == [Command.PAUSE, Command.SKIP]
                    raise RuntimeError("boom")
            assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)


def test_status_line_text():
    now = Now("Warm up", 3, 14, "hold", 24.2, 11 * 60 + 52, "play", -3.0)
    assert format_status(now) == "[playing]  Warm up  step 3/14  hold 0:25  11:52 left  volume -3 dB"
    assert format_status(Now("Warm up", 1, 2, "say", 0, 65, "pause", 0.0)).startswith("[paused]  Warm up  step 1/2  speaking")
    assert clock(3725) == "1:02:05"


def _read_until(fd, needle: bytes, timeout: float) -> bytes:
    seen = b""
    end = time.monotonic() + timeout
    while needle not in seen and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                break
    return seen


def _spawn(args, env):
    """Run voiceguide in a new pseudo-terminal (its controlling terminal); (pid, master fd)."""
    import pty
    pid, fd = pty.fork()
    if pid == 0:                                     # the child
        os.environ.update(env)
        os.execv(sys.executable, [sys.executable, "-m", "voiceguide", *args])
    return pid, fd


def _finish(pid, fd, timeout=20.0):
    output = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        output += _read_until(fd, b"\x00never", 0.1)
        if done:
            return os.waitstatus_to_exitcode(status), output
    os.kill(pid, 9)
    raise AssertionError(f"voiceguide did not stop: {output[-500:]!r}")


@posix
def test_play_on_a_terminal_keys_status_and_q(warm_cache, tiny_file):
    env = {"VOICEGUIDE_AUDIO_BACKEND": "null", "VOICEGUIDE_CACHE_DIR": str(warm_cache), "TERM": "xterm"}
    pid, fd = _spawn(["play", str(tiny_file)], env)
    try:
        seen = _read_until(fd, b"[playing]", 15.0)
        assert b"space pause" in seen and b"[playing]" in seen, seen   # the help, then the status
        os.write(fd, b" ")                                             # pause ...
        seen = _read_until(fd, b"[paused]", 3.0)
        assert b"[paused]" in seen, seen
        os.write(fd, b" ")                                             # ... and on again
        assert b"[playing]" in _read_until(fd, b"[playing]", 3.0)
        os.write(fd, b"q")
        status, output = _finish(pid, fd)
    finally:
        os.close(fd)
    assert status == 0, output


@posix
def test_the_terminal_is_given_back_as_it_was(warm_cache, tiny_file):
    """After play exits (here by Ctrl-C), the terminal is in the mode it was in before."""
    import pty
    env = {"VOICEGUIDE_AUDIO_BACKEND": "null", "VOICEGUIDE_CACHE_DIR": str(warm_cache), "TERM": "xterm"}
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    pid = os.fork()
    if pid == 0:                                     # the child: the pty is its terminal
        os.setsid()
        import fcntl
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for n in (0, 1, 2):
            os.dup2(slave, n)
        os.environ.update(env)
        os.execv(sys.executable, [sys.executable, "-m", "voiceguide", "play", str(tiny_file)])
    try:
        assert b"[playing]" in _read_until(master, b"[playing]", 15.0)
        during = termios.tcgetattr(slave)
        assert during != before and not during[3] & termios.ICANON
        os.write(master, b"\x03")
        status, output = _finish(pid, master)
        assert status == 130
        assert b"voiceguide: stopped" in output and b"Traceback" not in output
        assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)
