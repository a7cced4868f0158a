"""The batch's data: where an item was asked for, the item itself, and manifest errors."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..errors import VoiceguideError
from ..script.parse import Problem
from ..settings import Settings


class ManifestError(VoiceguideError):
    """The manifest or folder cannot be used; `problems` lists every mistake, in line order."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line))
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Where:
    """Where an item was asked for, so every later problem can point at it."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Item:
    """One output to render. `output`, `digest` and `error` are filled in by plan_batch."""

    name: str                      # the output's file name, e.g. "bedtime-speed0.8.mp3"
    routine: str                   # a built-in name or an absolute path
    options: Mapping[str, Any]     # the settings this item sets (checked), under the routine's own
    where: Where
    output: Path | None = None
    digest: str = ""               # content hash of routine + options + versions (resume)
    error: str = ""                # found before rendering (the routine does not parse)
    expected: float = 0.0          # planned seconds, to weigh the progress bar
    settings: Settings | None = None   # resolved against the routine by plan_batch
    store: str | None = None       # the disk store's folder, set by run_batch
    transcripts: tuple[str, ...] = ()   # written beside the output (batch --feed: vtt)
