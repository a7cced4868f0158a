"""scipy submodules imported on first use.

`import scipy.signal` costs about a second on a small two-core machine (it pulls in
scipy.stats and more), and `voiceguide play` has one second from the command to the first
words. Play keeps scipy off that path (see docs/play.md); every other command simply pays
the import the first time a filter runs, as before.
"""
from __future__ import annotations

import importlib
from typing import Any

from ..errors import caused_by_interrupt


class LazyModule:
    """Stands in for a module; imports it on the first attribute read (thread-safe: the
    import system's module locks make a second thread wait for the first)."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        value = getattr(self._import(), attr)
        setattr(self, attr, value)   # later reads are plain attribute reads
        return value

    def load(self) -> None:
        """Import now (e.g. in a background thread, before it is needed)."""
        self._import()

    def _import(self) -> Any:
        """The module. A Ctrl-C that lands inside a compiled extension's initialisation
        surfaces as "ImportError: initialization failed" caused by the KeyboardInterrupt:
        it is a cancel, and is raised as one (not as a traceback)."""
        try:
            return importlib.import_module(self._name)
        except ImportError as exc:
            if caused_by_interrupt(exc):
                raise KeyboardInterrupt from None
            raise


signal = LazyModule("scipy.signal")
ndimage = LazyModule("scipy.ndimage")
