"""`voiceguide render`: one session to an audio file."""
from __future__ import annotations

from pathlib import Path

import click

from .. import api
from ..script.durations import format_duration
from .failures import fail, warn, working
from .feed import update_feed
from .group import main
from .options import split, setting_options
from .tools import cache_option, jobs_option, store_folder


def _identity(path: Path) -> tuple[int, int, int] | None:
    """Which file is at `path` now (None: none), to tell whether a render replaced it."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns


@main.command()
@click.argument("routine")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The audio file to write; its extension picks the format.")
@setting_options("render")
@cache_option
@jobs_option
@click.option("--transcript", "transcripts", type=click.Choice(("vtt", "srt", "txt")), multiple=True,
              help="Write a transcript beside the output (bedtime.mp3 -> bedtime.vtt); repeatable.")
@click.option("--timeline", "timeline_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the measured timeline as JSON (the plan --json schema).")
@click.option("--png", "picture", type=click.Path(dir_okay=False, path_type=Path),
              help="Draw the session (timeline and waveform) as a PNG picture.")
@click.option("--player", is_flag=True,
              help="Write an offline page that plays the session beside the output (bedtime.mp3 -> "
                   "bedtime.html): chapters, transcript, lock-screen controls.")
@click.option("--feed", is_flag=True,
              help="Then update the podcast feed of the output's folder (feed.xml; see `voiceguide feed`), "
                   "with the transcript (.vtt) and chapters (.chapters.json) beside the output.")
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary.")
def render(routine: str, output: Path, **arguments: object) -> None:
    """Render ROUTINE (a built-in name or a file) to an audio file.

    MP3, WAV, FLAC, OGG (Vorbis), Opus and M4A/M4B, with chapters per section. The file is
    written to a temporary name and renamed when complete: a failed or cancelled render
    leaves nothing behind, and an existing file is kept unless --force.

    \b
    Examples:
      voiceguide render bedtime -o bedtime.mp3 --sleep 10m --transcript vtt
      voiceguide render my-hands.routine.md -o hands.m4b --speed 0.8 --voice joe
      voiceguide render bedtime -o bedtime.mp3 --player
      voiceguide render bedtime -o phone/bedtime.mp3 --feed
    """
    from ..errors import caused_by_interrupt
    from ..progress import ProgressLine
    options, rest = split(arguments)
    try:      # loading the pipeline takes a moment: Ctrl-C then is a cancel too, not a traceback
        import voiceguide.to_file  # noqa: F401
    except (KeyboardInterrupt, ImportError) as exc:
        if not caused_by_interrupt(exc):   # an interrupted extension import is an ImportError
            raise
        fail("voiceguide: render cancelled; nothing was written", 130)

    quiet = bool(rest["quiet"])
    progress = ProgressLine(enabled=None if not quiet else False)
    before = _identity(output)

    def cancelled() -> str:
        # Cancelled while the sidecars were written, the audio itself is already complete.
        done = "nothing was written" if _identity(output) == before else \
            f"{output} is complete, its transcript, timeline or picture may be missing"
        return f"voiceguide: render cancelled; {done}"

    with working(cancelled, progress.close):
        result = api.render(
            api.load(routine, max_session=options.get("max_session")), output,
            transcripts=_with_vtt(rest["transcripts"], bool(rest["feed"])), timeline=rest["timeline_path"],
            picture=rest["picture"],
            player=rest["player"], force=rest["force"], cache_dir=store_folder(rest["no_cache"]),
            jobs=rest["jobs"], progress=progress, on_warning=warn, **options)
    progress.close()
    if not quiet:
        level = result.loudness
        loud = f", {level.integrated_lufs:.1f} LUFS, peak {level.true_peak_db:.1f} dBTP" if level else ""
        click.echo(f"wrote {result.path} ({format_duration(result.encoded.seconds)}{loud}) "
                   f"in {format_duration(result.seconds)}")
        for path in result.sidecars:
            click.echo(f"wrote {path}")
    if rest["feed"]:
        update_feed(output.parent, quiet, f"{output} is complete")


def _with_vtt(transcripts: tuple[str, ...], feed: bool) -> tuple[str, ...]:
    """The transcripts to write: --feed links a WebVTT one (podcast:transcript)."""
    return tuple(dict.fromkeys((*transcripts, "vtt"))) if feed else tuple(transcripts)
