"""Synthesized sentences in the store (voiceguide.store), shared by every run and process.

Key: sha256 of (engine, engine version, voice identity, speed, normalized text, layer
version) — see `Request.key` — so anything that changes the sound changes the key.

This layer only turns speech into bytes and back: a JSON line (sample rate, sample count,
engine, voice, and the request for humans) then the float32 little-endian samples. The
store checks every entry, publishes atomically with the first writer winning, and warns
once when its folder cannot be written; the render goes on without it.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..store import SPEECH, Store
from .base import Request, Speech


@dataclass(frozen=True)
class CacheInfo:
    path: Path
    entries: int
    bytes: int


class SpeechCache:
    """Get/put synthesized speech by request. Failures to write never fail a render."""

    def __init__(self, store: Store | str | os.PathLike[str]):
        """`store`: the store, or the folder it lives in."""
        self.store = store if isinstance(store, Store) else Store(store)
        self.hits = 0
        self.misses = 0

    @property
    def root(self) -> Path:
        return self.store.root

    @property
    def path(self) -> Path:
        """Directory holding the speech entries (inside the store)."""
        return self.store.folder(SPEECH)

    def entry_path(self, key: str) -> Path:
        return self.store.path(SPEECH, key)

    def get(self, request: Request) -> Speech | None:
        payload = self.store.get(SPEECH, request.key)
        speech = None if payload is None else decode(payload)
        if speech is None:
            self.misses += 1
            return None
        self.hits += 1
        return speech

    def put(self, request: Request, speech: Speech) -> Speech:
        """Store `speech` unless a valid entry is already there, and return what the cache
        now holds. First writer wins: when two processes synthesize the same sentence at
        once (piper's takes differ, espeak's depend on what the worker spoke before), both
        go on with the same take, so every render matches a later render from the cache."""
        payload = encode(request, speech)
        kept = self.store.put(SPEECH, request.key, payload)
        if kept is payload:
            return speech
        return decode(kept) or speech

    def discard(self, request: Request) -> None:
        """Remove the entry (an intact one this version cannot use)."""
        self.store.delete(SPEECH, request.key)

    def info(self) -> CacheInfo:
        usage = self.store.info(SPEECH)
        return CacheInfo(usage.path, usage.entries, usage.bytes)

    def clear(self) -> int:
        """Delete every entry; returns how many went. Only the store's files are touched."""
        return self.store.clear(SPEECH)


def encode(request: Request, speech: Speech) -> bytes:
    samples = np.ascontiguousarray(speech.samples, "<f4")
    header = {
        "sample_rate": speech.sample_rate,
        "samples": len(samples),
        "engine": speech.engine or request.engine,
        "voice": speech.voice or request.voice,
        "version": request.version,
        "speed": request.speed,
        "text": request.text,
    }
    return json.dumps(header, ensure_ascii=False).encode("utf-8") + b"\n" + samples.tobytes()


def decode(payload: bytes) -> Speech | None:
    """The speech in a payload, or None when it is not one (the store checked its bytes)."""
    newline = payload.find(b"\n")
    if newline < 0:
        return None
    try:
        header = json.loads(payload[:newline].decode("utf-8"))
        samples = payload[newline + 1:]
        if len(samples) != 4 * int(header["samples"]):
            return None
        return Speech(np.frombuffer(samples, dtype="<f4").astype(np.float32), int(header["sample_rate"]),
                      str(header.get("engine", "")), str(header.get("voice", "")))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
