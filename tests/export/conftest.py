import pytest

from voiceguide.script.model import Breathe, Chime, Hold, Meta, Routine, Say, Section
from voiceguide.sound.mix import mix
from support.synthetic import SyntheticVoice
from voiceguide.timeline import plan


def short_routine() -> Routine:
    return Routine(Meta(title="Evening wind-down", description="Three short parts; a test."), (
        Section("Arrive", 1, steps=(Say("Arrive", 1, is_title=True), Say("Sit comfortably and close your eyes.", 2),
                                    Hold(2.0, 3))),
        Section("Breathe", 4, steps=(Say("Breathe", 4, is_title=True), Breathe(1, 5, inhale=2.0, exhale=2.0))),
        Section("Close", 6, steps=(Say("Close", 6, is_title=True), Say("Well done.", 7), Chime(8))),
    ), "test")


@pytest.fixture(scope="session")
def voice():
    return SyntheticVoice()


@pytest.fixture(scope="session")
def timeline(voice):
    return plan(short_routine(), timer=voice.timer)


@pytest.fixture
def program(timeline, voice):
    return mix(timeline, voice, sample_rate=44100, ambient="pink")
