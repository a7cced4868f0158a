"""A piper voice's files checked without running it: its config, and its model against the config.

What `voiceguide voices add` refuses before a worker ever loads the model: a config that is
missing, not JSON, or lacks what piper reads (piper's PiperConfig.from_dict would fail with a
bare KeyError); a sample rate the config's own quality contradicts (piper trains x_low and low
voices at 16,000 Hz, medium and high at 22,050 Hz); a model that is not a complete ONNX
protobuf (a truncated download); and a config written for another model (its symbol count
or its speakers do not match the model's phoneme table or inputs). The model is read with a
strict protobuf walk (no `onnx` package), which only looks at field boundaries, the graph's
inputs and the phoneme table's shape.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import VoiceguideError
from .protowire import fields, varint

CONFIG_LIMIT = 16 << 20          # bytes: piper configs are a few to a few hundred KB
QUALITY_RATES = {"x_low": 16000, "low": 16000, "medium": 22050, "high": 22050}
"""The sample rate piper trains each quality at (piper's TRAINING.md)."""
MIN_RATE, MAX_RATE = 8000, 96000
LICENCE_KEYS = ("license", "licence")
CARD_LICENCE = re.compile(r"^\W*licen[cs]e\s*:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
MODEL_CARD = "MODEL_CARD"        # what piper-voices puts beside each model; its "License:" line


class VoiceRefused(VoiceguideError, ValueError):
    """A voice that cannot be added: the message says what is wrong with which file."""


@dataclass(frozen=True)
class VoiceFacts:
    """What a piper voice's files say about it."""

    language: str
    sample_rate: int
    quality: str          # x_low | low | medium | high, or "" when the config does not say
    num_symbols: int
    num_speakers: int
    licence: str          # "" when neither the config nor a model card says
    licence_from: str     # "config", "model card" or ""


def config_path(model: Path) -> Path:
    return model.with_name(model.name + ".json")


def _read_config(model: Path) -> dict[str, Any]:
    config = config_path(model)
    if not config.is_file():
        raise VoiceRefused(f"{model}: its config {config.name} is missing (a piper voice is the .onnx "
                           f"and the .onnx.json beside it)")
    if config.stat().st_size > CONFIG_LIMIT:
        raise VoiceRefused(f"{config}: too big for a piper config ({config.stat().st_size / 1e6:.0f} MB)")
    try:
        data = json.loads(config.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise VoiceRefused(f"{config}: not a piper config (not UTF-8 text)") from None
    except ValueError as exc:
        raise VoiceRefused(f"{config}: not a piper config (not JSON: {exc})") from None
    if not isinstance(data, dict):
        raise VoiceRefused(f"{config}: not a piper config (not a JSON object)")
    return data


def _integer(config: Path, data: dict[str, Any], *path: str, lo: int = 1) -> int:
    value: Any = data
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise VoiceRefused(f"{config}: {'.'.join(path)} must be a whole number of at least {lo}, "
                           f"not {json.dumps(value)}")
    return value


def check_config(model: Path) -> tuple[dict[str, Any], VoiceFacts]:
    """The config beside `model`, checked as piper will read it, and what it says."""
    data, config = _read_config(model), config_path(model)
    rate = _integer(config, data, "audio", "sample_rate")
    if not MIN_RATE <= rate <= MAX_RATE:
        raise VoiceRefused(f"{config}: audio.sample_rate {rate} Hz is not a speech model's ({MIN_RATE} to {MAX_RATE})")
    quality = (data.get("audio") or {}).get("quality") or ""
    if not isinstance(quality, str):
        raise VoiceRefused(f"{config}: audio.quality must be text, not {json.dumps(quality)}")
    expected = QUALITY_RATES.get(quality.lower())
    if expected is not None and expected != rate:
        raise VoiceRefused(f"{config}: sample rate {rate} Hz does not match its quality '{quality}' "
                           f"(piper's {quality} voices are {expected} Hz)")
    symbols = _integer(config, data, "num_symbols")
    speakers = _integer(config, data, "num_speakers")
    espeak = (data.get("espeak") or {}).get("voice") if isinstance(data.get("espeak"), dict) else None
    if not isinstance(espeak, str) or not espeak:
        raise VoiceRefused(f"{config}: espeak.voice is missing (piper needs it to read text)")
    ids = data.get("phoneme_id_map")
    if not isinstance(ids, dict) or not ids or not all(
            isinstance(v, list) and v and all(isinstance(i, int) and not isinstance(i, bool) for i in v)
            for v in ids.values()):
        raise VoiceRefused(f"{config}: phoneme_id_map must map each phoneme to a list of ids")
    highest = max(max(v) for v in ids.values())
    if highest >= symbols or min(min(v) for v in ids.values()) < 0:
        raise VoiceRefused(f"{config}: phoneme_id_map uses id {highest}, but num_symbols is {symbols}")
    language = (data.get("language") or {}).get("code") if isinstance(data.get("language"), dict) else None
    licence, where = licence_of(model, data)
    return data, VoiceFacts(str(language or espeak), rate, quality, symbols, speakers, licence, where)


def licence_of(model: Path, data: dict[str, Any]) -> tuple[str, str]:
    """(licence, where it was found): a "license" key in the config (at its top or in a
    "dataset" object), else the "License:" line of the MODEL_CARD piper-voices puts beside it."""
    for holder in (data, data.get("dataset")):
        if isinstance(holder, dict):
            for key in LICENCE_KEYS:
                value = holder.get(key)
                if isinstance(value, str) and value.strip():
                    return _one_line(value), "config"
    card = model.with_name(MODEL_CARD)
    try:
        text = card.read_text(encoding="utf-8", errors="replace")[:65536] if card.is_file() else ""
    except OSError:
        text = ""
    found = CARD_LICENCE.search(text)
    return (_one_line(found.group(1)), "model card") if found else ("", "")


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]


# -- the model: a strict walk over the protobuf wire format (protowire.py) ------------------

def _text(value: Any) -> str:
    return bytes(value).decode("utf-8", "replace")


@dataclass(frozen=True)
class ModelFacts:
    inputs: tuple[str, ...]      # the graph's inputs (piper: input, input_lengths, scales, and sid)
    symbols: int | None          # rows of the phoneme table (None: not found in this export)


def read_model(model: Path) -> ModelFacts:
    """The graph inputs and phoneme table size of an ONNX model; VoiceRefused if it is not one."""
    try:
        data = memoryview(model.read_bytes())
    except OSError as exc:
        raise VoiceRefused(f"{model}: cannot be read ({exc.strerror or exc})") from None
    try:
        graph = None
        for number, wire, _s, _e, value in fields(data):
            if number == 7 and wire == 2:
                graph = value
        if graph is None:
            raise ValueError("it has no graph")
        inputs, shapes, table = [], {}, None
        for number, wire, _s, _e, value in fields(graph):
            if number == 11 and wire == 2:                      # GraphProto.input: ValueInfoProto
                inputs += [_text(v) for n, w, _s, _e, v in fields(value) if n == 1 and w == 2]
            elif number == 5 and wire == 2:                     # GraphProto.initializer: TensorProto
                dims, name = [], ""
                for n, w, _s, _e, v in fields(value):
                    if n == 1 and w == 0:
                        dims.append(v)
                    elif n == 1 and w == 2:                     # packed dims
                        pos = 0
                        while pos < len(v):
                            dim, pos = varint(v, pos)
                            dims.append(dim)
                    elif n == 8 and w == 2:
                        name = _text(v)
                shapes[name] = dims
            elif number == 1 and wire == 2 and table is None:   # GraphProto.node: the Gather on "input"
                node = [(n, _text(v)) for n, w, _s, _e, v in fields(value) if n in (1, 4) and w == 2]
                op = next((t for n, t in node if n == 4), "")
                ins = [t for n, t in node if n == 1]
                if op == "Gather" and len(ins) == 2 and ins[1] == "input":
                    table = ins[0]
    except ValueError as exc:
        raise VoiceRefused(f"{model}: not a complete ONNX model, damaged or truncated ({exc})") from None
    dims = shapes.get(table or "")
    return ModelFacts(tuple(inputs), dims[0] if dims else None)


def check_files(model: Path) -> VoiceFacts:
    """A piper voice's model and config, checked against each other before it is run."""
    if not model.is_file():
        raise VoiceRefused(f"{model}: no such file")
    if model.suffix.lower() != ".onnx":
        raise VoiceRefused(f"{model}: not a piper voice (a piper model is a .onnx file)")
    _, facts = check_config(model)
    found = read_model(model)
    missing = [name for name in ("input", "input_lengths", "scales") if name not in found.inputs]
    if missing:
        raise VoiceRefused(f"{model}: not a piper voice (the model has no {', '.join(missing)} input)")
    config = config_path(model).name
    if found.symbols is not None and found.symbols != facts.num_symbols:
        raise VoiceRefused(f"{model}: {config} is not this model's config (num_symbols {facts.num_symbols}, "
                           f"the model has {found.symbols})")
    if (facts.num_speakers > 1) != ("sid" in found.inputs):
        has = "several speakers" if "sid" in found.inputs else "one speaker"
        raise VoiceRefused(f"{model}: {config} is not this model's config (num_speakers {facts.num_speakers}, "
                           f"the model has {has})")
    return facts
