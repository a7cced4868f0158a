"""Peak memory of a whole process tree, sampled: a render is its own process plus speech
workers plus ffmpeg, and `ru_maxrss` sees only one of them at a time (RUSAGE_CHILDREN is the
largest single child, never the sum). Linux only: reads /proc.

    with TreeSampler(proc.pid) as sampler:
        proc.wait()
    sampler.peak_mib, sampler.at_peak   # sum of VmRSS over the tree, and who held it then
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _parents() -> dict[int, int]:
    """pid -> parent pid for every process we can see."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue    # gone already
        # The command name is in parentheses and may hold spaces: fields start after the last ')'.
        fields = stat[stat.rfind(")") + 2:].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def _rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _name(pid: int) -> str:
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    words = [a.decode(errors="replace") for a in args if a]
    if not words:
        return "?"
    if "voiceguide.voices.worker" in words:
        return "speech worker"
    return Path(words[0]).name


def tree_rss(root: int) -> dict[int, int]:
    """RSS in bytes of `root` and each of its descendants, now."""
    parents = _parents()
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    found, todo = {}, [root]
    while todo:
        pid = todo.pop()
        found[pid] = _rss_bytes(pid)
        todo.extend(children.get(pid, ()))
    return found


class TreeSampler:
    """Samples the tree under `root` every `interval` seconds in a thread until stopped."""

    def __init__(self, root: int, interval: float = 0.05):
        self.root, self.interval = root, interval
        self.peak_mib = 0.0
        self.root_peak_mib = 0.0
        self.at_peak: dict[str, float] = {}     # process kind -> MiB, summed, at the tree's peak
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            sizes = tree_rss(self.root)
            self.samples += 1
            total = sum(sizes.values()) / 2**20
            self.root_peak_mib = max(self.root_peak_mib, sizes.get(self.root, 0) / 2**20)
            if total > self.peak_mib:
                self.peak_mib = total
                at: dict[str, float] = {}
                for pid, size in sizes.items():
                    kind = "render" if pid == self.root else _name(pid)
                    at[kind] = at.get(kind, 0.0) + size / 2**20
                self.at_peak = at
            self._stop.wait(self.interval)

    def __enter__(self) -> "TreeSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def describe(self) -> str:
        parts = ", ".join(f"{kind} {mib:.0f}" for kind, mib in sorted(self.at_peak.items(), key=lambda kv: -kv[1]))
        return f"{self.peak_mib:.0f} MiB ({parts})"
