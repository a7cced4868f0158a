"""An engine whose synthesis runs in worker processes, and never trusts what comes back.

Every result is checked (file exists, decodes, has finite samples within [-1, 1], is not
empty, silent, clipped or broadband noise, lasts about as long as that many words should at
that speed), trimmed to a short, faded margin, and on any problem
the worker is replaced and the request retried. Only after the retries are spent does the
caller get a SynthesisError — which the narrator answers by trying the next engine.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
import weakref
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .. import tempfiles
from .base import CALM_WPM, Request, Speech, SynthesisError, VoiceInfo
from .dsp import clipped_share, is_silent, read_audio, spectral_flatness, trim_silence
from .pool import RequestFailed, WorkerError, WorkerPool, WorkerProcess, fitting_size

_TMP_DIRS = tempfiles.pattern(r"voiceguide-[a-z0-9_]+", "")   # see _tmpdir
PEAK_LIMIT = 1.001    # float engines keep to [-1, 1]; piper normalizes its peak to exactly 1.0
CLIPPED_SHARE = 0.01  # more samples than this at the peak: clipped (speech: under 0.03%)
FLATNESS_LIMIT = 0.35 # spectral flatness above this is noise, not speech (speech: under 0.1)


class BadOutput(RuntimeError):
    """The worker answered, but the audio is unusable."""


def plausible_range(text: str, speed: float) -> tuple[float, float]:
    """Shortest and longest believable duration (seconds) for `text` spoken at `speed`."""
    words = max(1, len(text.split()))
    expected = words * 60.0 / (CALM_WPM * speed)          # what speed 1.0 means (voices/base.py)
    return 0.275 * expected, 3.85 * expected + 2.0         # a quarter of 150 wpm's, and 3.5 times it


def check_samples(samples: np.ndarray) -> None:
    """Raise BadOutput for samples no engine should produce (checked before trimming,
    which cannot work on NaN)."""
    if not np.all(np.isfinite(samples)):
        raise BadOutput("the engine returned invalid samples (NaN/inf)")
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    if peak > PEAK_LIMIT:
        raise BadOutput(f"the engine returned samples out of range (peak {peak:.2f})")


def check_speech(samples: np.ndarray, rate: int, text: str, speed: float) -> None:
    """Raise BadOutput unless `samples` (already trimmed) look like `text` being spoken."""
    check_samples(samples)
    if len(samples) == 0 or is_silent(samples):
        raise BadOutput("the engine returned silence")
    if clipped_share(samples) > CLIPPED_SHARE:
        raise BadOutput(f"the engine returned clipped audio ({clipped_share(samples):.1%} of samples at the peak)")
    if spectral_flatness(samples) > FLATNESS_LIMIT:
        raise BadOutput("the engine returned noise, not speech")
    duration = len(samples) / rate
    low, high = plausible_range(text, speed)
    if not low <= duration <= high:
        raise BadOutput(
            f"implausible duration {duration:.2f}s for {len(text.split())} words at speed {speed:g} "
            f"(expected {low:.2f}s to {high:.2f}s)"
        )


def _env_seconds(name: str, default: float) -> float:
    """A non-negative number of seconds from the environment, else `default`."""
    value = os.environ.get(name, "").strip()
    try:
        return max(0.0, float(value)) if value else default
    except ValueError:
        return default


def _remove_tree(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


class WorkerEngine:
    """Shared machinery for engines that run a backend class in `voiceguide.voices.worker`.

    Subclasses set `name`, `backend` ("module:Class") and implement the voice methods and
    `_synth_args` / `_prepare_worker` when they need more than the defaults.
    """

    name = ""
    backend = ""
    restart_after_error = False   # replace a worker that reported an error (its state may be bad)
    worker_mib = 0.0              # a busy worker's peak RSS: fewer workers start when memory is short
    rss_limit: float | None = None  # MiB: a worker above this after a request is recycled

    def __init__(
        self,
        jobs: int = 1,
        *,
        timeout: float | None = None,
        per_word_timeout: float | None = None,
        retries: int = 2,
        startup_timeout: float = 120.0,
        env: Mapping[str, str] | None = None,
        rss_limit: float | None = None,
    ):
        """`jobs` worker processes at most; a request may take `timeout` seconds plus
        `per_word_timeout` per word (over speed) before its worker is killed; `retries`
        more attempts follow a failure. `env` is added to the workers' environment.
        `rss_limit` (MiB, default the engine's own) recycles a worker that stays bigger. The
        timeouts default to $VOICEGUIDE_SYNTH_TIMEOUT (20 s) and
        $VOICEGUIDE_SYNTH_TIMEOUT_PER_WORD (0.25 s), so tests can bound hangs in a render."""
        self.jobs = max(1, jobs)
        self.timeout = timeout if timeout is not None else _env_seconds("VOICEGUIDE_SYNTH_TIMEOUT", 20.0)
        self.per_word_timeout = (per_word_timeout if per_word_timeout is not None
                                 else _env_seconds("VOICEGUIDE_SYNTH_TIMEOUT_PER_WORD", 0.25))
        self.retries, self.startup_timeout = max(0, retries), startup_timeout
        self.env = dict(env or {})
        if rss_limit is not None:
            self.rss_limit = rss_limit
        self._pool: WorkerPool | None = None
        self._lock = threading.Lock()
        self._tmp: str | None = None
        self.failures: list[str] = []     # reasons of failed attempts, for diagnostics and tests
        self._identities: dict[str, tuple[str, str]] = {}   # voice -> (voice id, version), for seeds

    # -- overridable hooks -------------------------------------------------------------

    def worker_env(self) -> dict[str, str]:
        return dict(self.env)

    def _voice_arg(self, voice: str) -> str:
        """What the backend needs to find `voice` (resolved name, path...)."""
        return voice

    def _voice_label(self, voice: str, voice_arg: str) -> str:
        """How the voice is named in the returned Speech."""
        return voice_arg

    def _prepare_worker(self, worker: WorkerProcess, voice_arg: str) -> None:
        """Called before each synth on a worker; e.g. load a model once per process."""

    def _synth_args(self, text: str, voice_arg: str, speed: float) -> dict[str, Any]:
        return {"text": text, "voice": voice_arg, "speed": speed}

    # -- machinery ---------------------------------------------------------------------

    @property
    def pool(self) -> WorkerPool:
        with self._lock:
            if self._pool is None:
                size = fitting_size(self.jobs, self.worker_mib)
                self._pool = WorkerPool(self.backend, self.name, size, self.worker_env(), self.startup_timeout,
                                        self.rss_limit)
            return self._pool

    @property
    def workers_started(self) -> int:
        return self._pool.started if self._pool else 0

    @property
    def workers_recycled(self) -> int:
        return self._pool.recycled if self._pool else 0

    def _tmpdir(self) -> Path:
        with self._lock:
            if self._tmp is None:
                # Named with the pid, so the next run sweeps what a killed one left (voiceguide.tempfiles).
                self._tmp = tempfile.mkdtemp(prefix=f"voiceguide-{self.name}.{os.getpid()}.")
                tempfiles.sweep(tempfile.gettempdir(), _TMP_DIRS, once=True, trees=True)
                weakref.finalize(self, _remove_tree, self._tmp)
            return Path(self._tmp)

    def call(self, op: str, args: Mapping[str, Any], timeout: float | None = None) -> Any:
        """Run one non-synthesis op (e.g. "voices") on some worker."""
        with self.pool.worker() as w:
            return w.call(op, args, timeout or self.timeout)

    def request_timeout(self, text: str, speed: float) -> float:
        return self.timeout + self.per_word_timeout * len(text.split()) / max(speed, 0.1)

    def seed(self, text: str, voice: str, speed: float) -> int:
        """The sentence's cache key (the narrator's Request for it) as a number: backends seed
        their randomness with it, so a sentence sounds the same in whichever worker speaks it."""
        if voice not in self._identities:   # once per voice, as the narrator does: hashing a model takes time
            self._identities[voice] = (self.voice_id(voice), self.version)  # type: ignore[attr-defined]
        voice_id, version = self._identities[voice]
        key = Request(self.name, voice_id, float(speed), text, version).key
        return int(key[:15], 16)

    def synthesize(self, text: str, voice: str = "default", speed: float = 1.0) -> Speech:
        voice_arg = self._voice_arg(voice)
        label = self._voice_label(voice, voice_arg)
        seed = self.seed(text, voice, speed)
        reasons: list[str] = []
        for attempt in range(self.retries + 1):
            try:   # a retry draws other noise: a take that failed the checks is not repeated
                return self._attempt(text, voice_arg, label, speed, seed + attempt)
            except (WorkerError, RequestFailed, BadOutput) as exc:
                reasons.append(str(exc))
                self.failures.append(str(exc))
        unique = list(dict.fromkeys(reasons))
        raise SynthesisError(text, f"{'; '.join(unique)} ({len(reasons)} attempts)", self.name)

    def _attempt(self, text: str, voice_arg: str, label: str, speed: float, seed: int = 0) -> Speech:
        out = str(self._tmpdir() / uuid.uuid4().hex)
        with self.pool.worker() as w:
            self._prepare_worker(w, voice_arg)
            args = self._synth_args(text, voice_arg, speed)
            args["out"], args["seed"] = out, seed
            try:
                result = w.call("synth", args, self.request_timeout(text, speed))
            except RequestFailed:
                if self.restart_after_error:
                    w.kill()
                raise
            try:
                samples, rate = self._collect(result)
                check_samples(samples)
                samples = trim_silence(samples, rate)
                check_speech(samples, rate, text, speed)
            except BadOutput:
                w.kill()   # a worker that produced garbage is not trusted with the next request
                raise
        return Speech(samples, rate, self.name, label)

    def _collect(self, result: Mapping[str, Any]) -> tuple[np.ndarray, int]:
        path = Path(str(result.get("path", "")))
        try:
            if not path.is_file():
                raise BadOutput("the engine wrote no audio file")
            if path.stat().st_size == 0:
                raise BadOutput("the engine wrote an empty audio file")
            try:
                if path.suffix == ".npy":
                    samples = np.load(path, allow_pickle=False)
                    rate = int(result["sample_rate"])
                else:
                    samples, rate = read_audio(path)
            except (ValueError, OSError, EOFError, KeyError) as exc:
                raise BadOutput(f"unreadable audio from the engine: {exc}") from None
            return np.asarray(samples, dtype=np.float32).reshape(-1), rate
        finally:
            for leftover in path.parent.glob(path.stem + "*") if path.name else ():
                try:
                    os.remove(leftover)
                except OSError:
                    pass

    def voices(self) -> list[VoiceInfo]:  # pragma: no cover - subclasses
        raise NotImplementedError

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
