"""A heading's trailing flags and attributes: `{sides}`, `{silent}`, and the section's own sound
over the session's settings, `{beat 6}`, `{ambient rain}`, `{voice NAME}`."""
from __future__ import annotations

from typing import Any

from ..settings import BEDS, beat_glide
from .problems import Collector, excerpt

HEADING_FLAGS = ("sides", "silent")
HEADING_ATTRIBUTES = {"beat": "{beat 6}", "ambient": "{ambient rain}", "voice": "{voice NAME}"}
"""The attributes a heading may carry, each with an example for messages."""


def heading_flags(title: str) -> tuple[set[str], dict[str, str], str]:
    """Strip trailing {sides}/{silent} flags and {beat 6}/{ambient rain}/{voice NAME}
    attributes (any order) in one linear pass: (flags, raw attribute values, the title)."""
    flags: set[str] = set()
    attributes: dict[str, str] = {}
    end = len(title.rstrip())
    while end and title[end - 1] == "}":
        start = title.rfind("{", 0, end)
        name = title[start + 1:end - 1].strip() if start >= 0 else ""
        key, _, value = name.partition(" ")
        if name in HEADING_FLAGS:
            flags.add(name)
        elif key.lower() in HEADING_ATTRIBUTES and key.lower() not in attributes:
            attributes[key.lower()] = value.strip()
        else:
            break
        end = len(title[:start].rstrip())
    return flags, attributes, title[:end]


def heading_attributes(raw: dict[str, str], line: int, out: Collector) -> dict[str, Any] | None:
    """{beat 6} as 6.0, {ambient rain} as "rain", {voice NAME} as "NAME"; problems at `line`."""
    checked: dict[str, Any] = {}
    for key, value in raw.items():
        if not value:
            out.add(line, f"{{{key}}} needs a value, like {HEADING_ATTRIBUTES[key]}")
            return None
        if key == "beat":
            try:
                glide = beat_glide(value)
            except ValueError as exc:
                out.add(line, f"{{beat}}: {exc}")
                return None
            if glide is None or glide[0] != glide[1]:
                out.add(line, "{beat} takes one number of Hz, like {beat 6} (the session's beat glides)")
                return None
            checked[key] = glide[0]
        elif key == "ambient":
            name = value.lower()
            if name not in (*BEDS, "none"):
                out.add(line, f"unknown bed '{excerpt(value)}' in {{ambient}} (choose from {', '.join(BEDS)}, none)")
                return None
            checked[key] = name
        else:
            checked[key] = value
    return checked
