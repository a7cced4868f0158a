"""Single key presses from the terminal, without Enter and without echo.

POSIX terminals go into cbreak mode (termios/tty) for the length of the session and are
put back exactly as they were on the way out, whatever the way out is: the end, `q`,
Ctrl-C (cbreak keeps signals, so Ctrl-C still raises KeyboardInterrupt), an error, or
Ctrl-Z (the terminal is restored while the process is stopped and cbreak resumes with it).
Windows consoles are read with msvcrt. Arrow keys arrive as escape sequences (ESC [ C, or
ESC O C in application mode; 0xE0 M on Windows) and are decoded here.
"""
from __future__ import annotations

import os
import select
import sys
import time
from typing import Protocol, TextIO

from .commands import Command

KEYS: dict[str, Command] = {
    " ": Command.PAUSE,
    "n": Command.SKIP, "right": Command.SKIP,
    "r": Command.REPEAT, "left": Command.REPEAT,
    "+": Command.LONGER, "=": Command.LONGER,     # = is + without shift
    "-": Command.SHORTER, "_": Command.SHORTER,
    "up": Command.LOUDER, "down": Command.SOFTER,
    "q": Command.QUIT,
}
ARROWS = {"A": "up", "B": "down", "C": "right", "D": "left"}            # ESC [ x / ESC O x
WINDOWS_ARROWS = {"H": "up", "P": "down", "M": "right", "K": "left"}   # after 0xE0 or 0x00

HELP = "space pause  ←/r repeat  →/n next  +/- hold ±15s  ↑/↓ volume  q quit"


class KeySource(Protocol):
    def poll(self, timeout: float) -> list[Command]:
        """Wait up to `timeout` seconds; the commands typed meanwhile."""
        ...


class Decoder:
    """Bytes typed -> commands. Keeps an unfinished escape sequence for the next read."""

    def __init__(self) -> None:
        self._pending = ""

    def feed(self, text: str) -> list[Command]:
        s = self._pending + text
        self._pending = ""
        out: list[Command] = []
        i = 0
        while i < len(s):
            ch = s[i]
            if ch == "\x1b":
                if i + 1 >= len(s):
                    self._pending = s[i:]          # maybe the start of a sequence
                    break
                if s[i + 1] not in "[O":
                    i += 1                          # a lone Escape: ignore it
                    continue
                j = i + 2                           # parameters, then a final letter
                while j < len(s) and (s[j].isdigit() or s[j] == ";"):
                    j += 1
                if j >= len(s):
                    self._pending = s[i:]
                    break
                name = ARROWS.get(s[j])
                if name:
                    out.append(KEYS[name])
                i = j + 1
                continue
            command = KEYS.get(ch.lower()) if ch.isalpha() else KEYS.get(ch)
            if command is not None:
                out.append(command)
            i += 1
        return out


class NoKeys:
    """No terminal: nothing to read, time just passes."""

    def __init__(self, clock=None):
        self.clock = clock

    def poll(self, timeout: float) -> list[Command]:
        if self.clock is not None:
            self.clock.sleep(timeout)
        else:
            time.sleep(timeout)
        return []


class TerminalKeys:
    """Keys from a terminal; a context manager that owns the terminal's mode."""

    def __init__(self, stream: TextIO = sys.stdin):
        self.stream = stream
        self.fd = stream.fileno()
        self._decoder = Decoder()
        self._saved = None
        self._previous_tstp = None
        self._previous_cont = None

    @staticmethod
    def available(stream: TextIO = sys.stdin) -> bool:
        try:
            return stream.isatty()
        except (AttributeError, ValueError):
            return False

    # POSIX -------------------------------------------------------------------------------

    def _enter_cbreak(self) -> None:
        import termios
        import tty
        if self._saved is None:
            self._saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd, termios.TCSANOW)

    def _restore(self) -> None:
        if self._saved is not None:
            import termios
            try:
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            except termios.error:
                pass

    def _on_stop(self, signum, frame) -> None:   # Ctrl-Z: give the terminal back, then stop
        import signal
        self._restore()
        signal.signal(signal.SIGTSTP, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTSTP)

    def _on_continue(self, signum, frame) -> None:
        import signal
        signal.signal(signal.SIGTSTP, self._on_stop)
        try:
            self._enter_cbreak()
        except Exception:
            pass

    def __enter__(self) -> "TerminalKeys":
        if os.name == "nt":
            return self
        import signal
        self._enter_cbreak()
        try:
            self._previous_tstp = signal.signal(signal.SIGTSTP, self._on_stop)
            self._previous_cont = signal.signal(signal.SIGCONT, self._on_continue)
        except ValueError:      # not the main thread: no job control handling
            pass
        return self

    def __exit__(self, *exc: object) -> None:
        if os.name == "nt":
            return
        import signal
        self._restore()
        for sig, previous in ((signal.SIGTSTP, self._previous_tstp), (signal.SIGCONT, self._previous_cont)):
            if previous is not None:
                try:
                    signal.signal(sig, previous)
                except ValueError:
                    pass

    def poll(self, timeout: float) -> list[Command]:
        if os.name == "nt":
            return self._poll_windows(timeout)
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return []
        data = os.read(self.fd, 64)
        return self._decoder.feed(data.decode("utf-8", "replace"))

    # Windows -----------------------------------------------------------------------------

    def _poll_windows(self, timeout: float) -> list[Command]:   # pragma: no cover - Windows
        import msvcrt
        end = time.monotonic() + timeout
        out: list[Command] = []
        while True:
            while msvcrt.kbhit():
                ch = msvcrt.getwch()
                if ch in ("\x00", "\xe0"):
                    name = WINDOWS_ARROWS.get(msvcrt.getwch())
                    if name:
                        out.append(KEYS[name])
                elif ch == "\x03":
                    raise KeyboardInterrupt
                else:
                    out.extend(self._decoder.feed(ch))
            if out or time.monotonic() >= end:
                return out
            time.sleep(0.02)
