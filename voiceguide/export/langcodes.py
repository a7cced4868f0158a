"""BCP 47 language tags ("de", "de-AT") and the ISO 639-2 three-letter codes ID3 wants.

ID3's TLAN frame and the language of a COMM frame take ISO 639-2 codes, which a routine's
tag does not carry. This small table covers the languages voiceguide has phrases for (en, de,
es, fr) and the common ones; a language outside it gets no TLAN (tags.py keeps the full tag
in a TXXX:LANGUAGE frame either way, so nothing is lost).
"""
from __future__ import annotations

from ..script.phrases import normal_tag

ISO639_2 = {
    "en": "eng", "de": "deu", "es": "spa", "fr": "fra", "it": "ita", "pt": "por", "nl": "nld",
    "sv": "swe", "da": "dan", "nb": "nob", "nn": "nno", "no": "nor", "fi": "fin", "is": "isl",
    "pl": "pol", "cs": "ces", "sk": "slk", "sl": "slv", "hr": "hrv", "hu": "hun", "ro": "ron",
    "el": "ell", "tr": "tur", "ru": "rus", "uk": "ukr", "ca": "cat", "ga": "gle", "cy": "cym",
    "ja": "jpn", "zh": "zho", "ko": "kor", "ar": "ara", "he": "heb", "hi": "hin", "id": "ind",
}
"""Primary subtag -> ISO 639-2/T code (the terminology codes: "deu", not "ger")."""

_BIBLIOGRAPHIC = {"ger": "de", "fre": "fr", "dut": "nl", "ice": "is", "cze": "cs", "slo": "sk",
                  "rum": "ro", "gre": "el", "wel": "cy", "chi": "zh"}
"""The ISO 639-2/B codes some taggers write instead, read back as well."""

_BACK = {**{code: tag for tag, code in ISO639_2.items()}, **_BIBLIOGRAPHIC}


def iso639_2(tag: str) -> str:
    """The three-letter code of a BCP 47 tag's language ("de-AT" -> "deu"), "" if not in the table."""
    return ISO639_2.get(normal_tag(tag).split("-")[0], "")


def from_iso639_2(code: str) -> str:
    """The BCP 47 tag of an ISO 639-2 code ("deu" -> "de"); a code not in the table as it is
    (lower-cased), since a language without a two-letter code is tagged with its three letters."""
    code = code.strip().lower()[:3]
    return _BACK.get(code, code)
