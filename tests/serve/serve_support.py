"""Helpers of the `serve` tests: a folder with real audio and hostile neighbours, and raw HTTP
to 127.0.0.1 (http.client sends a path exactly as given: `..` and `%2e` are not tidied away).

Imported by the test modules: a conftest.py here would replace tests/conftest.py as `conftest`.
"""
from __future__ import annotations

import http.client
import os
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest


def tone_mp3(path: Path, seconds: float = 2.0, title: str = "Tone") -> Path:
    """A real MP3 (a quiet sine, two chapters), as the encoder writes renders."""
    from voiceguide.export.encode import encode
    from voiceguide.export.tags import Chapter, Tags
    rate = 22050
    t = np.arange(int(rate * seconds), dtype=np.float32) / rate
    block = (0.2 * np.sin(2 * np.pi * 330 * t)).astype(np.float32).reshape(-1, 1)
    half = seconds / 2
    encode([block], path, sample_rate=rate, channels=1, format="mp3", tags=Tags(title=title),
           chapters=[Chapter("One", 0.0, half), Chapter("Two", half, seconds)])
    return path


@pytest.fixture
def served(tmp_path) -> Path:
    """FOLDER with a session (+ a transcript, a nested file) and, around it, what must never be
    served: a file outside, hidden files, a non-podcast file, symlinks out and to hidden files,
    a symlink dressing a text file up as audio."""
    folder = tmp_path / "sessions"
    folder.mkdir()
    tone_mp3(folder / "bedtime.mp3", title="Bedtime")
    (folder / "bedtime.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nHello.\n")
    (folder / "sub").mkdir()
    (folder / "sub" / "deep.mp3").write_bytes(b"ID3 nested file bytes")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.mp3").write_bytes(b"SECRET outside the folder")
    (folder / ".hidden.mp3").write_bytes(b"SECRET hidden")
    (folder / ".git").mkdir()
    (folder / ".git" / "x.mp3").write_bytes(b"SECRET in a hidden folder")
    (folder / "notes.txt").write_text("SECRET notes")
    os.symlink(outside / "secret.mp3", folder / "link-out.mp3")
    os.symlink(outside, folder / "linked-dir")
    os.symlink(folder / ".hidden.mp3", folder / "link-hidden.mp3")
    os.symlink(folder / "notes.txt", folder / "notes.mp3")
    return folder


def raw(url: str, path: str, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request to the server at `url` (http://127.0.0.1:PORT/...) for exactly `path`."""
    parts = urlsplit(url)
    assert parts.hostname == "127.0.0.1", "the tests only ever connect to 127.0.0.1"
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True,
                              skip_host=any(name.lower() == "host" for name in headers or {}))
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()
