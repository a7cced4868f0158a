"""One item's work, wherever it runs (here, a worker process, a Dask task): render it, and
turn any failure into a result, so one bad item never stops the others."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal

from ..errors import VoiceguideError
from ..library import load_routine
from ..progress import STAGE_OFFSET, STAGE_WEIGHT
from ..to_file import Outputs, render
from ..session import Resources
from .model import Item
from .plan import one_line

ItemProgress = Callable[[int, float], None]   # (position among the items run, fraction done)


@dataclass
class ItemResult:
    """How one item went: "ok", "skipped" (up to date) or "failed" (with the message)."""

    item: Item
    status: Literal["ok", "skipped", "failed"]
    message: str = ""
    seconds: float = 0.0           # wall time of its render
    duration: float = 0.0          # length of the output, in seconds
    warnings: list[str] = field(default_factory=list)


def render_item(item: Item, speech_jobs: int | None = None,
                progress: Callable[[float], None] | None = None) -> ItemResult:
    """Render one item over whatever is there (stale outputs are replaced atomically).
    Never raises for a problem with the item: the result says what went wrong."""
    started = time.monotonic()
    if item.error:
        return ItemResult(item, "failed", item.error)

    def stage(name: str, done: float, total: float) -> None:
        if progress is not None:
            part = done / total if total > 0 else 1.0
            progress(min(1.0, STAGE_OFFSET.get(name, 0.0) + STAGE_WEIGHT.get(name, 0.0) * part))

    try:
        settings = item.settings
        assert settings is not None and item.output is not None, "plan_batch completes every item"
        result = render(load_routine(item.routine, settings.limits), item.output, settings,
                        Outputs(item.transcripts, force=True), Resources(Path(item.store) if item.store else None, speech_jobs), progress=stage)
    except Exception as exc:  # every failure is this item's result, not the batch's end
        message = one_line(exc)
        if not isinstance(exc, (VoiceguideError, OSError, ValueError)):
            message = f"{type(exc).__name__}: {message}"
        return ItemResult(item, "failed", message, time.monotonic() - started)
    return ItemResult(item, "ok", "", result.seconds, result.encoded.seconds, list(result.warnings))
