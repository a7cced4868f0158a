"""Write docs/cli.md from the real `--help` of every command, so the reference never drifts.

Run: .venv/bin/python scripts/gen_cli_docs.py   (tests/test_docs.py fails when it is stale)
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "cli.md"


def _commands(group: click.Group, prefix: list[str]) -> list[list[str]]:
    found = []
    for name in sorted(group.commands):
        command = group.commands[name]
        found.append(prefix + [name])
        if isinstance(command, click.Group):
            found.extend(_commands(command, prefix + [name]))
    return found


def render() -> str:
    from voiceguide.cli import main

    runner = CliRunner()
    parts = ["# Command reference\n",
             "Generated from the real `--help` output by `scripts/gen_cli_docs.py`; do not edit by hand.\n"]
    for path in [[]] + _commands(main, []):
        result = runner.invoke(main, path + ["--help"], prog_name="voiceguide", terminal_width=100)
        title = " ".join(["voiceguide"] + path)
        parts.append(f"## `{title}`\n\n```\n{result.output.rstrip()}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if TARGET.exists() and TARGET.read_text() == text else 1)
    TARGET.write_text(text)
    print(f"wrote {TARGET}")
