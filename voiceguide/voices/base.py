"""The narration layer's vocabulary: speech, requests, voices, engines and their errors.

Everything the rest of voiceguide needs from a text-to-speech engine fits in the small
`Engine` protocol below, so engines can be swapped, chained for fallback, or faked in tests
without the callers knowing which one spoke.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from ..errors import VoiceguideError

def package_version(dist: str) -> str:
    """An installed distribution's version, or "?" (engines name theirs in cache keys)."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


LAYER_VERSION = "2"
"""Bumped whenever post-processing (trimming, speed calibration) changes, so old cache
entries made with different processing are not reused."""

CALM_WPM = 165.0
"""What speed 1.0 means on every engine: about this many words per minute of actual speech
(gaps between sentences come on top). A calm guiding pace; engines' native tempos differ
(piper's joe speaks ~230 wpm, espeak's nominal 150 wpm comes out near 185), so each engine
maps speed onto its own control to land here."""


@dataclass(frozen=True, eq=False)
class Speech:
    """Mono speech at the engine's native rate. `samples` are float32 in [-1, 1]."""

    samples: np.ndarray
    sample_rate: int
    engine: str = ""     # which engine actually spoke (differs from the requested one after fallback)
    voice: str = ""

    def __post_init__(self) -> None:
        samples = np.ascontiguousarray(self.samples, dtype=np.float32)
        if samples.ndim != 1:
            raise ValueError(f"speech must be mono (1-D), got shape {samples.shape}")
        if self.sample_rate <= 0:
            raise ValueError(f"bad sample rate {self.sample_rate}")
        object.__setattr__(self, "samples", samples)

    @property
    def duration(self) -> float:
        """Seconds of audio."""
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True)
class VoiceInfo:
    """A voice an engine can speak with. `name` is what `--voice` accepts."""

    name: str
    language: str
    engine: str
    description: str = ""
    path: str = ""       # model file, for file-based voices (piper)
    licence: str = ""    # an added voice's licence, as `voiceguide voices add` recorded it ("unknown": unsaid)


@dataclass(frozen=True)
class Request:
    """One synthesis job. Its `key` identifies the audio it produces, for the cache.

    `voice` should be a stable identity for the voice (e.g. model name plus a hash of the
    model file), and `text` the *normalized* text, so that anything that changes the
    sound changes the key.
    """

    engine: str
    voice: str
    speed: float
    text: str
    version: str = ""    # engine version string
    options: tuple[tuple[str, str], ...] = field(default=())

    @property
    def key(self) -> str:
        payload = json.dumps(
            {
                "layer": LAYER_VERSION,
                "engine": self.engine,
                "version": self.version,
                "voice": self.voice,
                "speed": f"{self.speed:.4f}",
                "text": self.text,
                "options": [list(o) for o in self.options],
            },
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class SynthesisError(VoiceguideError, RuntimeError):
    """Speech could not be produced for a sentence; the message names the sentence
    (exit status 2, as every error the CLI reports in one line)."""

    def __init__(self, text: str, reason: str, engine: str = ""):
        self.text, self.reason, self.engine = text, reason, engine
        shown = text if len(text) <= 120 else text[:117] + "..."
        where = f" with {engine}" if engine else ""
        super().__init__(f'could not synthesize "{shown}"{where}: {reason}')


class EngineUnavailable(VoiceguideError, RuntimeError):
    """The engine is not installed or has nothing to speak with; the message says how to fix it."""


class VoiceNotFound(VoiceguideError, LookupError):
    """The requested voice does not exist for the engine; the message lists what does."""


@runtime_checkable
class Engine(Protocol):
    """A text-to-speech engine. Implementations must be safe to call from several threads."""

    name: str

    @property
    def version(self) -> str:
        """Engine and backend versions; part of the cache key."""
        ...

    def available(self) -> bool:
        """True when the engine can be started and has at least one voice."""
        ...

    def unavailable_reason(self) -> str:
        """Why `available()` is False, with how to fix it ("" when available)."""
        ...

    def voices(self) -> list[VoiceInfo]:
        ...

    def voice_id(self, voice: str) -> str:
        """Stable identity of `voice` ("default" allowed) for cache keys; raises VoiceNotFound."""
        ...

    def synthesize(self, text: str, voice: str = "default", speed: float = 1.0) -> Speech:
        """Speak `text` (already normalized). Raises SynthesisError after retries fail."""
        ...

    def close(self) -> None:
        ...
