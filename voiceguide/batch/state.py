"""Resume: what each output was rendered from, so an unchanged item is not rendered again.

The hash covers everything that changes the audio and is cheap to know before rendering: the
routine's text, the resolved options, an ambient sound file's bytes, an added phrase table's
bytes, voiceguide's version and the speech engines' versions. It is kept in a small JSON file
in the output folder, rewritten atomically after every finished item (an interrupted batch
keeps what it finished).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from ..export.atomic import atomic_output
from ..settings import Settings

STATE_NAME = ".voiceguide-batch.json"
# Options that do not change the audio (or are decided per machine).
NOT_HASHED = ("max_session",)


@lru_cache(maxsize=1)
def engine_identity() -> dict[str, str]:
    """Each engine's version string (package versions: no worker is started)."""
    from ..voices.registry import PREFERENCE, create_engine
    return {name: create_engine(name).version for name in PREFERENCE}


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def item_digest(routine_text: bytes, settings: Settings, sound_files: Sequence[Path] = (),
                phrase_file: Path | None = None) -> str:
    """The content hash of one output: equal hashes mean the same audio would be rendered.
    `sound_files` are the ambient and chime files it uses, if any; `phrase_file` the phrase
    table its language reads from the data folder, if it is an added one (its words are spoken)."""
    from .. import __version__
    fields = {k: v for k, v in settings.to_json().items() if k not in NOT_HASHED}
    record: dict[str, Any] = {
        "routine": hashlib.sha256(routine_text).hexdigest(),
        "options": fields,
        "sound_files": [_file_digest(path) for path in sound_files],
        "phrases": _file_digest(phrase_file) if phrase_file is not None else None,
        "voiceguide": __version__,
        "engines": engine_identity(),
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


@dataclasses.dataclass
class State:
    """Output name -> {"hash": ..., "duration": seconds} for one output folder."""

    folder: Path
    items: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.folder / STATE_NAME

    @classmethod
    def load(cls, folder: Path) -> "State":
        """The folder's state; empty when there is none or it is unreadable (all re-render)."""
        try:
            data = json.loads((folder / STATE_NAME).read_text(encoding="utf-8"))
            items = data["items"] if isinstance(data.get("items"), dict) else {}
        except (OSError, ValueError, KeyError, AttributeError):
            items = {}
        return cls(folder, items)

    def up_to_date(self, name: str, digest: str) -> bool:
        """The output exists and was rendered from exactly this content."""
        entry = self.items.get(name)
        return isinstance(entry, dict) and entry.get("hash") == digest and (self.folder / name).is_file()

    def duration(self, name: str) -> float:
        return float(self.items.get(name, {}).get("duration", 0.0))

    def record(self, name: str, digest: str, duration: float) -> None:
        self.items[name] = {"hash": digest, "duration": round(duration, 3)}

    def save(self) -> None:
        text = json.dumps({"version": 1, "items": self.items}, indent=1, sort_keys=True)
        with atomic_output(self.path, force=True) as tmp:
            tmp.write_text(text + "\n", encoding="utf-8")
