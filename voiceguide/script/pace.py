"""`{pace 0.8}` ending a paragraph: that paragraph is spoken at the session's speed times 0.8.

For the slow closing words of a bedtime routine. Only the end of a paragraph may carry it
(after its last words and directives), so it reads as a note on the whole paragraph; one
anywhere else is reported by the parser's placeholder check.
"""
from __future__ import annotations

import re

from .problems import Collector, excerpt

PACE_RANGE = (0.5, 1.5)
_PACE = re.compile(r"\{\s*pace\b([^{}]*)\}\s*$", re.IGNORECASE)   # `{pace 0.8}` ending a line
_PACE_VALUE = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,6})?|\.[0-9]{1,6}")

Lines = list[tuple[int, str]]


def take_pace(lines: Lines, out: Collector) -> tuple[Lines, float]:
    """Strip a `{pace X}` that ends the paragraph: (the lines without it, the pace, else 1.0).
    A wrong one is reported at its line (and the paragraph keeps the session's speed)."""
    line, last = lines[-1]
    match = _PACE.search(last)
    if match is None:
        return lines, 1.0
    lines = [*lines[:-1], (line, last[:match.start()])]
    arg, (low, high) = match.group(1).strip(), PACE_RANGE
    if not arg:
        out.add(line, "{pace}: write {pace 0.8}")
    elif not _PACE_VALUE.fullmatch(arg):
        out.add(line, f"{{pace {excerpt(arg)}}}: write {{pace 0.8}} (the paragraph's speed, from {low:g} to "
                      f"{high:g} times the session's)")
    elif not low <= float(arg) <= high:
        out.add(line, f"{{pace {arg}}}: the pace must be from {low:g} to {high:g}")
    else:
        return lines, float(arg)
    return lines, 1.0
