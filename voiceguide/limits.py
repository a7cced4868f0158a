"""Limits that protect the machine from routines (or options) nobody means literally.

A typo like `[hold 999999h]` or a 20 MB file pasted by mistake should fail at once with a clear
message, not fill the disk or run for a day. Each limit has a default here; the session length
is the one a user may really mean to exceed, so the CLI offers `--max-session` for it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import Named, SettingError
from .script.durations import format_duration

if TYPE_CHECKING:  # only for annotations: limits sits below the timeline
    from .script.model import Routine
    from .settings import Settings
    from .timeline import Timeline

@dataclass(frozen=True)
class Limits:
    """The ceilings every load, plan and render checks against."""

    max_session: float = 4 * 3600.0     # seconds of audio, counting length and sleep
    max_file_bytes: int = 1_000_000      # a routine script, checked before reading it
    max_step_chars: int = 2_000          # narration in one paragraph (one step)


DEFAULT_LIMITS = Limits()


class LimitError(SettingError):
    """A limit was exceeded; the message names the limit and the setting that raises it."""


def _over(limits: Limits) -> tuple[str | Named, ...]:
    return (f"over the {format_duration(limits.max_session)} session limit (raise it with ", Named("max_session"), ")")


def check_request(routine: "Routine", settings: "Settings") -> None:
    """Before planning: a requested length (option or front matter) plus sleep within the limit."""
    limits, wanted, sleep = settings.limits, settings.length, settings.sleep
    if wanted is not None and wanted > limits.max_session:
        if settings.from_routine("length"):
            where = f"{routine.source}:{routine.meta.lines.get('length', 1)}: 'length'"
        else:
            where = "the requested length"
        raise LimitError(f"{where} {format_duration(wanted)} is ", *_over(limits))
    if sleep > limits.max_session:
        raise LimitError(Named("sleep"), f" {format_duration(sleep)} is ", *_over(limits))
    if wanted is not None and wanted + sleep > limits.max_session:
        raise LimitError(f"a {format_duration(wanted)} session plus ", Named("sleep"),
                         f" {format_duration(sleep)} is ", *_over(limits))


def check_session(routine: "Routine", timeline: "Timeline", sleep: float, limits: Limits) -> None:
    """After planning: the whole session (plus sleep) within the limit, else the step that passes it."""
    total = timeline.total + sleep
    if total <= limits.max_session:
        return
    long = f"the session would run {format_duration(total)}"
    if timeline.total > limits.max_session:
        line = next((e.step.line for e in timeline.events
                     if e.end > limits.max_session and e.step is not None and e.step.line > 0), None)
        if line is not None:
            raise LimitError(f"{routine.source}:{line}: {long}; this step takes it ", *_over(limits))
        raise LimitError(f"{routine.source}: {long}, ", *_over(limits))
    raise LimitError(f"{long} with ", Named("sleep"), f" {format_duration(sleep)}, ", *_over(limits))
