import hashlib

import numpy as np
import pytest

from voiceguide.export.atomic import OutputExistsError
from voiceguide.export.encode import (FORMATS, EncodeError, decoded_frames, encode, export, quality_args,
                                      resolve_format)
from voiceguide.sound.blocks import collect
from voiceguide.sound.ffmpeg import decode, encoders

# How far a decoded file may be from the frames we sent: codecs pad to whole frames; the
# MP3 (LAME/Xing gapless header) and MP4 (edit list) and Opus (pre-skip) tell the decoder.
TOLERANCE = {"wav": 0, "flac": 0, "mp3": 1152, "ogg": 2048, "opus": 960, "m4a": 1024, "m4b": 1024}


def test_this_ffmpeg_has_the_encoders_we_use():
    have = encoders()
    for fmt in FORMATS.values():
        if fmt.codec:
            assert fmt.codec in have


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_format_decodes_back_with_the_right_duration(name, program, tmp_path):
    path = tmp_path / f"session.{name}"
    result = export(program, path)
    assert result.frames == program.frames and result.format == name
    frames, rate = decoded_frames(path)
    expected = program.frames * rate // program.sample_rate   # opus is resampled to 48 kHz
    assert rate == (48000 if name == "opus" else 44100)
    assert abs(frames - expected) <= TOLERANCE[name] + 1
    stereo = decode(path, rate, 2)
    assert np.abs(stereo).max() > 0.01                        # real audio came out


def test_wav_is_exact_and_deterministic(program, tmp_path):
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    export(program, a)
    export(program, b)
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
    original = collect(program.blocks())
    back = decode(a, 44100, 2)
    assert back.shape == original.shape
    assert np.abs(back - original).max() < 2.5 / 32768          # 16-bit + TPDF dither
    flac = tmp_path / "a.flac"
    export(program, flac)
    assert np.array_equal(decode(flac, 44100, 2), back)         # FLAC holds the same samples


def test_24_bit_wav(program, tmp_path):
    path = tmp_path / "hi.wav"
    export(program, path, bit_depth=24)
    back = decode(path, 44100, 2)
    assert np.abs(back - collect(program.blocks())).max() < 3 / 2 ** 23


def test_format_from_extension_or_explicit(tmp_path):
    assert resolve_format("x.MP3").name == "mp3"
    assert resolve_format("x.audio", "opus").name == "opus"
    assert resolve_format("x.oga").name == "ogg"
    with pytest.raises(ValueError, match="unknown audio format"):
        resolve_format("x.xyz")


def test_quality_option_changes_the_mp3(program, tmp_path):
    small, big = tmp_path / "small.mp3", tmp_path / "big.mp3"
    export(program, small, quality=9)
    export(program, big, quality=0)
    assert small.stat().st_size < big.stat().st_size


@pytest.mark.parametrize("fmt,quality,args", [
    ("mp3", None, ["-q:a", "4"]), ("mp3", 2, ["-q:a", "2"]), ("mp3", "128k", ["-b:a", "128k"]),
    ("ogg", "7", ["-q:a", "7"]), ("ogg", "96k", ["-b:a", "96k"]), ("opus", "64", ["-b:a", "64k"]),
    ("m4b", "96k", ["-b:a", "96k"]), ("flac", 5, ["-compression_level", "5"]), ("wav", None, []),
])
def test_quality_values(fmt, quality, args):
    assert quality_args(FORMATS[fmt], quality) == args


@pytest.mark.parametrize("fmt,quality", [("mp3", "12"), ("mp3", "loud"), ("flac", "128k"), ("wav", 3),
                                         ("opus", "9000k")])
def test_bad_quality_fails_before_any_work(fmt, quality, tmp_path):
    def blocks():
        raise AssertionError("rendering started")
        yield

    with pytest.raises(ValueError, match="quality|bitrate"):
        encode(blocks(), tmp_path / f"x.{fmt}", sample_rate=44100, channels=2, quality=quality)
    assert list(tmp_path.iterdir()) == []


def test_ffmpeg_failure_is_reported_and_leaves_nothing(program, tmp_path, monkeypatch):
    import voiceguide.export.ffmpeg_pipe as enc
    real = enc.ffmpeg_command
    monkeypatch.setattr(enc, "ffmpeg_command", lambda *a: real(*a)[:-1] + ["-bogus-option", str(a[1])])
    path = tmp_path / "bad.mp3"
    with pytest.raises(EncodeError, match="ffmpeg"):
        export(program, path)
    assert list(tmp_path.iterdir()) == []


def test_existing_output_is_refused_before_any_rendering(tmp_path):
    path = tmp_path / "taken.wav"
    path.write_bytes(b"precious")
    started = []

    def blocks():
        started.append(True)
        yield np.zeros((10, 2), np.float32)

    with pytest.raises(OutputExistsError, match=r"already exists \(use force to overwrite it\)"):
        encode(blocks(), path, sample_rate=44100, channels=2)
    assert not started and path.read_bytes() == b"precious"


def test_bad_blocks_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="channels"):
        encode(iter([np.zeros((10, 1), np.float32)]), tmp_path / "x.wav", sample_rate=44100, channels=2)
    with pytest.raises(ValueError, match="NaN"):
        encode(iter([np.full((10, 2), np.nan, np.float32)]), tmp_path / "y.mp3", sample_rate=44100, channels=2)
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_while_ffmpeg_starts_brings_back_no_temp_file(tmp_path, monkeypatch):
    """A Ctrl-C landing inside Popen (after the fork, before the caller has the process)
    leaves an ffmpeg nobody holds; it must not bring back the temp file when it finishes."""
    import os
    import signal
    import subprocess
    import time
    from voiceguide.export import encode as encode_module

    started = []
    real_popen = subprocess.Popen

    def popen_then_interrupt(cmd, *args, **kwargs):
        proc = real_popen(cmd, *args, **kwargs)
        if "pipe:0" in cmd:                           # the encoder, not a capability probe
            started.append(proc)
            os.kill(os.getpid(), signal.SIGINT)       # arrives before Popen "returns"
            time.sleep(0.05)
        return proc

    monkeypatch.setattr(encode_module.subprocess, "Popen", popen_then_interrupt)
    blocks = (np.zeros((4096, 2), np.float32) for _ in range(50))
    with pytest.raises(KeyboardInterrupt):
        encode(blocks, tmp_path / "out.mp3", sample_rate=44100, channels=2)
    assert len(started) == 1
    started[0].stdin.close()                        # as when voiceguide exits: ffmpeg finishes
    assert started[0].wait(timeout=10) == 0          # ... having written an (unlinked) file
    assert list(tmp_path.iterdir()) == []
