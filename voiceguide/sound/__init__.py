"""The sound of a session: ambient beds, chimes, the mix with ducking, and mastering.

All audio is float32 (frames, channels) at an explicit sample rate, produced in blocks.
Typical use (what `render` does):

    m = mix(timeline, speech, MixOptions(ambient="ocean", sleep=600))
    final = master(m)                     # measuring pass happens here
    export(final, "session.mp3", tags=..., chapters=...)   # rendering pass + encode
"""
from .beds import BEDS, bed
from .blocks import BlockSource, Program
from .chimes import ChimeSet, Sound, chime_set
from .master import Mastered, MasterOptions, Measurement, master, measure
from .mix import Mix, MixOptions, SpeechSource, mix

__all__ = [
    "BEDS", "BlockSource", "ChimeSet", "MasterOptions", "Mastered", "Measurement", "Mix",
    "MixOptions", "Program", "SpeechSource", "Sound", "bed", "chime_set", "master", "measure",
    "mix",
]
