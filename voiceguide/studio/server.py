"""Serving the studio: uvicorn in a background thread, on a socket bound before it starts.

Binding the socket here (port 0: any free port) tells the port before the app is made, so the
app knows exactly which Host values to answer, and `start` returns only once connections are
accepted: the CLI prints a URL that works and the browser tests need no retries.
"""
from __future__ import annotations

import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import VoiceguideError
from .security import allowed_hosts

STARTUP_TIMEOUT = 20.0      # seconds for uvicorn to accept connections


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (0: a free port). OSError if the port is taken."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def launch(app: Any, sock: socket.socket, name: str, what: str) -> tuple[Any, threading.Thread]:
    """uvicorn serving `app` on the bound `sock` in a daemon thread named `name`, once it
    accepts connections (the studio and `voiceguide serve` both start this way). If it cannot
    start, it is stopped and VoiceguideError says why ("`what` could not start ...")."""
    import uvicorn
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=3,
                            access_log=False)
    server = uvicorn.Server(config)
    failed: list[BaseException] = []
    where = sock.getsockname()

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:      # reported below, by the thread waiting for the start
            failed.append(exc)
        finally:
            sock.close()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if failed or not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(15)
            reason = f": {failed[0]}" if failed else ""
            raise VoiceguideError(f"{what} could not start on {where[0]}:{where[1]}{reason}")
        time.sleep(0.02)
    return server, thread


def url_for(host: str, port: int) -> str:
    shown = host.strip("[]")
    if shown in ("0.0.0.0", "::"):
        shown = "127.0.0.1"
    return f"http://[{shown}]:{port}/" if ":" in shown else f"http://{shown}:{port}/"


@dataclass
class Running:
    url: str          # "http://127.0.0.1:PORT/"
    token: str
    port: int
    _server: Any = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _app: Any = field(default=None, repr=False)
    _stopped: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def alive(self) -> bool:
        return not self._stopped and self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Cancel the renders, close the previewer, stop uvicorn (idempotent)."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        if self._app is not None:
            self._app.state.studio.close()       # ends the event streams too
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(15)


def start(folder: Path, *, host: str = "127.0.0.1", port: int = 0, jobs: int = 1,
          store: Path | None = None, token: str | None = None, warm: bool = True) -> Running:
    """Serve in a background thread (port 0: a free port); returns when it accepts connections."""
    from .app import create_app

    folder = Path(folder)
    if not folder.is_dir():
        raise VoiceguideError(f"{folder}: no such folder" if not folder.exists() else f"{folder}: is not a folder")
    sock = bind(host, port)
    port = sock.getsockname()[1]
    token = token or secrets.token_urlsafe(24)
    app = create_app(folder, token=token, allowed_hosts=allowed_hosts(host.strip("[]"), port), jobs=jobs,
                     store=store, warm=warm)
    try:
        server, thread = launch(app, sock, "voiceguide-studio", "the studio")
    except BaseException:
        app.state.studio.close()
        raise
    return Running(url_for(host, port), token, port, server, thread, app)
