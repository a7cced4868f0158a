"""Narration: offline text-to-speech behind one small interface.

Engines (piper, pyttsx3) run in worker processes; `Narrator` normalizes text, caches
results, synthesizes in parallel and falls back between engines. See docs/voices.md.
"""
from .base import (
    Engine,
    EngineUnavailable,
    Request,
    Speech,
    SynthesisError,
    VoiceInfo,
    VoiceNotFound,
)
from .cache import CacheInfo, SpeechCache
from .dsp import resample, trim_silence
from .narrator import NarrationWarning, Narrator, SpeechTimer
from .normalize import normalize
from .registry import (
    UnknownEngine,
    VoiceListing,
    auto_engine,
    create_engine,
    describe,
    engine_chain,
    engine_names,
    format_listing,
)

__all__ = [
    "CacheInfo", "Engine", "EngineUnavailable", "NarrationWarning", "Narrator", "Request", "Speech",
    "SpeechCache", "SpeechTimer", "SynthesisError", "UnknownEngine", "VoiceInfo", "VoiceListing",
    "VoiceNotFound", "auto_engine", "create_engine", "describe", "engine_chain",
    "engine_names", "format_listing", "normalize", "resample", "trim_silence",
]
