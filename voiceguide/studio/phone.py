""""Listen on your phone": the studio starts `voiceguide serve --lan` for FOLDER (once; the
next press shows the same one) and answers its feed URL and a QR code of it, for the page's
dialog. The server is read-only, needs the folder's token in every URL, and stops with the
studio or with "Stop sharing".
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

log = logging.getLogger("voiceguide.serve")
DEFAULT_PORT = 8766          # the port `voiceguide serve` takes, so a subscription survives either


class Phone:
    """The studio's one `serve` server for FOLDER, started on demand. `host` is where it
    listens: every address (the home network) for the studio, 127.0.0.1 in tests."""

    def __init__(self, folder: Path, host: str = "0.0.0.0"):
        self.folder = Path(folder)
        self.host = host
        self._serving: Any = None
        self._lock = threading.Lock()

    def share(self) -> dict[str, Any]:
        """Start serving (or find the running server) and describe it for the page."""
        from ..serve.qr import svg
        from ..serve.server import start
        with self._lock:
            if self._serving is None or not self._serving.alive:
                try:
                    self._serving = start(self.folder, host=self.host, port=DEFAULT_PORT, lan=True, log_line=log.info)
                except OSError:                        # the port is taken (a `serve` of its own?): any port
                    self._serving = start(self.folder, host=self.host, port=0, lan=True, log_line=log.info)
            serving = self._serving
        return {"url": serving.feed_url, "qr": svg(serving.feed_url),
                "reachable": not serving.url.startswith("http://127.")}

    def stop(self) -> None:
        with self._lock:
            serving, self._serving = self._serving, None
        if serving is not None:
            serving.stop()


async def share(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(request.app.state.studio.phone.share))


async def unshare(request: Request) -> Response:
    await run_in_threadpool(request.app.state.studio.phone.stop)
    return JSONResponse({"stopped": True})
