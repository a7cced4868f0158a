"""Running `serve`: uvicorn in a background thread on a socket bound first (as the studio does),
the address a phone can reach, and the token that keeps the rest of the network out.

The token is kept in FOLDER/.voiceguide-serve-token (hidden, so never served), made the first
time: a phone subscribed to the feed keeps working when the server is started again. Delete
the file (or pass `new_token`) to make a new one, which cuts off every subscribed phone.
"""
from __future__ import annotations

import ipaddress
import os
import secrets
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import VoiceguideError
from ..studio.security import allowed_hosts
from ..studio.server import bind, launch
from .gate import RateLimit

TOKEN_FILE = ".voiceguide-serve-token"
TOKEN_SHAPE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def lan_address() -> str | None:
    """This machine's address on the network its default route leads to (no packet is sent:
    connecting a UDP socket only picks the interface), or None without one."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))        # TEST-NET-1: never routed anywhere real
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if ipaddress.ip_address(address).is_loopback or address == "0.0.0.0" else address


def folder_token(folder: Path, new: bool = False) -> str:
    """The folder's token: the kept one, or a new one, kept if FOLDER is writable."""
    path = Path(folder) / TOKEN_FILE
    if not new:
        try:
            kept = path.read_text(encoding="ascii").strip()
            if len(kept) >= 22 and set(kept) <= TOKEN_SHAPE:
                return kept
        except (OSError, UnicodeDecodeError):
            pass
    token = secrets.token_urlsafe(18)
    try:
        from ..export.atomic import write_text
        write_text(path, token + "\n", force=True)
        os.chmod(path, 0o600)
    except OSError:                      # a read-only folder: this run's token only
        pass
    return token


def shown_host(host: str) -> str:
    """The address to put in URLs for a server listening on `host`."""
    bare = host.strip("[]")
    if bare in ("0.0.0.0", "::"):
        bare = lan_address() or "127.0.0.1"
    return f"[{bare}]" if ":" in bare else bare


@dataclass
class Serving:
    """A running `serve`: `url` is the served root ("http://HOST:PORT/TOKEN/"), `feed_url` its feed."""
    url: str
    feed_url: str
    token: str | None
    host: str
    port: int
    folder: Path
    _server: Any = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _stopped: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def lan(self) -> bool:
        return self.token is not None

    @property
    def alive(self) -> bool:
        return not self._stopped and self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Stop uvicorn and wait for its thread (idempotent)."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(15)


def start(folder: Path, *, host: str = "127.0.0.1", port: int = 0, lan: bool = False, new_token: bool = False,
          title: str | None = None, author: str | None = None, limit: RateLimit | None = None,
          log_line: Callable[[str], None] | None = None) -> Serving:
    """Serve `folder` read-only in a background thread; returns once it accepts connections.

    `lan`: every URL carries the folder's token (always so when `host` is not loopback)."""
    from .app import FEED, create_app

    folder = Path(folder)
    if not folder.is_dir():
        raise VoiceguideError(f"{folder}: no such folder" if not folder.exists() else f"{folder}: is not a folder")
    lan = lan or not is_loopback(host)
    sock = bind(host, port)
    port = sock.getsockname()[1]
    token = folder_token(folder, new_token) if lan else None
    url = f"http://{shown_host(host)}:{port}/" + (f"{token}/" if token else "")
    try:
        app = create_app(folder, base_url=url, token=token,
                         hosts=None if lan else allowed_hosts(host.strip("[]"), port),
                         title=title, author=author, limit=limit, log_line=log_line)
    except BaseException:
        sock.close()
        raise
    server, thread = launch(app, sock, "voiceguide-serve", "voiceguide serve")
    return Serving(url, url + FEED, token, host, port, folder, server, thread)
