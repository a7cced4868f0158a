"""Who may ask `serve` for what: the first thing every request meets, and its log line.

In order: a client over its request rate gets 429 (so the token cannot be guessed at speed);
with a token (the LAN), a path that does not start with it gets 404, as if nothing were
there; without one (loopback only), a `Host` that is not this server's gets 403 (DNS
rebinding would otherwise let any web page read FOLDER); anything but GET and HEAD gets 405.
Then the app sees the path with the token taken off. Each request is logged once, the token
shown as `<token>`.
"""
from __future__ import annotations

import hmac
import json
import threading
import time
from typing import Any, Callable, Iterable

from ..studio.security import HARDENING, SAFE_METHODS, ASGIApp, Message, Receive, Scope, Send

RATE = 20.0        # requests a second a client may make, on average
BURST = 120        # ... and at once (a podcast app fetches the feed, artwork, chapters, ranges)
MAX_CLIENTS = 4096


class RateLimit:
    """A token bucket per client address: `burst` requests at once, refilled at `rate` a second."""

    def __init__(self, rate: float = RATE, burst: int = BURST, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str) -> float:
        """0 if `client` may make a request now (and count it), else the seconds to wait."""
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.get(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.rate)
            if tokens < 1.0:
                self._buckets[client] = (tokens, now)
                return (1.0 - tokens) / self.rate if self.rate > 0 else 60.0
            if len(self._buckets) >= MAX_CLIENTS and client not in self._buckets:
                self._forget_full(now)
            self._buckets[client] = (tokens - 1.0, now)
            return 0.0

    def _forget_full(self, now: float) -> None:
        """Drop the clients whose bucket has refilled (they are as if new), so memory stays bounded."""
        for client, (tokens, then) in list(self._buckets.items()):
            if tokens + (now - then) * self.rate >= self.burst:
                del self._buckets[client]


def shown_path(path: str, token: str | None, limit: int = 200) -> str:
    """The path for the log: the token hidden, control characters escaped, long paths cut."""
    if token and (path == f"/{token}" or path.startswith(f"/{token}/")):
        path = "/<token>" + path[len(token) + 1:]
    text = path.encode("unicode_escape").decode("ascii") if not path.isprintable() else path
    return text if len(text) <= limit else text[:limit] + "..."


async def send_error(send: Send, status: int, message: str, headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


class Gate:
    """Pure ASGI middleware: rate, token, Host, method; one log line per request."""

    def __init__(self, app: ASGIApp, *, token: str | None, hosts: Iterable[str] | None,
                 limit: RateLimit, log: Callable[[str], None]):
        self.app, self.token, self.limit, self.log = app, token, limit, log
        self.hosts = None if hosts is None else {h.lower() for h in hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await self.app(scope, receive, send)
            return
        seen: dict[str, Any] = {"status": 0, "bytes": 0}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                message = {**message, "headers": [*message.get("headers", []), *HARDENING]}
            elif message["type"] == "http.response.body":
                seen["bytes"] += len(message.get("body", b""))
            await send(message)

        started = time.monotonic()
        try:
            await self._gate(scope, receive, sending)
        finally:
            client = (scope.get("client") or ("-", 0))[0]
            self.log(f"{client} {scope['method']} {shown_path(scope['path'], self.token)} {seen['status'] or '-'} "
                     f"{seen['bytes']}B {(time.monotonic() - started) * 1000:.0f}ms")

    async def _gate(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = (scope.get("client") or ("-", 0))[0]
        wait = self.limit.allow(client)
        if wait:
            await send_error(send, 429, "too many requests; slow down and try again",
                             [(b"retry-after", str(max(1, round(wait))).encode())])
            return
        path: str = scope["path"]
        if self.token is not None:
            first, _, rest = path[1:].partition("/")
            if not hmac.compare_digest(first.encode("utf-8", "surrogateescape"), self.token.encode()):
                await send_error(send, 404, "not found")
                return
            path = "/" + rest
            scope = {**scope, "path": path, "raw_path": path.encode("utf-8", "surrogateescape"),
                     "root_path": ""}
        else:
            headers = dict(scope.get("headers", []))
            host = headers.get(b"host", b"").decode("latin-1").lower()
            if self.hosts is not None and host not in self.hosts:
                await send_error(send, 403, "this server only answers requests addressed to it "
                                            "(the Host header is foreign)")
                return
        if scope["method"] not in SAFE_METHODS:
            await send_error(send, 405, f"method {scope['method']} not allowed: this server is read-only",
                             [(b"allow", b"GET, HEAD")])
            return
        await self.app(scope, receive, send)
