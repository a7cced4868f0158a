"""The one error family the CLI turns into a clean message and an exit status."""


class VoiceguideError(Exception):
    """A problem the user can fix (bad input, missing file, impossible request). Exit status 2."""

    exit_code = 2
