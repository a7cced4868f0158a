"""The `voiceguide` command: click commands only. Each parses its options (the session
settings come from the settings schema), calls the library (`voiceguide.api`), prints, and
maps errors to exit statuses (cli/failures.py) without a traceback."""
from .group import main
from . import routines, render, play, batch, tools, voices, studio, serve, feed  # noqa: F401,E402  (each registers its commands)

__all__ = ["main"]
