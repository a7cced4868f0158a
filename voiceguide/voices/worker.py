"""The worker process: runs one TTS backend, isolated from the caller and from other engines.

Why a separate process per engine: pyttsx3/espeak can hang or silently write nothing, and
loading espeak-ng's library next to piper's own espeak made piper return empty audio. A
worker can be killed and restarted without harming the render, and engines never share one.

Run as `python -m voiceguide.voices.worker MODULE:CLASS`. Protocol: the parent writes one
JSON object per line to stdin ({"id", "op", "args"}); the worker answers one line per
request on a private duplicate of its original stdout, prefixed with `PREFIX`. File
descriptor 1 itself is pointed at stderr before the backend loads, so anything a library
prints (pyttsx3 prints "Audio saved to ...") cannot corrupt the protocol.

Backends are classes with `name`, `info() -> dict` and any ops the engine sends (`synth`,
`load`, `voices`), taking keyword args and returning JSON-able values.

Test hooks (read at spawn, documented in docs/voices.md): VOICEGUIDE_FAULT_<NAME> or
VOICEGUIDE_FAULT = hang | crash | empty | silent | error | noise makes `synth` misbehave;
with VOICEGUIDE_FAULT[_<NAME>]_TOKENS=DIR a fault fires only while it can claim (delete)
a file in DIR, so "fail once, then work" is possible across worker restarts.
"""
from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
import traceback
import wave
from typing import Any, BinaryIO

PREFIX = b"@@voiceguide-worker@@ "
FAULTS = ("hang", "crash", "empty", "silent", "error", "noise")


def send(out: BinaryIO, message: dict) -> None:
    out.write(PREFIX + json.dumps(message).encode("utf-8") + b"\n")
    out.flush()


def _watch_parent() -> None:
    """Exit when the parent goes away, even if a backend call is stuck forever."""
    parent = os.getppid()
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def _claim_token(directory: str) -> bool:
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return False
    for name in names:
        try:
            os.remove(os.path.join(directory, name))
            return True
        except OSError:
            continue   # another worker took it
    return False


def active_fault(backend: str) -> str | None:
    """The fault to inject into this synth request, if a test asked for one."""
    suffix = backend.upper()
    fault = os.environ.get(f"VOICEGUIDE_FAULT_{suffix}") or os.environ.get("VOICEGUIDE_FAULT")
    if not fault:
        return None
    tokens = os.environ.get(f"VOICEGUIDE_FAULT_{suffix}_TOKENS") or os.environ.get("VOICEGUIDE_FAULT_TOKENS")
    if tokens and not _claim_token(tokens):
        return None
    return fault if fault in FAULTS else None


def _faulty_synth(fault: str, backend: Any, args: dict) -> Any:
    if fault == "hang":
        threading.Event().wait()
    if fault == "crash":
        os._exit(70)
    if fault == "error":
        raise RuntimeError("injected failure (VOICEGUIDE_FAULT=error)")
    if fault == "empty":
        path = args["out"] + ".wav"
        open(path, "wb").close()
        return {"path": path}
    if fault == "silent":
        path = args["out"] + ".wav"
        with wave.open(path, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(22050)
            w.writeframes(b"\0\0" * 44100)
        return {"path": path}
    # "noise": chatter on stdout at the Python and the file-descriptor level, then work normally.
    print("noise on stdout that must not reach the protocol")
    os.write(1, PREFIX + b'{"id": -1, "ok": true, "result": "forged"}\n')
    return backend.synth(**args)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or ":" not in argv[1]:
        print("usage: python -m voiceguide.voices.worker MODULE:CLASS", file=sys.stderr)
        return 2
    proto = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    threading.Thread(target=_watch_parent, daemon=True).start()

    module_name, class_name = argv[1].split(":", 1)
    try:
        backend = getattr(importlib.import_module(module_name), class_name)()
        send(proto, {"type": "ready", "info": backend.info()})
    except BaseException as exc:  # report why, whatever it was, then exit
        traceback.print_exc()
        send(proto, {"type": "fatal", "error": f"{type(exc).__name__}: {exc}"})
        return 1

    for raw in sys.stdin.buffer:
        try:
            message = json.loads(raw)
        except ValueError:
            continue
        op, args, ident = message.get("op"), message.get("args") or {}, message.get("id")
        if op == "quit":
            break
        try:
            fault = active_fault(backend.name) if op == "synth" else None
            if fault:
                result = _faulty_synth(fault, backend, args)
            elif op in ("info", "synth", "load", "voices") and hasattr(backend, op):
                result = getattr(backend, op)(**args)
            else:
                raise ValueError(f"unknown op {op!r}")
            send(proto, {"id": ident, "ok": True, "result": result})
        except Exception as exc:
            traceback.print_exc()
            send(proto, {"id": ident, "ok": False, "error": f"{type(exc).__name__}: {exc}"})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
