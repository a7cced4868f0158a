"""Commands about routines themselves: list, show, new, validate, plan."""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import click

from .. import api, library
from ..errors import VoiceguideError
from ..script.durations import format_clock, format_duration
from ..starter import STARTER
from ..timeline import Timeline
from .failures import one_line, reports_errors, user_errors
from .group import main
from .options import given, setting_options


@main.command("list")
@reports_errors
def list_cmd() -> None:
    """List the built-in routines: name, length, purpose, who they suit.

    A length is measured when the session's speech is in the cache (it was rendered or played
    before), else estimated from the voice's pace (marked ~).

    \b
    Example:
      voiceguide list
    """
    from ..cachedir import cache_dir
    from ..lengths import LEGEND, format_length
    for name in library.builtin_names():
        routine = api.load(name)
        meta = routine.meta
        total = format_length(api.length(routine, cache_dir=cache_dir()))
        click.echo(f"{click.style(f'{name:<14}', bold=True)} {total:>8}  {meta.description}")
        if meta.suits:
            click.echo(f"{'':<25}For: {meta.suits}")
        if meta.caution:
            click.echo(f"{'':<25}Caution: {meta.caution}")
    click.echo(LEGEND)


@main.command()
@click.argument("name")
@reports_errors
def show(name: str) -> None:
    """Print a built-in routine's script (copy it to start your own).

    \b
    Example:
      voiceguide show bedtime > my-bedtime.routine.md
    """
    click.echo(library.builtin_text(name), nl=False)


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
    from ..export.atomic import atomic_output
    with atomic_output(file, force=force) as tmp:
        tmp.write_text(STARTER, encoding="utf-8")
    click.echo(f"wrote {file}; edit it, then: voiceguide plan {file}")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())   # a folder: one line, like plan
@setting_options("plan", skip=("speed", "length"))
@click.option("--lint", is_flag=True,
              help="Also warn where a step names a count or a list of places (\"five times each way\", "
                   "\"each finger\") and its hold is shorter than about 2 s per item.")
def validate(files: tuple[str, ...], lint: bool, **options: object) -> None:
    """Check routine files (or built-in names) and report every problem as FILE:LINE: message.

    Exit status 0 when all are valid (warnings from --lint included), 2 when any has a problem.

    \b
    Examples:
      voiceguide validate my-hands.routine.md other.routine.md
      voiceguide validate --lint my-hands.routine.md
    """
    from ..cachedir import cache_dir
    from ..script.lint import lint as lint_routine
    failed = False
    for ref in files:
        try:
            routine = api.load(ref, max_session=options.get("max_session"))
        except user_errors() as exc:
            click.echo(one_line(exc), err=True)
            failed = True
            continue
        warnings = lint_routine(routine) if lint else []   # a routine that parses can be linted
        for warning in warnings:
            click.echo(str(warning), err=True)
        try:
            timeline = api.validate(routine, cache_dir=cache_dir(), **given(options))
        except user_errors() as exc:
            click.echo(one_line(exc), err=True)
            failed = True
            continue
        sections = sum(1 for s in routine.sections if s.level > 0)
        counted = f"; {len(warnings)} warning{'s' * (len(warnings) != 1)}" if warnings else ""
        click.echo(f"{ref}: ok ({sections} sections, about {format_duration(timeline.total)}{counted})")
    if failed:
        sys.exit(2)


@main.command()
@click.argument("routine")
@setting_options("plan")
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as one JSON object.")
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw the timeline as a picture (needs the plot extra).")
@reports_errors
def plan(routine: str, as_json: bool, png: Path | None, **options: object) -> None:
    """Show how ROUTINE (a built-in name or a file) will be timed, before any audio exists.

    Narration is timed from the speech cache when the session was rendered before, else
    estimated from the voice's pace; the total line says which.

    \b
    Examples:
      voiceguide plan bedtime
      voiceguide plan my-hands.routine.md --speed 0.8 --length 4m
      voiceguide plan desk-break --json
      voiceguide plan bedtime --png bedtime-plan.png
    """
    from ..cachedir import cache_dir
    from ..lengths import total_line
    loaded = api.load(routine, max_session=options.get("max_session"))
    expected = api.length(loaded, cache_dir=cache_dir(), **given(options))
    timeline = expected.timeline
    if png is not None:
        from ..export.atomic import atomic_output
        from ..picture import draw_timeline
        if os.path.realpath(png) == os.path.realpath(loaded.source):
            raise VoiceguideError(f"{png}: --png would overwrite the routine itself; choose another name")
        with atomic_output(png, force=True) as tmp:
            draw_timeline(timeline, tmp)
    if as_json:
        click.echo(json.dumps(timeline.to_json(), indent=2, ensure_ascii=False))
    else:
        _print_table(timeline, total_line(expected))


def _print_table(timeline: Timeline, total: str) -> None:
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
    click.echo(total)


