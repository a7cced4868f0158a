"""How the studio answers over HTTP: JSON bodies in, `{"error": "one line"}` out.

Every error a user (or a hostile page) can cause becomes one line and a 4xx status; anything
unexpected becomes 500 `internal error: ...` with the traceback in the server's log only, and
the server keeps serving.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..errors import VoiceguideError, spelled
from ..export.atomic import OutputExistsError
from ..library import RoutineNotFound
from .checks import Broken, as_json
from .folder import Conflict
from .jobs import user_errors
from .security import Refused

log = logging.getLogger("voiceguide.studio")


class Busy(VoiceguideError):
    """Too many previews at once (HTTP 503)."""


def error(message: str, status: int, **more: Any) -> JSONResponse:
    return JSONResponse({"error": message, **more}, status_code=status)


def one_line(exc: BaseException) -> str:
    text = spelled(exc, lambda name: name).strip()
    return text.splitlines()[0] if text else type(exc).__name__


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or a 400 saying what is wrong with it."""
    raw = await request.body()
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise VoiceguideError(f"the request body is not JSON: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise VoiceguideError("the request body must be a JSON object")
    return data


def field_of(data: dict[str, Any], name: str, kind: type | tuple[type, ...], *, required: bool = True,
             default: Any = None) -> Any:
    """`data[name]` if it has the right type (bool is never a number), else a 400."""
    if name not in data or data[name] is None:
        if required:
            raise VoiceguideError(f"missing '{name}' in the request body")
        return default
    value = data[name]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        wanted = " or ".join({str: "a string", int: "a whole number", float: "a number", bool: "true or false",
                              dict: "an object"}.get(k, k.__name__) for k in kinds)
        raise VoiceguideError(f"'{name}' must be {wanted}")
    return value


async def on_error(request: Request, exc: Exception) -> Response:
    """The one handler for every error a route raises (registered for each family)."""
    if isinstance(exc, HTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404:
            detail = f"not found: {request.url.path}"
        elif exc.status_code == 405:
            detail = f"method {request.method} not allowed on {request.url.path}"
        return error(detail, exc.status_code)
    if isinstance(exc, Broken):
        return error(exc.problems[0].text if exc.problems else str(exc), 400, problems=as_json(exc.problems))
    if isinstance(exc, Conflict):
        return error(one_line(exc), 409, version=exc.version)
    if isinstance(exc, Refused):
        return error(one_line(exc), exc.status)
    if isinstance(exc, RoutineNotFound):
        return error(one_line(exc), 404)
    if isinstance(exc, Busy):
        return error(one_line(exc), 503)
    if isinstance(exc, OutputExistsError):
        return error(one_line(exc), 409)
    if isinstance(exc, user_errors()):
        return error(one_line(exc), 400)
    return await on_crash(request, exc)


async def on_crash(request: Request, exc: Exception) -> Response:
    log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    return error(f"internal error: {one_line(exc)}", 500)


def handlers() -> dict[Any, Any]:
    families = {HTTPException, VoiceguideError, OutputExistsError, *user_errors()}
    return {**{family: on_error for family in families}, Exception: on_crash}
