"""The option keys a manifest (or the command line) may set, each with the check that turns a
TOML value into what RenderOptions wants, or says in a few words what is wrong with it."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from ..errors import VoiceguideError
from ..export.encode import ALIASES as FORMAT_ALIASES, FORMATS
from ..script.durations import DurationError, parse_duration

DEFAULT_FORMAT = "mp3"
VARIANT_KEYS = ("speed", "voice", "ambient", "length")   # a list here makes variants, in this order


def _number(lo: float, hi: float) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"must be a number from {lo:g} to {hi:g}")
        if not lo <= value <= hi:
            raise ValueError(f"{value:g} is out of range ({lo:g} to {hi:g})")
        return float(value)
    return check


def _duration(allow_zero: bool) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError('must be a duration like "12m" or a number of seconds')
        try:
            seconds = parse_duration(value) if isinstance(value, str) else float(value)
        except DurationError as exc:
            raise ValueError(str(exc)) from None
        if seconds < 0 or (seconds == 0 and not allow_zero):
            raise ValueError("must be longer than zero")
        return seconds
    return check


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _engine(value: Any) -> str:
    from ..voices.registry import UnknownEngine, canonical
    try:
        canonical(_text(value))
    except UnknownEngine as exc:
        raise ValueError(str(exc)) from None
    return value


def _format(value: Any) -> str:
    key = FORMAT_ALIASES.get(_text(value).lower(), _text(value).lower())
    if key not in FORMATS:
        raise ValueError(f"unknown format '{value}' (use one of {', '.join(FORMATS)})")
    return key


def _quality(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError('must be a number like 4 or a bitrate like "128k"')
    return str(value)


def _rate(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 8000 <= value <= 192000:
        raise ValueError("must be a whole number of Hz from 8000 to 192000")
    return value


OPTIONS: dict[str, Callable[[Any], Any]] = {
    "speed": _number(0.5, 2.0),
    "length": _duration(allow_zero=False),
    "voice": _text,
    "ambient": _text,
    "engine": _engine,
    "ambient_volume": _number(-60, 0),
    "chime": _text,
    "sleep": _duration(allow_zero=True),
    "bells": _flag,
    "format": _format,
    "quality": _quality,
    "sample_rate": _rate,
    "mono": _flag,
    "loudness": _number(-40, -6),
    "max_session": _duration(allow_zero=False),     # the session limit (voiceguide.limits)
}


def check_defaults(values: Mapping[str, Any]) -> dict[str, Any]:
    """Options from outside a manifest (the command line), checked like a manifest's; a
    problem is named by its option, e.g. "--engine: unknown engine 'pipr' (...)"."""
    checked = {}
    for key, value in values.items():
        try:
            if key not in OPTIONS:
                raise ValueError("not an option a batch item has")
            checked[key] = OPTIONS[key](value)
        except ValueError as exc:
            raise VoiceguideError(f"--{key.replace('_', '-')}: {exc}") from None
    return checked
