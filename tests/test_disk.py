"""A full disk, a file size limit, an unwritable folder and an unwritable cache, for real.

Root ignores mode bits, so the faults are real ones: a tiny tmpfs (mount needs CAP_SYS_ADMIN;
where that is refused, the same tests run with RLIMIT_FSIZE instead, which fails writes with
EFBIG; VOICEGUIDE_TEST_NO_MOUNT=1 forces that), RLIMIT_FSIZE in a child process, and /sys,
where nobody can create files. Every test runs; none is skipped for want of a mechanism.
"""
from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from voiceguide.cli import main
from voiceguide.export.atomic import OUTPUT_TEMPS, OutputWriteError, write_text
from voiceguide.export.encode import EncodeError, encode, ffmpeg_failure
from conftest import quiet_routine

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="tmpfs, /sys and rlimits are Linux")

ROOT = Path(__file__).resolve().parent.parent
ENGINE = "pyttsx3"
ROUTINE = quiet_routine("""\
# Start
Breathe in slowly. [hold 1s]
Well done.
""", "Disk test")
OLD = b"an earlier render that must survive"
NO_SPACE = os.strerror(28)        # No space left on device
TOO_LARGE = os.strerror(27)       # File too large
LIMIT = 48 * 1024                 # bytes: room for small text files, not for the audio


def limit_file_size() -> None:
    """preexec_fn: writes past LIMIT bytes fail with EFBIG (Python ignores SIGXFSZ; ffmpeg,
    with default signals, is killed by it, which encode.py reports the same way)."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


class SmallDisk:
    """A folder on a LIMIT-byte tmpfs, or, where mounting is not allowed, a plain folder whose
    writes are limited by RLIMIT_FSIZE in the render's process."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir()
        if os.environ.get("VOICEGUIDE_TEST_NO_MOUNT"):     # try the fallback where mounting works
            self.tmpfs = False
        else:
            mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={LIMIT}", "tmpfs", str(folder)],
                                     capture_output=True)
            self.tmpfs = mounted.returncode == 0
        self.reason = NO_SPACE if self.tmpfs else TOO_LARGE

    @contextlib.contextmanager
    def full(self):
        """In-process writes hit the limit: the tmpfs as it is, or a soft RLIMIT_FSIZE (the
        hard limit stays, so it can be lifted again)."""
        if self.tmpfs:
            yield
            return
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, hard))
        try:
            yield
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))

    def close(self) -> None:
        if self.tmpfs:
            subprocess.run(["umount", "-l", str(self.folder)], check=True)

    def temps(self) -> list[str]:
        return [p.name for p in self.folder.iterdir() if OUTPUT_TEMPS.match(p.name)]


@pytest.fixture
def small_disk(tmp_path):
    disk = SmallDisk(tmp_path / "small")
    yield disk
    disk.close()


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A routine and a warm private cache (one render fills it)."""
    root = tmp_path_factory.mktemp("disk")
    routine = root / "disk.routine.md"
    routine.write_text(ROUTINE)
    env = {**os.environ, "VOICEGUIDE_CACHE_DIR": str(root / "cache"), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "voiceguide", "render", str(routine), "-o",
                           str(root / "ref.wav"), "--engine", ENGINE, "-q", "--timeline", str(root / "ref.json")],
                          env=env, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return root, routine, env


def render(work, *args: str, limit: bool = False, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    root, routine, base_env = work
    return subprocess.run([sys.executable, "-m", "voiceguide", "render", str(routine), "--engine", ENGINE, "-q",
                           *args], env=env or base_env, capture_output=True, text=True, cwd=ROOT,
                          preexec_fn=limit_file_size if limit else None, timeout=300)


def one_line(done: subprocess.CompletedProcess) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


# -- disk full -------------------------------------------------------------------------------

@pytest.mark.parametrize("ext", ["wav", "mp3"])
def test_full_disk_fails_cleanly_and_keeps_the_old_file(work, small_disk, ext):
    """WAV is written by Python, MP3 by ffmpeg: both report one line, exit 2, keep the old
    file and leave no temp file."""
    output = small_disk.folder / f"session.{ext}"
    output.write_bytes(OLD)
    done = render(work, "-o", str(output), "--force", limit=not small_disk.tmpfs)
    assert done.returncode == 2
    assert one_line(done) == f"{output}: cannot write: {small_disk.reason}"
    assert output.read_bytes() == OLD
    assert small_disk.temps() == []


@pytest.mark.parametrize("ext", ["wav", "mp3", "m4b"])
def test_file_size_limit_fails_cleanly(work, tmp_path, ext):
    """RLIMIT_FSIZE: Python gets EFBIG, ffmpeg is killed by SIGXFSZ; m4b has a metadata temp
    file too. Nothing is left, no output appears."""
    output = tmp_path / f"session.{ext}"
    done = render(work, "-o", str(output), limit=True)
    assert done.returncode == 2
    assert one_line(done) == f"{output}: cannot write: {TOO_LARGE}"
    assert list(tmp_path.iterdir()) == []


def test_full_disk_for_a_sidecar_keeps_the_finished_audio(work, tmp_path, small_disk):
    """The audio fits elsewhere; the timeline JSON goes to a disk already full. The audio is
    complete, the JSON is reported in one line, and no temp file remains."""
    root = work[0]
    filler = small_disk.folder / "filler"
    if small_disk.tmpfs:                            # fill the tmpfs to the last byte
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
        with pytest.raises(OSError):
            while True:
                os.write(fd, b"\0" * 4096)
        os.close(fd)
    output, sidecar = tmp_path / "session.wav", small_disk.folder / "session.json"
    if small_disk.tmpfs:
        done = render(work, "-o", str(output), "--timeline", str(sidecar))
        assert done.returncode == 2
        assert one_line(done) == f"{sidecar}: cannot write: {NO_SPACE}"
        assert output.read_bytes() == (root / "ref.wav").read_bytes()
    else:                                           # no tmpfs: the JSON alone fits under the limit
        done = render(work, "-o", str(output), "--timeline", str(sidecar), limit=True)
        assert done.returncode == 2
        assert one_line(done) == f"{output}: cannot write: {TOO_LARGE}"
    assert not sidecar.exists()
    assert small_disk.temps() == [] and [p.name for p in tmp_path.iterdir() if OUTPUT_TEMPS.match(p.name)] == []


# -- unwritable folders ------------------------------------------------------------------------

def test_unwritable_output_folder_fails_before_any_work(work):
    """/sys takes no new files, even from root; the check runs before the narration."""
    runner = CliRunner()
    env = {"VOICEGUIDE_CACHE_DIR": work[2]["VOICEGUIDE_CACHE_DIR"]}
    result = runner.invoke(main, ["render", str(work[1]), "-o", "/sys/voiceguide-test.mp3", "--engine", ENGINE, "-q"],
                           env=env)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "/sys/voiceguide-test.mp3" in lines[0] and "cannot write" in lines[0], result.output
    assert lines[0].endswith((os.strerror(13), os.strerror(1), os.strerror(30))), result.output  # EACCES, EPERM, EROFS
    assert not Path("/sys/voiceguide-test.mp3").exists()


def test_unwritable_cache_renders_anyway_with_one_warning(work, tmp_path):
    """The cache cannot be created (under /sys): every sentence is synthesized, the render
    succeeds and says once that the cache could not be written."""
    root, _, env = work
    output = tmp_path / "session.wav"
    done = render(work, "-o", str(output), env={**env, "VOICEGUIDE_CACHE_DIR": "/sys/voiceguide-cache"})
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1 and "could not write to the speech cache" in warnings[0], done.stderr
    with wave.open(str(output)) as w:
        frames = w.getnframes()
    total = json.loads((root / "ref.json").read_text())["total"]
    assert abs(frames - total * 44100) < 0.25 * 44100     # a fresh take of the same sentences


# -- the library: no render needed ---------------------------------------------------------------

def blocks(n: int = 40):
    for _ in range(n):
        yield np.full((4096, 2), 0.1, np.float32)


@pytest.mark.parametrize("ext", ["wav", "flac", "m4b"])
def test_encode_into_a_full_disk_raises_output_write_error(small_disk, ext):
    target = small_disk.folder / f"x.{ext}"
    with pytest.raises(OutputWriteError) as caught, small_disk.full():
        encode(blocks(), target, sample_rate=44100, channels=2, tags=None)
    assert str(caught.value) == f"{target}: cannot write: {small_disk.reason}"
    assert list(small_disk.folder.iterdir()) == []


def test_write_text_into_a_full_disk(small_disk):
    target = small_disk.folder / "notes.txt"
    with pytest.raises(OutputWriteError, match=small_disk.reason), small_disk.full():
        write_text(target, "x" * (2 * LIMIT))
    assert list(small_disk.folder.iterdir()) == []


def test_ffmpeg_failures_become_one_line(tmp_path):
    tmp, target = tmp_path / ".out.1.abcdefgh.part.mp3", tmp_path / "out.mp3"
    full = ffmpeg_failure(f"[out#0/mp3 @ 0x1] Error writing trailer of {tmp}: No space left on device\n",
                          1, "mp3", tmp, target)
    assert isinstance(full, OutputWriteError) and str(full) == f"{target}: cannot write: {NO_SPACE}"
    big = ffmpeg_failure("", -25, "mp3", tmp, target)
    assert isinstance(big, OutputWriteError) and str(big) == f"{target}: cannot write: {TOO_LARGE}"
    other = ffmpeg_failure(f"Guessed layout\nUnknown encoder for {tmp}\n", 1, "mp3", tmp, target)
    assert isinstance(other, EncodeError)
    assert str(other) == f"ffmpeg could not encode mp3 (exit 1): Unknown encoder for {target}"
    assert "\n" not in str(ffmpeg_failure("", -9, "ogg", tmp, target))
