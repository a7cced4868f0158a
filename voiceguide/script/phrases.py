"""The words voiceguide itself speaks, per language: one plain dict each.

A routine's own words are the author's; these are the few voiceguide adds or rewrites: the
`{side}`/`{other}` words and the suffix of a `{sides}` heading (fixed by the parser), the
breathing cues (spoken in a `[breathe]`), the lead-in of `[caution]`, the chapter name of
text before any heading, and what the narrator needs to say numbers, units and signs
("30s" -> "dreißig Sekunden"). The routine's front matter `language = "de"` picks the table.

Adding a language is a TOML file with the same keys as English in voiceguide's data folder
(script/phrasefiles.py), or one more dict here (tests/test_language.py checks that every table
has them all): see docs/voices.md, "Languages". Plain data and numpy-free, so the parser
imports it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from .phrasefiles import PhraseFileError, left_to_english, load, phrase_dir, phrase_file, to_toml  # noqa: F401  (PhraseFileError: for callers)

Phrases = Mapping[str, Any]

PHRASES: dict[str, dict[str, Any]] = {
    "en": {
        "name": "English",
        "left": "left", "right": "right",                    # what {side} and {other} become
        "left_side": "left side", "right_side": "right side",   # "Hands" {sides} -> "Hands, left side"
        "breathe_in": "Breathe in.", "breathe_out": "And out.",
        "caution": "Before we begin, a word of care.",      # [caution] says this, then the caution
        "introduction": "Introduction",                     # the chapter of text before any heading
        # The .txt transcript's markers: "(hold 30s)", "(wait 5s)", "(chime)", "(3 breaths: ...)"
        "marker_hold": "hold", "marker_wait": "wait", "marker_chime": "chime", "marker_breaths": "{n} breaths",
        # The player page beside the audio (its labels, read aloud by screen readers) and the feed.
        "player": "Player", "previous_chapter": "Previous chapter", "next_chapter": "Next chapter",
        "play": "Play", "pause": "Pause", "position": "Position", "chapters": "Chapters",
        "transcript": "Transcript", "feed_description": "Voice-guided sessions: {title}.",
        # How the narrator says numbers (English keeps its own hand-written rules in
        # voices/numwords.py and voices/normalize.py: its words never change, nor its cache keys).
        "numbers": "en",                 # num2words' language code
        "decimal": ".", "thousands": ",", "point": "point",
        # unit: (one of it, several, grammatical gender for the word "one": "m", "f" or "")
        "units": {"h": ("hour", "hours", ""), "m": ("minute", "minutes", ""),
                  "s": ("second", "seconds", ""), "ms": ("millisecond", "milliseconds", "")},
        "unit_abbreviations": {"sec": "s", "secs": "s", "min": "m", "mins": "m", "hr": "h", "hrs": "h", "ms": "ms"},
        "one": {},                       # gender -> (ending, replacement): "eins Minute" -> "eine Minute"
        "to": "to", "times": "{n} times", "percent": "percent", "degrees": "degrees", "and": "and", "or": "or",
        "abbreviations": {"e.g.": "for example", "i.e.": "that is", "etc.": "et cetera", "vs.": "versus",
                          "approx.": "approximately"},
    },
    "de": {
        "name": "German",
        "left": "links", "right": "rechts",
        "left_side": "linke Seite", "right_side": "rechte Seite",
        "breathe_in": "Einatmen.", "breathe_out": "Und ausatmen.",
        "caution": "Bevor wir beginnen, ein Wort zur Vorsicht.",
        "introduction": "Einleitung",
        "marker_hold": "halten", "marker_wait": "warten", "marker_chime": "Klang", "marker_breaths": "{n} Atemzüge",
        "player": "Wiedergabe", "previous_chapter": "Vorheriges Kapitel", "next_chapter": "Nächstes Kapitel",
        "play": "Abspielen", "pause": "Pause", "position": "Position", "chapters": "Kapitel",
        "transcript": "Transkript", "feed_description": "Sprachgeführte Sitzungen: {title}.",
        "numbers": "de",
        "decimal": ",", "thousands": ".", "point": "Komma",
        "units": {"h": ("Stunde", "Stunden", "f"), "m": ("Minute", "Minuten", "f"),
                  "s": ("Sekunde", "Sekunden", "f"), "ms": ("Millisekunde", "Millisekunden", "f")},
        "unit_abbreviations": {"sek": "s", "min": "m", "std": "h", "ms": "ms"},
        "one": {"f": (("eins", "eine"),), "m": (("eins", "ein"),)},
        "to": "bis", "times": "{n} Mal", "percent": "Prozent", "degrees": "Grad", "and": "und", "or": "oder",
        "abbreviations": {"z.B.": "zum Beispiel", "z. B.": "zum Beispiel", "d.h.": "das heißt",
                          "d. h.": "das heißt", "usw.": "und so weiter", "ca.": "circa", "bzw.": "beziehungsweise"},
    },
    "es": {
        "name": "Spanish",
        "left": "izquierdo", "right": "derecho",
        "left_side": "lado izquierdo", "right_side": "lado derecho",
        "breathe_in": "Inhala.", "breathe_out": "Y exhala.",
        "caution": "Antes de empezar, una palabra de precaución.",
        "introduction": "Introducción",
        "marker_hold": "mantener", "marker_wait": "esperar", "marker_chime": "campana",
        "marker_breaths": "{n} respiraciones",
        "player": "Reproductor", "previous_chapter": "Capítulo anterior", "next_chapter": "Capítulo siguiente",
        "play": "Reproducir", "pause": "Pausa", "position": "Posición", "chapters": "Capítulos",
        "transcript": "Transcripción", "feed_description": "Sesiones guiadas por voz: {title}.",
        "numbers": "es",
        "decimal": ",", "thousands": ".", "point": "coma",
        "units": {"h": ("hora", "horas", "f"), "m": ("minuto", "minutos", "m"),
                  "s": ("segundo", "segundos", "m"), "ms": ("milisegundo", "milisegundos", "m")},
        "unit_abbreviations": {"seg": "s", "min": "m", "h": "h", "ms": "ms"},
        "one": {"m": (("veintiuno", "veintiún"), ("uno", "un")), "f": (("uno", "una"),)},
        "to": "a", "times": "{n} veces", "percent": "por ciento", "degrees": "grados", "and": "y", "or": "o",
        "abbreviations": {"p. ej.": "por ejemplo", "p.ej.": "por ejemplo", "etc.": "etcétera", "aprox.": "aproximadamente"},
    },
    "fr": {
        "name": "French",
        "left": "gauche", "right": "droit",
        "left_side": "côté gauche", "right_side": "côté droit",
        "breathe_in": "Inspirez.", "breathe_out": "Et expirez.",
        "caution": "Avant de commencer, un mot de prudence.",
        "introduction": "Introduction",
        "marker_hold": "tenir", "marker_wait": "attendre", "marker_chime": "carillon",
        "marker_breaths": "{n} respirations",
        "player": "Lecteur", "previous_chapter": "Chapitre précédent", "next_chapter": "Chapitre suivant",
        "play": "Lecture", "pause": "Pause", "position": "Position", "chapters": "Chapitres",
        "transcript": "Transcription", "feed_description": "Séances guidées par la voix : {title}.",
        "numbers": "fr",
        "decimal": ",", "thousands": " ", "point": "virgule",
        "units": {"h": ("heure", "heures", "f"), "m": ("minute", "minutes", "f"),
                  "s": ("seconde", "secondes", "f"), "ms": ("milliseconde", "millisecondes", "f")},
        "unit_abbreviations": {"sec": "s", "min": "m", "h": "h", "ms": "ms"},
        "one": {"f": (("un", "une"),)},
        "to": "à", "times": "{n} fois", "percent": "pour cent", "degrees": "degrés", "and": "et", "or": "ou",
        "abbreviations": {"p. ex.": "par exemple", "p.ex.": "par exemple", "etc.": "et cetera", "env.": "environ"},
    },
}
"""Language (a lowercase BCP 47 primary tag, or a full tag for a regional table) -> phrases."""

ENGLISH = PHRASES["en"]

LATER_KEYS = frozenset({"marker_hold", "marker_wait", "marker_chime", "marker_breaths", "player",
                        "previous_chapter", "next_chapter", "play", "pause", "position", "chapters",
                        "transcript", "feed_description"})
"""Keys a table added as a file may leave out, taking English's: the transcript's markers, the
player page's labels, the feed's description, and every key voiceguide adds after these (so that a table written for one version still works in
the next; `voiceguide voices languages` says which it lacks)."""


def normal_tag(language: str) -> str:
    """A BCP 47 tag as tables are named: "pt_BR " -> "pt-br"."""
    return language.strip().replace("_", "-").lower()


def _candidates(language: str) -> tuple[str, ...]:
    tag = normal_tag(language)
    return tuple(dict.fromkeys((tag, tag.split("-")[0])))


def added_file(language: str) -> Path | None:
    """The added table file `lookup` reads for `language`, or None when it uses a shipped
    table or none (batch resume hashes the file: its words change what is spoken)."""
    for candidate in _candidates(language):
        added = phrase_file(candidate)
        if added is not None:
            return added
        if candidate in PHRASES:
            return None
    return None


def lookup(language: str) -> Phrases | None:
    """The table for a BCP 47 tag: the tag itself ("pt-br"), else its language ("de-AT" -> "de"),
    each first as a file the user added (phrasefiles.py: theirs wins), then as a shipped table.
    None when there is none; PhraseFileError for an added file that cannot be used."""
    for candidate in _candidates(language):
        added = phrase_file(candidate)
        if added is not None:
            return load(added)
        if candidate in PHRASES:
            return PHRASES[candidate]
    return None


def table_for(language: str) -> tuple[Phrases | None, str | None]:
    """(the table, None), or (None, why there is none: no table, or the user's own is broken)
    for the parser to report at the routine's `language` line."""
    try:
        table = lookup(language)
    except PhraseFileError as exc:
        return None, f'language "{language}": {exc}'
    return (table, None) if table is not None else (None, unknown_message(language))


def phrases(language: str) -> Phrases:
    """`lookup`, for a language already checked (the parser refuses one without a table)."""
    return lookup(language) or ENGLISH


def is_english(language: str) -> bool:
    return normal_tag(language).split("-")[0] == "en"


def breathe_cues(language: str) -> tuple[str, str]:
    """(inhale cue, exhale cue) as spoken in a `[breathe]`."""
    table = phrases(language)
    return table["breathe_in"], table["breathe_out"]


def missing(language: str) -> list[str]:
    """The keys (and unit keys) a table lacks, compared with English: empty when complete."""
    table = PHRASES[language]
    keys = [key for key in ENGLISH if key not in table]
    keys += [f"units.{unit}" for unit in ENGLISH["units"] if unit not in table.get("units", {})]
    return keys


def unknown_message(language: str) -> str:
    """Why a routine in `language` cannot be read, and the fix."""
    known = ", ".join(f"{table['name']} ({tag})" for tag, table in PHRASES.items())
    tag = normal_tag(language)
    return (f'language "{language}": voiceguide has no phrases for it yet (it has {known}); '
            f"write its table to {phrase_dir() / (tag.split('-')[0] + '.toml')} (see docs/voices.md, Languages)")


def languages() -> list[dict[str, str]]:
    """Every language a routine can be written in, for listings: {"tag", "name", "source"}
    where source is "shipped" or the added file's path, plus "error" for an added file that
    cannot be used (listed, so its owner sees why) and "english" naming the LATER_KEYS an
    added file leaves to English. An added file hides a shipped table."""
    found: dict[str, dict[str, str]] = {tag: {"tag": tag, "name": table["name"], "source": "shipped"}
                                        for tag, table in PHRASES.items()}
    folder = phrase_dir()
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else ():
        entry = {"tag": normal_tag(path.stem), "name": "", "source": str(path)}
        try:
            if path.stem != entry["tag"]:         # never read: lookup opens the normalized name
                raise PhraseFileError(f"{path}: rename it {entry['tag']}.toml, its tag in lowercase with -")
            table = load(path)
            entry["name"] = table["name"]
            lacking = sorted(left_to_english(path))
            if lacking:
                entry["english"] = ", ".join(lacking)
        except PhraseFileError as exc:
            entry["error"] = str(exc)
        found[entry["tag"]] = entry
    return sorted(found.values(), key=lambda e: e["tag"])



def template_for(language: str) -> str:
    """A phrase file for `language` to translate: its own table if it has one, else English's,
    headed by where to save it and what to change."""
    tag = normal_tag(language)
    if not tag or not all(part.isalnum() for part in tag.split("-")):
        raise PhraseFileError(f'"{language}" is not a language tag like "it" or "pt-BR"')
    table = lookup(tag) or ENGLISH
    own = table is not ENGLISH or is_english(tag)
    header = (f"Phrase table for \"{tag}\": save it as {phrase_dir() / (tag + '.toml')}\n"
              + ("" if own else "Every value below is English: translate each one (see docs/voices.md, Languages).\n")
              + "Keep the keys, the {n} and {title} fields, and each unit's [one, several, gender].")
    if own:
        return to_toml(table, header)
    from num2words import CONVERTER_CLASSES     # numbers are spelled right away if it knows the language

    primary = tag.split("-")[0]
    return to_toml({**table, "name": tag, "numbers": primary if primary in CONVERTER_CLASSES else "en"}, header)
