"""Which voice speaks a routine's language.

`language = "de"` in the front matter, with no `voice` of its own, picks: a piper voice for
that language that the user added (`voiceguide voices add MODEL.onnx`, or one in a voice
folder: its config names its language), else espeak-ng's voice for it (the pyttsx3 engine).
A voice the routine or an option names always wins, and English keeps the default choice
(`auto`: piper's joe when it is installed, else espeak's American English), so every English
session sounds as it did. A language no voice speaks fails with one line naming the fix.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..script.phrases import is_english, normal_tag as _tag
from .base import Engine, VoiceInfo, VoiceNotFound
from .registry import canonical, engine_chain


class NoVoiceForLanguage(VoiceNotFound):
    """No installed voice speaks the routine's language; the message says what to install."""


def best_voice(voices: Sequence[VoiceInfo], language: str) -> VoiceInfo | None:
    """The voice for a BCP 47 tag: one of exactly that language and region ("pt-BR" = "pt_BR"),
    else one of the plain language ("de", then "de-de", then any "de-..."), first by name."""
    tag = _tag(language)
    primary = tag.split("-")[0]
    tagged = sorted(((_tag(v.language), v) for v in voices if v.language), key=lambda p: p[1].name)
    for wanted in (tag, primary, f"{primary}-{primary}"):
        found = next((v for t, v in tagged if t == wanted), None)
        if found is not None:
            return found
    return next((v for t, v in tagged if t.split("-")[0] == primary), None)


def no_voice_message(language: str, engine: str) -> str:
    primary = _tag(language).split("-")[0]
    piper = "add a piper voice for it (voiceguide voices add MODEL.onnx)"
    espeak = f"install espeak-ng's {primary} voice"
    fixes = {"piper": piper, "pyttsx3": espeak}.get(engine, f"{piper} or {espeak}")
    return f'language "{language}": no voice speaks it; {fixes}'


def language_chain(language: str, engine: str = "auto", voice: str = "default", jobs: int = 1,
                   fallback: bool = True, **options: Any) -> tuple[list[Engine], str]:
    """(engines to try in order, the voice to ask them for) for a session in `language`.

    Only a non-English language with the default voice changes anything: the chosen engine
    (or with `auto`, piper then pyttsx3) is searched for a voice of that language, and that
    engine leads the chain. Raises NoVoiceForLanguage when none has one."""
    if voice not in ("", "default") or is_english(language):
        return engine_chain(engine, voice, jobs, fallback, **options), voice
    usable = engine_chain(engine, "default", jobs, True, **options)     # the chosen engine first
    searched = usable if canonical(engine) == "auto" else usable[:1]
    for candidate in searched:
        found = best_voice(candidate.voices(), language)
        if found is not None:
            chain = [candidate] + ([e for e in usable if e is not candidate] if fallback else [])
            for other in usable:
                if other not in chain:
                    other.close()
            return chain, found.name
    for other in usable:
        other.close()
    raise NoVoiceForLanguage(no_voice_message(language, canonical(engine)))
