"""Problems in a routine file, and quoting the user's text safely in a one-line message.

Shared by the front-matter and body parsers (and the batch manifest reader): every mistake
is collected with its file and line, and all of them are reported at once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import VoiceguideError
from ..limits import DEFAULT_LIMITS, Limits

# Control characters that never belong in a text file (tab, newlines and form feed do).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
MAX_SHOWN = 60          # characters of the user's text quoted in a message
MAX_LISTED = 50         # problems printed; the rest are counted


def excerpt(text: str, limit: int = MAX_SHOWN) -> str:
    """The user's text for a one-line message: control characters escaped, long text cut."""
    text = CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text.replace("\t", " "))
    text = text.replace("\n", "\\n").replace("\r", "\\r")
    return text if len(text) <= limit else text[:limit - 1] + "…"


@dataclass(frozen=True)
class Problem:
    """One mistake in a routine file."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class RoutineError(VoiceguideError):
    """A routine could not be read; `problems` lists every mistake found, in line order."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: p.line)
        shown = [str(p) for p in self.problems[:MAX_LISTED]]
        if len(self.problems) > MAX_LISTED:
            last = self.problems[MAX_LISTED]
            shown.append(f"{last.file}:{last.line}: ... and {len(self.problems) - MAX_LISTED} more problems")
        super().__init__("\n".join(shown))


class Collector:
    def __init__(self, source: str, limits: Limits = DEFAULT_LIMITS):
        self.source = source
        self.limits = limits
        self.problems: list[Problem] = []

    def add(self, line: int, message: str) -> None:
        """Record a problem; the message is forced onto one line whatever it quotes."""
        self.problems.append(Problem(self.source, line, excerpt(message, 400)))
