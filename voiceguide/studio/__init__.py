"""The studio: a local web app to write a routine, hear it, and render it (`voiceguide studio`).

A face, like cli/ and batch/: it calls the library and owns nothing below it. Its modules:
security.py (who may call it, which files), folder.py (FOLDER's routines), checks.py (problems
as `voiceguide validate` reports them), jobs.py (the render queue), renders.py (past renders),
replies.py (JSON in, one-line errors out), app.py (the routes) and server.py (uvicorn in a
thread). Needs the `studio` extra (starlette, uvicorn, jinja2); nothing here is imported
unless the studio runs.
"""
