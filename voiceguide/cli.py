"""The `voiceguide` command: click commands only. Each parses options, calls the library API,
prints, and maps errors to exit statuses (2 for bad input) without a traceback."""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, Callable, Iterator

import click

from . import library
from .errors import VoiceguideError
from .script.durations import DurationError, format_clock, format_duration, parse_duration
from .starter import STARTER
from .timeline import Timeline, plan as plan_timeline

SPEED = click.FloatRange(0.5, 2.0)


class DurationType(click.ParamType):
    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, (int, float)):
            return float(value)
        try:
            seconds = parse_duration(value)
        except DurationError as exc:
            self.fail(str(exc), param, ctx)
        if seconds <= 0:
            self.fail("must be longer than zero", param, ctx)
        return seconds


DURATION = DurationType()


def _fail(message: str, code: int = 2) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the library's own errors into one line per problem on stderr and exit status 2."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except VoiceguideError as exc:
            _fail(str(exc), exc.exit_code)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="voiceguide")
def main() -> None:
    """Turn a plain-text routine script into a voice-guided audio session.

    \b
    Start here:
      voiceguide list                      the built-in routines
      voiceguide plan bedtime              how a session will be timed
      voiceguide new my-hands.routine.md   write your own routine
    """


@main.command("list")
@reports_errors
def list_cmd() -> None:
    """List the built-in routines: name, length, purpose, who they suit.

    \b
    Example:
      voiceguide list
    """
    for name in library.builtin_names():
        routine = library.load_routine(name)
        meta = routine.meta
        total = plan_timeline(routine).total
        click.echo(f"{click.style(f'{name:<14}', bold=True)} {format_duration(total):>8}  {meta.description}")
        if meta.suits:
            click.echo(f"{'':<25}For: {meta.suits}")
        if meta.caution:
            click.echo(f"{'':<25}Caution: {meta.caution}")


@main.command()
@click.argument("name")
def show(name: str) -> None:
    """Print a built-in routine's script (copy it to start your own).

    \b
    Example:
      voiceguide show bedtime > my-bedtime.routine.md
    """
    try:
        click.echo(library.builtin_text(name), nl=False)
    except VoiceguideError as exc:
        _fail(str(exc))


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@reports_errors
def new(file: Path, force: bool) -> None:
    """Write a commented starter routine to FILE.

    \b
    Example:
      voiceguide new my-hands.routine.md
    """
    if file.exists() and not force:
        _fail(f"{file}: already exists (use --force to overwrite)")
    _write_atomically(file, STARTER)
    click.echo(f"wrote {file}; edit it, then: voiceguide plan {file}")


@contextmanager
def atomic_path(path: Path, force: bool = False) -> Iterator[Path]:
    """A temp path beside `path`, renamed onto it only if the block succeeds."""
    if path.exists() and not force:
        raise VoiceguideError(f"{path}: already exists (use --force to overwrite)")
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, name = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=path.suffix)
    except OSError as exc:
        raise VoiceguideError(f"{path}: cannot write: {exc.strerror}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_atomically(path: Path, text: str) -> None:
    with atomic_path(path, force=True) as tmp:
        tmp.write_text(text, encoding="utf-8")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def validate(files: tuple[str, ...]) -> None:
    """Check routine files (or built-in names) and report every problem as FILE:LINE: message.

    Exit status 0 when all are valid, 2 when any has a problem.

    \b
    Example:
      voiceguide validate my-hands.routine.md other.routine.md
    """
    failed = False
    for ref in files:
        try:
            routine = library.load_routine(ref)
            timeline = plan_timeline(routine)
        except VoiceguideError as exc:
            click.echo(str(exc), err=True)
            failed = True
            continue
        sections = sum(1 for s in routine.sections if s.level > 0)
        click.echo(f"{ref}: ok ({sections} sections, about {format_duration(timeline.total)})")
    if failed:
        sys.exit(2)


@main.command()
@click.argument("routine")
@click.option("--speed", type=SPEED, help="Narration speed, 0.5 to 2.0 (default: the routine's).")
@click.option("--length", type=DURATION, help="Fit the session to exactly this length, e.g. 12m.")
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as one JSON object.")
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw the timeline as a picture (needs the plot extra).")
@reports_errors
def plan(routine: str, speed: float | None, length: float | None, as_json: bool, png: Path | None) -> None:
    """Show how ROUTINE (a built-in name or a file) will be timed, before any audio exists.

    Narration lengths are estimated from the text until the session is rendered.

    \b
    Examples:
      voiceguide plan bedtime
      voiceguide plan my-hands.routine.md --speed 0.8 --length 10m
      voiceguide plan desk-break --json
      voiceguide plan bedtime --png bedtime-plan.png
    """
    timeline = plan_timeline(library.load_routine(routine), speed=speed, length=length)
    if png is not None:
        from .picture import draw_timeline
        with atomic_path(png, force=True) as tmp:
            draw_timeline(timeline, tmp)
    if as_json:
        click.echo(json.dumps(timeline.to_json(), indent=2, ensure_ascii=False))
    else:
        _print_table(timeline)


def _print_table(timeline: Timeline) -> None:
    width = shutil.get_terminal_size((100, 24)).columns
    text_width = max(20, width - 28)
    click.echo(f"{timeline.title}  (speed {timeline.speed:g}; natural gaps between sentences not listed)")
    click.echo(f"{'START':>9}  {'DURATION':>8}  {'KIND':<7}  TEXT")
    section = -1
    for event in timeline.events:
        if event.section != section:
            section = event.section
            span = timeline.sections[section]
            click.echo(click.style(f"{format_clock(span.start):>9}  {format_duration(span.duration):>8}  "
                                   f"== {span.title} ==", bold=True))
        if event.kind == "pause" and event.step is None:
            continue
        text = event.text if len(event.text) <= text_width else event.text[: text_width - 1] + "…"
        click.echo(f"{format_clock(event.start):>9}  {format_duration(event.duration):>8}  {event.kind:<7}  {text}")
    click.echo(f"Total: {format_duration(timeline.total)} ({format_clock(timeline.total)})")
