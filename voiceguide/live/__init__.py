"""Live play: a session spoken through the speakers as it is mixed, steered by single keys.

    controller.py  the player: a cursor over the timeline, keys in, frames out (no device, no clock)
    state.py       the player's immutable state (cursor, mode, fades, volume, sounding cues)
    output.py      after the program: key cues mixed in, the volume glide, the soft ceiling
    program.py     the Mix's parts for live play: cached chimes, a bed opened late, clips ahead
    stream.py      look-ahead ring buffer filled by a producer thread; rewinds when a key arrives
    device.py      the sound card (miniaudio) behind a small Sink interface; device listing
    keys.py        single key presses from a terminal (termios / msvcrt)
    status.py      the one-line status
    cues.py        the soft sounds that answer each key
    tape.py        the ambient bed, running on under the moving program
    sectionbeds.py a section's own bed ({ambient rain}) at the program position, crossfaded
    now.py         where the listener is: the status line's Now, the hold + and - act on
    session.py     routine + options -> a playing session (the `play` command's library half)

See docs/play.md.
"""
from .commands import Command

__all__ = ["Command"]
