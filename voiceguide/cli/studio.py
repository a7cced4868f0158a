"""`voiceguide studio`: the local web app for the routines in a folder.

The web stack (starlette, uvicorn, jinja2) is the optional `studio` extra, so it is imported
only inside the command: `voiceguide --help` and every other command work without it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .failures import fail, serve_until_stopped
from .group import main

DEFAULT_PORT = 8765


@main.command()
@click.argument("folder", required=False, default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--port", type=click.IntRange(0, 65535),
              help=f"Port to serve on (default {DEFAULT_PORT}, or a free one if that is taken; 0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to serve on. Anything but 127.0.0.1 lets other machines reach the studio.")
@click.option("--no-browser", is_flag=True, help="Do not open the studio in the web browser.")
@click.option("--jobs", type=click.IntRange(1, 8), default=1, show_default=True,
              help="Renders that may run at once (the others wait in a queue).")
def studio(folder: Path, port: int | None, host: str, no_browser: bool, jobs: int) -> None:
    """Write, hear and render the routines in FOLDER (default: here) in the web browser.

    Edit a routine with its problems shown as you type, see its timeline, hear one step or
    the first minute as the render will sound, and render to audio with chapters and a
    transcript. Everything it reads or writes stays in FOLDER. Stop it with Ctrl+C.

    \b
    Examples:
      voiceguide studio
      voiceguide studio my-routines --port 8800 --no-browser
    """
    try:
        import jinja2  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        fail("voiceguide studio needs the studio extra: pip install 'voiceguide[studio]'", 2)
    from ..errors import VoiceguideError
    from ..studio.server import start

    if not folder.exists():
        fail(f"Error: {folder}: no such folder", 2)
    if not folder.is_dir():
        fail(f"Error: {folder}: is not a folder", 2)
    try:
        running = _start(start, folder, host, port, jobs)
    except VoiceguideError as exc:
        fail(f"Error: {exc}", 2)
    except OSError as exc:
        fail(f"Error: cannot serve on {host}:{port}: {exc.strerror or exc}", 2)
    click.echo(f"voiceguide studio: serving {folder} at {running.url} (Ctrl+C to stop)")
    if not no_browser:
        import webbrowser
        webbrowser.open(running.url)
    serve_until_stopped(running, "voiceguide studio")


def _start(start: Any, folder: Path, host: str, port: int | None, jobs: int) -> Any:
    """The default port, or a free one if it is taken; a port asked for must be free."""
    if port is None:
        try:
            return start(folder, host=host, port=DEFAULT_PORT, jobs=jobs)
        except OSError:
            port = 0
    return start(folder, host=host, port=port, jobs=jobs)


