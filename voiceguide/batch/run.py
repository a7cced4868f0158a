"""Running a planned batch: skip what is up to date, render the rest here (-j 1), in worker
processes (-j N) or on Dask, record each finished output for resume, report one progress."""
from __future__ import annotations

import contextlib
import dataclasses
import os
from pathlib import Path
from typing import Callable, Iterator, Sequence

from ..errors import VoiceguideError
from ..export.sidecars import sidecar_paths
from ..to_file import Progress
from ..script.durations import format_duration
from .cluster import require_distributed, run_dask
from .model import Item
from .plan import Batch
from .pool import run_pool
from .state import State
from .work import ItemProgress, ItemResult, render_item


def _run_here(items: Sequence[Item], report: ItemProgress) -> Iterator[tuple[int, ItemResult]]:
    for position, item in enumerate(items):
        yield position, render_item(item, None, lambda part, p=position: report(p, part))


def _has_sidecars(outdir: Path, item: Item) -> bool:
    """The transcripts the item asks for are there too (a batch --feed after a plain batch renders again)."""
    return all(p.is_file() for p in sidecar_paths(outdir / item.name, item.transcripts).values())


class _Tracker:
    """Turns per-item fractions into one (done, total) for the overall bar, weighted by length."""

    def __init__(self, weights: list[float], progress: Progress | None):
        self.weights, self.parts, self.progress = weights, [0.0] * len(weights), progress
        self.total = sum(weights) or 1.0

    def __call__(self, position: int, part: float) -> None:
        self.parts[position] = max(self.parts[position], min(1.0, part))
        if self.progress is not None:
            done = sum(w * p for w, p in zip(self.weights, self.parts))
            self.progress("batch", done, self.total)


def run_batch(batch: Batch, jobs: int = 1, scheduler: str | None = None, force: bool = False,
              cache: str | os.PathLike[str] | None = None, progress: Progress | None = None,
              on_result: Callable[[ItemResult], None] | None = None) -> list[ItemResult]:
    """Render every item that is not up to date (all with `force`); results in item order.
    `cache`: the store's folder (voiceguide.store) for every item; None synthesizes all speech
    again. `progress` gets ("batch", done, total) over
    the whole batch."""
    if scheduler:
        require_distributed()              # say how to install it before any work
    try:
        batch.outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VoiceguideError(f"{batch.outdir}: cannot create the output folder: {exc.strerror}") from None
    state = State.load(batch.outdir)
    results: dict[int, ItemResult] = {}
    todo: list[int] = []
    for index, item in enumerate(batch.items):
        if item.error:
            results[index] = ItemResult(item, "failed", item.error)
        elif not force and state.up_to_date(item.name, item.digest) and _has_sidecars(batch.outdir, item):
            results[index] = ItemResult(item, "skipped", "up to date", duration=state.duration(item.name))
        else:
            todo.append(index)
        if index in results and on_result is not None:
            on_result(results[index])
    items = [batch.items[i] for i in todo]
    folder = os.fspath(cache) if cache else None
    items = [dataclasses.replace(i, store=folder) for i in items]
    tracker = _Tracker([max(1.0, item.expected) for item in items], progress)
    if scheduler:
        runner = run_dask(items, scheduler, tracker)
    elif jobs <= 1 or len(items) <= 1:
        runner = _run_here(items, tracker)
    else:
        runner = run_pool(items, jobs, tracker)
    with contextlib.closing(runner):
        for position, result in runner:
            results[todo[position]] = result
            tracker(position, 1.0)
            if result.status == "ok":
                state.record(result.item.name, result.item.digest, result.duration)
                try:
                    state.save()
                except OSError as exc:
                    raise VoiceguideError(f"{state.path}: cannot write: {exc.strerror or exc}") from None
            if on_result is not None:
                on_result(result)
    return [results[i] for i in range(len(batch.items))]


def format_summary(results: Sequence[ItemResult], wall: float | None = None) -> str:
    """The table printed after a batch: one row per item, then the counts."""
    width = max([len("OUTPUT"), *(len(r.item.name) for r in results)])
    lines = [f"{'OUTPUT':<{width}}  {'STATUS':<7}  {'LENGTH':>8}  {'TIME':>8}"]
    for r in results:
        length = format_duration(r.duration) if r.duration else "-"
        took = format_duration(r.seconds) if r.status == "ok" else "-"
        lines.append(f"{r.item.name:<{width}}  {r.status:<7}  {length:>8}  {took:>8}")
    counts = {s: sum(1 for r in results if r.status == s) for s in ("ok", "skipped", "failed")}
    total = f"{len(results)} item{'s' if len(results) != 1 else ''}: {counts['ok']} rendered, " \
            f"{counts['skipped']} up to date, {counts['failed']} failed"
    lines.append(total + (f" in {format_duration(wall)}" if wall is not None else ""))
    return "\n".join(lines)
