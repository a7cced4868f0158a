"""Where piper voices live: the one place that reads the voice folders from the environment.

Looked in, first match of a name wins:

1. `VOICEGUIDE_VOICE_DIR`: folders of loose voices (`NAME.onnx` beside `NAME.onnx.json`);
2. the user's voice folder, `<data folder>/voices`: loose voices put there by hand, and the
   voices `voiceguide voices add` installed, one folder each (`NAME/NAME.onnx`, its config,
   and `voice.json`, the record of what was checked: language, sample rate, quality, licence);
3. `VOICEGUIDE_VOICES`: shared folders laid out the same way (a voice set installed once for
   every user), which are listed and used but never written to.

The data folder is `VOICEGUIDE_DATA_DIR` if set, else platformdirs' user data dir for
"voiceguide" (`~/.local/share/voiceguide` on Linux). The list variables are separated by
os.pathsep. Unlike the cache folder (which the faces hand down), voices are found here, in the
voices layer: a voice is a name anywhere (front matter, `--voice`, the library's `voice=`).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..datafolder import data_dir

SHARED_ENV = "VOICEGUIDE_VOICES"
LOOSE_ENV = "VOICEGUIDE_VOICE_DIR"
RECORD = "voice.json"          # in an added voice's folder, written last: a folder without it is no voice
RECORD_LIMIT = 64 << 10        # bytes: a record is a few hundred


def user_voice_dir() -> Path:
    """Where `voiceguide voices add` installs voices (and where loose voices may be put)."""
    return data_dir() / "voices"


def _listed(variable: str) -> list[Path]:
    return [Path(p).expanduser().absolute() for p in os.environ.get(variable, "").split(os.pathsep) if p]


def shared_voice_dirs() -> list[Path]:
    """The read-only shared voice folders ($VOICEGUIDE_VOICES)."""
    return _listed(SHARED_ENV)


@dataclass(frozen=True)
class VoiceFolder:
    path: Path
    source: str          # how the listing names where a voice came from
    writable: bool       # only the user's voice folder is ever written to


def voice_folders() -> list[VoiceFolder]:
    """Every folder voices are looked for in, in lookup order."""
    folders = [VoiceFolder(p, str(p), False) for p in _listed(LOOSE_ENV)]
    folders.append(VoiceFolder(user_voice_dir(), "added", True))
    folders += [VoiceFolder(p, f"shared: {p}", False) for p in shared_voice_dirs()]
    return folders


def read_record(folder: Path) -> dict[str, Any] | None:
    """An added voice's record (its voice.json), or None when the folder holds no complete voice."""
    path = folder / RECORD
    try:
        if path.stat().st_size > RECORD_LIMIT:
            return None
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("model"), str) or "/" in record["model"] \
            or "\\" in record["model"]:
        return None
    return record


@dataclass(frozen=True)
class Entry:
    """One voice in a folder: its name, model file, and (for added voices) its record."""

    name: str
    model: Path
    folder: VoiceFolder
    record: dict[str, Any] | None = None


def entries(folder: VoiceFolder) -> list[Entry]:
    """The voices in one folder: loose `NAME.onnx` files, then added voices (`NAME/voice.json`);
    hidden names (a voice being added or removed) are skipped."""
    try:
        children = sorted(folder.path.iterdir())
    except OSError:
        return []
    found = [Entry(p.stem, p, folder) for p in children if p.suffix == ".onnx" and not p.name.startswith(".")]
    for child in children:
        if child.name.startswith(".") or not child.is_dir():
            continue
        record = read_record(child)
        if record is not None:
            found.append(Entry(child.name, child / record["model"], folder, record))
    return found
