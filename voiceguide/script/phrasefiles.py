"""Phrase tables people add without touching the package: `<data folder>/phrases/TAG.toml`.

voiceguide ships tables for a few languages (script/phrases.py). Someone who brings an Italian
voice should not have to edit an installed package to speak Italian, so a table can also be a
TOML file in voiceguide's data folder (`~/.local/share/voiceguide/phrases/it.toml`, or under
$VOICEGUIDE_DATA_DIR), named by its lowercase BCP 47 tag (`pt-br.toml`). It has exactly the
keys of the English table, of the same shapes; anything else is refused with the file, the
line where TOML knows one, and what is wrong, so a typo never turns into silent English.
"""
from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path
from typing import Any, Mapping

from ..datafolder import data_dir

FILE_LIMIT = 64 << 10       # bytes: a table is a couple of kilobytes
GENDERS = ("m", "f", "")


class PhraseFileError(ValueError):
    """A phrase file that cannot be used; the message names the file (and line) and the fault."""


def phrase_dir() -> Path:
    """Where added phrase tables live."""
    return data_dir() / "phrases"


def phrase_file(tag: str) -> Path | None:
    """The added table for exactly this normalized tag ("de-at"), if there is one."""
    path = phrase_dir() / f"{tag}.toml"
    return path if path.is_file() else None


def load(path: Path, reference: Mapping[str, Any]) -> dict[str, Any]:
    """The checked table in `path`, shaped like `reference` (English). Cached while the
    file's size and time stay the same: the narrator asks for the table per sentence."""
    try:
        info = path.stat()
    except OSError as exc:
        raise PhraseFileError(f"{path}: cannot read it ({exc.strerror})") from None
    return _load(str(path), info.st_mtime_ns, info.st_size, _Frozen(reference))


class _Frozen:
    """The reference table as a cache key: one per process, compared by identity."""

    def __init__(self, table: Mapping[str, Any]):
        self.table = table

    def __hash__(self) -> int:
        return id(self.table)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Frozen) and other.table is self.table


@functools.lru_cache(maxsize=16)
def _load(path: str, _mtime: int, size: int, reference: _Frozen) -> dict[str, Any]:
    if size > FILE_LIMIT:
        raise PhraseFileError(f"{path}: {size} bytes is too big for a phrase table (at most {FILE_LIMIT})")
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise PhraseFileError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise PhraseFileError(f"{path}: cannot read it ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"\(at line (\d+), column \d+\)$", str(exc))
        if where:
            raise PhraseFileError(f"{path}:{where.group(1)}: {str(exc)[:where.start()].strip()}") from None
        raise PhraseFileError(f"{path}: {exc}") from None
    problems = check(data, reference.table)
    if problems:
        raise PhraseFileError(f"{path}: {'; '.join(problems[:4])}" + (f" (and {len(problems) - 4} more)" if len(problems) > 4 else ""))
    return _tupled(data)


def check(table: Mapping[str, Any], reference: Mapping[str, Any]) -> list[str]:
    """What is wrong with `table` compared with `reference`: missing and unknown keys, and
    values of the wrong shape. Empty when it can be used."""
    problems = [f"missing key {key!r}" for key in reference if key not in table]
    problems += [f"unknown key {key!r} (the keys are those of the English table)" for key in table if key not in reference]
    for key, value in table.items():
        if key in reference:
            fault = _shape_fault(key, value, reference[key])
            if fault:
                problems.append(f"{key!r} {fault}")
    return problems


def _strings(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) and v for k, v in value.items())


def _shape_fault(key: str, value: Any, model: Any) -> str | None:
    if key == "units":
        if not isinstance(value, dict) or set(value) != set(model):
            return f"must have the units {', '.join(model)}, each [one, several, gender]"
        for unit, words in value.items():
            if not (isinstance(words, list) and len(words) == 3 and all(isinstance(w, str) for w in words)
                    and words[0] and words[1] and words[2] in GENDERS):
                return f"{unit!r} must be [one, several, gender] with gender \"m\", \"f\" or \"\", like {list(model[unit])}"
        return None
    if key == "one":
        ok = isinstance(value, dict) and all(
            gender in GENDERS and isinstance(pairs, list)
            and all(isinstance(p, list) and len(p) == 2 and all(isinstance(w, str) and w for w in p) for p in pairs)
            for gender, pairs in value.items())
        return None if ok else 'must map a gender ("m", "f") to [ending, replacement] pairs, like { f = [["eins", "eine"]] }'
    if key == "numbers":
        from num2words import CONVERTER_CLASSES

        if value not in CONVERTER_CLASSES:
            return f"{value!r} is not a language num2words knows (it knows {', '.join(sorted(CONVERTER_CLASSES))})"
        return None
    if isinstance(model, dict):
        return None if _strings(value) else "must be a table of words to words"
    if not isinstance(value, str) or (not value and model):
        return "must be a text"
    if "{n}" in model and "{n}" not in value:
        return "must say where the number goes with {n}"
    return None


def _tupled(data: dict[str, Any]) -> dict[str, Any]:
    """TOML's arrays as the tuples the shipped tables use."""
    out = dict(data)
    out["units"] = {unit: tuple(words) for unit, words in data["units"].items()}
    out["one"] = {gender: tuple(tuple(pair) for pair in pairs) for gender, pairs in data["one"].items()}
    return out
