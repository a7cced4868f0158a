"""voiceguide's data folder: the one place that reads $VOICEGUIDE_DATA_DIR.

Things people add to voiceguide live here, never in the package: the voices `voiceguide voices
add` installs (`voices/`, see voices/places.py) and the phrase tables of languages voiceguide
does not ship (`phrases/`, see script/phrasefiles.py). A support module with no voiceguide
imports, so the parser (which must not import the voices layer) can find it too.
"""
from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "VOICEGUIDE_DATA_DIR"


def data_dir() -> Path:
    """$VOICEGUIDE_DATA_DIR, else platformdirs' user data dir (`~/.local/share/voiceguide`)."""
    override = os.environ.get(DATA_ENV)
    if override:
        return Path(override).expanduser().absolute()
    import platformdirs

    return Path(platformdirs.user_data_dir("voiceguide"))
