"""What a batch renders: a TOML manifest or a folder of routines, expanded into items.

A manifest is `[defaults]` (options for every session) and one `[[session]]` per routine. A list
in speed, voice, ambient or length makes one variant per value (`bedtime-speed0.8.mp3`). Every
mistake is reported as FILE:LINE before anything renders: tomllib gives no line numbers for
values it parsed, so `key_lines` finds each key's line in the text itself.
"""
from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..errors import VoiceguideError
from ..library import SUFFIX, builtin_names
from ..script.parse import Problem
from ..settings import FORMAT_ALIASES, FORMATS
from .lines import key_lines, syntax_problem
from .model import Item, ManifestError, Where
from .options import OPTIONS, VARIANT_KEYS
from .variants import expand


SESSION_KEYS = ("routine", "output")


@dataclass
class _Reader:
    """Checks one manifest, collecting every problem with its line."""

    file: str
    base: Path
    lines: dict[tuple[str, int, str], int]
    problems: list[Problem] = field(default_factory=list)

    def line(self, table: str, index: int, key: str = "") -> int:
        return self.lines.get((table, index, key)) or self.lines.get((table, index, "")) or 1

    def problem(self, table: str, index: int, key: str, message: str) -> None:
        self.problems.append(Problem(self.file, self.line(table, index, key), message))

    def options(self, values: Mapping[str, Any], table: str, index: int, allowed: tuple[str, ...]) -> dict[str, Any]:
        """Checked option values of one table; lists kept for the variant keys."""
        out: dict[str, Any] = {}
        for key, value in values.items():
            if key in allowed:
                continue
            if key not in OPTIONS:
                known = [*OPTIONS, *allowed]
                close = difflib.get_close_matches(key, known, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else f" (known: {', '.join(known)})"
                where = "[defaults]" if table == "defaults" else "[[session]]"
                if key in SESSION_KEYS:
                    self.problem(table, index, key, f"'{key}' belongs in a [[session]], not in [defaults]")
                else:
                    self.problem(table, index, key, f"unknown key '{key}' in {where}{hint}")
                continue
            check = OPTIONS[key]
            try:
                if isinstance(value, list):
                    if key not in VARIANT_KEYS:
                        raise ValueError(f"only {', '.join(VARIANT_KEYS)} can list variants")
                    if not value:
                        raise ValueError("an empty list makes no variants")
                    out[key] = [check(v) for v in value]
                    if len(set(out[key])) != len(out[key]):
                        raise ValueError("a variant is listed twice")
                else:
                    out[key] = check(value)
            except ValueError as exc:
                self.problem(table, index, key, f"{key}: {exc}")
        return out

    def routine(self, value: Any, index: int) -> str | None:
        """A built-in name, or an absolute path for a file (relative to the manifest)."""
        if not isinstance(value, str) or not value.strip():
            self.problem("session", index, "routine", "routine: must be a built-in name or a path to a routine file")
            return None
        looks_like_path = "/" in value or "\\" in value or value.endswith((".md", ".txt"))
        if not looks_like_path and value in builtin_names():
            return value
        path = Path(value).expanduser()
        path = path if path.is_absolute() else self.base / path
        if path.is_file():
            return str(path.resolve())
        if looks_like_path:
            self.problem("session", index, "routine", f"routine: no such file {path}")
        else:
            self.problem("session", index, "routine", f"routine: no built-in routine '{value}' and no file "
                                                       f"{path} (built-ins: {', '.join(builtin_names())})")
        return None

    def output(self, value: Any, index: int) -> str | None:
        """A file name without folders or extension: the format adds the extension."""
        problem = None
        if not isinstance(value, str) or not value.strip():
            problem = "must be a file name"
        elif "/" in value or "\\" in value or value.startswith("."):
            problem = f"'{value}' must be a plain file name, without folders (outputs go to the output folder)"
        elif Path(value).suffix.lstrip(".").lower() in (*FORMATS, *FORMAT_ALIASES):
            problem = f"write the name without an extension; the format sets it (format = \"{Path(value).suffix[1:]}\")"
        if problem:
            self.problem("session", index, "output", f"output: {problem}")
            return None
        return value


def load_manifest(path: str | Path, defaults: Mapping[str, Any] | None = None) -> list[Item]:
    """The items a manifest asks for. `defaults` (already checked, e.g. from the command line)
    apply under the manifest's own [defaults]. Raises ManifestError listing every problem."""
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError([Problem(file, 1, "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError([Problem(file, 1, f"cannot read: {getattr(exc, 'strerror', None) or exc}")]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError([syntax_problem(exc, file, text)]) from None
    reader = _Reader(file, path.resolve().parent, key_lines(text))

    for key, value in data.items():
        if key == "session" and isinstance(value, dict):
            reader.problem("session", 0, "", "write [[session]] (two brackets) for each session")
        elif key == "defaults" and not isinstance(value, dict):
            reader.problem("", 0, key, "defaults must be a table: [defaults]")
        elif key not in ("defaults", "session"):
            close = difflib.get_close_matches(key, ["defaults", "session"], n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else " (a manifest has [defaults] and [[session]] tables)"
            line = reader.lines.get(("", 0, key)) or reader.lines.get((key, 0, "")) or 1
            reader.problems.append(Problem(file, line, f"unknown key '{key}'{hint}"))
    manifest_defaults = reader.options(data.get("defaults", {}), "defaults", 0, ()) \
        if isinstance(data.get("defaults", {}), dict) else {}
    sessions = data.get("session", [])
    if not isinstance(sessions, list):
        sessions = []
    if not sessions and not reader.problems:
        reader.problems.append(Problem(file, 1, "no [[session]] in the manifest (see docs/batch.md)"))

    items: list[Item] = []
    for index, session in enumerate(sessions):
        if not isinstance(session, dict):
            reader.problem("session", index, "", "each session must be a [[session]] table")
            continue
        options = reader.options(session, "session", index, SESSION_KEYS)
        if "routine" not in session:
            reader.problem("session", index, "", "this session has no routine = \"NAME or FILE\"")
            continue
        routine = reader.routine(session["routine"], index)
        output = reader.output(session["output"], index) if "output" in session else None
        if routine is None or ("output" in session and output is None):
            continue
        merged = {**(defaults or {}), **manifest_defaults, **options}
        where = Where(file, reader.line("session", index, "output" if "output" in session else ""))
        items += expand(routine, output or stem(routine), merged, where, reader.base)
    if reader.problems:
        raise ManifestError(reader.problems)
    return items


def stem(routine: str) -> str:
    """The default output name: "bedtime", or "desk-reset" for desk-reset.routine.md."""
    name = Path(routine).name
    return name[: -len(SUFFIX)] if name.endswith(SUFFIX) else Path(name).stem


def discover(folder: str | Path, defaults: Mapping[str, Any] | None = None) -> list[Item]:
    """One item per *.routine.md in `folder` (not its subfolders), sorted by name."""
    folder = Path(folder)
    files = sorted(p for p in folder.glob(f"*{SUFFIX}") if p.is_file())
    if not files:
        raise VoiceguideError(f"{folder}: no *{SUFFIX} files in this folder")
    items: list[Item] = []
    for path in files:
        items += expand(str(path.resolve()), stem(str(path)), dict(defaults or {}), Where(str(path), 1), folder)
    return items
