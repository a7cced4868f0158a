"""`voiceguide play` (a session through the speakers, steered by single keys) and
`voiceguide devices`."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import click

from .. import api
from .failures import fail, warn, working
from .group import main
from .options import split, setting_options
from .tools import cache_option, jobs_option, store_folder

NO_AUDIO = 3     # exit status: there is no audio output (render to a file instead)


def _render_hint(routine: str) -> str:
    stem = Path(routine).name.removesuffix(".md").removesuffix(".routine") or "session"
    return f"to listen anyway, render it to a file: voiceguide render {routine} -o {stem}.mp3"


@main.command()
@click.argument("routine")
@setting_options("play")
@cache_option
@jobs_option
@click.option("--device", help="Output device: part of its name (see: voiceguide devices). Default: the system's.")
def play(routine: str, **arguments: object) -> None:
    """Play ROUTINE (a built-in name or a file) through the speakers now.

    The first words start within about a second (once its speech is cached). On a terminal
    single keys steer it, no Enter needed, each answered by a soft sound:

    \b
      space        pause / resume
      → or n       skip to the next step
      ← or r       repeat the last instruction
      + / -        make the current hold 15 s longer / shorter
      ↑ / ↓        volume up / down (3 dB)
      q            stop (Ctrl-C too)

    Without a terminal it plays straight through. The loudness is estimated from the voice's
    level, so playback starts at once. Exit status 3 when there is no audio output (render the
    session to a file instead), 130 when stopped with Ctrl-C.

    \b
    Examples:
      voiceguide play stress-relief
      voiceguide play bedtime --sleep 10m --ambient ocean
      voiceguide play desk-break --device "USB Audio"
    """
    from ..live.device import AudioUnavailable
    from ..live.keys import TerminalKeys
    from ..live.session import PlayOptions, Session
    from ..live.status import StatusLine
    from ..progress import ProgressLine
    from ..session import Resources

    options, rest = split(arguments)
    bar = ProgressLine()

    def progress(stage: str, done: float, total: float) -> None:
        if time.monotonic() - bar.started > 0.5:       # a bar only when the voice has work to do
            bar(stage, done, total)

    status = StatusLine()
    session = None

    def cleanup() -> None:
        bar.close()
        status.close()

    try:
        with working(lambda: "voiceguide: stopped", cleanup):
            loaded = api.load(routine, max_session=options.get("max_session"))
            chosen = PlayOptions(api.settings(loaded, **options),
                                 Resources(store_folder(rest["no_cache"]), rest["jobs"]), device=rest["device"])
            session = Session(loaded, chosen, progress=progress, on_warning=warn)
            try:
                with session:
                    session.open()          # no audio output: fail now, before any work
                    session.prepare()
                    bar.close()
                    if TerminalKeys.available():
                        with TerminalKeys() as keys:
                            result = session.run(keys, status)
                    else:
                        result = session.run(None, status)
            except AudioUnavailable as exc:
                cleanup()
                fail(f"voiceguide: {exc}; {_render_hint(routine)}", NO_AUDIO)
    finally:
        _write_play_stats(session)
    if result.stats.underruns:
        warn(f"the audio output ran dry {result.stats.underruns} times")


def _write_play_stats(session: Any) -> None:
    """VOICEGUIDE_PLAY_STATS=FILE: timings for scripts/bench.py (first sound, CPU, underruns)."""
    path = os.environ.get("VOICEGUIDE_PLAY_STATS")
    if not path or session is None or session.stream is None:
        return
    stats = session.stream.stats()
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"first_sound": stats.first_sound, "underruns": stats.underruns,
                   "seconds": stats.frames / session.sink.sample_rate, "backend": getattr(session.sink, "backend", None),
                   "sample_rate": session.sink.sample_rate, "cpu": session.cpu,
                   "max_callback_interval": getattr(session.sink, "max_interval", None),
                   "device_buffer": getattr(session.sink, "buffer_seconds", None)}, f)


@main.command()
def devices() -> None:
    """List the audio output devices (for play --device).

    \b
    Example:
      voiceguide devices
    """
    from ..live.device import AudioUnavailable, list_devices

    try:
        found = list_devices()
    except AudioUnavailable as exc:
        fail(f"voiceguide: {exc}; to listen anyway, render a session to a file: "
             f"voiceguide render ROUTINE -o session.mp3", NO_AUDIO)
    for device in found:
        rates = device.rates
        shown = ", ".join(f"{r / 1000:g}" for r in rates) if len(rates) <= 3 else \
            f"{rates[0] / 1000:g}-{rates[-1] / 1000:g}"
        click.echo(f"{device.name}  ({device.backend}{f'; {shown} kHz' if rates else ''})")
