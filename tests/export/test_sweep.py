"""Temp files name their process; the next write into a folder sweeps what killed processes
left there (outputs, the speech cache, the clip store) and nothing else."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from voiceguide import tempfiles
from voiceguide.export.atomic import OUTPUT_TEMPS, atomic_output, write_text
from voiceguide.sound.clips import ClipStore
from voiceguide.voices.base import Request, Speech
from voiceguide.voices.cache import SpeechCache


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def touch(path: Path, age: float = 0.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"left behind")
    if age:
        stamp = time.time() - age
        os.utime(path, (stamp, stamp))
    return path


def test_output_temp_names_carry_the_pid(tmp_path):
    with atomic_output(tmp_path / "session.mp3") as tmp:
        match = OUTPUT_TEMPS.match(tmp.name)
        assert tmp.name.startswith(".session.") and tmp.name.endswith(".part.mp3")
        assert match and int(match["pid"]) == os.getpid()
        tmp.write_bytes(b"audio")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["session.mp3"]


def test_the_next_write_sweeps_only_stale_temp_files(tmp_path):
    dead = dead_pid()
    stale = [touch(tmp_path / f".old.{dead}.abcd_123.part.mp3"),          # its process is gone
             touch(tmp_path / f".old.{dead}.zyxw9876.part.ffmeta"),       # ffmpeg's metadata
             touch(tmp_path / ".older.abcdefgh.part.wav", age=2 * tempfiles.STALE_AFTER)]   # no pid, old
    kept = [touch(tmp_path / f".busy.{os.getpid()}.abcdefgh.part.mp3"),   # a live writer (us)
            touch(tmp_path / ".recent.abcdefgh.part.wav"),                # no pid, recent
            touch(tmp_path / f"visible.{dead}.abcdefgh.part.mp3"),        # not hidden: not ours
            touch(tmp_path / "notes.part.mp3", age=2 * tempfiles.STALE_AFTER),
            touch(tmp_path / ".hidden", age=2 * tempfiles.STALE_AFTER),
            touch(tmp_path / "song.mp3", age=2 * tempfiles.STALE_AFTER)]
    write_text(tmp_path / "transcript.txt", "hello")
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in kept)


def test_a_zombie_is_dead():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:     # exited, not yet reaped: a zombie
            with open(f"/proc/{proc.pid}/stat", "rb") as f:
                if f.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                    break
            time.sleep(0.01)
        assert not tempfiles.process_alive(proc.pid)
    finally:
        proc.wait()
    assert tempfiles.process_alive(os.getpid())


def test_speech_cache_sweeps_its_folder_on_write(tmp_path):
    cache = SpeechCache(tmp_path)
    request = Request("engine", "voice", 1.0, "Breathe in.")
    folder = cache.entry_path(request.key).parent
    stale = touch(folder / f"{request.key[:16]}.{dead_pid()}.abcdefgh.tmp")
    live = touch(folder / f"{request.key[:16]}.{os.getpid()}.abcdefgh.tmp")
    cache.put(request, Speech(np.full(2205, 0.1, np.float32), 22050))
    assert not stale.exists() and live.exists()
    assert cache.get(request) is not None
    assert [p.name for p in folder.glob("*.tmp")] == [live.name]   # put left no temp of its own


def test_clip_store_sweeps_its_folder_on_write(tmp_path):
    store = ClipStore(tmp_path)
    key = ClipStore.key(np.ones(10, np.float32), 22050, 44100, -20.0)
    folder = store.store.path("clips", key).parent
    stale = touch(folder / f"{key[:16]}.{dead_pid()}.abcdefgh.tmp")
    store.put(key, np.zeros(100, np.float32))
    assert not stale.exists()
    assert store.get(key) is not None
    assert list(folder.glob("*.tmp")) == []


@pytest.mark.parametrize("name", [".x.12.abcdefgh.part", ".a.b.12.abcdefgh.part.m4b", ".x.abcdefgh.part.mp3"])
def test_pattern_reads_names(name):
    assert OUTPUT_TEMPS.match(name)


def test_temp_folders_are_swept_as_trees(tmp_path):
    names = tempfiles.pattern(r"voiceguide-[a-z0-9_]+", "")
    dead = tmp_path / f"voiceguide-piper.{dead_pid()}.abcdefgh"
    touch(dead / "speech.wav")
    live = tmp_path / f"voiceguide-piper.{os.getpid()}.abcdefgh"
    touch(live / "speech.wav")
    lookalike = touch(tmp_path / f"voiceguide-piper.{dead_pid()}.zzzzzzzz")    # a file, not a tree
    assert tempfiles.sweep(tmp_path, names, trees=True) == 1
    assert not dead.exists() and live.exists() and lookalike.exists()
