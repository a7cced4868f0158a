"""The one error family the faces turn into a clean message and an exit status."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


class VoiceguideError(Exception):
    """A problem the user can fix (bad input, missing file, impossible request). Exit status 2."""

    exit_code = 2


@dataclass(frozen=True)
class Named:
    """A setting's name inside an error message (see SettingError)."""

    setting: str


class Spelled:
    """An error whose message is built from text and `Named` parts, so each face spells a
    setting its own way: the CLI `--max-session`, a manifest or front matter `max_session`,
    the studio its label. `str()` uses the plain name (the library's spelling)."""

    parts: tuple[str | Named, ...] = ()

    def _spell_parts(self, parts: tuple[str | Named, ...]) -> str:
        self.parts = parts
        return self.spelled(lambda name: name)

    def spelled(self, spell: Callable[[str], str]) -> str:
        return "".join(spell(p.setting) if isinstance(p, Named) else p for p in self.parts)


class SettingError(Spelled, VoiceguideError, ValueError):
    """A problem with a setting (see Spelled)."""

    def __init__(self, *parts: str | Named):
        self.settings = [p.setting for p in parts if isinstance(p, Named)]
        super().__init__(self._spell_parts(parts))


def spelled(exc: BaseException, spell: Callable[[str], str]) -> str:
    """Any error as one face shows it: settings named its way, everything else as it is.
    (Errors that name a setting have a `spelled` method: SettingError, OutputExistsError.)"""
    method = getattr(exc, "spelled", None)
    return method(spell) if callable(method) else str(exc)


def caused_by_interrupt(exc: BaseException) -> bool:
    """True if Ctrl-C (KeyboardInterrupt) is this error or its cause: an extension module
    interrupted while importing surfaces as an ImportError whose cause is the interrupt."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
