"""The mix as live play builds it: a plain `Mix`, with parts that move its slow work off the
first second.

A `Mix` with the default parts does all of its preparation up front: it synthesizes the
chime sounds, measures their loudness, calibrates the bed (30 seconds of it, through the
loudness meter) and prepares clips, all with scipy, which itself takes a second to import.
`LiveParts` gives the same samples, but:

* the chime sounds and their levels come from the start-up cache (warm.py), and prepared
  clips from the clip store every render fills (`MixOptions.clip_store`), so with warm
  caches nothing before the first words needs scipy;
* the bed is a `LateBed`, silent until `open_bed` (run by the background thread,
  `warm_up`) has calibrated the real one; the tape fades it in when it arrives (the session
  fades its bed in anyway). The same thread imports scipy and prepares the clips ahead of
  the play position, so the producer rarely prepares one itself.

One `LiveParts` serves one mix: `mix = Mix(timeline, speech, options, live.parts)`.
"""
from __future__ import annotations

import threading
from typing import Callable

import numpy as np

from ..sound.blocks import BlockSource, Silence
from ..sound.chimes import SYNTHS, ChimeSet, Sound
from ..sound.ffmpeg import FFmpegError
from ..sound.lazy import ndimage, signal
from ..sound.mix import (Bed, Mix, MixOptions, MixParts, SpeechSource, chime_gain, open_bed, open_chimes,
                         prepare_speech)
from .warm import StartCache

AHEAD = 45.0         # seconds of clips the background prepares ahead of the play position
ROLES = ("strike", "soft", "start", "end")


class LateBed:
    """A bed that is silence until `open()` has opened the real one; from then on it is that
    bed (so a mix renders exactly what a plain mix renders once it is open)."""

    def __init__(self, options: MixOptions):
        self.options = options
        self.sample_rate, self.channels = options.sample_rate, options.channels
        self._silence = Silence(options.sample_rate, options.channels)
        self._real: Bed | None = None

    @property
    def is_open(self) -> bool:
        return self._real is not None

    def open(self) -> Bed:
        """Calibrate the real bed (slow: scipy); a bad file raises ValueError, OSError or FFmpegError."""
        self._real = open_bed(self.options)
        return self._real

    def read(self, frames: int) -> np.ndarray:
        return (self._real or self._silence).read(frames)

    def restarted(self) -> BlockSource:
        return self._real.restarted() if self._real is not None else self._silence


class LiveParts:
    """Live play's `MixParts` (`.parts`) and the background work that feeds them."""

    def __init__(self, start_cache: StartCache | None = None):
        self.start_cache = start_cache
        self.bed: LateBed | None = None             # made when the mix opens its bed
        self.bed_error: str | None = None
        self._ready: dict[str, np.ndarray] = {}    # prepared in the background, not yet taken
        self.parts = MixParts(bed=self.late_bed, chimes=self.chimes, chime_gain=self.chime_gain,
                              clip=self.clip)

    # -- the parts ----------------------------------------------------------------------

    def late_bed(self, options: MixOptions) -> LateBed:
        """Silence for now: `open_bed` opens the real bed in the background."""
        self.bed = LateBed(options)
        return self.bed

    def chimes(self, options: MixOptions) -> ChimeSet:
        """The chime set, from the start-up cache when it has it (synthesized chimes only)."""
        cache = self.start_cache
        if cache is None or options.chime.strip() not in SYNTHS:
            return open_chimes(options)
        key = cache.key("chimes", options.chime.strip(), options.sample_rate)
        stored = cache.get(key)
        if stored is not None and set(stored) >= {*ROLES, "names"}:
            names = [str(n) for n in stored["names"]]
            sounds = {r: Sound(stored[r].astype(np.float32), options.sample_rate, n) for r, n in zip(ROLES, names)}
            return ChimeSet(**sounds)
        made = open_chimes(options)
        roles = {r: getattr(made, r) for r in ROLES}
        if all(s is not None for s in roles.values()):
            cache.put(key, names=np.array([s.name for s in roles.values()]),
                      **{r: s.samples for r, s in roles.items()})
        return made

    def chime_gain(self, sound: Sound, lu: float, speech_lufs: float) -> float:
        """A chime's level, from the start-up cache when it has it."""
        cache = self.start_cache
        if cache is None:
            return chime_gain(sound, lu, speech_lufs)
        key = cache.key("chime-gain", sound.samples, sound.sample_rate, lu, speech_lufs)
        stored = cache.get(key)
        if stored is not None and "gain" in stored:
            return float(stored["gain"])
        gain = chime_gain(sound, lu, speech_lufs)
        cache.put(key, gain=np.array(gain))
        return gain

    def clip(self, text: str, speech: SpeechSource, options: MixOptions) -> np.ndarray:
        """The clip the background prepared, else prepared now."""
        ready = self._ready.pop(text, None)
        return ready if ready is not None else prepare_speech(text, speech, options)

    # -- the background -----------------------------------------------------------------

    def open_bed(self, attach_bed: Callable[[BlockSource], None]) -> None:
        """Import scipy, open (calibrate) the real bed and hand a reader of it to
        `attach_bed`. Slow (about a second): run it in the background."""
        assert self.bed is not None, "build the mix with these parts first"
        signal.load()
        ndimage.load()
        try:
            real = self.bed.open()
        except (ValueError, OSError, FFmpegError) as exc:    # an unreadable bed file: play without it
            self.bed_error = f"ambient bed not played: {exc}"
            return
        attach_bed(real.restarted())

    def prepare_ahead(self, mix: Mix, position: int, stop: threading.Event | None = None) -> None:
        """Prepare the clips of the AHEAD seconds after `position` that are not ready yet,
        and forget prepared clips that were skipped past."""
        ahead = int(AHEAD * mix.sample_rate)
        wanted = [pl.key for pl in mix.placements
                  if pl.kind == "speech" and position - mix.sample_rate <= pl.start <= position + ahead]
        for text in list(self._ready):
            if text not in wanted:
                self._ready.pop(text, None)
        for text in dict.fromkeys(wanted):
            if stop is not None and stop.is_set():
                return
            if text not in self._ready and text not in mix.clips:
                self._ready[text] = prepare_speech(text, mix.speech, mix.options)

    def warm_up(self, mix: Mix, attach_bed: Callable[[BlockSource], None], position: Callable[[], int],
                stop: threading.Event) -> None:
        """The background thread: open the bed, then keep the clips ahead of `position()`
        prepared until `stop` is set."""
        self.open_bed(attach_bed)
        while not stop.is_set():
            self.prepare_ahead(mix, position(), stop)
            stop.wait(0.5)
