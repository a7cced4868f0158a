"""The studio's page speed and idle cost (issue 12), measured in Debian's chromium.

    .venv/bin/python scripts/bench_studio.py [--loads 5] [--idle 10]

  - page ready: from navigation start to the library's cards drawn (`<body data-ready>`, set by
    studio.js; `data-ready-ms` is its performance.now()), the first load and the next ones;
    the editor view too (#/edit/bedtime: text, problems and timeline drawn);
  - idle CPU over --idle seconds with the page open and nothing happening: the server process
    (a child process serving as `voiceguide studio` does) and chromium's renderer processes,
    from /proc/PID/stat utime + stime, as a share of one core (and all of chromium's processes, for reference).
Targets: ready within 1 s; an idle studio below 2 % of a core.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests" / "studio"), str(ROOT / "tests")]
from browser_support import VIEWPORT  # noqa: E402
from support.browser import missing_browser, running_browser  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
SERVE = """
import sys, threading
from pathlib import Path
from voiceguide.studio.server import start
running = start(Path(sys.argv[1]), port=0, store=Path(sys.argv[2]))
print(running.url, flush=True)
threading.Event().wait()
"""


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, in seconds (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rfind(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            parent = int(stat[stat.rfind(")") + 2:].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def chromium_processes() -> dict[int, bytes]:
    """pid -> command line of the chromium processes this bench started (its descendants).
    Chromium's children rewrite their argv into one string, so match bytes, not arguments."""
    found = {}
    for pid in descendants(os.getpid()):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"chromium" in cmd.split(b"\0")[0].split(b" ")[0]:
            found[pid] = cmd
    return found


def idle_shares(groups: dict[str, list[int]], seconds: float) -> dict[str, float]:
    """Each group's CPU over the same `seconds`, as a share of one core."""
    before = {name: sum(cpu_seconds(p) for p in pids) for name, pids in groups.items()}
    time.sleep(seconds)
    return {name: (sum(cpu_seconds(p) for p in pids) - before[name]) / seconds for name, pids in groups.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=5, help="page loads to time (the first is cold)")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle to measure")
    args = parser.parse_args()
    reason = missing_browser()
    if reason:
        print(f"bench_studio: cannot run: {reason}")
        return 2
    with tempfile.TemporaryDirectory(prefix="vg-bench-studio-") as tmp:
        folder, store = Path(tmp, "folder"), Path(tmp, "store")
        folder.mkdir()
        store.mkdir()
        server = subprocess.Popen([sys.executable, "-c", SERVE, str(folder), str(store)],
                                  stdout=subprocess.PIPE, text=True, cwd=ROOT)
        try:
            url = server.stdout.readline().strip()
            if not url.startswith("http"):
                print("bench_studio: the server did not start")
                return 1
            with running_browser() as browser:
                page = browser.new_page(viewport=VIEWPORT)
                library = []
                for _ in range(args.loads):
                    page.goto("about:blank")
                    wall = time.perf_counter()
                    page.goto(url + "#/")
                    page.wait_for_selector("body[data-ready] #cards .card")
                    wall = time.perf_counter() - wall
                    library.append((int(page.get_attribute("body", "data-ready-ms")) / 1000, wall))
                page.goto("about:blank")
                wall = time.perf_counter()
                page.goto(url + "#/edit/bedtime")
                page.wait_for_selector("body[data-ready] svg#timeline rect[data-index]")
                page.wait_for_selector("#problems[data-checked]", state="attached")
                editor = time.perf_counter() - wall
                # Idle: the editor open, nothing typed, nothing playing.
                time.sleep(1.0)
                chromium = chromium_processes()
                render_pids = [pid for pid, cmd in chromium.items() if b"--type=renderer" in cmd]
                shares = idle_shares({"server": [server.pid], "renderer": render_pids,
                                      "chromium": list(chromium)}, args.idle)
        finally:
            server.terminate()
            server.wait(10)

    first, rest = library[0], library[1:] or library
    print("studio page ready (library cards drawn), in-page performance.now() / wall clock:")
    print(f"  first load        {first[0]:.3f} s / {first[1]:.3f} s")
    print(f"  next {len(rest)} loads      median {statistics.median(r[0] for r in rest):.3f} s"
          f" / {statistics.median(r[1] for r in rest):.3f} s, max {max(r[1] for r in rest):.3f} s")
    print(f"  editor (bedtime, timeline drawn)  {editor:.3f} s wall")
    print(f"  target: <= 1 s   {'ok' if max(r[1] for r in library) <= 1.0 else 'MISSED'}")
    print(f"idle CPU over {args.idle:g} s, editor open:")
    print(f"  server process    {100 * shares['server']:.2f} % of a core")
    print(f"  chromium renderer {100 * shares['renderer']:.2f} % of a core ({len(render_pids)} process(es))")
    print(f"  chromium, all     {100 * shares['chromium']:.2f} % of a core ({len(chromium)} processes)")
    print(f"  target: < 2 %    {'ok' if shares['server'] + shares['renderer'] < 0.02 else 'MISSED'} (server + renderer)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
