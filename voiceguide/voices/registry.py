"""Engine names, the `auto` choice, the fallback order, and the `voiceguide voices` listing.

Preference order is piper (natural, 98% Whisper word accuracy) then pyttsx3 (always there,
robotic but clear). `auto` is the first engine in that order that is usable and has the
requested voice; the others follow it as fallbacks, so a sentence one engine fails on is
still spoken by another.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import VoiceguideError
from ..settings import ENGINE_ALIASES, ENGINES
from .base import Engine, EngineUnavailable, VoiceInfo, VoiceNotFound
from .piper_engine import PiperEngine
from .pyttsx3_engine import Pyttsx3Engine

PREFERENCE = ("piper", "pyttsx3")
FACTORIES: dict[str, Callable[..., Engine]] = {"piper": PiperEngine, "pyttsx3": Pyttsx3Engine}
ALIASES = ENGINE_ALIASES


class UnknownEngine(VoiceguideError, ValueError):
    """`--engine` names no engine; the message lists the choices."""


def engine_names() -> list[str]:
    """Accepted values for `--engine` (besides aliases)."""
    return list(ENGINES)


def canonical(name: str) -> str:
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key != "auto" and key not in FACTORIES:
        raise UnknownEngine(f"unknown engine '{name}' (choose from {', '.join(engine_names())})")
    return key


def create_engine(name: str, jobs: int = 1, **options: Any) -> Engine:
    """A new engine by name (not "auto"); no worker starts until it is used."""
    key = canonical(name)
    if key == "auto":
        raise UnknownEngine("'auto' is not an engine; use engine_chain('auto')")
    return FACTORIES[key](jobs, **options)


def _has_voice(engine: Engine, voice: str) -> bool:
    try:
        engine.voice_id(voice)
        return True
    except (VoiceNotFound, EngineUnavailable):
        return False


def engine_chain(
    name: str = "auto", voice: str = "default", jobs: int = 1, fallback: bool = True, **options: Any
) -> list[Engine]:
    """Engines to try in order: the chosen one first, then (with `fallback`) the other
    usable ones. Raises EngineUnavailable / VoiceNotFound with a fix-it message when the
    choice cannot work at all."""
    key = canonical(name)
    engines = {n: create_engine(n, jobs, **options) for n in PREFERENCE}
    usable = [n for n in PREFERENCE if engines[n].available()]
    if key == "auto":
        if not usable:
            reasons = "; ".join(f"{n}: {engines[n].unavailable_reason()}" for n in PREFERENCE)
            raise EngineUnavailable(f"no text-to-speech engine is usable ({reasons})")
        primary = next((n for n in usable if voice in ("", "default") or _has_voice(engines[n], voice)), None)
        if primary is None:
            listing = "; ".join(f"{n}: {', '.join(v.name for v in engines[n].voices()[:12])}" for n in usable)
            raise VoiceNotFound(f"no engine has a voice '{voice}' ({listing})")
    else:
        primary = key
        if primary not in usable:
            raise EngineUnavailable(f"the {primary} engine is not available: {engines[primary].unavailable_reason()}")
        engines[primary].voice_id(voice)     # VoiceNotFound now rather than mid-render
    chain = [engines[primary]]
    if fallback:
        chain += [engines[n] for n in usable if n != primary]
    return chain


def auto_engine(voice: str = "default") -> str | None:
    """Which engine `auto` picks for `voice`, or None when nothing is usable."""
    try:
        chain = engine_chain("auto", voice, fallback=False)
    except (EngineUnavailable, VoiceNotFound):
        return None
    for engine in chain:
        engine.close()
    return chain[0].name


@dataclass(frozen=True)
class EngineListing:
    name: str
    version: str
    available: bool
    reason: str
    default_voice: str = ""
    voices: list[VoiceInfo] = field(default_factory=list)
    error: str = ""


@dataclass(frozen=True)
class VoiceListing:
    engines: list[EngineListing]
    auto: str | None

    def to_json(self) -> dict:
        return {
            "auto": self.auto,
            "engines": [
                {
                    "name": e.name, "version": e.version, "available": e.available, "reason": e.reason,
                    "default_voice": e.default_voice, "error": e.error,
                    "voices": [{"name": v.name, "language": v.language, "description": v.description, "path": v.path,
                                "licence": v.licence} for v in e.voices],
                }
                for e in self.engines
            ],
        }


def describe() -> VoiceListing:
    """Every engine, whether it works (and why not), its voices, and what `auto` picks."""
    listings = []
    for name in PREFERENCE:
        engine = create_engine(name)
        voices: list[VoiceInfo] = []
        default, error = "", ""
        ok = engine.available()
        if ok:
            try:
                voices = engine.voices()
                default = engine.voice_id("default").split(":", 1)[0]
            except Exception as exc:  # a broken install should show up in the listing, not crash it
                error = str(exc)
        listings.append(EngineListing(name, engine.version, ok, engine.unavailable_reason(), default, voices, error))
        engine.close()
    auto = next((e.name for e in listings if e.available and e.voices and not e.error), None)
    return VoiceListing(listings, auto)


def format_listing(listing: VoiceListing, all_languages: bool = False, more: str = "") -> str:
    """Human-readable `voiceguide voices` output. Non-English voices are counted, not listed,
    unless `all_languages`; `more` follows their count (the CLI says how to list them)."""
    lines = []
    for e in listing.engines:
        mark = " (auto)" if e.name == listing.auto else ""
        lines.append(f"{e.name}{mark}: {e.version}")
        if not e.available:
            lines.append(f"  not available: {e.reason}")
            continue
        if e.error:
            lines.append(f"  error: {e.error}")
        shown = [v for v in e.voices if all_languages or v.language.lower().startswith("en")]
        for v in shown:
            default = "  [default]" if v.name == e.default_voice else ""
            desc = f"  {v.description}" if v.description else ""
            licence = f"  licence: {v.licence}" if v.licence else ""
            lines.append(f"  {v.name:<24} {v.language:<10}{desc}{licence}{default}")
        hidden = len(e.voices) - len(shown)
        if hidden:
            lines.append(f"  ... and {hidden} voices in other languages{more}")
    lines.append(f"auto uses: {listing.auto or 'nothing (no engine is usable)'}")
    return "\n".join(lines)
