"""How the CLI ends: one line on stderr and an exit status, never a traceback.

One rule for every command: the library's errors (and the few user-caused errors of the
libraries below it) print as one line with status 2 (3: no audio output); a setting in a
message is spelled as its flag (`--max-session`). Ctrl-C, SIGTERM and SIGHUP cancel a
working command as KeyboardInterrupt, so temp files and workers are cleaned up, and it
exits 130 (Ctrl-C) or 128 + the signal's number.
"""
from __future__ import annotations

import signal
import sys
from contextlib import contextmanager
from functools import wraps
from typing import Any, Callable, Iterator, NoReturn

import click

from ..errors import VoiceguideError, spelled
from ..settings import cli_flag


FLAGS = {"output": "-o", "picture": "--png"}
"""Names the library uses for a render's outputs whose flag is not simply --NAME."""


def spell(name: str) -> str:
    """A setting or output as the CLI names it: max_session -> --max-session, output -> -o."""
    return FLAGS.get(name) or cli_flag(name)


def fail(message: str, code: int = 2) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "your input or setup", reported in one line with exit status 2."""
    from ..export.atomic import OutputExistsError, OutputWriteError
    from ..export.encode import EncodeError
    from ..voices import EngineUnavailable, SynthesisError, UnknownEngine, VoiceNotFound
    return (VoiceguideError, OutputExistsError, OutputWriteError, EncodeError, EngineUnavailable,
            SynthesisError, UnknownEngine, VoiceNotFound)


def one_line(exc: BaseException) -> str:
    """The error as the user sees it: our own errors (which start with the file they are
    about) as they are, with settings spelled as flags; anything else after "voiceguide: "."""
    from ..export.atomic import OutputWriteError
    if isinstance(exc, (VoiceguideError, OutputWriteError)):
        return spelled(exc, spell)
    return f"voiceguide: {spelled(exc, spell)}"


def exit_code(exc: BaseException) -> int:
    return getattr(exc, "exit_code", 2)


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the library's errors into one line on stderr and their exit status."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except user_errors() as exc:
            fail(one_line(exc), exit_code(exc))

    return wrapper


class Cancelled:
    """Which signal cancelled the command (None: Ctrl-C), for its exit status; once the ending
    is `decided` (a message printed, a status chosen), a late signal changes nothing."""

    signum: int | None = None
    decided: bool = False

    @property
    def status(self) -> int:
        return 130 if self.signum is None else 128 + self.signum


_RESTORE: dict[int, Any] = {}
"""Handlers to put back once click has finished exiting (see Group.main)."""


def restore_signals() -> None:
    for signum, handler in _RESTORE.items():
        signal.signal(signum, handler)
    _RESTORE.clear()


@contextmanager
def signals_cancel() -> Iterator[Cancelled]:
    """Ctrl-C, SIGTERM and SIGHUP (the terminal went away) cancel as KeyboardInterrupt. When
    the command leaves with its ending decided, the handlers stay until the group's `main` has
    finished exiting, so a signal during the exit cannot turn status 2 into click's "Aborted!"."""
    cancelled = Cancelled()

    def terminate(signum: int, frame: Any) -> None:
        if cancelled.decided:
            return
        cancelled.signum = None if signum == signal.SIGINT else signum
        raise KeyboardInterrupt

    wanted = [getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)]
    previous = {signum: signal.signal(signum, terminate) for signum in wanted}
    try:
        yield cancelled
    except SystemExit:
        cancelled.decided = True
        _RESTORE.update(previous)
        raise
    finally:
        if not cancelled.decided:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


@contextmanager
def warnings_as_lines() -> Iterator[None]:
    """Library warnings (e.g. the speech cache cannot be written: the render goes on without
    it) as one `warning: ...` line each, not Python's two-line format."""
    import warnings

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        click.echo(f"warning: {str(message).removeprefix('voiceguide: ')}", err=True)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


@contextmanager
def working(cancelled: Callable[[], str], cleanup: Callable[[], None] = lambda: None) -> Iterator[None]:
    """The one rule for a command that does work (render, play, batch): signals cancel as
    Ctrl-C does, library warnings print as lines, and the block ends in one line and an exit
    status: `cancelled()` on a cancel (130, or 128 + the signal), the error's own line
    otherwise. `cleanup` runs first (progress bars off the line)."""
    with signals_cancel() as cancel, warnings_as_lines():
        try:
            yield
        except KeyboardInterrupt:
            cancel.decided = True
            cleanup()
            fail(cancelled(), cancel.status)
        except user_errors() as exc:
            cancel.decided = True
            cleanup()
            fail(one_line(exc), exit_code(exc))


def warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def serve_until_stopped(server: Any, name: str) -> NoReturn:
    """Keep a background server (the studio, `serve`) running until Ctrl+C, SIGTERM or SIGHUP,
    then stop it cleanly and exit 0; exit 1 if it stopped by itself. `server` has `alive`
    and `stop()`."""
    import time

    def stop_on(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    for signame in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, signame):
            signal.signal(getattr(signal, signame), stop_on)
    asked = False
    try:
        while server.alive:
            time.sleep(0.5)
    except KeyboardInterrupt:
        asked = True
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)      # a second Ctrl+C must not cut the stop short
        server.stop()
    if not asked:
        fail(f"Error: {name} stopped unexpectedly", 1)
    click.echo(f"{name}: stopped")
    sys.exit(0)
