"""The feed's URL as a QR code: text for the terminal, SVG for the studio page (segno)."""
from __future__ import annotations

import io


def _code(url: str):
    import segno
    return segno.make(url, error="m", micro=False)


def terminal(url: str) -> str:
    """Half-height block characters (two rows of modules a line), with the quiet zone."""
    out = io.StringIO()
    _code(url).terminal(out=out, compact=True)
    return out.getvalue()


def svg(url: str) -> str:
    """An inline <svg> element (no XML declaration, a viewBox so the page sizes it), dark on
    white so any phone reads it."""
    return _code(url).svg_inline(scale=1, dark="#000", light="#fff", title="The feed's address", omitsize=True)
