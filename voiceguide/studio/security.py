"""What keeps a local studio from being a hole: who may call it, how much, and which files.

A web page on any site can make the browser send requests to 127.0.0.1, and DNS rebinding can
make a foreign name resolve there. So every request must name the served address in `Host`
(and in `Origin`, when the browser sends one), every request that changes something carries
the per-run token the page was given, and bodies are small. Files are found by CHECKING the
name the user gave (a pattern, an allowed suffix) and then resolving it and verifying that the
real path is inside FOLDER's real path, so neither `..` nor a symlink leads out.
"""
from __future__ import annotations

import hmac
import ipaddress
import json
import re
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable, MutableMapping

from ..errors import VoiceguideError

MAX_BODY = 1 << 20                  # bytes of a request body (a routine is at most 1 MB)
TOKEN_HEADER = "x-voiceguide-token"
SAFE_METHODS = ("GET", "HEAD")
ROUTINE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
ROUTINE_SUFFIX = ".routine.md"
# A file directly in FOLDER as a user may have named it: no separators, no control characters,
# not hidden (temp files are), and it must end in one of the allowed suffixes.
FILE_NAME = re.compile(r"^[^/\\\x00-\x1f\x7f.][^/\\\x00-\x1f\x7f]{0,254}$")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class Refused(VoiceguideError):
    """A request for something outside FOLDER, or a name that is not one (`status` for HTTP)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


# ---------------------------------------------------------------------------------------------
# Addresses


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def allowed_hosts(host: str, port: int) -> list[str]:
    """The `Host` values a browser sends for the served address (`HOST:PORT`), plus the
    loopback names when the studio listens on loopback (or on every address)."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    names = [shown]
    if _is_loopback(host) or host in ("0.0.0.0", "::", "[::]"):
        names += ["127.0.0.1", "localhost", "[::1]"]
    out: list[str] = []
    for name in names:
        out.append(f"{name}:{port}".lower())
        if port == 80:
            out.append(name.lower())           # browsers leave out the default port
    return list(dict.fromkeys(out))


# ---------------------------------------------------------------------------------------------
# The middleware


async def _send_error(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


HARDENING = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
             (b"referrer-policy", b"no-referrer")]


def _with_headers(send: Send) -> Send:
    """`send` adding headers that keep other sites from framing or sniffing the studio's pages."""
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *HARDENING]}
        await send(message)
    return sending


class Guard:
    """Pure ASGI middleware: Host, Origin, token and body size, before the app sees anything."""

    def __init__(self, app: ASGIApp, *, token: str, hosts: Iterable[str], max_body: int = MAX_BODY):
        self.app = app
        self.token = token.encode()
        self.hosts = {h.lower() for h in hosts}
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        refusal = self._refusal(scope["method"], headers)
        if refusal is not None:
            await _send_error(send, *refusal)
            return
        send = _with_headers(send)
        if scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            status = 413 if declared.isdigit() else 400
            await _send_error(send, status, f"the request body is over {self.max_body:,} bytes"
                              if status == 413 else "bad Content-Length header")
            return
        messages, size = [], 0
        while True:                  # read the (small) body here, counting what really arrives
            message = await receive()
            if message["type"] != "http.request":
                messages.append(message)
                break
            size += len(message.get("body", b""))
            if size > self.max_body:
                await _send_error(send, 413, f"the request body is over {self.max_body:,} bytes")
                return
            messages.append(message)
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    def _refusal(self, method: str, headers: dict[str, str]) -> tuple[int, str] | None:
        host = headers.get("host", "").lower()
        if host not in self.hosts:
            return 403, "this studio only answers requests addressed to it (the Host header is foreign)"
        origin = headers.get("origin")
        if origin is not None and origin.lower() not in {f"http://{h}" for h in self.hosts}:
            return 403, "cross-site request refused (the Origin header is foreign)"
        if method not in SAFE_METHODS:
            given = headers.get(TOKEN_HEADER, "").encode("latin-1")
            if not given:
                return 403, "missing X-Voiceguide-Token header (reload the studio page)"
            if not hmac.compare_digest(given, self.token):
                return 403, "wrong X-Voiceguide-Token (reload the studio page: the studio was restarted)"
        return None


# ---------------------------------------------------------------------------------------------
# Paths inside FOLDER


def real_folder(folder: Path) -> Path:
    return Path(folder).resolve(strict=True)


def inside(folder: Path, path: Path) -> Path | None:
    """`path` with every symlink resolved, if that is inside `folder` (a real path), else None."""
    try:
        real = path.resolve()
    except (OSError, RuntimeError, ValueError):     # a symlink loop, a name too long
        return None
    return real if real == folder or real.is_relative_to(folder) else None


def check_routine_name(name: Any) -> str:
    if not isinstance(name, str) or not ROUTINE_NAME.match(name):
        raise Refused(f"not a routine name: {_shown(name)} (letters, digits, - and _, at most 64, "
                      f"starting with a letter or digit)")
    return name


def routine_file(folder: Path, name: Any) -> Path:
    """`FOLDER/{name}.routine.md` for a checked name. If it exists (or is a symlink) it must
    resolve inside FOLDER, else Refused (403)."""
    name = check_routine_name(name)
    path = folder / f"{name}{ROUTINE_SUFFIX}"
    if path.is_symlink() or path.exists():
        if inside(folder, path) is None:
            raise Refused(f"{path.name} leads outside the studio folder; it is not served", 403)
    return path


def folder_file(folder: Path, name: Any, suffixes: Iterable[str]) -> Path:
    """A file directly in FOLDER named `name`, with one of `suffixes`: its real path, or
    Refused (404) for anything else (a path, a hidden file, another suffix, a symlink out)."""
    missing = Refused(f"no such file: {_shown(name)}", 404)
    if not isinstance(name, str) or not FILE_NAME.match(name) or name in (".", ".."):
        raise missing
    if not name.lower().endswith(tuple(suffixes)):
        raise missing
    real = inside(folder, folder / name)
    if real is None or not real.is_file():
        raise missing
    return real


def sound_file(folder: Path, value: str, what: str) -> Path:
    """An ambient, chime or cover FILE named by a routine or a setting, relative to FOLDER (or
    absolute but inside it): its real path, or Refused with one line."""
    text = value.strip()
    if not text or "\x00" in text:
        raise Refused(f"{what} '{_shown(value)}' is not a file name")
    given = Path(text)
    path = given if given.is_absolute() else folder / given
    real = inside(folder, path)
    if real is None:
        raise Refused(f"{what} '{_shown(value)}' is outside the studio folder; put the file in {folder}")
    if not real.is_file():
        raise Refused(f"{what} '{_shown(value)}' is neither a built-in sound nor a file in {folder}")
    return real


def _shown(value: Any, limit: int = 60) -> str:
    from ..script.parse import excerpt
    return excerpt(value if isinstance(value, str) else repr(value), limit)
