"""Parent side of the worker protocol: start workers, talk to them with deadlines, replace
the ones that hang or die, and keep a few of them busy in parallel.

A request that outlives its deadline gets its worker killed (a stuck espeak call cannot be
interrupted any other way); the next request simply starts a fresh worker.
"""
from __future__ import annotations

import collections
import json
import os
import queue
import subprocess
import sys
import threading
import time
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

from .worker import PREFIX, SERIAL_ENV

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class WorkerError(RuntimeError):
    """The worker process failed (timed out, died, or could not start)."""


class WorkerTimeout(WorkerError):
    pass


class WorkerDied(WorkerError):
    pass


class RequestFailed(RuntimeError):
    """The worker is healthy but reported an error for this request."""


class WorkerProcess:
    """One running worker. Not thread-safe: a pool hands it to one thread at a time."""

    def __init__(self, target: str, label: str, env: Mapping[str, str] | None = None):
        self.target, self.label = target, label
        self.extra_env = dict(env or {})
        self.state: dict[str, Any] = {}     # per-process facts the engine tracks (loaded voices)
        self.info: dict[str, Any] = {}
        self.rss_mib = 0.0                  # the worker's RSS after its last request (it reports it)
        self._proc: subprocess.Popen | None = None
        self._stderr_reader: threading.Thread | None = None
        self._replies: queue.Queue = queue.Queue()
        self._stderr: collections.deque[str] = collections.deque(maxlen=40)
        self._next_id = 0

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float) -> dict[str, Any]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH", "")) if p)
        env.update(self.extra_env)
        flags = getattr(subprocess, "CREATE_NO_WINDOW", 0) if sys.platform == "win32" else 0
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "voiceguide.voices.worker", self.target],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env=env, creationflags=flags,
                # Own session: a terminal's Ctrl-C reaches only the parent, which stops its
                # workers itself; a worker killed by it would just be restarted (retry).
                start_new_session=sys.platform != "win32",
            )
        except OSError as exc:
            raise WorkerDied(f"could not start a {self.label} worker: {exc}") from None
        threading.Thread(target=self._read_replies, args=(self._proc.stdout,), daemon=True).start()
        self._stderr_reader = threading.Thread(target=self._read_stderr, args=(self._proc.stderr,), daemon=True)
        self._stderr_reader.start()
        message = self._wait(time.monotonic() + timeout, "starting")
        if message.get("type") != "ready":
            self.kill()
            raise WorkerDied(f"{self.label} worker could not start: {message.get('error', message)}")
        self.info = message.get("info") or {}
        return self.info

    def _read_replies(self, stream) -> None:
        with stream:   # closed at the worker's end, not left to the garbage collector
            for raw in stream:
                if raw.startswith(PREFIX):   # anything else is noise, not protocol
                    try:
                        self._replies.put(json.loads(raw[len(PREFIX):]))
                    except ValueError:
                        pass
        self._replies.put(None)

    def _read_stderr(self, stream) -> None:
        with stream:
            for raw in stream:
                line = raw.decode("utf-8", "replace").rstrip()
                if line:
                    self._stderr.append(line)

    def stderr_tail(self, lines: int = 6) -> str:
        return " | ".join(list(self._stderr)[-lines:])

    def _wait(self, deadline: float, doing: str) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        try:
            message = self._replies.get(timeout=max(0.0, remaining))
        except queue.Empty:
            self.kill()
            raise WorkerTimeout(f"{self.label} worker timed out while {doing}; it was killed and will be restarted") from None
        if message is None:
            code = self._proc.wait() if self._proc else None
            if self._stderr_reader is not None:
                self._stderr_reader.join(timeout=1.0)   # let the last words of the worker arrive
            tail = self.stderr_tail()
            raise WorkerDied(f"{self.label} worker exited (code {code}) while {doing}" + (f": {tail}" if tail else ""))
        return message

    def call(self, op: str, args: Mapping[str, Any], timeout: float) -> Any:
        """Send one request and wait for its answer; kill the worker if it takes too long."""
        if not self.alive:
            raise WorkerDied(f"{self.label} worker is not running")
        self._next_id += 1
        ident = self._next_id
        line = json.dumps({"id": ident, "op": op, "args": dict(args)}).encode("utf-8") + b"\n"
        try:
            self._proc.stdin.write(line)
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError) as exc:     # ValueError: kill() closed the pipe meanwhile
            self.kill()
            raise WorkerDied(f"{self.label} worker went away: {exc}") from None
        deadline = time.monotonic() + timeout
        while True:
            message = self._wait(deadline, f"running {op!r}")
            if message.get("id") == ident:
                break    # replies to earlier, abandoned requests are skipped
        self.rss_mib = float(message.get("rss_mib") or 0.0)
        if not message.get("ok"):
            raise RequestFailed(str(message.get("error", "unknown error")))
        return message.get("result")

    def kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self._close_stdin()

    def close(self, grace: float = 2.0) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            self._close_stdin()
            return
        try:
            proc.stdin.write(b'{"op": "quit"}\n')
            proc.stdin.flush()
            proc.stdin.close()
            proc.wait(timeout=grace)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            self.kill()

    def _close_stdin(self) -> None:
        """Close our end of the request pipe. The reader threads close stdout and stderr when
        the worker ends, but nobody else closes stdin: left to the garbage collector, it
        warns "unclosed file" on the user's terminal (a killed or exited worker)."""
        stdin = self._proc.stdin if self._proc is not None else None
        if stdin is not None and not stdin.closed:
            try:
                stdin.close()
            except OSError:      # flushing into a pipe whose reader is gone
                pass


def _kill_all(processes: set[WorkerProcess]) -> None:
    for w in list(processes):
        w.kill()


def available_mib() -> float | None:
    """MemAvailable from /proc/meminfo in MiB (None where there is no such file)."""
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def fitting_size(size: int, worker_mib: float, available: float | None = None) -> int:
    """How many of `size` workers of `worker_mib` each fit in half the memory that is free
    (at least one): a small machine gets fewer workers instead of swapping."""
    free = available_mib() if available is None else available
    if free is None or worker_mib <= 0:
        return max(1, size)
    return max(1, min(size, int(free / 2 / worker_mib)))


class WorkerPool:
    """Up to `size` workers for one backend, started on demand and reused.

    A worker whose reported RSS is above `rss_limit` MiB after a request is closed instead of
    reused (the next request starts a fresh one): a backend whose memory grows with use is
    recycled between requests, never during one."""

    def __init__(
        self,
        target: str,
        label: str,
        size: int = 1,
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 120.0,
        rss_limit: float | None = None,
    ):
        self.target, self.label, self.size = target, label, max(1, size)
        self.env = dict(env or {})
        self.startup_timeout = startup_timeout
        self.rss_limit = rss_limit
        self.started = 0                      # how many processes were ever started (restarts show here)
        self.recycled = 0                     # how many were closed for their size
        self._idle: list[WorkerProcess] = []
        self._all: set[WorkerProcess] = set()
        self._cond = threading.Condition()
        self._closed = False
        self._finalizer = weakref.finalize(self, _kill_all, self._all)

    @contextmanager
    def worker(self) -> Iterator[WorkerProcess]:
        """A started worker for the caller's exclusive use. Dead ones are not returned to the pool."""
        with self._cond:
            while not self._idle and len(self._all) >= self.size:
                self._cond.wait()
            if self._closed:
                raise WorkerDied(f"{self.label} engine was closed")
            w = self._idle.pop() if self._idle else None
            if w is None:
                self.started += 1
                # The serial lets seeded test faults differ between a worker and its replacement.
                w = WorkerProcess(self.target, self.label, {**self.env, SERIAL_ENV: str(self.started)})
                self._all.add(w)
        try:
            if w.pid is None:
                w.start(self.startup_timeout)
            yield w
        finally:
            recycle = self.rss_limit is not None and w.rss_mib > self.rss_limit and w.alive
            if recycle:
                w.close()     # between requests: the model loads again in the next worker
            with self._cond:
                self.recycled += recycle
                if w.alive and not self._closed:
                    self._idle.append(w)
                else:
                    w.kill()
                    self._all.discard(w)
                self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._cond.notify_all()
        for w in workers:
            w.close()
