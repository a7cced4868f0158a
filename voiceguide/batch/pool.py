"""Renders in worker processes (-j N), one item at a time each.

Workers are started with `spawn` and given fewer speech workers each (cores // N), so N renders
do not fight over the cores. On Ctrl-C they are stopped the polite way (SIGTERM becomes
KeyboardInterrupt), so each removes its temporary file and no partial output is left behind. A
worker that dies (killed, out of memory) fails only its item; a new worker takes the next one.
"""
from __future__ import annotations

import glob
import multiprocessing
import os
import queue
import signal
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from .model import Item
from .work import ItemProgress, ItemResult, render_item


def _stop(signum: int, frame: Any) -> None:
    """The first SIGINT/SIGTERM unwinds the render (its temp file is removed); later ones are
    let through quietly (a Python no-op, not SIG_IGN: a signal already pending would complain)."""
    signal.signal(signal.SIGINT, _ignore)
    signal.signal(signal.SIGTERM, _ignore)
    raise KeyboardInterrupt


def _ignore(signum: int, frame: Any) -> None:
    return None


def _worker_main(tasks: Any, results: Any, speech_jobs: int) -> None:
    """A worker process: render items from `tasks` until None, report into `results`."""
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        while (task := tasks.get()) is not None:
            position, item = task
            last = [0.0]

            def progress(part: float, position: int = position) -> None:
                now = time.monotonic()
                if now - last[0] >= 0.25:
                    last[0] = now
                    results.put(("progress", position, part))

            results.put(("done", position, render_item(item, speech_jobs, progress)))
    except KeyboardInterrupt:
        pass


def _remove_temp_files(item: Item) -> None:
    """A killed render cannot remove its temporary output (atomic_output names it
    .STEM.RANDOM.partSUFFIX beside the output); the batch does it for it."""
    if item.output is None:
        return
    for path in item.output.parent.glob(f".{glob.escape(item.output.stem)}.*.part{item.output.suffix}"):
        path.unlink(missing_ok=True)


@dataclass
class _Worker:
    process: Any
    tasks: Any
    position: int | None = None


def run_pool(items: Sequence[Item], jobs: int, report: ItemProgress) -> Iterator[tuple[int, ItemResult]]:
    """Up to `jobs` spawned worker processes, one item at a time each. A worker that dies
    (killed, out of memory) fails its item only; a new worker takes the next one."""
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    speech_jobs = max(1, (os.cpu_count() or 1) // jobs)
    todo = deque(enumerate(items))
    workers: list[_Worker] = []
    finished: set[int] = set()

    def start() -> _Worker:
        tasks = ctx.SimpleQueue()
        process = ctx.Process(target=_worker_main, args=(tasks, results, speech_jobs),
                              name="voiceguide-batch")
        process.start()
        worker = _Worker(process, tasks)
        workers.append(worker)
        return worker

    def feed(worker: _Worker) -> None:
        if todo:
            worker.position, item = todo.popleft()
            worker.tasks.put((worker.position, item))
        else:
            worker.position = None
            worker.tasks.put(None)

    def handle(message: tuple[str, int, Any]) -> tuple[int, ItemResult] | None:
        kind, position, payload = message
        if position in finished:
            return None
        if kind == "progress":
            report(position, payload)
            return None
        finished.add(position)
        worker = next(w for w in workers if w.position == position)
        feed(worker)
        return position, payload

    try:
        for _ in range(min(jobs, len(items))):
            feed(start())
        checked = time.monotonic()
        while len(finished) < len(items):
            try:
                done = handle(results.get(timeout=0.2))
            except queue.Empty:
                done = None
            if done is not None:
                yield done
            if time.monotonic() - checked < 0.5:
                continue
            checked = time.monotonic()
            for worker in list(workers):
                if worker.position is None or worker.process.is_alive():
                    continue
                while True:     # whatever it sent before it died
                    try:
                        done = handle(results.get(timeout=0.05))
                    except queue.Empty:
                        break
                    if done is not None:
                        yield done
                if worker.position is not None and worker.position not in finished:
                    position = worker.position
                    finished.add(position)
                    workers.remove(worker)
                    _remove_temp_files(items[position])
                    yield position, ItemResult(items[position], "failed", "its render process stopped "
                                               f"(exit status {worker.process.exitcode})")
                    if todo:
                        feed(start())
    finally:
        for worker in workers:
            if worker.process.is_alive() and worker.position is not None:
                worker.process.terminate()     # -> KeyboardInterrupt in the worker: temp file removed
        deadline = time.monotonic() + 60
        for worker in workers:
            worker.process.join(max(0.1, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
        results.close()
