"""A routine's TOML front matter -> `Meta`, every problem reported at its line.

Two kinds of keys: the routine's own words (title, description, who it suits, cautions,
pronunciations), checked here, and session settings (speed, voice, ambient...), which are
whatever `voiceguide.settings` marks `front_matter` and are checked by its one check, so the
front matter, the CLI and a batch manifest always agree on what a valid value is.
"""
from __future__ import annotations

import re
import tomllib
from typing import Any

from .. import settings
from .model import Meta
from .problems import CONTROL, Collector, excerpt

_TOML_KEY = re.compile(r"""^\s*(?:\[\s*)?([A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')""")
TEXT_KEYS = ("title", "description", "suits", "caution")
MULTILINE_KEYS = ("description", "suits", "caution")
KEYS = (*TEXT_KEYS, *settings.FRONT_MATTER, "pronounce")
"""Every key the front matter may set."""


def _key_lines(front_lines: list[str], first_line: int) -> dict[str, int]:
    """File line of the first line that sets (or opens a table for) each key: one pass."""
    lines: dict[str, int] = {}
    for offset, text in enumerate(front_lines):
        match = _TOML_KEY.match(text)
        if match:
            lines.setdefault(_unquote(match.group(1)), first_line + offset)
    return lines


def _unquote(token: str) -> str:
    """A TOML key as written (bare, "basic" or 'literal') -> the key itself."""
    if token[0] not in "\"'":
        return token
    try:
        return next(iter(tomllib.loads(f"{token} = 0")))
    except (tomllib.TOMLDecodeError, StopIteration):
        return token


def control_message(value: str, newlines: bool) -> str | None:
    """A string from the front matter must be printable text (it ends up in tags and argv)."""
    match = CONTROL.search(value) or (None if newlines else re.search(r"[\n\r]", value))
    return None if match is None else f"must not contain control characters (found U+{ord(match.group()):04X})"


def _load(front_lines: list[str], first_line: int, out: Collector) -> dict[str, Any] | None:
    try:
        return tomllib.loads("\n".join(front_lines))
    except (RecursionError, ValueError) as exc:   # deep nesting, or ints of 4300+ digits
        if not isinstance(exc, tomllib.TOMLDecodeError):
            why = "it is nested too deeply" if isinstance(exc, RecursionError) else "a number has too many digits"
            out.add(first_line, f"front matter is not valid TOML: {why}")
            return None
        text = str(exc)
        match = re.search(r"at line (\d+)", text)
        line = first_line + int(match.group(1)) - 1 if match else first_line
        message = re.sub(r"\s*\(at line \d+, column \d+\)|\s*\(at end of document\)", "", text)
        out.add(line, f"front matter is not valid TOML: {message}")
        return None


def _text_problem(key: str, value: Any) -> str | None:
    if not isinstance(value, str):
        return f"'{key}' must be a string, not {excerpt(repr(value))}"
    if key == "title" and not value.strip():
        return f"'{key}' must not be empty, not {excerpt(repr(value))}"
    message = control_message(value, key in MULTILINE_KEYS)
    return f"'{key}' {message}" if message else None


def _pronounce_problem(value: Any) -> str | None:
    if not isinstance(value, dict):
        return f"'pronounce' must be a table, not {excerpt(repr(value))}"
    bad = [k for k, v in value.items() if not isinstance(v, str) or not v.strip() or not k.strip()
           or control_message(k, False) or control_message(v, False)]
    if bad:
        return f"[pronounce] entries must map words to respellings (strings); check {excerpt(', '.join(map(repr, bad[:5])))}"
    return None


def parse_front(front_lines: list[str], first_line: int, out: Collector) -> Meta | None:
    """TOML front matter -> Meta; `first_line` is the file line of the first TOML line."""
    data = _load(front_lines, first_line, out)
    if data is None:
        return None
    texts: dict[str, Any] = {}
    chosen: dict[str, Any] = {}
    key_lines = _key_lines(front_lines, first_line)
    lines: dict[str, int] = {}
    for key, value in data.items():
        line = lines[key] = key_lines.get(key, first_line)
        if key in TEXT_KEYS:
            problem = _text_problem(key, value)
            if problem is None:
                texts[key] = value
        elif key == "pronounce":
            problem = _pronounce_problem(value)
            if problem is None:
                texts[key] = value
        elif key in settings.FRONT_MATTER:
            try:
                chosen[key] = settings.check(key, value)
                problem = None
            except settings.SettingError as exc:
                problem = str(exc)            # "speed: 3 is out of range (0.5 to 2)", as a manifest says it
        else:
            problem = f"unknown front-matter key '{excerpt(key)}' (known keys: {', '.join(KEYS)})"
        if problem is not None:
            out.add(line, problem)
    if "title" not in data:
        out.add(first_line - 1, "front matter needs a title, e.g. title = \"Evening hand massage\"")
        return None
    if "title" not in texts:
        return None
    return Meta(**texts, settings=chosen, lines=lines)
