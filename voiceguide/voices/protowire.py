"""Protobuf's wire format, just enough to read and patch an ONNX model without the onnx
package: piper_noise.py rewrites a voice's noise nodes, modelcheck.py checks a model is
whole. Strict, so a truncated or damaged file raises ValueError instead of reading garbage."""
from __future__ import annotations

from typing import Any, Iterator


def varint(data: bytes | memoryview, pos: int) -> tuple[int, int]:
    """(value, next position) of the varint at `pos`."""
    shift = value = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("a number runs past the end")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def fields(data: memoryview) -> Iterator[tuple[int, int, int, int, Any]]:
    """(field number, wire type, start, end, value) of each field: value is the payload
    (memoryview) of a length-delimited field, the integer of a varint, else None. Raises
    ValueError if a field runs past the end of `data` (a truncated file) or is not protobuf."""
    pos = 0
    while pos < len(data):
        start = pos
        key, pos = varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(data, pos)
        elif wire == 2:
            size, pos = varint(data, pos)
            if pos + size > len(data):
                raise ValueError(f"field {number} needs {size} bytes, {len(data) - pos} are left")
            value, pos = data[pos:pos + size], pos + size
        elif wire in (1, 5):
            value, pos = None, pos + (8 if wire == 1 else 4)
            if pos > len(data):
                raise ValueError("a fixed-size field runs past the end")
        else:
            raise ValueError(f"wire type {wire} is not protobuf")
        if number == 0:
            raise ValueError("field number 0 is not protobuf")
        yield number, wire, start, pos, value
