"""What `serve` answers: the podcast feed, made per request for the address it was asked at,
and FOLDER's files (range requests included, so a podcast app can seek); nothing else.

gate.py has checked the request (token, Host, method, rate) before a route sees it.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from ..errors import VoiceguideError
from .files import media_type, served_file
from .gate import Gate, RateLimit

log = logging.getLogger("voiceguide.serve")
FEED = "feed.xml"
# A Host header fit to build the feed's URLs from: a name or an address, and a port.
HOST = re.compile(r"^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$")


def feed_xml(folder: Path, base_url: str, title: str | None, author: str | None) -> bytes:
    """The feed of `folder` with every URL under `base_url` (voiceguide.feed, imported when
    first asked for, so serving files never waits for it)."""
    from ..feed import feed_xml as made
    return made(folder, base_url, title=title, author=author)


def error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(folder: Path, *, base_url: str, token: str | None = None, hosts: list[str] | None = None,
               title: str | None = None, author: str | None = None, limit: RateLimit | None = None,
               log_line: Callable[[str], None] | None = None) -> Starlette:
    """The app serving `folder` read-only. `base_url`: the feed's root URL when the request's
    Host cannot be used ("http://HOST:PORT/TOKEN/"); `token`: the first path segment every
    request must carry (None: none, and then `hosts`, the Host values answered, is required)."""
    real = Path(folder).resolve(strict=True)
    if token is None and hosts is None:
        raise ValueError("without a token, the Host values to answer must be given")
    prefix = f"/{token}/" if token else "/"

    def base_for(request: Request) -> str:
        host = request.headers.get("host", "")
        return f"http://{host}{prefix}" if HOST.match(host) else base_url

    async def feed(request: Request) -> Response:
        try:
            body = await run_in_threadpool(feed_xml, real, base_for(request), title, author)
        except ImportError:
            return error("this voiceguide cannot make feeds (voiceguide.feed is missing)", 503)
        except VoiceguideError as exc:
            log.warning("the feed of %s cannot be made: %s", real, exc)
            return error(f"the feed cannot be made: {str(exc).splitlines()[0]}", 500)
        return Response(body, media_type="application/rss+xml; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})

    async def a_file(request: Request) -> Response:
        path = await run_in_threadpool(served_file, real, request.path_params["path"])
        if path is None:
            return error("not found", 404)
        return FileResponse(path, media_type=media_type(path), headers={"Cache-Control": "no-cache"})

    routes = [Route(f"/{FEED}", feed), Route("/{path:path}", a_file)]
    gate = Middleware(Gate, token=token, hosts=hosts, limit=limit or RateLimit(), log=log_line or log.info)
    return Starlette(routes=routes, middleware=[gate])
