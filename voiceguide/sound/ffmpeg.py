"""The ffmpeg binary that imageio-ffmpeg ships, and decoding audio files with it.

There is no system ffmpeg/ffprobe to rely on, so everything goes through this one binary:
decoding user beds and chime assets here, encoding in `voiceguide.export.encode`. pydub is
not used for decoding because its `from_file` probes with ffprobe, which is not shipped.
"""
from __future__ import annotations

import functools
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np


class FFmpegError(RuntimeError):
    """ffmpeg failed; the message carries the end of its error output."""


@functools.cache
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def configure_pydub() -> None:
    """Point pydub at our ffmpeg (for callers that use pydub for anything)."""
    from pydub import AudioSegment

    AudioSegment.converter = ffmpeg_exe()


@functools.cache
def encoders() -> frozenset[str]:
    """Audio encoder names this ffmpeg build has (e.g. libmp3lame, libopus, aac, flac)."""
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-encoders"], capture_output=True,
                         text=True, check=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) == 6 and parts[0].startswith("A"):
            names.add(parts[1])
    return frozenset(names)


def _tail(stderr_file) -> str:
    stderr_file.seek(0)
    text = stderr_file.read().decode("utf-8", "replace").strip().splitlines()
    return "\n".join(text[-8:])


def decode_stream(path: str | Path, sample_rate: int, channels: int,
                  chunk_frames: int = 65536) -> Iterator[np.ndarray]:
    """Decode any file ffmpeg reads to float32 (frames, channels) chunks at `sample_rate`.

    ffmpeg does the resampling (soxr is in this build) and the channel mixdown/upmix.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"audio file not found: {path}")
    cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(path),
           "-vn", "-map", "0:a:0", "-f", "f32le", "-acodec", "pcm_f32le",
           "-ac", str(channels), "-ar", str(sample_rate), "pipe:1"]
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
        try:
            frame_bytes = 4 * channels
            pending = b""
            while True:
                data = proc.stdout.read(chunk_frames * frame_bytes)
                if not data:
                    break
                data = pending + data
                usable = len(data) - len(data) % frame_bytes
                pending = data[usable:]
                if usable:
                    yield np.frombuffer(data[:usable], np.float32).reshape(-1, channels).copy()
            proc.stdout.close()
            if proc.wait() != 0:
                raise FFmpegError(f"could not decode {path}:\n{_tail(err)}")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()      # abandoned early: not left to the garbage collector's warning


def decode(path: str | Path, sample_rate: int, channels: int = 1) -> np.ndarray:
    """Whole file as float32 (frames, channels): for short sounds (chimes, tests)."""
    parts = list(decode_stream(path, sample_rate, channels))
    return np.concatenate(parts) if parts else np.zeros((0, channels), np.float32)
