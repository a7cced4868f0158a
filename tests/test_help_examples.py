"""Every command's --help shows examples, and the examples work.

The commands are found by walking the click group, so a command added later is covered
without touching this file. Every example line must parse (click's make_context, with every
option's type checked) and name a real command; the quick, silent ones are also run for real
in an empty folder with a private cache. Examples of commands that play audio, render or run
long (render, play, batch, devices, and new commands until listed in RUN) are only parsed.
"""
from __future__ import annotations

import re
import shlex

import click
import pytest
from click.testing import CliRunner

from voiceguide.cli import main

PROG = "voiceguide"
# Commands whose examples run for real: quick, no audio device, nothing written outside the
# test's folder and cache. Anything else (render, play, batch, devices, ...) is only parsed.
RUN = {("list",), ("show",), ("new",), ("validate",), ("plan",), ("voices",), ("cache", "info"), ("cache", "clear")}
# The block that holds the examples: "Example:" or "Examples:" (the top group: "Start here:").
HEADING = re.compile(r"^\s*(Examples?|Start here):\s*$")


def commands(command: click.Command = main, path: tuple[str, ...] = ()):
    """(path, command) for the group and every command and subcommand below it."""
    yield path, command
    if isinstance(command, click.Group):
        for name in sorted(command.list_commands(click.Context(command))):
            yield from commands(command.get_command(click.Context(command), name), (*path, name))


COMMANDS = dict(commands())


def help_text(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(main, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


def examples(path: tuple[str, ...]) -> list[list[str]]:
    """The example command lines in a command's help, as argument lists after `voiceguide`
    (a note after two spaces and a shell redirection `> FILE` are kept out: see run_example)."""
    lines = help_text(path).splitlines()
    found: list[list[str]] = []
    for i, line in enumerate(lines):
        if not HEADING.match(line):
            continue
        for example in lines[i + 1:]:
            if not example.strip():
                break
            command = re.split(r"\s{2,}", example.strip())[0]      # "voiceguide list   the built-ins"
            words = shlex.split(command)
            assert words[0] == PROG, f"{' '.join(path)}: an example that is not a voiceguide command: {example!r}"
            found.append(words[1:])
    return found


def parse(args: list[str]) -> tuple[tuple[str, ...], click.Context]:
    """Parse an example as the CLI would, down to its command, without running it; returns
    the command's path and its context (its params converted and checked)."""
    args = list(args)
    if ">" in args:
        args = args[:args.index(">")]
    command: click.Command = main
    parent, name, path = None, PROG, ()
    while isinstance(command, click.Group):
        if command.invoke_without_command and path and not any(not a.startswith("-") for a in args):
            break                       # a group that does its own work (`voiceguide voices`)
        context = click.Context(command, info_name=name, parent=parent, **command.context_settings)
        name, command, args = command.resolve_command(context, args)
        parent, path = context, (*path, name)
    return path, command.make_context(name, args, parent=parent)


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=lambda p: " ".join(p) or PROG)
def test_every_command_shows_examples_that_parse(path):
    found = examples(path)
    assert found, f"`{' '.join((PROG, *path))} --help` has no Example(s): block"
    parsed = []
    for args in found:
        try:
            target = parse(args)[0]
        except click.UsageError as exc:
            raise AssertionError(f"{' '.join((PROG, *path))} --help: example {shlex.join(args)!r} does not "
                                 f"parse: {exc.format_message()}") from None
        parsed.append(target)
    if path:    # a command shows itself (other commands may appear beside it)
        assert any(target[:len(path)] == path for target in parsed), (path, found)


def test_commands_are_found_by_walking_the_group():
    """The walk reaches subcommands (so a command added anywhere is covered), and every quick
    command has an example of its own that runs."""
    assert {("render",), ("play",), ("batch",), ("cache",), ("cache", "info"), ("cache", "clear")} <= set(COMMANDS)
    assert RUN <= set(COMMANDS), RUN - set(COMMANDS)
    ran = {parse(param.values[0])[0] for param in quick_examples()}
    assert ran == RUN, RUN - ran


def run_example(args: list[str], folder) -> None:
    """Run one example in `folder`. Routine files it names are written first (a starter, as
    `voiceguide new` writes), except the one `new` is to write; `> FILE` saves the output."""
    runner = CliRunner()
    redirect = None
    if ">" in args:
        args, redirect = args[:args.index(">")], args[args.index(">") + 1]
    target, _ = parse(args)
    if target != ("new",):
        for arg in args:
            if arg.endswith(".routine.md") and not (folder / arg).exists():
                assert runner.invoke(main, ["new", arg]).exit_code == 0
    result = runner.invoke(main, args)
    assert result.exit_code == 0 and result.exception is None, (args, result.output, result.exception)
    assert "Traceback" not in result.output
    if redirect:
        (folder / redirect).write_text(result.output)


# Examples that fail today, each with why; strict, so a fixed one must leave this list.
KNOWN: dict[str, str] = {}


def quick_examples():
    """Every example, in any command's help, of a command in RUN (each once)."""
    seen = []
    for path in sorted(COMMANDS):
        for args in examples(path):
            if parse(args)[0] in RUN and args not in seen:
                seen.append(args)
    return [pytest.param(args, id=shlex.join(args),
                         marks=[pytest.mark.xfail(strict=True, reason=KNOWN[shlex.join(args)])]
                         if shlex.join(args) in KNOWN else []) for args in seen]


@pytest.mark.parametrize("args", quick_examples())
def test_quick_examples_run_for_real(args, tmp_path, monkeypatch, private_cache):
    """The example, in an empty folder with an empty private cache and no sound card."""
    monkeypatch.setenv("VOICEGUIDE_AUDIO_BACKEND", "null")
    monkeypatch.chdir(tmp_path)
    run_example(args, tmp_path)


def test_a_redirected_show_is_a_valid_routine(tmp_path, monkeypatch):
    """`voiceguide show bedtime > my-bedtime.routine.md` (show's own example) gives a file that
    validates: the example's promise, not just its exit status."""
    monkeypatch.chdir(tmp_path)
    [args] = [a for a in examples(("show",)) if ">" in a]
    run_example(args, tmp_path)
    saved = args[args.index(">") + 1]
    assert CliRunner().invoke(main, ["validate", saved]).exit_code == 0
