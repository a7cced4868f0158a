import os
import stat

import numpy as np
import pytest

from voiceguide.export.atomic import OutputExistsError, OutputWriteError, atomic_output, write_text
from voiceguide.export.encode import encode


class Boom(Exception):
    pass


def failing_blocks(after: int, exc: BaseException):
    for i in range(after):
        yield np.full((4096, 2), 0.1, np.float32)
    raise exc


@pytest.mark.parametrize("ext", ["wav", "mp3", "m4b"])
@pytest.mark.parametrize("exc", [Boom("render failed"), KeyboardInterrupt()])
def test_failure_mid_write_leaves_nothing_and_keeps_the_old_file(ext, exc, tmp_path):
    path = tmp_path / f"session.{ext}"
    path.write_bytes(b"the previous good render")
    with pytest.raises(type(exc)):
        encode(failing_blocks(20, exc), path, sample_rate=44100, channels=2, force=True)
    assert path.read_bytes() == b"the previous good render"
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"session.{ext}"]


def test_failure_without_an_old_file_leaves_no_file(tmp_path):
    with pytest.raises(Boom):
        encode(failing_blocks(3, Boom()), tmp_path / "new.flac", sample_rate=44100, channels=2)
    assert list(tmp_path.iterdir()) == []


def test_never_overwrites_without_force(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(OutputExistsError):
        write_text(path, "new")
    assert path.read_text() == "old"
    write_text(path, "new", force=True)
    assert path.read_text() == "new"


def test_a_file_that_appears_meanwhile_is_not_clobbered(tmp_path):
    path = tmp_path / "race.txt"
    with pytest.raises(OutputExistsError):
        with atomic_output(path) as tmp:
            tmp.write_text("mine")
            path.write_text("someone else's")       # created while we were writing
    assert path.read_text() == "someone else's"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race.txt"]


def test_output_gets_normal_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_text(tmp_path / "perm.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_missing_directory_is_an_error(tmp_path):
    with pytest.raises(OutputWriteError, match="its folder .* does not exist"):
        write_text(tmp_path / "nope" / "x.txt", "x")
