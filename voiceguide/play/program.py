"""The mix as live play uses it: the same `Mix`, with its slow parts moved off the first second.

A plain `Mix` does all of its preparation up front: it synthesizes the chime sounds,
measures their loudness, calibrates the bed (30 seconds of it, through the loudness meter)
and prepares clips, all with scipy, which itself takes a second to import. `LiveMix`
renders the same samples, but:

* the chime sounds and their levels come from the start-up cache (warm.py), and prepared
  clips from the clip store every render fills (`MixOptions.clip_store`), so with warm
  caches nothing before the first words needs scipy;
* the bed is opened by a background thread (`warm_up`) and fades in when it is ready (the
  session fades its bed in anyway); the same thread imports scipy and prepares the clips
  ahead of the play position, so the producer rarely prepares one itself.
"""
from __future__ import annotations

import threading
from typing import Callable

import numpy as np

from ..sound.blocks import BlockSource, Silence
from ..sound.chimes import SYNTHS, ChimeSet, Sound
from ..sound.lazy import ndimage, signal
from ..sound.mix import Mix
from .warm import StartCache

AHEAD = 45.0         # seconds of clips the background prepares ahead of the play position
ROLES = ("strike", "soft", "start", "end")


class LiveMix(Mix):
    start_cache: StartCache | None = None     # set on a subclass by `live_mix(cache)`

    def __post_init__(self) -> None:
        self._ready: dict[str, np.ndarray] = {}    # prepared in the background, not yet taken
        self.bed_error: str | None = None
        super().__post_init__()

    # -- the hooks ----------------------------------------------------------------------

    def _open_bed(self) -> BlockSource:
        """Silence for now: `warm_up` opens the real bed in the background."""
        return Silence(self.options.sample_rate, self.options.channels)

    def _chime_set(self) -> ChimeSet:
        o, cache = self.options, self.start_cache
        if cache is None or o.chime.strip() not in SYNTHS:
            return super()._chime_set()
        key = cache.key("chimes", o.chime.strip(), o.sample_rate)
        stored = cache.get(key)
        if stored is not None and set(stored) >= {*ROLES, "names"}:
            names = [str(n) for n in stored["names"]]
            sounds = {r: Sound(stored[r].astype(np.float32), o.sample_rate, n) for r, n in zip(ROLES, names)}
            return ChimeSet(**sounds)
        chimes = super()._chime_set()
        sounds = {r: getattr(chimes, r) for r in ROLES}
        if all(s is not None for s in sounds.values()):
            cache.put(key, names=np.array([s.name for s in sounds.values()]),
                      **{r: s.samples for r, s in sounds.items()})
        return chimes

    def _chime_gain(self, sound: Sound, lu: float) -> float:
        cache = self.start_cache
        if cache is None:
            return super()._chime_gain(sound, lu)
        key = cache.key("chime-gain", sound.samples, sound.sample_rate, lu, self.options.speech_lufs)
        stored = cache.get(key)
        if stored is not None and "gain" in stored:
            return float(stored["gain"])
        gain = super()._chime_gain(sound, lu)
        cache.put(key, gain=np.array(gain))
        return gain

    def _prepare(self, text: str) -> np.ndarray:
        ready = self._ready.pop(text, None)
        return ready if ready is not None else super()._prepare(text)

    # -- the background -----------------------------------------------------------------

    def open_bed(self, attach_bed: Callable[[BlockSource], None]) -> None:
        """Import scipy, open (calibrate) the real bed and hand a reader of it to
        `attach_bed`. Slow (about a second): run it in the background."""
        signal.load()
        ndimage.load()
        try:
            real = Mix._open_bed(self)
        except (ValueError, OSError) as exc:      # an unreadable bed file: play without it
            self.bed_error = f"ambient bed not played: {exc}"
            return
        self._bed = real
        attach_bed(real.restarted())

    def prepare_ahead(self, position: int, stop: threading.Event | None = None) -> None:
        """Prepare the clips of the AHEAD seconds after `position` that are not ready yet,
        and forget prepared clips that were skipped past."""
        ahead = int(AHEAD * self.sample_rate)
        wanted = [pl.key for pl in self.placements
                  if pl.kind == "speech" and position - self.sample_rate <= pl.start <= position + ahead]
        for text in list(self._ready):
            if text not in wanted:
                self._ready.pop(text, None)
        for text in dict.fromkeys(wanted):
            if stop is not None and stop.is_set():
                return
            if text not in self._ready and text not in self._cache:
                self._ready[text] = Mix._prepare(self, text)

    def warm_up(self, attach_bed: Callable[[BlockSource], None], position: Callable[[], int],
                stop: threading.Event) -> None:
        """The background thread: open the bed, then keep the clips ahead of `position()`
        prepared until `stop` is set."""
        self.open_bed(attach_bed)
        while not stop.is_set():
            self.prepare_ahead(position(), stop)
            stop.wait(0.5)


def live_mix(cache: StartCache | None) -> type[LiveMix]:
    """A LiveMix class bound to a start-up cache (None: no cache)."""
    return type("LiveMix", (LiveMix,), {"start_cache": cache})
