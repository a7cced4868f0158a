"""`voiceguide serve`: FOLDER read-only over HTTP, for a phone's podcast app.

Like `studio`, it needs the web stack (the `studio` extra), imported only when it runs.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .failures import fail, serve_until_stopped
from .group import main

DEFAULT_PORT = 8766


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--port", type=click.IntRange(0, 65535),
              help=f"Port to serve on (default {DEFAULT_PORT}, or a free one if that is taken; 0: any free port).")
@click.option("--lan", is_flag=True,
              help="Let other devices on your network (your phone) reach it. Every URL then carries a secret "
                   "token, kept in FOLDER/.voiceguide-serve-token so a subscribed phone keeps working.")
@click.option("--host", help="Address to listen on (default 127.0.0.1; with --lan 0.0.0.0, every address).")
@click.option("--new-token", is_flag=True, help="With --lan: make a new token (phones subscribed with the old one lose access).")
@click.option("--title", help="The podcast's title in the feed (default: the folder's name).")
@click.option("--author", help="The podcast's author in the feed.")
def serve(folder: Path, port: int | None, lan: bool, host: str | None, new_token: bool, title: str | None,
          author: str | None) -> None:
    """Serve the audio in FOLDER read-only over HTTP, with a podcast feed for your phone.

    It prints the feed's address and a QR code of it: scan it, or add the address in your
    podcast app ("add by URL"). Only GET and HEAD, only the audio, artwork, chapters,
    transcripts and player pages inside FOLDER (never hidden files), no directory listings;
    one log line per request on stderr. Stop it with Ctrl+C.

    \b
    Examples:
      voiceguide serve sessions
      voiceguide serve sessions --lan
      voiceguide serve sessions --lan --port 8800 --title "Bedtime"
    """
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        fail("voiceguide serve needs the studio extra: pip install 'voiceguide[studio]'", 2)
    from ..errors import VoiceguideError
    from ..serve import qr
    from ..serve.server import start

    if not folder.exists():
        fail(f"Error: {folder}: no such folder", 2)
    if not folder.is_dir():
        fail(f"Error: {folder}: is not a folder", 2)
    host = host or ("0.0.0.0" if lan else "127.0.0.1")
    options: dict[str, Any] = dict(host=host, lan=lan, new_token=new_token, title=title, author=author,
                                   log_line=lambda line: click.echo(line, err=True))
    try:
        serving = _start(start, folder, port, options)
    except VoiceguideError as exc:
        fail(f"Error: {exc}", 2)
    except OSError as exc:
        fail(f"Error: cannot serve on {host}:{port}: {exc.strerror or exc}", 2)
    click.echo(f"voiceguide serve: serving {folder} read-only at {serving.url} (Ctrl+C to stop)")
    click.echo(f"Feed: {serving.feed_url}")
    if serving.lan:
        click.echo(qr.terminal(serving.feed_url), nl=False)
        click.echo("Scan the code with your phone (on the same network), or add the feed's address "
                   "in your podcast app.")
        if "127.0.0.1" in serving.url and not (host.startswith("127.") or host == "localhost"):
            click.echo("Warning: no network address found; use this computer's address in place of 127.0.0.1.")
    else:
        click.echo("Only this computer can reach it; add --lan to listen on your phone.")
    serve_until_stopped(serving, "voiceguide serve")


def _start(start: Any, folder: Path, port: int | None, options: dict[str, Any]) -> Any:
    """The default port, or a free one if it is taken; a port asked for must be free."""
    if port is None:
        try:
            return start(folder, port=DEFAULT_PORT, **options)
        except OSError:
            port = 0
    return start(folder, port=port, **options)


