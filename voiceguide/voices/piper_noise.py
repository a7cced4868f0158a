"""Piper's noise drawn from a seed, so the same sentence gives the same take in any worker.

Why not `onnxruntime.set_seed`: a VITS model samples noise twice per run (the duration
predictor's and the flow's) with RandomNormalLike nodes, and onnxruntime seeds each such
kernel's generator once, when the session is built (see RandomNormalLike in
onnxruntime/core/providers/cpu/generator/random.h). Seeding before a run changes nothing;
every take depends on all the session synthesized before it (calibration included), which
differs between workers and between a cold and a warm cache.

So, when a voice is loaded, its model is rewritten in memory: each RandomNormalLike(x) becomes
`Reshape(Slice(bank, 0, n), Shape(x))` with n the size of x, and `bank` a new input, a flat
run of standard normal numbers that `SeededSession` draws with numpy from the sentence's seed.
The distribution is the model's own (mean 0, scale 1), so the voice sounds the same; numpy's
generator is specified bit for bit (std::normal_distribution is not), so the same seed gives
the same noise on every platform. The rewrite edits the protobuf wire format directly (the
`onnx` package is not a dependency) and leaves every other byte of the model as it was.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .protowire import encode_varint, fields

BANK = "voiceguide_noise_{}"
FRAMES_PER_ID = 8       # generous guess of output frames per phoneme id at length scale 1 (joe: ~3)
CHANNELS_GUESS = 192    # the flow's channels in piper's models: sizes the first bank tried
MIN_BANK = 1 << 13
GROWTHS = 4             # a bank too small fails the run; it is retried at 4x, up to this many times


# -- the noise nodes, patched in ModelProto -> GraphProto -> NodeProto (protowire.py) -------

def _message(number: int, payload: bytes) -> bytes:
    return encode_varint(number << 3 | 2) + encode_varint(len(payload)) + payload


def _node(op: str, inputs: list[str], outputs: list[str], name: str) -> bytes:
    body = b"".join(_message(1, i.encode()) for i in inputs) + b"".join(_message(2, o.encode()) for o in outputs)
    return _message(1, body + _message(3, name.encode()) + _message(4, op.encode()))


def _float_vector_input(name: str) -> bytes:
    dim = _message(1, _message(2, (name + "_size").encode()))           # Dimension.dim_param
    tensor = encode_varint(1 << 3) + encode_varint(1) + _message(2, dim)   # elem_type FLOAT, shape
    return _message(11, _message(1, name.encode()) + _message(2, _message(1, tensor)))


def _random_normal_like(node: memoryview) -> tuple[str, str] | None:
    """(input, output) of a RandomNormalLike with the default mean and scale giving float32,
    else None."""
    op, domain, inputs, outputs, attributes = "", "", [], [], []
    for number, _wire, _s, _e, value in fields(node):
        if number == 4:
            op = bytes(value).decode()
        elif number == 7:
            domain = bytes(value).decode()
        elif number == 1:
            inputs.append(bytes(value).decode())
        elif number == 2:
            outputs.append(bytes(value).decode())
        elif number == 5:
            attribute = {n: v for n, _w, _s2, _e2, v in fields(value)}
            attributes.append((bytes(attribute.get(1, b"")).decode(), attribute.get(3)))
    if op != "RandomNormalLike" or domain not in ("", "ai.onnx") or len(inputs) != 1 or len(outputs) != 1:
        return None
    if any(name != "dtype" or value != 1 for name, value in attributes):
        return None
    return inputs[0], outputs[0]


def seed_noise(model: bytes) -> tuple[bytes, list[str]]:
    """`model` with its RandomNormalLike nodes fed from new inputs, and those inputs' names.
    Unchanged fields are copied once, by reference until the final join (models are ~60 MB)."""
    data, banks = memoryview(model), []
    pieces: list[bytes | memoryview] = []
    for number, wire, start, end, value in fields(data):
        if number != 7 or wire != 2:          # ModelProto.graph
            pieces.append(data[start:end])
            continue
        graph: list[bytes | memoryview] = []
        for g_number, g_wire, g_start, g_end, g_value in fields(value):
            found = _random_normal_like(g_value) if g_number == 1 and g_wire == 2 else None
            if found is None:
                graph.append(value[g_start:g_end])
                continue
            source, target = found
            bank, tag = BANK.format(len(banks)), f"voiceguide_noise{len(banks)}"
            banks.append(bank)
            graph += [_node("Shape", [source], [f"{tag}_shape"], f"{tag}/Shape"),
                      _node("ReduceProd", [f"{tag}_shape"], [f"{tag}_size"], f"{tag}/ReduceProd"),
                      _node("Sub", [f"{tag}_size", f"{tag}_size"], [f"{tag}_zero"], f"{tag}/Sub"),
                      _node("Slice", [bank, f"{tag}_zero", f"{tag}_size"], [f"{tag}_flat"], f"{tag}/Slice"),
                      _node("Reshape", [f"{tag}_flat", f"{tag}_shape"], [target], f"{tag}/Reshape")]
        graph += [_float_vector_input(bank) for bank in banks]
        pieces.append(encode_varint(7 << 3 | 2) + encode_varint(sum(len(p) for p in graph)))
        pieces += graph
    return b"".join(pieces), banks


class SeededSession:
    """An InferenceSession of a `seed_noise` model that feeds every run its noise banks.

    `reseed(seed)` before each synthesis: run k after it draws bank i from
    numpy's default_rng([seed, k, i]), so a request's take depends on its seed alone.
    """

    def __init__(self, session: Any, banks: list[str]):
        self.session, self.banks = session, banks
        self.seed, self.runs, self.grown = 0, 0, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)

    def reseed(self, seed: int) -> None:
        self.seed, self.runs = seed, 0

    def run(self, outputs: Any, feeds: dict[str, Any], *rest: Any, **options: Any) -> Any:
        run, self.runs = self.runs, self.runs + 1
        ids = int(np.asarray(feeds["input"]).shape[-1])
        scale = float(np.asarray(feeds.get("scales", [0.0, 1.0]))[1])
        size = max(MIN_BANK, int(CHANNELS_GUESS * FRAMES_PER_ID * ids * max(scale, 0.1)))
        for growth in range(GROWTHS + 1):
            # The first n numbers of a draw do not depend on its size, so a grown bank
            # gives the same take as one that was big enough the first time.
            noise = {bank: np.random.default_rng([self.seed, run, i]).standard_normal(size, dtype=np.float32)
                     for i, bank in enumerate(self.banks)}
            try:
                return self.session.run(outputs, {**feeds, **noise}, *rest, **options)
            except Exception:
                if growth == GROWTHS:
                    raise
                self.grown += 1
                size *= 4
        raise AssertionError("unreachable")
