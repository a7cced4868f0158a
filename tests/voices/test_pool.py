"""A worker's pipes are closed by us however it ends: asked to quit, killed after a timeout,
crashed on its own, or killed with its pool at exit. A pipe left to the garbage collector
prints "warning: unclosed file" on the user's terminal (CI caught one in a render's stderr).
Real pyttsx3 workers; the crash is the worker protocol's injected fault."""
from __future__ import annotations

import gc
import os
import warnings

import pytest

from voiceguide.voices.pool import RequestFailed, WorkerDied, WorkerPool, WorkerProcess, WorkerTimeout
from voiceguide.voices.pyttsx3_engine import Pyttsx3Engine

TARGET = Pyttsx3Engine.backend


def unclosed_after(end) -> list[str]:
    """Start a worker, end it with `end(worker)`, drop it, and return the ResourceWarnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        worker = WorkerProcess(TARGET, "pyttsx3")
        worker.start(timeout=60)
        end(worker)
        assert not worker.alive
        del worker
        gc.collect()
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


def test_a_worker_asked_to_quit_leaves_no_pipe_open():
    assert unclosed_after(lambda w: w.close()) == []


def test_a_killed_worker_leaves_no_pipe_open():
    assert unclosed_after(lambda w: w.kill()) == []


def test_a_worker_that_timed_out_leaves_no_pipe_open(tmp_path):
    def time_out(worker: WorkerProcess) -> None:
        with pytest.raises(WorkerTimeout):
            worker.call("synth", {"text": "A sentence long enough to take a moment. " * 20,
                                  "out": str(tmp_path / "vg-never")}, timeout=0.0)
    assert unclosed_after(time_out) == []


def test_a_worker_that_crashed_and_was_closed_leaves_no_pipe_open(monkeypatch, tmp_path):
    monkeypatch.setenv("VOICEGUIDE_FAULT", "crash")

    def crash_then_close(worker: WorkerProcess) -> None:
        with pytest.raises(WorkerDied, match="code 70"):
            worker.call("synth", {"text": "Hello.", "out": str(tmp_path / "vg-never")}, timeout=30)
        worker.close()     # the pool's close() reaches workers that already ended
    assert unclosed_after(crash_then_close) == []


def test_a_request_pipe_closed_by_a_kill_in_another_thread_is_a_dead_worker(tmp_path):
    """kill() closes our end of the request pipe; from another thread it can do so between
    call()'s check that the worker is alive and its write. That is a dead worker (WorkerDied,
    which the engine retries), not a ValueError traceback. The pipe's descriptor is kept open
    here so the worker does not see the end and exit first: the write meets the closed file."""
    worker = WorkerProcess(TARGET, "pyttsx3")
    worker.start(timeout=60)
    kept = os.dup(worker._proc.stdin.fileno())
    try:
        worker._proc.stdin.close()
        assert worker.alive
        with pytest.raises(WorkerDied, match="went away"):
            worker.call("synth", {"text": "Hello.", "out": str(tmp_path / "vg-never")}, timeout=30)
        assert not worker.alive
    finally:
        os.close(kept)
        worker.kill()


def test_a_pool_killed_by_its_finalizer_leaves_no_pipe_open():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pool = WorkerPool(TARGET, "pyttsx3")
        with pool.worker() as worker:
            with pytest.raises(RequestFailed):
                worker.call("nonsense", {}, timeout=30)   # alive after an error: returned to the pool
        assert pool._idle, "the worker should be idle in the pool"
        del worker, pool                                  # never closed: the finalizer kills it
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
