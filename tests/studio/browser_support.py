"""Helpers for the studio's browser tests: Debian's chromium driven by pip's playwright, and
a small client for the same server's API (to compare the page with what the API says)."""
from __future__ import annotations

import shutil
import struct
from pathlib import Path

import httpx

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required", "--disable-quic",
]
VIEWPORT = {"width": 1280, "height": 800}


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright; it is in the dev extra)"
    if not CHROMIUM.exists():
        return f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


def launch(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


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
