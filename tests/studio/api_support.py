"""Fixtures and helpers of the studio API tests: the app for a temp FOLDER, served through
Starlette's test client at the address the real server would have (http://127.0.0.1:8765),
with and without the token.

Imported by the test modules: a conftest.py in this folder (which has no __init__.py) would
replace tests/conftest.py as the module `conftest` and break `from conftest import ...` elsewhere.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

pytest.importorskip("starlette", reason="the studio extra (starlette, uvicorn, jinja2) is not installed")
pytest.importorskip("httpx", reason="Starlette's test client needs httpx")

from starlette.testclient import TestClient  # noqa: E402

from voiceguide.studio.app import create_app  # noqa: E402
from voiceguide.studio.security import allowed_hosts  # noqa: E402

TOKEN = "test-token-0123456789"
BASE = "http://127.0.0.1:8765"
AUTH = {"X-Voiceguide-Token": TOKEN}

def tiny_routine(title: str = "Tiny") -> str:
    """Two short sections: quick to render, two chapters, three cues."""
    return (f'+++\ntitle = "{title}"\nambient = "none"\n+++\n'
            "# One\nHands resting.\n[pause 1s]\n\n# Two\nBreathe out slowly. Well done.\n")


class Studio:
    """An app and clients on it: `client` sends the token, `bare` does not."""

    def __init__(self, folder: Path, store: Path, **options: Any):
        self.folder = folder
        self.app = create_app(folder, token=TOKEN, allowed_hosts=allowed_hosts("127.0.0.1", 8765),
                              store=store, **options)
        self.client = TestClient(self.app, base_url=BASE, raise_server_exceptions=False, headers=AUTH)
        self.bare = TestClient(self.app, base_url=BASE, raise_server_exceptions=False)

    @property
    def state(self):
        return self.app.state.studio

    def serving(self) -> bool:
        """The server still answers (after a hostile request)."""
        return self.client.get("/api/settings").status_code == 200

    def close(self) -> None:
        self.state.close()


@pytest.fixture
def folder(tmp_path) -> Path:
    path = tmp_path / "studio"
    path.mkdir()
    return path


@pytest.fixture
def make_studio() -> Iterator[Any]:
    made: list[Studio] = []

    def make(folder: Path, store: Path, **options: Any) -> Studio:
        studio = Studio(folder, store, **options)
        made.append(studio)
        return studio

    yield make
    for studio in made:
        studio.close()


@pytest.fixture
def studio(folder, tmp_path, make_studio) -> Studio:
    """A studio on an empty FOLDER with an empty store of its own (lengths are estimated)."""
    return make_studio(folder, tmp_path / "store")


def leftovers(folder: Path) -> list[str]:
    """Hidden (temp) files in FOLDER: what a half-written output would leave."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))
