"""The `voiceguide` command: click commands only. Each parses options, calls the library API,
prints, and maps errors to exit statuses (2 for bad input) without a traceback."""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, Callable, Iterator

import click

from . import library
from .errors import VoiceguideError
from .limits import DEFAULT_LIMITS, Limits
from .script.durations import DurationError, format_clock, format_duration, parse_duration
from .starter import STARTER
from .timeline import Timeline

SPEED = click.FloatRange(0.5, 2.0)


class DurationType(click.ParamType):
    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, (int, float)):
            return float(value)
        try:
            seconds = parse_duration(value)
        except DurationError as exc:
            self.fail(str(exc), param, ctx)
        if seconds <= 0:
            self.fail("must be longer than zero", param, ctx)
        return seconds


DURATION = DurationType()


def max_session_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """--max-session: the session limit (voiceguide.limits), for those who mean a longer one."""
    return click.option("--max-session", type=DURATION, metavar="DURATION",
                        help="Refuse sessions longer than this, counting --length and --sleep (default 4h).")(func)


def _limits(max_session: float | None) -> Limits:
    return DEFAULT_LIMITS if max_session is None else Limits(max_session=max_session)


def _fail(message: str, code: int = 2) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the library's own errors into one line per problem on stderr and exit status 2."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except VoiceguideError as exc:
            _fail(str(exc), exc.exit_code)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="voiceguide")
def main() -> None:
    """Turn a plain-text routine script into a voice-guided audio session.

    \b
    Start here:
      voiceguide list                      the built-in routines
      voiceguide plan bedtime              how a session will be timed
      voiceguide new my-hands.routine.md   write your own routine
    """


@main.command("list")
@reports_errors
def list_cmd() -> None:
    """List the built-in routines: name, length, purpose, who they suit.

    \b
    Example:
      voiceguide list
    """
    from .cachedir import cache_dir
    from .lengths import LEGEND, format_length, session_length
    for name in library.builtin_names():
        routine = library.load_routine(name)
        meta = routine.meta
        total = format_length(session_length(routine, cache=cache_dir()))
        click.echo(f"{click.style(f'{name:<14}', bold=True)} {total:>8}  {meta.description}")
        if meta.suits:
            click.echo(f"{'':<25}For: {meta.suits}")
        if meta.caution:
            click.echo(f"{'':<25}Caution: {meta.caution}")
    click.echo(LEGEND)


@main.command()
@click.argument("name")
def show(name: str) -> None:
    """Print a built-in routine's script (copy it to start your own).

    \b
    Example:
      voiceguide show bedtime > my-bedtime.routine.md
    """
    try:
        click.echo(library.builtin_text(name), nl=False)
    except VoiceguideError as exc:
        _fail(str(exc))


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@reports_errors
def new(file: Path, force: bool) -> None:
    """Write a commented starter routine to FILE.

    \b
    Example:
      voiceguide new my-hands.routine.md
    """
    _write_atomically(file, STARTER, force=force)
    click.echo(f"wrote {file}; edit it, then: voiceguide plan {file}")


@contextmanager
def atomic_path(path: Path, force: bool = False) -> Iterator[Path]:
    """A temp path beside `path`, renamed onto it only if the block succeeds. Never replaces
    anything but a regular file (with --force, /dev/null must stay a device)."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        if path.exists() and not force:
            raise VoiceguideError(f"{path}: already exists (use --force to overwrite)")
        if path.exists() and not path.is_file():
            raise VoiceguideError(f"{path}: is not a regular file (a device, FIFO or socket); choose a file name")
        fd, name = tempfile.mkstemp(dir=directory, prefix=f".{path.name[:100]}.", suffix=path.suffix[:20])
    except OSError as exc:
        raise VoiceguideError(f"{path}: cannot write: {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        raise VoiceguideError(f"{path}: cannot write: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)


def _write_atomically(path: Path, text: str, force: bool = True) -> None:
    with atomic_path(path, force=force) as tmp:
        tmp.write_text(text, encoding="utf-8")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())   # a folder: one line, like plan
@max_session_option
def validate(files: tuple[str, ...], max_session: float | None) -> None:
    """Check routine files (or built-in names) and report every problem as FILE:LINE: message.

    Exit status 0 when all are valid, 2 when any has a problem.

    \b
    Example:
      voiceguide validate my-hands.routine.md other.routine.md
    """
    failed = False
    for ref in files:
        try:
            routine = library.load_routine(ref, _limits(max_session))
            timeline = library.plan_routine(routine, limits=_limits(max_session))
            _check_sound_files(routine)
        except VoiceguideError as exc:
            click.echo(str(exc), err=True)
            failed = True
            continue
        sections = sum(1 for s in routine.sections if s.level > 0)
        click.echo(f"{ref}: ok ({sections} sections, about {format_duration(timeline.total)})")
    if failed:
        sys.exit(2)


def _check_sound_files(routine: Any) -> None:
    """The ambient and chime files the front matter names exist and decode (as render checks)."""
    from .render import resolve_ambient, resolve_chime
    resolve_ambient(routine.meta.ambient, routine)
    resolve_chime(routine.meta.chime, routine)


@main.command()
@click.argument("routine")
@click.option("--speed", type=SPEED, help="Narration speed, 0.5 to 2.0 (default: the routine's).")
@click.option("--length", type=DURATION, help="Fit the session to exactly this length, e.g. 12m.")
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as one JSON object.")
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw the timeline as a picture (needs the plot extra).")
@max_session_option
@reports_errors
def plan(routine: str, speed: float | None, length: float | None, as_json: bool, png: Path | None,
         max_session: float | None) -> None:
    """Show how ROUTINE (a built-in name or a file) will be timed, before any audio exists.

    Narration lengths are estimated from the text until the session is rendered.

    \b
    Examples:
      voiceguide plan bedtime
      voiceguide plan my-hands.routine.md --speed 0.8 --length 10m
      voiceguide plan desk-break --json
      voiceguide plan bedtime --png bedtime-plan.png
    """
    loaded = library.load_routine(routine, _limits(max_session))
    from .cachedir import cache_dir
    from .lengths import session_length, total_line
    expected = session_length(loaded, speed=speed, length=length, limits=_limits(max_session), cache=cache_dir())
    timeline = expected.timeline
    if png is not None:
        from .picture import draw_timeline
        if os.path.realpath(png) == os.path.realpath(loaded.source):
            raise VoiceguideError(f"{png}: --png would overwrite the routine itself; choose another name")
        with atomic_path(png, force=True) as tmp:
            draw_timeline(timeline, tmp)
    if as_json:
        click.echo(json.dumps(timeline.to_json(), indent=2, ensure_ascii=False))
    else:
        _print_table(timeline, total_line(expected))


def _print_table(timeline: Timeline, total: str) -> None:
    width = shutil.get_terminal_size((100, 24)).columns
    text_width = max(20, width - 28)
    click.echo(f"{timeline.title}  (speed {timeline.speed:g}; natural gaps between sentences not listed)")
    click.echo(f"{'START':>9}  {'DURATION':>8}  {'KIND':<7}  TEXT")
    section = -1
    for event in timeline.events:
        if event.section != section:
            section = event.section
            span = timeline.sections[section]
            click.echo(click.style(f"{format_clock(span.start):>9}  {format_duration(span.duration):>8}  "
                                   f"== {span.title} ==", bold=True))
        if event.kind == "pause" and event.step is None:
            continue
        text = event.text if len(event.text) <= text_width else event.text[: text_width - 1] + "…"
        click.echo(f"{format_clock(event.start):>9}  {format_duration(event.duration):>8}  {event.kind:<7}  {text}")
    click.echo(total)


FORMATS = ("mp3", "wav", "flac", "ogg", "opus", "m4a", "m4b")


@contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Library warnings (e.g. the speech cache cannot be written: the render goes on without
    it) as one `warning: ...` line each, like the narrator's, not Python's two-line format."""
    import warnings

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        click.echo(f"warning: {str(message).removeprefix('voiceguide: ')}", err=True)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


@contextmanager
def _sigterm_cancels() -> Iterator[list[int]]:
    """SIGTERM (and SIGHUP: the terminal went away) cancel like Ctrl-C, as KeyboardInterrupt,
    so every temp file and worker is cleaned up; the yielded list records which signal came,
    for exit status 128 + its number (143, 129) instead of 130."""
    import signal

    terminated: list[int] = []

    def terminate(signum: int, frame: Any) -> None:
        terminated.append(signum)
        raise KeyboardInterrupt

    wanted = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    previous = {signum: signal.signal(signum, terminate) for signum in wanted}
    try:
        yield terminated
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _one_line(exc: BaseException) -> str:
    """The error as the user sees it: our own errors (which start with the file they are about)
    as they are, anything else after "voiceguide: "."""
    from .export.atomic import OutputWriteError
    return str(exc) if isinstance(exc, (VoiceguideError, OutputWriteError)) else f"voiceguide: {exc}"


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "your input or setup", reported in one line with exit status 2."""
    from .export.atomic import OutputExistsError, OutputWriteError
    from .export.encode import EncodeError
    from .voices import EngineUnavailable, SynthesisError, UnknownEngine, VoiceNotFound
    return (VoiceguideError, OutputExistsError, OutputWriteError, EncodeError, EngineUnavailable,
            SynthesisError, UnknownEngine, VoiceNotFound)


def render_options(func: Callable[..., Any] | None = None, *, speech_jobs: bool = True) -> Any:
    """Options shared by everything that produces a session (render, play and batch; batch has
    its own -j, so it takes them with `@render_options(speech_jobs=False)`)."""
    if func is None:
        return lambda f: render_options(f, speech_jobs=speech_jobs)
    options = [
        click.option("--speed", type=SPEED, help="Narration speed, 0.5 to 2.0 (default: the routine's)."),
        click.option("--length", type=DURATION, help="Fit the session to exactly this length, e.g. 12m."),
        click.option("--engine", help="Speech engine: auto, piper or pyttsx3 (see: voiceguide voices)."),
        click.option("--voice", help="Voice name or a piper .onnx model path (see: voiceguide voices)."),
        click.option("--ambient", help="Ambient bed: white, pink, brown, drone, ocean, a sound file, or none."),
        click.option("--ambient-volume", type=click.FloatRange(-60, 0),
                     help="Bed level in dB relative to the voice (default -22)."),
        click.option("--chime", help="Chime sound: bell, a sound file, or none."),
        click.option("--sleep", type=DURATION, default=None,
                     help="Keep the bed going this long after the last words, fading out (bedtime)."),
        click.option("--bells", is_flag=True, help="Ring a bell at the start and after the last words."),
        click.option("--no-cache", is_flag=True, help="Synthesize every sentence again (and do not store it)."),
        max_session_option,
    ]
    if speech_jobs:
        options.append(click.option("-j", "--jobs", type=click.IntRange(1, 64),
                                    help="Speech worker processes (default: CPUs)."))
    for option in reversed(options):
        func = option(func)
    return func


@main.command()
@click.argument("routine")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The audio file to write; its extension picks the format.")
@render_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Format, if not the output's extension.")
@click.option("--quality", help="Encoder quality: MP3 VBR 0-9 (default 4) or a bitrate like 128k.")
@click.option("--sample-rate", type=click.IntRange(8000, 192000), default=44100, show_default=True)
@click.option("--mono", is_flag=True, help="One channel instead of two.")
@click.option("--loudness", type=click.FloatRange(-40, -6), default=-16.0, show_default=True,
              help="Integrated loudness target in LUFS (true peak stays at or below -1 dBTP).")
@click.option("--transcript", "transcripts", type=click.Choice(("vtt", "srt", "txt")), multiple=True,
              help="Write a transcript beside the output (bedtime.mp3 -> bedtime.vtt); repeatable.")
@click.option("--timeline", "timeline_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the measured timeline as JSON (the plan --json schema).")
@click.option("--png", "picture", type=click.Path(dir_okay=False, path_type=Path),
              help="Draw the session (timeline and waveform) as a PNG picture.")
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary.")
def render(routine: str, output: Path, speed: float | None, length: float | None, engine: str | None,
           voice: str | None, ambient: str | None, ambient_volume: float | None, chime: str | None,
           sleep: float | None, bells: bool, no_cache: bool, jobs: int | None, fmt: str | None,
           quality: str | None, sample_rate: int, mono: bool, loudness: float,
           transcripts: tuple[str, ...], timeline_path: Path | None, picture: Path | None, force: bool,
           quiet: bool, max_session: float | None = None) -> None:
    """Render ROUTINE (a built-in name or a file) to an audio file.

    MP3, WAV, FLAC, OGG (Vorbis), Opus and M4A/M4B, with chapters per section. The file is
    written to a temporary name and renamed when complete: a failed or cancelled render
    leaves nothing behind, and an existing file is kept unless --force.

    \b
    Examples:
      voiceguide render bedtime -o bedtime.mp3 --sleep 10m --transcript vtt
      voiceguide render my-hands.routine.md -o hands.m4b --speed 0.8 --voice joe
    """
    from .progress import ProgressLine
    try:      # loading the pipeline takes a moment: Ctrl-C then is a cancel too, not a traceback
        from .render import RenderOptions, render as render_session
    except (KeyboardInterrupt, ImportError) as exc:
        from .sound.lazy import _caused_by_interrupt
        if not _caused_by_interrupt(exc):   # an interrupted extension import is an ImportError
            raise
        _fail("voiceguide: render cancelled; nothing was written", 130)

    options = RenderOptions(
        speed=speed, length=length, engine=engine, voice=voice, ambient=ambient,
        ambient_volume=ambient_volume, chime=chime, sleep=sleep or 0.0, bells=bells, format=fmt,
        quality=quality, sample_rate=sample_rate, mono=mono, loudness=loudness,
        transcripts=transcripts, timeline_path=timeline_path, picture=picture, force=force, cache=not no_cache,
        jobs=jobs, max_session=_limits(max_session).max_session)
    progress = ProgressLine(enabled=None if not quiet else False)
    before = _identity(output)
    try:
        with _sigterm_cancels() as terminated, _warnings_as_lines():
            result = render_session(library.load_routine(routine), output, options, progress=progress,
                                    on_warning=lambda message: click.echo(f"warning: {message}", err=True))
    except KeyboardInterrupt:
        progress.close()
        # Cancelled while the sidecars were written, the audio itself is already complete.
        done = "nothing was written" if _identity(output) == before else \
            f"{output} is complete, its transcript, timeline or picture may be missing"
        _fail(f"voiceguide: render cancelled; {done}", 128 + terminated[0] if terminated else 130)
    except _user_errors() as exc:
        progress.close()
        _fail(_one_line(exc))
    progress.close()
    if not quiet:
        level = result.loudness
        loud = f", {level.integrated_lufs:.1f} LUFS, peak {level.true_peak_db:.1f} dBTP" if level else ""
        click.echo(f"wrote {result.path} ({format_duration(result.encoded.seconds)}{loud}) "
                   f"in {format_duration(result.seconds)}")
        for path in result.sidecars:
            click.echo(f"wrote {path}")


@main.command()
@click.option("--all", "all_languages", is_flag=True, help="Also list voices in other languages.")
@click.option("--json", "as_json", is_flag=True, help="Print the listing as JSON.")
def voices(all_languages: bool, as_json: bool) -> None:
    """List every speech engine's voices and which engine `auto` picks.

    \b
    Examples:
      voiceguide voices
      voiceguide render desk-break -o desk.mp3 --engine pyttsx3 --voice gmw/en-gb-x-rp
    """
    from .voices import describe, format_listing

    listing = describe()
    if as_json:
        click.echo(json.dumps(listing.to_json(), indent=2))
    else:
        click.echo(format_listing(listing, all_languages))


@main.group()
def cache() -> None:
    """Inspect or empty the cache of synthesized speech.

    The cache lives in the user cache directory (honouring XDG_CACHE_HOME), or in
    VOICEGUIDE_CACHE_DIR when that is set.

    \b
    Examples:
      voiceguide cache info
      voiceguide cache clear
    """


@cache.command("info")
def cache_info() -> None:
    """Where the cache is, how many sentences and prepared clips it holds, and its size.

    \b
    Example:
      voiceguide cache info
    """
    from .sound.clips import ClipStore
    from .voices import SpeechCache, default_cache_dir

    from .play.warm import StartCache

    info = SpeechCache().info()
    clips = ClipStore(default_cache_dir() / "clips").info()
    starts = StartCache()
    click.echo(f"{info.path}: {info.entries} sentences, {info.bytes / 1e6:.1f} MB")
    click.echo(f"{clips.folder}: {clips.entries} prepared clips, {clips.bytes / 1e6:.1f} MB")
    click.echo(f"{starts.path}: {starts.entries()} live-play starts, {starts.size() / 1e6:.1f} MB")


@cache.command("clear")
def cache_clear() -> None:
    """Delete every cached sentence, prepared clip and live-play start (all are made again
    when needed).

    \b
    Example:
      voiceguide cache clear
    """
    from .play.warm import StartCache
    from .sound.clips import ClipStore
    from .voices import SpeechCache, default_cache_dir

    removed = SpeechCache().clear()
    clips = ClipStore(default_cache_dir() / "clips").clear()
    starts = StartCache().clear()
    click.echo(f"removed {removed} cached sentences, {clips} prepared clips and {starts} live-play starts")


@main.command()
@click.argument("routine")
@render_options
@click.option("--loudness", type=click.FloatRange(-40, -6), default=-16.0, show_default=True,
              help="Loudness in LUFS (estimated from the voice's level: playback starts at once).")
@click.option("--device", help="Output device: part of its name (see: voiceguide devices). Default: the system's.")
def play(routine: str, speed: float | None, length: float | None, engine: str | None, voice: str | None,
         ambient: str | None, ambient_volume: float | None, chime: str | None, sleep: float | None,
         bells: bool, no_cache: bool, jobs: int | None, loudness: float, device: str | None,
         max_session: float | None = None) -> None:
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

    Without a terminal it plays straight through. Exit status 3 when there is no audio
    output (render the session to a file instead), 130 when stopped with Ctrl-C.

    \b
    Examples:
      voiceguide play stress-relief
      voiceguide play bedtime --sleep 10m --ambient ocean
      voiceguide play desk-break --device "USB Audio"
    """
    import signal

    from .play.device import AudioUnavailable
    from .play.keys import TerminalKeys
    from .play.session import PlayOptions, Session
    from .play.status import StatusLine
    from .progress import ProgressLine
    from .render import RenderOptions

    options = PlayOptions(RenderOptions(
        speed=speed, length=length, engine=engine, voice=voice, ambient=ambient,
        ambient_volume=ambient_volume, chime=chime, sleep=sleep or 0.0, bells=bells, loudness=loudness,
        cache=not no_cache, jobs=jobs, max_session=_limits(max_session).max_session), device=device)
    bar = ProgressLine()

    def progress(stage: str, done: float, total: float) -> None:
        if _elapsed(bar.started) > 0.5:       # a bar only when the voice has work to do
            bar(stage, done, total)

    def terminate(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    status = StatusLine()
    session = None
    try:
        session = Session(library.load_routine(routine), options, progress=progress,
                          on_warning=lambda message: click.echo(f"warning: {message}", err=True))
        with session:
            session.open()
            session.prepare()
            bar.close()
            if TerminalKeys.available():
                with TerminalKeys() as keys:
                    result = session.run(keys, status)
            else:
                result = session.run(None, status)
    except KeyboardInterrupt:
        bar.close()
        status.close()
        _fail("voiceguide: stopped", 130)
    except AudioUnavailable as exc:
        bar.close()
        _fail(f"voiceguide: {exc}; {_render_hint(routine)}", 3)
    except _user_errors() as exc:
        bar.close()
        _fail(_one_line(exc))
    finally:
        signal.signal(signal.SIGTERM, previous)
        _write_play_stats(session)
    if result.stats.underruns:
        click.echo(f"warning: the audio output ran dry {result.stats.underruns} times", err=True)


def _identity(path: Path) -> tuple[int, int, int] | None:
    """Which file is at `path` now (None: none), to tell whether a render replaced it."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns


def _render_hint(routine: str) -> str:
    stem = Path(routine).name.removesuffix(".md").removesuffix(".routine") or "session"
    return f"to listen anyway, render it to a file: voiceguide render {routine} -o {stem}.mp3"


def _elapsed(since: float) -> float:
    import time
    return time.monotonic() - since


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
    from .play.device import AudioUnavailable, list_devices

    try:
        found = list_devices()
    except AudioUnavailable as exc:
        _fail(f"voiceguide: {exc}; to listen anyway, render a session to a file: "
              f"voiceguide render ROUTINE -o session.mp3", 3)
    for device in found:
        rates = device.rates
        shown = ", ".join(f"{r / 1000:g}" for r in rates) if len(rates) <= 3 else \
            f"{rates[0] / 1000:g}-{rates[-1] / 1000:g}"
        click.echo(f"{device.name}  ({device.backend}{f'; {shown} kHz' if rates else ''})")


@main.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("-o", "--output", "outdir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The folder to write into (created if missing).")
@render_options(speech_jobs=False)
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Sessions rendered at once, each in its own process.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Format of items that set none (default mp3).")
@click.option("--scheduler", metavar="ADDRESS",
              help="Run on a Dask cluster, e.g. tcp://host:8786 (needs the distributed extra and an "
                   "output folder the workers share).")
@click.option("--force", is_flag=True, help="Render every item again, even those up to date.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary table.")
def batch(source: Path, outdir: Path, speed: float | None, length: float | None, engine: str | None,
          voice: str | None, ambient: str | None, ambient_volume: float | None, chime: str | None,
          sleep: float | None, bells: bool, no_cache: bool, jobs: int, fmt: str | None,
          scheduler: str | None, force: bool, quiet: bool, max_session: float | None = None) -> None:
    """Render many sessions: SOURCE is a manifest (*.toml) or a folder of *.routine.md.

    A folder's desk-reset.routine.md becomes OUTDIR/desk-reset.mp3. A manifest lists sessions
    and variants (see docs/batch.md); the render options here are defaults under its own.
    Outputs already up to date (same routine, options and versions) are skipped. A failing
    item does not stop the others. Exit status 0 when every item is rendered or up to date,
    2 when any failed, 130 on Ctrl-C (143 on SIGTERM).

    \b
    Examples:
      voiceguide batch my-routines/ -o out/ -j 2
      voiceguide batch examples/variants.toml -o out/ --engine pyttsx3
      voiceguide batch sessions.toml -o /shared/out --scheduler tcp://scheduler:8786
    """
    import time

    from . import batch as batches
    from .progress import ProgressLine

    given = {"speed": speed, "length": length, "engine": engine, "voice": voice, "ambient": ambient,
             "ambient_volume": ambient_volume, "chime": chime, "sleep": sleep, "bells": bells or None,
             "format": fmt, "max_session": max_session}
    progress = ProgressLine(enabled=None if not quiet else False)
    started = time.monotonic()
    try:
        with _sigterm_cancels() as terminated:
            if scheduler:
                batches.require_distributed()
            planned = batches.plan_batch(source, outdir, {k: v for k, v in given.items() if v is not None})
            results = batches.run_batch(planned, jobs=jobs, scheduler=scheduler, force=force, cache=not no_cache,
                                        progress=progress)
    except KeyboardInterrupt:
        progress.close()
        _fail("voiceguide: batch cancelled; finished outputs are kept, nothing partial was written",
              143 if terminated else 130)
    except _user_errors() as exc:
        progress.close()
        _fail(_one_line(exc))
    progress.close()
    for result in results:
        for message in result.warnings:
            click.echo(f"warning: {result.item.name}: {message}", err=True)
    if not quiet:
        click.echo(batches.format_summary(results, time.monotonic() - started))
    failed = [r for r in results if r.status == "failed"]
    for result in failed:
        click.echo(f"{result.item.name}: {result.message}", err=True)
    if failed:
        sys.exit(2)
