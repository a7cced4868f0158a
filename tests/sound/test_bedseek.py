"""Bed readers from checkpoints give the same samples as a reader run up from the start."""
import numpy as np
import pytest

from voiceguide.sound import beds
from voiceguide.sound.bedseek import BedSeeker
from voiceguide.sound.blocks import read_all

from .test_beds import write_wav

SR = 8000


def run_up(bed, frame: int, frames: int) -> np.ndarray:
    reader = bed.restarted()
    read_all(reader, frame, 1000)
    return reader.read(frames)


@pytest.fixture
def file_bed(tmp_path):
    t = np.arange(int(3.7 * SR)) / SR
    write_wav(tmp_path / "bed.wav", 0.3 * np.sin(2 * np.pi * 110 * t) * (0.5 + 0.5 * t / t[-1]), SR)
    return beds.bed(str(tmp_path / "bed.wav"), SR, 2)


@pytest.mark.parametrize("name", ["white", "pink", "brown", "drone", "ocean", "none", "file"])
def test_a_reader_from_a_checkpoint_equals_one_run_up_from_the_start(name, file_bed):
    bed = file_bed if name == "file" else beds.bed(name, SR, 2, seed=3)
    seeker = BedSeeker(bed, SR, every=2.0)               # a checkpoint every 2 s (16000 frames)
    for frame in (37_123, 5_000, 37_123, 90_001, 16_000, 0):   # later, earlier, again, past, on one
        reader = seeker.at(frame)
        assert reader is not None
        assert np.array_equal(reader.read(4_321), run_up(bed, frame, 4_321)), frame
    if name != "none":
        assert sorted(seeker._points) == list(range(0, 90_001, 16_000))   # one per 2 s passed


def test_a_bed_that_cannot_be_copied_is_run_up_by_the_mix():
    class Plain:
        sample_rate, channels = SR, 1

        def restarted(self):
            return self

        def read(self, frames):
            return np.zeros((frames, 1), np.float32)

    assert BedSeeker(Plain(), SR).at(12_345) is None
