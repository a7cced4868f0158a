"""Split narration into sentences: the unit that is synthesized, timed and captioned."""
from __future__ import annotations

import re

# A sentence ends at . ! ? or … (optionally followed by closing quotes/brackets) and whitespace,
# unless the dot belongs to a common abbreviation or a number like "2.5".
_ABBREVIATIONS = {"e.g", "i.e", "etc", "dr", "mr", "mrs", "ms", "vs", "approx", "min", "sec", "no", "st"}
_END = re.compile(r"([.!?…]+[\"'”’)\]]*)\s+")


def split_sentences(text: str) -> list[str]:
    """Sentences of `text` in order, whitespace-normalized, none empty."""
    text = " ".join(text.split())
    if not text:
        return []
    out: list[str] = []
    start = 0
    for match in _END.finditer(text):
        before = text[start:match.start()]
        last_word = before.rsplit(" ", 1)[-1].lower().rstrip(".")
        if match.group(1) == "." and last_word in _ABBREVIATIONS:
            continue
        sentence = text[start:match.end()].strip()
        if sentence:
            out.append(sentence)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out
