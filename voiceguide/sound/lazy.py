"""scipy submodules imported on first use.

`import scipy.signal` costs about a second on a small two-core machine (it pulls in
scipy.stats and more), and `voiceguide play` has one second from the command to the first
words. Play keeps scipy off that path (see docs/play.md); every other command simply pays
the import the first time a filter runs, as before.
"""
from __future__ import annotations

import importlib
from typing import Any


class LazyModule:
    """Stands in for a module; imports it on the first attribute read (thread-safe: the
    import system's module locks make a second thread wait for the first)."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        value = getattr(importlib.import_module(self._name), attr)
        setattr(self, attr, value)   # later reads are plain attribute reads
        return value

    def load(self) -> None:
        """Import now (e.g. in a background thread, before it is needed)."""
        importlib.import_module(self._name)


signal = LazyModule("scipy.signal")
ndimage = LazyModule("scipy.ndimage")
