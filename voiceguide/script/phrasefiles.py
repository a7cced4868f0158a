"""Phrase tables people add without touching the package: `<data folder>/phrases/TAG.toml`.

voiceguide ships tables for a few languages (script/phrases.py). Someone who brings an Italian
voice should not have to edit an installed package to speak Italian, so a table can also be a
TOML file in voiceguide's data folder (`~/.local/share/voiceguide/phrases/it.toml`, or under
$VOICEGUIDE_DATA_DIR), named by its lowercase BCP 47 tag (`pt-br.toml`). It has the keys of
the English table, of the same shapes (those voiceguide added later may be left out, taken from
English: phrases.LATER_KEYS); anything else is refused with the file, the line where TOML knows
one, and what is wrong, so a typo never turns into silent English.
"""
from __future__ import annotations

import functools
import re
import string
import tomllib
from pathlib import Path
from typing import Any, Mapping

from ..datafolder import data_dir
from ..errors import VoiceguideError

FILE_LIMIT = 64 << 10       # bytes: a table is a couple of kilobytes
GENDERS = ("m", "f", "")


class PhraseFileError(VoiceguideError, ValueError):
    """A phrase file that cannot be used; the message names the file (and line) and the fault."""


def phrase_dir() -> Path:
    """Where added phrase tables live."""
    return data_dir() / "phrases"


def phrase_file(tag: str) -> Path | None:
    """The added table for exactly this normalized tag ("de-at"), if there is one."""
    path = phrase_dir() / f"{tag}.toml"
    return path if path.is_file() else None


def load(path: Path) -> dict[str, Any]:
    """The checked table in `path`, shaped like the English one. Cached while the file's size
    and time stay the same: the narrator asks for the table per sentence."""
    return _loaded(path)[0]


def left_to_english(path: Path) -> frozenset[str]:
    """The later keys the (checked) file leaves out, so that English's serve (for listings)."""
    return _loaded(path)[1]


def _loaded(path: Path) -> tuple[dict[str, Any], frozenset[str]]:
    try:
        info = path.stat()
    except OSError as exc:
        raise PhraseFileError(f"{path}: cannot read it ({exc.strerror})") from None
    return _load(str(path), info.st_mtime_ns, info.st_size)


@functools.lru_cache(maxsize=16)
def _load(path: str, _mtime: int, size: int) -> tuple[dict[str, Any], frozenset[str]]:
    from .phrases import ENGLISH, LATER_KEYS     # (phrases imports this module)

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
    problems = check(data, ENGLISH, LATER_KEYS)
    if problems:
        raise PhraseFileError(f"{path}: {'; '.join(problems[:4])}" + (f" (and {len(problems) - 4} more)" if len(problems) > 4 else ""))
    filled = frozenset(key for key in LATER_KEYS if key not in data)
    return _tupled({**{key: ENGLISH[key] for key in filled}, **data}), filled


def check(table: Mapping[str, Any], reference: Mapping[str, Any], optional: frozenset[str] = frozenset()) -> list[str]:
    """What is wrong with `table` compared with `reference`: missing (unless `optional`) and
    unknown keys, and values of the wrong shape. Empty when it can be used."""
    problems = [f"missing key {key!r}" for key in reference if key not in table and key not in optional]
    problems += [f"unknown key {key!r} (the keys are those of the English table)" for key in table if key not in reference]
    for key, value in table.items():
        if key in reference:
            fault = _shape_fault(key, value, reference[key])
            if fault:
                problems.append(f"{key!r} {fault}")
    return problems


def _words(value: Any) -> bool:
    """A table of non-empty words to non-empty words."""
    return isinstance(value, dict) and all(isinstance(k, str) and k.strip() and isinstance(v, str) and v.strip()
                                           for k, v in value.items())


def _template_fault(value: str, model: str) -> str | None:
    """A text with the {fields} of the English one (a number {n}, a {title}) that str.format
    fills with those alone, as voiceguide does."""
    fields = sorted({name for _, name, _, _ in string.Formatter().parse(model) if name})
    missing = [f"{{{name}}}" for name in fields if f"{{{name}}}" not in value]
    if missing:
        return f"must say where {' and '.join(missing)} goes"
    try:
        value.format(**dict.fromkeys(fields, "1"))
    except (KeyError, IndexError, ValueError):
        return f"may hold no braces but {' '.join('{' + name + '}' for name in fields)} (write {{{{ and }}}} for a brace)"
    return None


def _shape_fault(key: str, value: Any, model: Any) -> str | None:
    if key == "units":
        if not isinstance(value, dict) or set(value) != set(model):
            return f"must have the units {', '.join(model)}, each [one, several, gender]"
        for unit, words in value.items():
            if not (isinstance(words, list) and len(words) == 3 and all(isinstance(w, str) for w in words)
                    and words[0].strip() and words[1].strip() and words[2] in GENDERS):
                return f"{unit!r} must be [one, several, gender] with gender \"m\", \"f\" or \"\", like {list(model[unit])}"
        return None
    if key == "one":
        ok = isinstance(value, dict) and all(
            gender in GENDERS and isinstance(pairs, list)
            and all(isinstance(p, list) and len(p) == 2 and all(isinstance(w, str) and w for w in p) for p in pairs)
            for gender, pairs in value.items())
        return None if ok else 'must map a gender ("m", "f") to [ending, replacement] pairs, like { f = [["eins", "eine"]] }'
    if key == "unit_abbreviations":
        if not _words(value):
            return "must be a table of words to words"
        wrong = [f"{short} = {unit!r}" for short, unit in value.items() if short != short.lower() or unit not in model.values()]
        return None if not wrong else (f"must map lowercase abbreviations to the units "
                                       f"{', '.join(sorted(set(model.values())))} (not {', '.join(wrong)})")
    if isinstance(model, dict):
        return None if _words(value) else "must be a table of words to words"
    if not isinstance(value, str) or (model and not (value if key == "thousands" else value.strip())):
        return "must be a text"
    if key == "numbers":
        from num2words import CONVERTER_CLASSES

        if value not in CONVERTER_CLASSES:
            return f"{value!r} is not a language num2words knows (it knows {', '.join(sorted(CONVERTER_CLASSES))})"
    if "{" in model:
        return _template_fault(value, model)
    return None


def _tupled(data: dict[str, Any]) -> dict[str, Any]:
    """TOML's arrays as the tuples the shipped tables use."""
    out = dict(data)
    out["units"] = {unit: tuple(words) for unit, words in data["units"].items()}
    out["one"] = {gender: tuple(tuple(pair) for pair in pairs) for gender, pairs in data["one"].items()}
    return out


def to_toml(table: Mapping[str, Any], header: str = "") -> str:
    """`table` as a phrase file (`load` reads it back equal): plain keys first, then the tables.
    For a starting point to translate (`voiceguide voices languages --template TAG`)."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    plain = {k: v for k, v in table.items() if not isinstance(v, Mapping)}
    lines += [f"{_key(k)} = {_value(v)}" for k, v in plain.items()]
    for name, inner in table.items():
        if isinstance(inner, Mapping):
            lines += ["", f"[{name}]"] + [f"{_key(k)} = {_value(v)}" for k, v in inner.items()]
    return "\n".join(lines) + "\n"


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _value(key)


def _value(value: Any) -> str:
    if isinstance(value, str):
        return '"' + "".join(c if c not in '"\\' and c >= " " else f"\\u{ord(c):04x}" for c in value) + '"'
    return "[" + ", ".join(_value(v) for v in value) + "]"
