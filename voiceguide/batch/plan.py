"""SOURCE + OUTDIR -> the checked list of items: outputs, hashes, routines that do not parse.

Everything that can be known before rendering is found here, in the calling process, so a
batch fails fast on a typo and never starts two renders that would write the same file.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..errors import VoiceguideError
from ..library import builtin_text, load_routine, plan_session
from ..session import check
from ..settings import resolve
from ..script.model import Routine
from ..script.parse import Problem
from ..script.phrases import added_file
from .manifest import discover, load_manifest
from .model import Item, ManifestError
from .options import check_defaults
from .state import item_digest


@dataclass(frozen=True)
class Batch:
    source: Path
    outdir: Path
    items: list[Item]


def _routine_text(ref: str) -> bytes:
    return Path(ref).read_bytes() if Path(ref).is_absolute() else builtin_text(ref).encode("utf-8")


def one_line(exc: BaseException) -> str:
    """A failure as one line: the first problem, and how many more there are."""
    lines = [line for line in str(exc).splitlines() if line.strip()] or [type(exc).__name__]
    more = f" (and {len(lines) - 1} more problem{'s' if len(lines) > 2 else ''})" if len(lines) > 1 else ""
    return lines[0] + more


def _complete(item: Item, outdir: Path, routines: dict[str, Routine | BaseException]) -> Item:
    """The item with its output path, content hash and planned length, or the reason it
    cannot render (its routine does not parse, its ambient file is missing)."""
    item = dataclasses.replace(item, output=outdir / item.name)
    if item.routine not in routines:
        try:
            routines[item.routine] = load_routine(item.routine)
        except VoiceguideError as exc:
            routines[item.routine] = exc
    routine = routines[item.routine]
    if isinstance(routine, BaseException):
        return dataclasses.replace(item, error=one_line(routine))
    try:
        settings = resolve(item.options, routine.meta.settings)
        inputs = check(routine, settings).inputs        # limits, and sound files that decode
        expected = plan_session(routine, settings).total
        text = _routine_text(item.routine)
    except (VoiceguideError, OSError) as exc:
        message = one_line(exc)
        if not re.match(r"^\S+:\d+: ", message):      # say which session asked for it
            message = f"{item.where}: {message}"
        return dataclasses.replace(item, error=message)
    sounds = [p for p in inputs if p.resolve() != Path(routine.source).resolve()]   # ambient, chime files
    digest = item_digest(text, settings, sounds, added_file(routine.meta.language))
    return dataclasses.replace(item, digest=digest, expected=expected, settings=settings)


def check_duplicates(items: list[Item]) -> None:
    """Two items must never write one file (names compared as a case-insensitive disk would)."""
    first: dict[str, Item] = {}
    problems = []
    for item in items:
        key = item.name.casefold()
        if key in first:
            other = first[key].where
            at = f"line {other.line}" if other.file == item.where.file else str(other)
            problems.append(Problem(item.where.file, item.where.line,
                                    f"output '{item.name}' is also written by the session at {at}"))
        else:
            first[key] = item
    if problems:
        raise ManifestError(problems)


def plan_batch(source: str | Path, outdir: str | Path, defaults: Mapping[str, Any] | None = None) -> Batch:
    """Read SOURCE (a *.toml manifest or a folder of routines) into checked items writing to
    OUTDIR. `defaults` are options for every item, under the manifest's own."""
    source = Path(source)
    defaults = check_defaults(defaults or {})
    if source.is_dir():
        items = discover(source, defaults)
    elif source.suffix.lower() == ".toml":
        items = load_manifest(source, defaults)
    elif not source.exists():
        raise VoiceguideError(f"{source}: no such manifest or folder")
    else:
        raise VoiceguideError(f"{source}: not a manifest (*.toml) or a folder of routines")
    check_duplicates(items)
    outdir = Path(outdir).expanduser().resolve()
    if outdir.exists() and not outdir.is_dir():
        raise VoiceguideError(f"{outdir}: is a file, not an output folder")
    routines: dict[str, Routine | BaseException] = {}
    return Batch(source, outdir, [_complete(item, outdir, routines) for item in items])
