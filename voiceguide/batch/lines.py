"""Line numbers for TOML: tomllib reports them for syntax errors only, so every key's line
is found in the text itself, to report a wrong value as FILE:LINE."""
from __future__ import annotations

import re
import tomllib

from ..script.parse import Problem

_TRIPLE = re.compile(r'"""|\'\'\'')
_ARRAY_TABLE = re.compile(r"^\[\[\s*([A-Za-z0-9_.-]+)\s*\]\]")
_TABLE = re.compile(r"^\[\s*([A-Za-z0-9_.-]+)\s*\]")
_KEY = re.compile(r"""^(?:"([^"]+)"|'([^']+)'|([A-Za-z0-9_-]+))\s*=""")


def key_lines(text: str) -> dict[tuple[str, int, str], int]:
    """(table, index in an array of tables, key) -> line of its first mention; the key ""
    is the table's header. Top-level keys are in table "" ."""
    lines: dict[tuple[str, int, str], int] = {}
    counts: dict[str, int] = {}
    table, index, in_string = "", 0, False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        was_in_string = in_string
        if len(_TRIPLE.findall(line)) % 2:
            in_string = not in_string
        if was_in_string:
            continue
        if match := _ARRAY_TABLE.match(stripped):
            table = match.group(1)
            index = counts.get(table, 0)
            counts[table] = index + 1
        elif match := _TABLE.match(stripped):
            table, index = match.group(1), 0
        elif match := _KEY.match(stripped):
            key = next(g for g in match.groups() if g is not None)
            lines.setdefault((table, index, key), number)
            continue
        else:
            continue
        lines.setdefault((table, index, ""), number)
    return lines


def syntax_problem(exc: tomllib.TOMLDecodeError, file: str, text: str) -> Problem:
    message = str(exc)
    match = re.search(r"\s*\(at line (\d+), column \d+\)$", message)
    if match:
        return Problem(file, int(match.group(1)), f"invalid TOML: {message[:match.start()]}")
    line = max(1, len(text.splitlines())) if "end of document" in message else 1
    return Problem(file, line, f"invalid TOML: {re.sub(r' *[(]at end of document[)]', '', message)}")
