"""The routines of one FOLDER, and the built-ins: listing, reading, saving, starting new ones.

A folder routine is the file `FOLDER/{name}.routine.md`, found by checking the name (never by
joining the user's text onto a path); a folder copy hides the built-in of the same name, since
that copy is what the user edits. Saves are atomic (temp file + rename) and refuse to overwrite
a file that changed on disk since it was opened, unless forced: the version is the sha256 of
the bytes the editor was given.
"""
from __future__ import annotations

import hashlib
import os
import stat
import threading
from pathlib import Path
from typing import Any

from .. import api, library
from ..errors import VoiceguideError
from ..export.atomic import OutputExistsError, write_text
from ..lengths import format_length
from ..limits import DEFAULT_LIMITS
from ..script.model import Routine
from ..script.parse import excerpt
from ..starter import STARTER
from . import checks
from .durations import Durations
from .security import ROUTINE_NAME, ROUTINE_SUFFIX, Refused, check_routine_name, inside, real_folder, routine_file


class Conflict(VoiceguideError):
    """A save or create that would overwrite a file it should not (HTTP 409)."""

    def __init__(self, message: str, version: str | None = None):
        super().__init__(message)
        self.version = version


def version_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(path: Path, shown: str) -> bytes:
    """The bytes of a regular file of at most the routine size limit (+1 byte, so an oversized
    file is reported by the parser's size check, not read whole)."""
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise Refused(f"{shown} is not a regular file", 400)
    with path.open("rb") as f:
        return f.read(DEFAULT_LIMITS.max_file_bytes + 1)


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


class Folder:
    """FOLDER (its real path) and the store the lengths are measured from."""

    def __init__(self, folder: Path, store: Path | None = None):
        self.path = real_folder(folder)
        if not self.path.is_dir():
            raise VoiceguideError(f"{folder}: is not a folder")
        self.store = store
        self.durations = Durations(store)
        self._saving = threading.Lock()
        self._entries: dict[tuple[Any, ...], dict[str, Any]] = {}

    def source(self, name: str) -> str:
        """What a routine of this name is parsed as: its path in FOLDER, so a relative ambient
        file is found beside it and messages name it."""
        return str(self.path / checks.label(name))

    # -- finding ----------------------------------------------------------------------------

    def folder_names(self) -> list[str]:
        """Names of the routine files in FOLDER (symlinks leading out are ignored), sorted."""
        names = []
        try:
            entries = list(os.scandir(self.path))
        except OSError:
            return []
        for entry in entries:
            if not entry.name.endswith(ROUTINE_SUFFIX):
                continue
            name = entry.name[: -len(ROUTINE_SUFFIX)]
            if ROUTINE_NAME.match(name) and inside(self.path, Path(entry.path)) is not None:
                names.append(name)
        return sorted(names)

    def _folder_file(self, name: str) -> Path | None:
        path = routine_file(self.path, name)
        return path if path.is_file() else None

    def read(self, name: str) -> dict[str, Any]:
        path = self._folder_file(name)
        if path is not None:
            data = _read(path, path.name)
            limit = DEFAULT_LIMITS.max_file_bytes
            if len(data) > limit:        # never hand the editor a cut text it could save
                raise Refused(f"{path.name} is over {limit:,} bytes, the most a routine script may be", 400)
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:   # editing a replaced text would change bytes it never showed
                raise Refused(f"{path.name} is not UTF-8 text; convert it to UTF-8 to edit it here", 400) from None
            return {"name": name, "text": _text(data), "builtin": False, "version": version_of(data)}
        if name in library.builtin_names():
            data = library.builtin_text(name).encode("utf-8")
            return {"name": name, "text": _text(data), "builtin": True, "version": version_of(data)}
        raise library.RoutineNotFound(f"no routine '{name}' in the folder or among the built-ins")

    def routine(self, name: str) -> Routine:
        """The folder routine or built-in `name`, parsed (Broken lists its problems)."""
        text = self.read(check_routine_name(name))["text"]
        return checks.parse(text, self.source(name), name)

    # -- listing ----------------------------------------------------------------------------

    def listing(self) -> list[dict[str, Any]]:
        """Folder routines first (sorted by name), then the built-ins they do not hide."""
        mine = self.folder_names()
        out = [self._entry(name, builtin=False) for name in mine]
        out += [self._entry(name, builtin=True) for name in library.builtin_names() if name not in mine]
        return out

    def forget_lengths(self) -> None:
        """A render filled the store: lengths may now be measured rather than estimated."""
        self._entries.clear()

    def _entry(self, name: str, builtin: bool) -> dict[str, Any]:
        key: tuple[Any, ...] = (name, builtin)
        data: bytes | None = None
        if not builtin:
            path = self.path / checks.label(name)
            try:
                info = path.stat()
                key = (name, builtin, info.st_mtime_ns, info.st_size, info.st_ino)
            except OSError:
                pass
        if key in self._entries:
            return self._entries[key]
        entry: dict[str, Any] = {"name": name, "title": name, "length": None, "length_text": "",
                                 "builtin": builtin, "description": "", "suits": "", "caution": "", "error": None}
        try:
            data = library.builtin_text(name).encode() if builtin else _read(self.path / checks.label(name), name)
            routine = checks.parse_file(data, self.source(name), name)
            meta = routine.meta
            entry.update(title=meta.title, description=meta.description, suits=meta.suits, caution=meta.caution)
            length = self.durations.length(routine, api.settings(routine))
            entry.update(length=round(length.seconds, 3), length_text=format_length(length))
        except checks.Broken as exc:
            entry["error"] = exc.problems[0].text if exc.problems else str(exc)
        except (VoiceguideError, OSError) as exc:
            found = checks.found(exc, self.source(name), name)
            entry["error"] = found[0].text if found else str(exc)
        self._entries[key] = entry
        return entry

    # -- writing ----------------------------------------------------------------------------

    def save(self, name: str, text: Any, version: Any, force: Any) -> dict[str, Any]:
        """Write `text` as FOLDER/{name}.routine.md, atomically. Invalid routines may be saved
        (work in progress); text over the size limit or with NUL bytes may not."""
        path = routine_file(self.path, name)
        if not isinstance(text, str):
            raise VoiceguideError("text must be a string")
        if version is not None and not isinstance(version, str):
            raise VoiceguideError("version must be a string or null")
        if not isinstance(force, bool):
            raise VoiceguideError("force must be true or false")
        if "\x00" in text:
            raise VoiceguideError("the text contains NUL bytes: a routine script is plain text")
        data = text.encode("utf-8", errors="strict")
        limit = DEFAULT_LIMITS.max_file_bytes
        if len(data) > limit:
            raise VoiceguideError(f"the text is {len(data):,} bytes; a routine script may be at most {limit:,} bytes")
        with self._saving:
            current = self._version_on_disk(path)
            if current is not None and current != version and not force:
                raise Conflict(f"{path.name} changed on disk since it was opened; reload it or save with force",
                               current)
            write_text(path, text, force=True)
        return {"name": name, "version": version_of(data),
                "problems": checks.as_json(checks.problems(self.path, text, name, self.durations))}

    def _version_on_disk(self, path: Path) -> str | None:
        try:
            return version_of(_read(path, path.name)) if path.is_file() else None
        except OSError:
            return None

    def create(self, name: Any, source: Any) -> dict[str, Any]:
        """A new folder routine: the starter, or a copy of the built-in `source`."""
        path = routine_file(self.path, name)
        if source is None:
            text = STARTER
        elif isinstance(source, str) and source in library.builtin_names():
            text = library.builtin_text(source)
        else:
            raise library.RoutineNotFound(f"no built-in routine '{excerpt(str(source))}' to copy")
        with self._saving:
            if path.exists() or path.is_symlink():
                raise Conflict(f"{path.name} already exists in the folder; open it or choose another name",
                               self._version_on_disk(path))
            try:
                write_text(path, text, force=False)
            except OutputExistsError:
                raise Conflict(f"{path.name} already exists in the folder; open it or choose another name") from None
        return {"name": name, "version": version_of(text.encode("utf-8"))}
