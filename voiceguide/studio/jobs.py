"""Render jobs: a bounded queue of renders into FOLDER, their progress, and cancelling them.

At most `workers` renders run at once (each one already uses every core for its speech), the
rest wait. Each render is `voiceguide.api.render` in a worker thread; its progress callback
turns stages into one monotone percent with an ETA, publishes it to whoever listens (the
page's server-sent events), and raises `Cancelled` when the job was cancelled, so the render
unwinds as it does on Ctrl-C: its atomic writers remove their temp files and nothing partial
is left. Temp files a killed studio left in FOLDER are swept when the queue starts.
"""
from __future__ import annotations

import asyncio
import logging
import queue
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

from .. import api, tempfiles
from ..errors import VoiceguideError, spelled
from ..export.atomic import OUTPUT_TEMPS, OutputExistsError, OutputWriteError
from ..script.model import Routine
from .folder import Folder

log = logging.getLogger("voiceguide.studio")

PHASES = {"voice": (0.0, 70.0), "measure": (70.0, 80.0), "encode": (80.0, 100.0)}
"""Where each render stage sits in the overall percent."""
FINAL = ("done", "failed", "cancelled")
PUBLISH_EVERY = 0.25        # seconds between progress events (the percent moves in steps of 1 anyway)


class Cancelled(BaseException):
    """Raised from the progress callback to unwind a cancelled render (like KeyboardInterrupt,
    it is not an Exception, so nothing on the way turns it into an error)."""


def user_errors() -> tuple[type[BaseException], ...]:
    from ..export.encode import EncodeError
    from ..voices import EngineUnavailable, SynthesisError, UnknownEngine, VoiceNotFound
    return (VoiceguideError, OutputExistsError, OutputWriteError, EncodeError, EngineUnavailable,
            SynthesisError, UnknownEngine, VoiceNotFound)


def file_url(name: str) -> str:
    return f"/files/{quote(name)}"


@dataclass(eq=False)
class Job:
    """One render: what it renders, where, and how far it is."""

    id: str
    routine: Routine
    options: dict[str, Any]
    output: Path
    state: str = "queued"
    phase: str | None = None
    percent: float = 0.0
    eta: float | None = None
    error: str | None = None
    final: tuple[str, dict[str, Any]] | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    over: threading.Event = field(default_factory=threading.Event)
    started: float | None = None
    _published: tuple[str | None, float, float] = (None, -1.0, 0.0)
    _subscribers: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def file(self) -> str | None:
        return self.output.name if self.state == "done" else None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state, "phase": self.phase, "percent": round(self.percent, 1),
                "eta": None if self.eta is None else round(self.eta, 1), "file": self.file, "error": self.error}

    def progress_data(self) -> dict[str, Any]:
        return {"phase": self.phase or self.state, "percent": round(self.percent, 1),
                "eta": None if self.eta is None else round(self.eta, 1), "state": self.state}

    # -- events -----------------------------------------------------------------------------

    def subscribe(self, loop: asyncio.AbstractEventLoop) -> tuple[asyncio.Queue, list[tuple[str, dict]]]:
        """A queue that receives this job's events in `loop`, and what to send first: the
        current state, or the final event if the job is over (then nothing more comes)."""
        events: asyncio.Queue = asyncio.Queue()
        with self._lock:
            if self.final is not None:
                return events, [self.final]
            self._subscribers.append((loop, events))
            return events, [("progress", self.progress_data())]

    def unsubscribe(self, events: asyncio.Queue) -> None:
        with self._lock:
            self._subscribers = [(lp, q) for lp, q in self._subscribers if q is not events]

    def publish(self, event: str, data: dict[str, Any]) -> None:
        with self._lock:
            if event in FINAL:
                self.final = (event, data)
            for loop, events in list(self._subscribers):
                try:
                    loop.call_soon_threadsafe(events.put_nowait, (event, data))
                except RuntimeError:            # that listener's loop is gone
                    self._subscribers.remove((loop, events))
            if event in FINAL:
                self._subscribers.clear()

    def report(self, stage: str, done: float, total: float) -> None:
        """The render's progress callback: overall percent (monotone, below 100 until done),
        ETA, an event now and then; raises Cancelled once the job is cancelled."""
        if self.cancel.is_set():
            raise Cancelled()
        if stage not in PHASES:
            return
        lo, hi = PHASES[stage]
        part = min(1.0, max(0.0, done / total)) if total > 0 else 1.0
        self.percent = max(self.percent, min(99.0, lo + (hi - lo) * part))
        self.phase = stage
        now = time.monotonic()
        elapsed = now - (self.started or now)
        self.eta = elapsed * (100.0 - self.percent) / self.percent if self.percent >= 2.0 else None
        phase, shown, when = self._published
        if phase != stage or (self.percent - shown >= 1.0 and now - when >= PUBLISH_EVERY):
            self._published = (stage, self.percent, now)
            self.publish("progress", self.progress_data())


class Jobs:
    """The render queue of one studio: `workers` threads take jobs in order."""

    def __init__(self, folder: Folder, store: Path | None, workers: int = 1,
                 render: Callable[..., Any] = api.render):
        self.folder, self.store, self.render = folder, store, render
        self._jobs: dict[str, Job] = {}
        self._waiting: queue.Queue[Job | None] = queue.Queue()
        self._reserved: set[str] = set()
        self._lock = threading.Lock()
        self._closed = False
        tempfiles.sweep(folder.path, OUTPUT_TEMPS)       # what a killed studio left half-written
        self._threads = [threading.Thread(target=self._work, name=f"voiceguide-render-{i}", daemon=True)
                         for i in range(max(1, workers))]
        for thread in self._threads:
            thread.start()

    def submit(self, routine: Routine, name: str, fmt: str, options: dict[str, Any]) -> Job:
        """Queue a render of `routine` to FOLDER/{name}.{fmt} (or {name}-2, -3, ... if taken),
        with its transcript beside it."""
        with self._lock:
            if self._closed:
                raise VoiceguideError("the studio is stopping")
            output = self._free_output(name, fmt)
            self._reserved.add(output.name)
            job = Job(secrets.token_hex(8), routine, {**options, "format": fmt}, output)
            self._jobs[job.id] = job
        self._waiting.put(job)
        return job

    def _free_output(self, name: str, fmt: str) -> Path:
        for n in range(1, 10_000):
            stem = name if n == 1 else f"{name}-{n}"
            audio, transcript = self.folder.path / f"{stem}.{fmt}", self.folder.path / f"{stem}.vtt"
            taken = any(p.exists() or p.is_symlink() for p in (audio, transcript))
            if not taken and audio.name not in self._reserved and \
                    not any(r.rsplit(".", 1)[0] == stem for r in self._reserved):
                return audio
        raise VoiceguideError(f"no free file name for {name}.{fmt} in the folder")

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def cancel(self, job: Job, wait: float = 20.0) -> str:
        """Cancel `job` and wait (up to `wait` s) until it has unwound; returns its state then
        (a job that had already finished keeps its state)."""
        job.cancel.set()
        self._finish(job, "cancelled", {}, expect="queued")
        job.over.wait(wait)
        return job.state

    def close(self, wait: float = 20.0) -> None:
        """Cancel every job and stop the workers (idempotent)."""
        with self._lock:
            self._closed = True
            jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel.set()
            self._finish(job, "cancelled", {}, expect="queued")
        for _ in self._threads:
            self._waiting.put(None)
        deadline = time.monotonic() + wait
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    # -- the workers ------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            job = self._waiting.get()
            if job is None:
                return
            if job.over.is_set():           # cancelled while it waited
                continue
            try:
                self._run(job)
            finally:
                with self._lock:
                    self._reserved.discard(job.output.name)
                self.folder.forget_lengths()

    def _run(self, job: Job) -> None:
        with self._lock:                    # a cancel may come in while it is taken off the queue
            if job.over.is_set():
                return
            job.started = time.monotonic()
            job.state, job.phase = "running", "voice"
        if job.cancel.is_set():
            self._finish(job, "cancelled", {})
            return
        job.publish("progress", job.progress_data())
        try:
            result = self.render(job.routine, job.output, transcripts=("vtt",), cache_dir=self.store,
                                 progress=job.report, **job.options)
        except Cancelled:
            self._finish(job, "cancelled", {})
        except user_errors() as exc:
            self._finish(job, "failed", {"error": spelled(exc, lambda name: name)})
        except Exception as exc:            # a bug: the studio keeps serving, the job says so
            log.exception("render job %s failed", job.id)
            first = (str(exc).splitlines() or [type(exc).__name__])[0]
            self._finish(job, "failed", {"error": f"internal error: {first}"})
        else:
            self._finish(job, "done", self._done(job, result))

    def _done(self, job: Job, result: Any) -> dict[str, Any]:
        from ..export.sidecars import cues
        from ..export.tags import chapters_from_timeline
        duration = result.encoded.seconds
        transcript = next((p for p in result.sidecars if Path(p).suffix == ".vtt"), None)
        return {
            "file": job.output.name, "url": file_url(job.output.name),
            "transcript_url": file_url(Path(transcript).name) if transcript is not None else None,
            "duration": round(duration, 3),
            "chapters": [{"title": c.title, "start": round(c.start, 3), "end": round(c.end, 3)}
                         for c in chapters_from_timeline(result.timeline, end=duration)],
            "cues": [{"start": round(c.start, 3), "end": round(c.end, 3), "text": c.text}
                     for c in cues(result.timeline)],
        }

    def _finish(self, job: Job, state: str, data: dict[str, Any], expect: str | None = None) -> None:
        """Put `job` in its final `state` (once; with `expect`, only if it is in that state)."""
        with self._lock:
            if job.over.is_set() or (expect is not None and job.state != expect):
                return
            job.state = state
            if state == "done":
                job.percent, job.eta = 100.0, 0.0
            job.error = data.get("error")
            job.over.set()
        job.publish(state, data)
