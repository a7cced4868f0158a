"""Voices for tests that need one in another language than any installed: piper's joe under a
German config (its weights stand in for a German model; what it says is English-sounding, but
voiceguide picks voices by their config's language)."""
from __future__ import annotations

import json
from pathlib import Path

GERMAN_JOE = "de_DE-probe-medium"


def joe_as_german(folder: Path) -> str:
    """Put joe, configured as a German voice, into `folder` (for VOICEGUIDE_VOICE_DIR); its name."""
    from voiceguide.voices.piper_engine import find_voices

    joe = next(v for v in find_voices() if v.name == "joe")
    folder.mkdir(parents=True, exist_ok=True)
    config = json.loads(joe.config.read_text())
    config["language"] = {**config.get("language", {}), "code": "de_DE"}
    (folder / f"{GERMAN_JOE}.onnx").symlink_to(joe.model)
    (folder / f"{GERMAN_JOE}.onnx.json").write_text(json.dumps(config))
    return GERMAN_JOE
