"""`voiceguide serve`: FOLDER, read-only over HTTP, so a phone's podcast app can subscribe.

A face, like the studio: Starlette served by uvicorn (the `studio` extra). gate.py decides who
may ask (token, methods, Host, rate) and logs each request; files.py decides which files exist
(only inside FOLDER, never hidden ones); app.py answers; server.py runs it in a thread.
"""
