"""Durations as people write them ("500ms", "1m30s") and as the tool prints them."""
from __future__ import annotations

import math
import re

_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|h|m|s)")   # ASCII digits only
HUGE = 1e12   # seconds (31,700 years): beyond this, durations are printed roughly


class DurationError(ValueError):
    """The text is not a duration; the message says what a duration looks like."""


def _quoted(text: str, limit: int = 40) -> str:
    """The user's text for a message: one line, and short even if the input is not."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def parse_duration(text: str) -> float:
    """Seconds in `text`, e.g. "1m30s" -> 90.0. Units h, m, s, ms, largest first, each once."""
    s = text.strip().lower()
    if not s:
        raise DurationError("empty duration")
    pos, total, seen = 0, 0.0, []
    for match in _PART.finditer(s):
        if match.start() != pos:
            break
        unit = match.group(2)
        if seen and list(_UNIT_SECONDS).index(unit) <= list(_UNIT_SECONDS).index(seen[-1]):
            raise DurationError(f"bad duration '{_quoted(text)}': units must go from largest to smallest, each once")
        seen.append(unit)
        total += float(match.group(1)) * _UNIT_SECONDS[unit]
        pos = match.end()
    if pos != len(s) or not seen:
        raise DurationError(f"bad duration '{_quoted(text)}' (write e.g. 500ms, 5s, 1.5s, 2m, 1m30s)")
    if not math.isfinite(total):
        raise DurationError(f"bad duration '{_quoted(text)}': too large")
    return total


def format_duration(seconds: float, precise: bool = False) -> str:
    """Compact human form that parse_duration reads back: 90 -> "1m30s", 0.5 -> "500ms".

    Rounded to a tenth of a second unless `precise` (milliseconds). Absurd values (which only
    appear in error messages) are printed roughly instead of overflowing."""
    if not seconds < HUGE:
        return f"{seconds / 3600:.3g}h" if math.isfinite(seconds) else str(seconds)
    ms = round(seconds * 1000) if precise or seconds < 1 else round(seconds * 10) * 100
    if ms < 1000:
        return f"{ms}ms"
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s = rest / 1000
    parts = []
    if h:
        parts.append(f"{h}h")
    if m:
        parts.append(f"{m}m")
    if s or not parts:
        parts.append(f"{s:g}s")
    return "".join(parts)


def format_clock(seconds: float) -> str:
    """Clock form for tables: 75.2 -> "1:15.2", 3725 -> "1:02:05.0"."""
    if not seconds < HUGE:
        return format_duration(seconds)
    tenths = round(seconds * 10)
    h, rest = divmod(tenths, 36000)
    m, rest = divmod(rest, 600)
    s = rest / 10
    return f"{h}:{m:02d}:{s:04.1f}" if h else f"{m}:{s:04.1f}"
