"""Keep a long render's memory flat on Linux (glibc).

A render allocates and frees many block-sized numpy arrays on three threads (mixing, metering,
the encoder feed). glibc then keeps freed memory in per-thread arenas, and its mmap threshold
grows after every large free, so later arrays come from heaps that fragment: a 60-minute
render's RSS reached ~400 MiB although Python held ~160 MiB. A fixed mmap threshold (large
arrays are mapped and unmapped, never left in a heap) and two arenas bring it to ~250 MiB.
Best effort: elsewhere (macOS, Windows, musl) this does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
_done = False


def tune_allocator() -> bool:
    """Apply the settings once per process; True if glibc accepted them."""
    global _done
    if _done or not sys.platform.startswith("linux"):
        return _done
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    _done = bool(mallopt(M_MMAP_THRESHOLD, 256 * 1024)) and bool(mallopt(M_ARENA_MAX, 2))
    return _done
