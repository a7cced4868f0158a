"""The loudness gain of a mix, known without measuring it: for what cannot wait for
mastering's measuring pass (live play, the studio's previews).

Every spoken clip is levelled to the mix's `speech_lufs` before it is mixed and the bed sits
a fixed distance under the voice, so a session's integrated loudness is the voice's
(`mix.voice_lufs`) plus a small, stable offset.
"""
from __future__ import annotations

from .mix import Mix

# Integrated loudness of a finished session relative to the level its speech clips are
# brought to (measured over the built-in routines with the piper voice, every bed: -0.7 to
# -1.3 LU; the pauses inside and between sentences pull the gated average down a little).
PROGRAM_OFFSET = -1.0


def estimate_gain(mix: Mix, target_lufs: float) -> float:
    """The gain (dB) that brings the mix to `target_lufs`, without measuring it.

    `render` masters in two passes: it renders the whole mix once to measure it, then again
    with the exact gain. Live play cannot wait for a measuring pass (the words must start
    within a second), and measuring in the background would not help either: the gain
    would arrive minutes late, change the level mid-session, and compete with playback for
    two cores. Nor would it be right: the listener reshapes the program as it plays
    (longer holds, repeats, skips). A preview hears a few seconds of the session, whose own
    loudness says little about the whole. But the level is already known: the voice's
    level plus PROGRAM_OFFSET. The estimate is within about 0.3 LU of what `render`
    measures; peaks are kept in range by the player (live play's soft ceiling).
    """
    return target_lufs - (mix.voice_lufs + PROGRAM_OFFSET)
