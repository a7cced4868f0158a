"""Where the faces keep the store: the one place that reads VOICEGUIDE_CACHE_DIR.

A face helper (the CLI and batch use it): the library below the faces is always handed
its store folder and never looks at the environment.
"""
from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """$VOICEGUIDE_CACHE_DIR if set, else the user cache dir for "voiceguide" (on Linux
    `$XDG_CACHE_HOME/voiceguide`, default `~/.cache/voiceguide`)."""
    override = os.environ.get("VOICEGUIDE_CACHE_DIR")
    if override:
        return Path(override).expanduser().absolute()   # the same folder for every worker process
    import platformdirs

    return Path(platformdirs.user_cache_dir("voiceguide"))
