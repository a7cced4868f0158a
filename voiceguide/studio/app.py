"""The studio's web app: the page, its JSON API, server-sent render progress, and FOLDER's files.

Routes only parse the request, call the library (or folder.py, jobs.py, renders.py) in a
worker thread so the event loop stays free, and answer JSON; security.py's Guard checks
every request before a route sees it. See docs/studio.md for the API.
"""
from __future__ import annotations

import asyncio
import json
import re
import threading
from pathlib import Path
from typing import Any, AsyncIterator

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from .. import library, settings as settings_table
from ..errors import SettingError, VoiceguideError
from ..lengths import format_length
from ..script.model import Routine
from . import checks, phone, renders
from .folder import Folder
from .jobs import FINAL, Job, Jobs
from .replies import Busy, field_of, handlers, json_body
from .security import Guard, check_routine_name, folder_file

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
PREVIEWS_AT_ONCE = 2


class Studio:
    """What the routes share: FOLDER, the store, the render queue, the previewer."""

    def __init__(self, folder: Path, store: Path | None, jobs: int, preview_wait: float, warm: bool = False):
        self.shown = str(Path(folder).absolute())
        self.folder = Folder(folder, store)
        self.store = store
        self.jobs = Jobs(self.folder, store, jobs)
        self.preview_wait = preview_wait
        self._previews = threading.BoundedSemaphore(PREVIEWS_AT_ONCE)
        self._previewer: Any = None
        self._previewer_lock = threading.Lock()
        self._closed = False
        self._warm_voices = warm
        self._warmed: set[tuple[Any, ...]] = set()
        self.phone = phone.Phone(self.folder.path)
        threading.Thread(target=self._warm, name="voiceguide-studio-warm", daemon=True).start()

    def _warm(self) -> None:
        """Load what checking a routine needs (engine registry, voice paces) before the first
        keystroke asks, so even the first check is fast."""
        from ..starter import STARTER
        try:
            checks.problems(self.folder.path, STARTER, "starter", self.folder.durations)
        except Exception:                  # only a head start: a real check reports any problem
            pass

    def warm_voice(self, routine: Routine, chosen: settings_table.Settings) -> None:
        """Start the speech worker for the voice a routine is planned with, once per voice, in
        the background: the first "play this step" then waits only for its sentence (starting a
        worker and loading a voice take a second or more; calibrating piper's speed, four)."""
        key = (chosen.engine, chosen.voice, routine.meta.language, tuple(sorted(routine.meta.pronounce.items())))
        with self._previewer_lock:
            if not self._warm_voices or self._closed or key in self._warmed:
                return
            self._warmed.add(key)
        self.previewer().warm(routine, chosen)

    def previewer(self) -> Any:
        with self._previewer_lock:
            if self._previewer is None:
                from ..preview import Previewer
                from ..session import Resources
                self._previewer = Previewer(Resources(self.store))
            return self._previewer

    def preview(self, routine: Routine, chosen: settings_table.Settings, span: Any) -> Any:
        """One preview, at most PREVIEWS_AT_ONCE at a time; Busy after waiting `preview_wait` s."""
        if not self._previews.acquire(timeout=self.preview_wait):
            raise Busy(f"busy: {PREVIEWS_AT_ONCE} previews are being made; try again in a moment")
        try:
            return self.previewer().preview(routine, chosen, span)
        finally:
            self._previews.release()

    def close(self) -> None:
        """Cancel the renders and stop the speech workers (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self.jobs.close()
        self.phone.stop()
        with self._previewer_lock:
            if self._previewer is not None:
                self._previewer.close()
                self._previewer = None


def studio_of(request: Request) -> Studio:
    return request.app.state.studio


# -- routines -------------------------------------------------------------------------------


def _name(data: dict[str, Any], default: str | None = None) -> str:
    name = data.get("name")
    if name is None and default is not None:
        return default
    return check_routine_name(name)


def _slug(title: str) -> str:
    """A file name from a routine's title ("My hands!" -> "My-hands")."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", title).strip("-_")[:64].strip("-_")
    return slug or "routine"


def _from_text(studio: Studio, data: dict[str, Any], default_name: str = "routine") -> tuple[Routine, str]:
    text = field_of(data, "text", str)
    name = _name(data, default_name)
    return checks.parse(text, studio.folder.source(name), name), name


async def index(request: Request) -> Response:
    studio = studio_of(request)
    templates: Jinja2Templates = request.app.state.templates
    from .. import __version__
    return templates.TemplateResponse(request, "index.html", {
        "token": request.app.state.token, "folder": studio.shown, "version": __version__,
        "builtin_names": library.builtin_names()})


async def get_settings(request: Request) -> Response:
    from ..voices.installed import suggested_voices     # the voice row suggests every piper voice, added ones too
    voices = await run_in_threadpool(suggested_voices)
    return JSONResponse(settings_table.json_schema("render", {"voices": voices}))


async def list_routines(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(studio_of(request).folder.listing))


async def get_routine(request: Request) -> Response:
    name = check_routine_name(request.path_params["name"])
    return JSONResponse(await run_in_threadpool(studio_of(request).folder.read, name))


async def put_routine(request: Request) -> Response:
    data = await json_body(request)
    name = check_routine_name(request.path_params["name"])
    text = field_of(data, "text", str)
    version = field_of(data, "version", str, required=False)
    force = field_of(data, "force", bool, required=False, default=False)
    return JSONResponse(await run_in_threadpool(studio_of(request).folder.save, name, text, version, force))


async def new_routine(request: Request) -> Response:
    data = await json_body(request)
    name = _name(data)
    source = field_of(data, "from", str, required=False)
    return JSONResponse(await run_in_threadpool(studio_of(request).folder.create, name, source), status_code=201)


async def validate(request: Request) -> Response:
    data = await json_body(request)
    studio = studio_of(request)
    text = field_of(data, "text", str)
    name = _name(data, "routine")
    found = await run_in_threadpool(checks.problems, studio.folder.path, text, name, studio.folder.durations)
    warned = await run_in_threadpool(checks.warnings, studio.folder.path, text, name)
    return JSONResponse({"problems": checks.as_json(found), "warnings": checks.as_json(warned)})


def _length(studio: Studio, routine: Routine, chosen: settings_table.Settings, name: str) -> Any:
    """The session's length and plan; a problem of the routine (its limits, its length) is
    reported at its line, a wrong setting of the request as its own line."""
    source = studio.folder.source(name)
    try:
        return studio.folder.durations.length(routine, chosen)
    except SettingError as exc:
        if exc.settings and not str(exc).startswith(source):
            raise
        raise checks.Broken(checks.found(exc, source, name)) from None
    except VoiceguideError as exc:
        raise checks.Broken(checks.found(exc, source, name)) from None


def _plan(studio: Studio, data: dict[str, Any]) -> dict[str, Any]:
    routine, name = _from_text(studio, data)
    chosen = checks.checked_settings(routine, _given(routine, data))
    length = _length(studio, routine, chosen, name)
    studio.warm_voice(routine, chosen)
    timeline = length.timeline
    assert timeline is not None
    out = timeline.to_json()
    for index, (shown, event) in enumerate(zip(out["events"], timeline.events)):
        line = getattr(event.step, "line", 0) if event.step is not None else 0
        shown.update(index=index, line=line if line > 0 else None)
    out.update(measured=length.measured, length_text=format_length(length))
    return out


def _given(routine: Routine, data: dict[str, Any]) -> dict[str, Any]:
    """The request's settings (checked: unknown or wrong ones are a 400 naming them)."""
    given = field_of(data, "settings", dict, required=False, default={})
    checks.checked_settings(routine, given)
    return {k: v for k, v in given.items() if v is not None}


async def plan(request: Request) -> Response:
    data = await json_body(request)
    return JSONResponse(await run_in_threadpool(_plan, studio_of(request), data))


def _span(data: dict[str, Any]) -> Any:
    from ..preview import Span
    chosen = [key for key in ("event", "section", "first") if data.get(key) is not None]
    if len(chosen) != 1:
        raise VoiceguideError("give exactly one of 'event', 'section' or 'first'")
    key = chosen[0]
    if key == "first":
        seconds = field_of(data, "first", (int, float))
        if not 0 < seconds <= 600:
            raise VoiceguideError("'first' must be a number of seconds from 0 to 600")
        return Span("first", 0, float(seconds))
    index = field_of(data, key, int)
    if index < 0:
        raise VoiceguideError(f"'{key}' must be 0 or more")
    return Span(key, index)


def _preview(studio: Studio, data: dict[str, Any]) -> Any:
    routine, name = _from_text(studio, data)
    chosen = checks.checked_settings(routine, _given(routine, data))
    files = checks.sound_files(studio.folder.path, routine, chosen, name)
    if files:
        chosen = chosen.changed(**files)
    return studio.preview(routine, chosen, _span(data))


async def preview(request: Request) -> Response:
    data = await json_body(request)
    made = await run_in_threadpool(_preview, studio_of(request), data)
    return Response(made.wav(), media_type="audio/wav", headers={
        "X-Voiceguide-Start": f"{made.start:.3f}", "X-Voiceguide-Duration": f"{made.duration:.3f}",
        "Cache-Control": "no-store"})


# -- renders --------------------------------------------------------------------------------


def _submit(studio: Studio, data: dict[str, Any]) -> Job:
    fmt = settings_table.check("format", field_of(data, "format", str, required=False, default="mp3"))
    if data.get("text") is not None:
        text = field_of(data, "text", str)
        name = data.get("name")
        if name is None:
            routine = checks.parse(text, studio.folder.source("routine"), "routine")
            name = _slug(routine.meta.title)
        name = check_routine_name(name)
        routine = checks.parse(text, studio.folder.source(name), name)
    else:
        name = check_routine_name(data.get("name"))
        routine = studio.folder.routine(name)
    options = _given(routine, data)
    chosen = checks.checked_settings(routine, options)
    options.update(checks.sound_files(studio.folder.path, routine, chosen, name))
    options["format"] = fmt
    _length(studio, routine, chosen, name)                         # limits and length, before queueing
    return studio.jobs.submit(routine, name, fmt, options)


async def render(request: Request) -> Response:
    data = await json_body(request)
    job = await run_in_threadpool(_submit, studio_of(request), data)
    return JSONResponse({"job": job.id}, status_code=202)


def _job(request: Request) -> Job:
    job = studio_of(request).jobs.get(request.path_params["job"])
    if job is None:
        raise HTTPException(404, "no such job")
    return job


async def get_job(request: Request) -> Response:
    return JSONResponse(_job(request).to_json())


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def job_events(request: Request) -> Response:
    job = _job(request)
    events, first = job.subscribe(asyncio.get_running_loop())

    async def stream() -> AsyncIterator[str]:
        try:
            for event, data in first:
                yield _sse(event, data)
                if event in FINAL:
                    return
            while True:
                event, data = await events.get()
                yield _sse(event, data)
                if event in FINAL:
                    return
        finally:
            job.unsubscribe(events)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def job_file(request: Request) -> Response:
    job = _job(request)
    if job.state != "done" or not job.output.is_file():
        raise HTTPException(404, "the job has no finished file")
    return FileResponse(job.output, filename=job.output.name)


async def cancel_job(request: Request) -> Response:
    job = _job(request)
    state = await run_in_threadpool(studio_of(request).jobs.cancel, job)
    return JSONResponse({"state": state})


async def list_renders(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(renders.listing, studio_of(request).folder.path))


async def render_info(request: Request) -> Response:
    folder = studio_of(request).folder.path
    name = request.path_params["file"]
    real = folder_file(folder, name, renders.AUDIO_SUFFIXES)
    return JSONResponse(await run_in_threadpool(renders.info, folder, name, real))


async def folder_files(request: Request) -> Response:
    name = request.path_params["file"]
    real = folder_file(studio_of(request).folder.path, name, renders.SERVED_SUFFIXES)
    media = "text/vtt; charset=utf-8" if name.lower().endswith(".vtt") else None
    if request.query_params.get("download") == "1":
        return FileResponse(real, filename=name, media_type=media)
    return FileResponse(real, media_type=media)


def create_app(folder: Path, *, token: str, allowed_hosts: list[str], jobs: int = 1,
               store: Path | None = None, preview_wait: float = 30.0, warm: bool = False) -> Starlette:
    """The studio for `folder`. `allowed_hosts`: the Host values it answers ("127.0.0.1:8765");
    `store`: the speech store's folder (None: the faces' default, voiceguide.cachedir); `warm`:
    start a routine's speech worker as soon as it is planned (the served studio does; tests of
    the API need not)."""
    if store is None:
        from ..cachedir import cache_dir
        store = cache_dir()
    studio = Studio(Path(folder), Path(store), jobs, preview_wait, warm)
    routes = [
        Route("/", index),
        Route("/api/settings", get_settings),
        Route("/api/routines", list_routines),
        Route("/api/routines", new_routine, methods=["POST"]),
        Route("/api/routines/{name}", get_routine),
        Route("/api/routines/{name}", put_routine, methods=["PUT"]),
        Route("/api/validate", validate, methods=["POST"]),
        Route("/api/plan", plan, methods=["POST"]),
        Route("/api/preview", preview, methods=["POST"]),
        Route("/api/render", render, methods=["POST"]),
        Route("/api/jobs/{job}", get_job),
        Route("/api/jobs/{job}", cancel_job, methods=["DELETE"]),
        Route("/api/jobs/{job}/events", job_events),
        Route("/api/jobs/{job}/file", job_file),
        Route("/api/renders", list_renders),
        Route("/api/renders/{file}", render_info),
        Route("/files/{file}", folder_files),
        Route("/api/phone", phone.share, methods=["POST"]),
        Route("/api/phone", phone.unshare, methods=["DELETE"]),
        Mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers=handlers(),
                    middleware=[Middleware(Guard, token=token, hosts=allowed_hosts)])
    app.state.studio = studio
    app.state.token = token
    app.state.templates = Jinja2Templates(directory=str(TEMPLATES))
    return app
