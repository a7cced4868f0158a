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
VOICEGUIDE_FAULT = one or more (comma-separated) of hang | crash | empty | silent | error |
noise | garbage (or garbage:KIND, see GARBAGE) makes `synth` misbehave. With
VOICEGUIDE_FAULT[_<NAME>]_RATE=0.3 only that share of calls does, picking among the listed
faults, seeded by VOICEGUIDE_FAULT[_<NAME>]_SEED mixed with the worker's serial number (a
restarted worker must not replay its predecessor's sequence). With
VOICEGUIDE_FAULT[_<NAME>]_TOKENS=DIR a fault fires only while it can claim (delete) a file in
DIR, so "fail once, then work" is possible across worker restarts. VOICEGUIDE_FAULT_LOG=FILE
gets one line per injected fault, so tests can count them.
"""
from __future__ import annotations

import importlib
import json
import os
import random
import sys
import threading
import time
import traceback
import wave
from typing import Any, BinaryIO, Mapping

PREFIX = b"@@voiceguide-worker@@ "
FAULTS = ("hang", "crash", "empty", "silent", "error", "noise", "garbage")
GARBAGE = ("short", "long", "clipped", "nan", "inf", "loud", "static")
"""Kinds of "garbage": well-formed audio that is wrong (wrong length for its text, clipped,
NaN or infinite samples, out of range, or broadband noise instead of speech)."""
SERIAL_ENV = "VOICEGUIDE_WORKER_SERIAL"   # set by the pool: which start of this engine's worker


def release_memory() -> float:
    """Hand freed heap back to the system and return this process's RSS in MiB.

    A long sentence makes onnxruntime allocate a few hundred MiB inside one run; glibc keeps
    what was freed, so without this an idle piper worker stays at the size of its longest
    sentence (docs/audio.md, "Speed and memory"). The parent recycles a worker whose RSS
    stays high anyway (pool.WorkerPool, rss_limit)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass    # not glibc: nothing to trim
        try:
            with open("/proc/self/statm", "rb") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        except (OSError, ValueError, IndexError):
            return 0.0
    return 0.0


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


class FaultPlan:
    """Which synth calls of this worker misbehave, and how (test hook; see the module doc)."""

    def __init__(self, backend: str, env: Mapping[str, str] = os.environ):
        suffix = backend.upper()

        def setting(name: str) -> str:
            return env.get(f"VOICEGUIDE_FAULT_{suffix}{name}") or env.get(f"VOICEGUIDE_FAULT{name}") or ""

        self.backend = backend
        self.faults = [f.strip() for f in setting("").split(",") if f.strip()]
        unknown = [f for f in self.faults if f.split(":")[0] not in FAULTS
                   or (":" in f and (not f.startswith("garbage:") or f.split(":", 1)[1] not in GARBAGE))]
        if unknown:
            raise ValueError(f"unknown fault {', '.join(unknown)} (choose from {', '.join(FAULTS)})")
        rate = setting("_RATE")
        self.rate = float(rate) if rate else 1.0
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate {rate} is not between 0 and 1")
        self.tokens = setting("_TOKENS")
        self.log = env.get("VOICEGUIDE_FAULT_LOG", "")
        seed = setting("_SEED")
        serial = env.get(SERIAL_ENV) or f"pid{os.getpid()}"
        # Mixed with the serial: a replacement worker gets a new sequence, not a replay of
        # the one that just failed (which would fail the same request forever).
        self.rng = random.Random(f"{seed}|{backend}|{serial}") if seed else random.Random()
        self.calls = 0

    def next(self) -> tuple[str, str] | None:
        """(fault, garbage kind or "") for the next synth call, or None to behave."""
        self.calls += 1
        if not self.faults:
            return None
        roll, fault, kind = self.rng.random(), self.rng.choice(self.faults), self.rng.choice(GARBAGE)
        if roll >= self.rate:
            return None
        if self.tokens and not _claim_token(self.tokens):
            return None
        fault, _, forced = fault.partition(":")      # "garbage:nan" picks the kind of garbage
        kind = (forced or kind) if fault == "garbage" else ""
        if self.log:
            line = f"{self.backend} {fault}{':' + kind if kind else ''} pid={os.getpid()} call={self.calls}\n"
            try:
                fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    os.write(fd, line.encode())   # one small O_APPEND write: whole lines across processes
                finally:
                    os.close(fd)
            except OSError:
                pass
        return fault, kind


def _faulty_synth(fault: str, backend: Any, args: dict, kind: str = "") -> Any:
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
    if fault == "garbage":
        return _garbage(kind, backend, args)
    # "noise": chatter on stdout at the Python and the file-descriptor level, then work normally.
    print("noise on stdout that must not reach the protocol")
    os.write(1, PREFIX + b'{"id": -1, "ok": true, "result": "forged"}\n')
    return backend.synth(**args)


def _garbage(kind: str, backend: Any, args: dict) -> dict:
    """Well-formed audio that is wrong for its request, written as float32 .npy."""
    import numpy as np

    from .dsp import read_audio

    words = max(1, len(str(args.get("text", "")).split()))
    result = backend.synth(**args)   # the real speech, then damaged
    path = str(result["path"])
    if path.endswith(".npy"):
        samples, rate = np.load(path, allow_pickle=False), int(result["sample_rate"])
    else:
        samples, rate = read_audio(path)
    os.remove(path)
    samples = np.asarray(samples, np.float64).copy()
    middle = slice(len(samples) // 3, len(samples) // 3 + 50)
    if kind == "short":      # cut off after an eighth: far too short for its words
        samples = samples[: len(samples) // 8]
    elif kind == "long":     # repeated past any plausible length for its words
        samples = np.tile(samples, 1 + int((30 + 3 * words) * rate / max(1, len(samples))))
    elif kind == "static":   # broadband noise of the right length instead of speech
        samples = np.random.default_rng().uniform(-0.5, 0.5, len(samples))
    elif kind == "clipped":
        samples = np.clip(samples * 40.0, -1.0, 1.0)
    elif kind == "nan":
        samples[middle] = np.nan
    elif kind == "inf":
        samples[middle] = np.inf
    else:                    # "loud": out of the [-1, 1] range a float engine must keep to
        samples = samples * 8.0
    path = args["out"] + ".npy"
    np.save(path, np.asarray(samples, np.float32), allow_pickle=False)
    return {"path": path, "sample_rate": rate}


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
        faults = FaultPlan(backend.name)
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
            fault = faults.next() if op == "synth" else None
            if fault:
                result = _faulty_synth(fault[0], backend, args, fault[1])
            elif op in ("info", "synth", "load", "voices") and hasattr(backend, op):
                result = getattr(backend, op)(**args)
            else:
                raise ValueError(f"unknown op {op!r}")
            send(proto, {"id": ident, "ok": True, "result": result, "rss_mib": release_memory()})
        except Exception as exc:
            traceback.print_exc()
            send(proto, {"id": ident, "ok": False, "error": f"{type(exc).__name__}: {exc}"})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
