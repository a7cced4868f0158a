"""The beat tone in live play, where the program does not run straight through.

A file's beat tone is a pure function of the program frame (sound/beats.py), but live play
holds the program at a [wait], owes extra bed after a longer hold, and jumps on skip and
repeat. The tone must not stop or click there, so here it runs on the output's frames like
the bed (tape.py): the controller reads the beat's frequency and the tone's presence at the
program position each output frame plays (held while the program is held, crossfaded over a
jump), and the beat's phase is integrated from them and carried in the player's `State`,
so a rewound look-ahead renders the same tone again. The carrier's phase is the output
frame's own, so a binaural pair stays centred on the carrier.
"""
from __future__ import annotations

import numpy as np

from ..sound.beats import BeatTone, waveform


def beat_tone(beats: BeatTone, track: np.ndarray, out: int, phase: float) -> tuple[np.ndarray, float]:
    """The tone for output frames [out, out + len(track)) and the beat's phase after them.
    `track`: (frames, 2), the beat Hz and the tone's presence per frame (BeatTone.track);
    `phase`: the beat's phase in cycles at `out` (kept modulo 2: a binaural pair is half a
    beat each side of the carrier, so one beat cycle is half a turn of each ear's phase)."""
    sr = beats.sample_rate
    hz = track[:, 0]
    steps = np.cumsum(hz) / sr
    cycles = phase + np.concatenate([[0.0], steps[:-1]])
    carrier = np.arange(out, out + len(track), dtype=np.float64) * (beats.carrier / sr)
    tone = waveform(carrier, cycles, beats.mode, beats.channels)
    tone *= (track[:, 1] * beats.amplitude).astype(np.float32)[:, None]
    return tone, float((phase + (steps[-1] if len(steps) else 0.0)) % 2.0)
