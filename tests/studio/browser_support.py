"""Helpers for the studio's browser tests (the browser itself: tests/support/browser.py): a
small client for the same server's API, to compare the page with what the API says."""
from __future__ import annotations

import shutil
import struct
from pathlib import Path

import httpx

VIEWPORT = {"width": 1280, "height": 800}


class StudioApi:
    """The studio's HTTP API with the run's token, as a script would call it."""

    def __init__(self, url: str, token: str):
        self.client = httpx.Client(base_url=url, headers={"X-Voiceguide-Token": token}, timeout=60)

    def get(self, path: str):
        res = self.client.get(path)
        res.raise_for_status()
        return res.json()

    def post(self, path: str, body: dict):
        res = self.client.post(path, json=body)
        res.raise_for_status()
        return res.json()

    def close(self) -> None:
        self.client.close()


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR; fails on anything that is not a PNG."""
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def keep_screenshot(shot: Path, target: str | None) -> None:
    """Also save the screenshot where VOICEGUIDE_SCREENSHOT says (the README's picture)."""
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)
