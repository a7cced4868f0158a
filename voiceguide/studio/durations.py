"""How long a session will be, as `voiceguide.api.length` says, fast enough to ask on every keystroke.

`api.length` reads each sentence's measured duration from the speech store, which means
reading (and checking) the whole stored clip: about 80 ms for a 500-line routine. A store
entry never changes once written (its key is everything that shapes the sound), so the
durations read once are kept here and the next check of the same routine reads none. A
sentence not in the store is looked up again each time (a render or preview may add it).
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

from ..lengths import LengthTimer, SessionLength, session_length
from ..script.model import Routine
from ..settings import Settings
from ..voices.base import Request

MAX_KNOWN = 50_000          # sentences remembered (then forgotten all at once: rare, and only slower)


class Durations:
    """Measured durations read from the store at `store`, remembered between plans."""

    def __init__(self, store: Path | None):
        self.store = store
        self._known: dict[Request, float] = {}
        self._lock = threading.Lock()

    def length(self, routine: Routine, settings: Settings) -> SessionLength:
        """`voiceguide.lengths.session_length(routine, settings, store)`, remembering what it
        read: for the session's voice and for each `{voice NAME}` section's own."""
        return session_length(routine, settings, self.store,
                              wrap=lambda _name, timer: self._remembering(timer))

    def _remembering(self, timer: LengthTimer) -> Callable[[str, float], float]:
        """`timer`, with the durations it measured kept under the narrator's `Request`: the
        words actually spoken (after the phrase table and pronunciations, which a user may
        edit) and the voice actually picked, as the store keys them. Without a narrator
        nothing is measured, so nothing is kept."""
        cache, narrator = timer.cache, timer.narrator
        if narrator is None or cache is None:
            return timer

        def seconds(sentence: str, speed: float) -> float:
            key = narrator.request(sentence, speed)
            known = self._known.get(key)
            if known is not None:
                return known
            hits = cache.hits
            found = timer(sentence, speed)
            if cache.hits > hits:       # measured: it will never change
                with self._lock:
                    if len(self._known) >= MAX_KNOWN:
                        self._known.clear()
                    self._known[key] = found
            return found

        return seconds
