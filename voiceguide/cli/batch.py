"""`voiceguide batch`: many sessions and variants, in worker processes or on a Dask cluster."""
from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import click

from .failures import warn, working
from .feed import update_feed
from .group import main
from .options import split, setting_options
from .tools import cache_option, store_folder


@main.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("-o", "--output", "outdir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The folder to write into (created if missing).")
@setting_options("batch")
@cache_option
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Sessions rendered at once, each in its own process.")
@click.option("--scheduler", metavar="ADDRESS",
              help="Run on a Dask cluster, e.g. tcp://host:8786 (needs the distributed extra and an "
                   "output folder the workers share).")
@click.option("--feed", is_flag=True,
              help="Then update OUTDIR's podcast feed (feed.xml; see `voiceguide feed`), with a transcript "
                   "(.vtt) and chapters (.chapters.json) beside each output.")
@click.option("--force", is_flag=True, help="Render every item again, even those up to date.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary table.")
def batch(source: Path, outdir: Path, **arguments: object) -> None:
    """Render many sessions: SOURCE is a manifest (*.toml) or a folder of *.routine.md.

    A folder's desk-reset.routine.md becomes OUTDIR/desk-reset.mp3. A manifest lists sessions
    and variants (see docs/batch.md); the settings here are defaults under its own.
    Outputs already up to date (same routine, settings and versions) are skipped. A failing
    item does not stop the others. Exit status 0 when every item is rendered or up to date,
    2 when any failed, 130 on Ctrl-C (143 on SIGTERM).

    \b
    Examples:
      voiceguide batch my-routines/ -o out/ -j 2
      voiceguide batch my-routines/ -o phone/ --feed
      voiceguide batch examples/variants.toml -o out/ --engine pyttsx3
      voiceguide batch sessions.toml -o /shared/out --scheduler tcp://scheduler:8786
    """
    from .. import batch as batches
    from ..progress import ProgressLine

    options, rest = split(arguments)
    progress = ProgressLine(enabled=None if not rest["quiet"] else False)
    started = time.monotonic()
    with working(lambda: "voiceguide: batch cancelled; finished outputs are kept, nothing partial was written",
                 progress.close):
        if rest["scheduler"]:
            batches.require_distributed()
        planned = batches.plan_batch(source, outdir, options)
        if rest["feed"]:       # the feed links each session's transcript
            planned = dataclasses.replace(planned, items=[dataclasses.replace(item, transcripts=("vtt",))
                                                          for item in planned.items])
        results = batches.run_batch(planned, jobs=rest["jobs"], scheduler=rest["scheduler"], force=rest["force"],
                                    cache=store_folder(rest["no_cache"]), progress=progress)
    progress.close()
    for result in results:
        for message in result.warnings:
            warn(f"{result.item.name}: {message}")
    if not rest["quiet"]:
        click.echo(batches.format_summary(results, time.monotonic() - started))
    if rest["feed"] and any(r.status != "failed" for r in results):
        update_feed(planned.outdir, bool(rest["quiet"]), "the outputs are complete")
    failed = [r for r in results if r.status == "failed"]
    for result in failed:
        click.echo(f"{result.item.name}: {result.message}", err=True)
    if failed:
        sys.exit(2)
