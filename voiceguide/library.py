"""Finding routines: built-in names (package data) or paths to the user's own files."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from .errors import VoiceguideError
from .script.model import Routine
from .script.parse import parse_bytes

SUFFIX = ".routine.md"
MAX_ROUTINE_BYTES = 1_000_000


class RoutineNotFound(VoiceguideError):
    pass


def builtin_names() -> list[str]:
    """Names of the routines that ship with voiceguide, sorted."""
    folder = resources.files("voiceguide.routines")
    return sorted(p.name[: -len(SUFFIX)] for p in folder.iterdir() if p.name.endswith(SUFFIX))


def builtin_text(name: str) -> str:
    return _builtin_file(name).read_text(encoding="utf-8")


def _builtin_file(name: str):
    file = resources.files("voiceguide.routines").joinpath(name + SUFFIX)
    if not file.is_file():
        known = ", ".join(builtin_names())
        raise RoutineNotFound(f"no built-in routine '{name}' and no such file (built-ins: {known})")
    return file


def is_path(ref: str) -> bool:
    """A reference is a path if it looks like one; otherwise it names a built-in routine."""
    return "/" in ref or "\\" in ref or ref.endswith((".md", ".txt")) or Path(ref).exists()


def load_routine(ref: str | Path) -> Routine:
    """A built-in routine by name, or a routine file by path."""
    ref = str(ref)
    if not is_path(ref):
        return parse_bytes(_builtin_file(ref).read_bytes(), f"{ref}{SUFFIX}")
    path = Path(ref)
    try:
        if path.is_dir():
            raise RoutineNotFound(f"{ref}: is a folder, not a routine file")
        size = path.stat().st_size
        if size > MAX_ROUTINE_BYTES:
            raise RoutineNotFound(f"{ref}: {size} bytes is too large for a routine script "
                                  f"(limit {MAX_ROUTINE_BYTES})")
        data = path.read_bytes()
    except FileNotFoundError:
        raise RoutineNotFound(f"{ref}: no such file") from None
    except OSError as exc:
        raise RoutineNotFound(f"{ref}: cannot read: {exc.strerror}") from None
    return parse_bytes(data, ref)
