"""`voiceguide cache`, and the options every working command shares
that are not session settings (where speech is kept, how many workers make it)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .group import main

cache_option = click.option("--no-cache", is_flag=True,
                            help="Synthesize every sentence again (and do not store it).")
jobs_option = click.option("-j", "--jobs", type=click.IntRange(1, 64), help="Speech worker processes (default: CPUs).")


def store_folder(no_cache: Any) -> Path | None:
    """The disk store's folder for a render, play or batch (None with --no-cache)."""
    from ..cachedir import cache_dir
    return None if no_cache else cache_dir()


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


KINDS = {"speech": "sentences", "clips": "prepared clips", "play": "live-play starts",
         "voices": "voice calibrations"}


@cache.command("info")
def cache_info() -> None:
    """Where the cache is, how many sentences and prepared clips it holds, and its size.

    \b
    Example:
      voiceguide cache info
    """
    from ..cachedir import cache_dir
    from ..store import usage

    for namespace, used in usage(cache_dir()).items():
        click.echo(f"{used.path}: {used.entries} {KINDS[namespace]}, {used.bytes / 1e6:.1f} MB")


@cache.command("clear")
def cache_clear() -> None:
    """Delete every cached sentence, prepared clip and live-play start (all are made again
    when needed).

    \b
    Example:
      voiceguide cache clear
    """
    from ..cachedir import cache_dir
    from ..store import CLIPS, SPEECH, STARTS, VOICES, clear_all

    removed = clear_all(cache_dir())
    click.echo(f"removed {removed[SPEECH]} cached sentences, {removed[CLIPS]} prepared clips, "
               f"{removed[STARTS]} live-play starts and {removed[VOICES]} voice calibrations")


