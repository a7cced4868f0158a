"""`voiceguide feed`: a podcast feed (FOLDER/feed.xml) of the audio files in a folder."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .failures import warn, working
from .group import main

if TYPE_CHECKING:
    from ..feed import FeedResult


def update_feed(folder: Path, quiet: bool, done: str) -> None:
    """render --feed and batch --feed: their audio is written (`done` says so if cancelled now);
    now the feed of `folder`, with the lines `feed` prints."""
    from ..feed import write_feed

    with working(lambda: f"voiceguide: feed cancelled; {done}, the feed was not updated"):
        result = write_feed(folder)
    report_feed(result, quiet)


def report_feed(result: "FeedResult", quiet: bool) -> None:
    """Files left out of the feed (warnings), then what was written."""
    for line in result.skipped:
        warn(line)
    if not quiet:
        count = f"{len(result.episodes)} episode{'s' if len(result.episodes) != 1 else ''}"
        click.echo(f"wrote {result.path} ({count})" if result.path in result.written
                   else f"{result.path} is up to date ({count})")


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--title", help="The podcast's title (default: the feed's current title, else the folder's name).")
@click.option("--author", help="The podcast's author (default: the feed's current author, else none).")
@click.option("--base-url", metavar="URL",
              help="Where FOLDER is served, e.g. http://192.168.1.20:8766/ (default: the feed's current "
                   "base URL, else http://127.0.0.1:8766/; `voiceguide serve` uses its own).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but problems.")
def feed(folder: Path, title: str | None, author: str | None, base_url: str | None, quiet: bool) -> None:
    """Write FOLDER/feed.xml, a podcast feed of the audio files in FOLDER.

    One episode per audio file (MP3, M4A/M4B, OGG, Opus, FLAC, WAV) with its length, cover
    and chapters; its transcript too when NAME.vtt is beside it (render --feed writes it).
    The chapters (NAME.chapters.json) and covers (NAME.cover.png, feed.png) are written
    beside the audio. Run it again after adding files: episodes keep their identity.

    \b
    Examples:
      voiceguide feed out/
      voiceguide feed out/ --title "Bedtime" --author Sam --base-url http://192.168.1.20:8766/
    """
    from ..feed import write_feed

    with working(lambda: "voiceguide: feed cancelled; the previous feed.xml is unchanged"):
        result = write_feed(folder, base_url=base_url, title=title, author=author)
    report_feed(result, quiet)
