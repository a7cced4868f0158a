"""The command group every command module adds itself to."""
from __future__ import annotations

from typing import Any

import click

from .failures import restore_signals


class Group(click.Group):
    """The `voiceguide` group: puts back the signal handlers a command kept while it exited."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().main(*args, **kwargs)
        finally:
            restore_signals()


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="voiceguide")
def main() -> None:
    """Turn a plain-text routine script into a voice-guided audio session.

    \b
    Start here:
      voiceguide list                      the built-in routines
      voiceguide plan bedtime              how a session will be timed
      voiceguide new my-hands.routine.md   write your own routine
    """
