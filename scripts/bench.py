"""voiceguide benchmarks, printed side by side from one run.

    scripts/bench                  # everything: voices, then 30- and 60-minute renders
    scripts/bench --only voices    # just narration speed per engine
    scripts/bench --only render --minutes 30
    scripts/bench --only cold      # a cold 60-minute render: real-time factor, whole-tree peak RSS
    scripts/bench --only play      # live play: time to the first sound, CPU while playing
    scripts/bench --only batch     # batch throughput: sessions per minute, -j 1 against -j 2
    scripts/bench --only curve     # render time and peak RSS against length (5 to 120 min)
    scripts/bench --only studio    # the studio: page ready, idle CPU, a preview's first sound
    scripts/bench --only sound     # issue 14's sound: nature beds, beat tones, spatial voice, chimes

Render numbers, per session length:
  - voiceguide cold (empty speech cache) and warm, as a multiple of real time, the render
    process's peak RSS, and the whole tree's peak: the render, its speech workers and ffmpeg,
    VmRSS summed and sampled every 50 ms (scripts/tree_rss.py), with who held what at the peak;
  - the floor: ffmpeg alone encoding the same audio (the warm render's WAV) to the same format;
  - the pydub baseline: a straightforward AudioSegment pipeline (append speech and silences,
    overlay a bed, normalize, export) doing the same job from the same cached speech.
Targets (issue 5): warm 30-minute MP3 within 1.5x of the floor, at least 3x faster than pydub,
60 minutes in at most 250 MiB peak RSS. Issue 11: a cold 60-minute render's whole tree within
800 MiB, at least 30x real time on 2 cores.

Play numbers (issue 6), `voiceguide play stress-relief` run as a user runs it (a process,
no terminal), with a fresh cache folder:
  - time from starting the process to its first audible sound (above -50 dBFS): heard at a
    PulseAudio null sink (a private server, recorded with parec; a silent stream keeps the
    sink awake, as a sound card is) when pulseaudio and parec are installed, and always as
    handed to miniaudio's null backend (its callback time);
    the first run fills the caches (it synthesizes the speech), the next ones are warm;
  - CPU used while playing: the process's os.times() over a fixed 20 s of playback, as a
    share of one core. Target: the first words within 1 s with a warm cache, no underruns.

Batch numbers (issue 7), `voiceguide batch` run as a user runs it, warm cache, --force:
  - sessions per minute for a fixed set of six short sessions (desk-break at three speeds over
    two beds, about 3.5 minutes each), with -j 1 and -j 2, and the speed-up between them.

Cost curve (issue 7): one warm render per session length (5, 15, 30, 60, 120 minutes; built-in
sections back to back, fitted with --length), its wall time, seconds per minute of audio and the
render process's peak RSS: time should grow linearly with length and memory stay flat.

Studio numbers (issue 12), each from its own script in a process of its own:
  - scripts/bench_studio.py: the page ready in chromium (goal at most 1 s) and an idle
    studio's CPU (goal under 2 % of a core);
  - scripts/bench_preview.py: a preview's first sound, cached (goal within 1 s) and a new
    20-word sentence (goal within 2 s).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))                  # voiceguide from this checkout, and tests.support (the PulseAudio helpers)
sys.path.insert(0, str(ROOT / "scripts"))      # tree_rss, bench_voices
PY = sys.executable

# One child process per render, so peak RSS is that render's alone.
RENDER_CHILD = r"""
import json, resource, sys, time
from voiceguide import load_routine
from voiceguide.api import render
from voiceguide.cachedir import cache_dir
routine = load_routine(sys.argv[1])
start = time.perf_counter()
result = render(routine, sys.argv[2], length=float(sys.argv[3]), force=True, cache_dir=cache_dir())
wall = time.perf_counter() - start
print(json.dumps({"wall": wall, "seconds": result.encoded.seconds,
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "workers_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "lufs": result.loudness.integrated_lufs if result.loudness else None}))
"""

PYDUB_CHILD = r"""
import json, resource, sys, time
import numpy as np
from voiceguide.sound.ffmpeg import configure_pydub
configure_pydub()
from pydub import AudioSegment
from pydub.generators import WhiteNoise
from voiceguide import load_routine
from voiceguide.cachedir import cache_dir
from voiceguide.timeline import plan
from voiceguide.voices import Narrator
routine = load_routine(sys.argv[1])
start = time.perf_counter()
with Narrator(cache=cache_dir()) as narrator:     # warm cache: same speech as voiceguide's
    timeline = plan(routine, length=float(sys.argv[3]), timer=narrator.timer())
    session = AudioSegment.silent(duration=0, frame_rate=44100)
    for event in timeline.events:
        if event.kind == "say":
            speech = narrator.speech(event.text, timeline.speed)
            pcm = (np.clip(speech.samples, -1, 1) * 32767).astype("<i2").tobytes()
            segment = AudioSegment(pcm, frame_rate=speech.sample_rate, sample_width=2, channels=1)
            segment = segment.set_frame_rate(44100)
            segment = segment + AudioSegment.silent(duration=max(0, event.duration * 1000 - len(segment)), frame_rate=44100)
        else:
            segment = AudioSegment.silent(duration=event.duration * 1000, frame_rate=44100)
        session = session.append(segment, crossfade=0)
    session = session.set_channels(2)
    bed = WhiteNoise().to_audio_segment(duration=len(session)).low_pass_filter(300).set_channels(2) - 30
    mixed = bed.overlay(session)
    mixed = mixed.apply_gain(-16.0 - mixed.dBFS - 3)
    mixed.export(sys.argv[2], format=sys.argv[2].rsplit(".", 1)[1], parameters=["-q:a", "4"])
wall = time.perf_counter() - start
print(json.dumps({"wall": wall, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def long_routine(folder: Path, seconds: float) -> Path:
    """Built-in routines back to back, topped up with desk breaks, until the planned length
    just reaches `seconds`: a real session that `--length` can fit exactly."""
    from voiceguide.library import builtin_names, builtin_text
    from voiceguide.script.parse import parse_routine
    from voiceguide.timeline import plan

    head = '+++\ntitle = "Benchmark session"\nambient = "brown"\n+++\n'
    bodies = {name: builtin_text(name).split("+++", 2)[2] for name in builtin_names()}
    parts: list[str] = []
    names = iter(builtin_names())
    while True:
        total = plan(parse_routine(head + "".join(parts), "bench")).total if parts else 0.0
        if total >= seconds:
            break
        name = next(names, None) if total < seconds - 20 * 60 else None
        name = name or "desk-break"
        parts.append(f"\n# {name}\n\n{bodies[name]}\n")
    path = folder / f"session-{int(seconds)}.routine.md"
    path.write_text(head + "".join(parts))
    return path


def curve_routine(folder: Path, seconds: float) -> Path:
    """Like long_routine, but built section by section (the built-ins' `#` sections in turn), so
    that short lengths fit too: sections are added while `--length` can still fit them and the
    natural length is below `seconds`. One builder for every point of the cost curve."""
    import re

    from voiceguide.library import builtin_names, builtin_text
    from voiceguide.script.parse import parse_routine
    from voiceguide.timeline import FitError, plan

    head = '+++\ntitle = "Benchmark session"\nambient = "brown"\n+++\n'
    sections = [part for name in builtin_names()
                for part in re.split(r"(?m)^(?=# )", builtin_text(name).split("+++", 2)[2]) if part.startswith("# ")]

    def fits(parts: list[str]) -> bool:
        try:
            plan(parse_routine(head + "".join(parts), "bench"), length=seconds)
            return True
        except FitError:
            return False

    parts: list[str] = []
    misses = 0
    for index in range(100_000):
        candidate = parts + [f"\n{sections[index % len(sections)]}\n"]
        natural = plan(parse_routine(head + "".join(candidate), "bench")).total
        if fits(candidate) or natural < seconds:
            parts, misses = candidate, 0
            if natural >= seconds:
                break
        elif fits(parts):
            misses += 1                  # too long to fit: try the next (shorter) section
            if misses > len(sections):
                break
    path = folder / f"curve-{int(seconds)}.routine.md"
    path.write_text(head + "".join(parts))
    return path


def child(code: str, *args: str, env: dict[str, str]) -> dict:
    """Run one benchmark child; its JSON line plus the whole tree's sampled peak RSS
    ("tree_mib": the child, its speech workers and ffmpeg together; "tree": who held what)."""
    from tree_rss import TreeSampler

    proc = subprocess.Popen([PY, "-c", code, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    with TreeSampler(proc.pid) as sampler:
        stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{stderr[-2000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    return {**result, "tree_mib": sampler.peak_mib, "tree": sampler.describe()}


def ffmpeg_floor(wav: Path, fmt: str, folder: Path) -> float:
    from imageio_ffmpeg import get_ffmpeg_exe

    codec = {"mp3": ["-codec:a", "libmp3lame", "-q:a", "4"]}[fmt]
    start = time.perf_counter()
    subprocess.run([get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(wav), *codec, str(folder / f"floor.{fmt}")],
                   check=True)
    return time.perf_counter() - start


def bench_render(minutes: list[int], with_pydub: bool) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="voiceguide-bench-") as tmp:
        folder = Path(tmp)
        for m in minutes:
            env = dict(os.environ, VOICEGUIDE_CACHE_DIR=str(folder / f"cache-{m}"))
            routine = long_routine(folder, m * 60)
            length = str(m * 60)
            cold = child(RENDER_CHILD, str(routine), str(folder / "cold.mp3"), length, env=env)
            warm = child(RENDER_CHILD, str(routine), str(folder / "warm.mp3"), length, env=env)
            wav = child(RENDER_CHILD, str(routine), str(folder / "warm.wav"), length, env=env)
            floor = ffmpeg_floor(folder / "warm.wav", "mp3", folder)
            pydub = child(PYDUB_CHILD, str(routine), str(folder / "pydub.mp3"), length, env=env) if with_pydub else None
            rows.append({"minutes": m, "cold": cold, "warm": warm, "warm_wav": wav, "floor": floor, "pydub": pydub})
            print(format_render_row(rows[-1]), flush=True)
    return rows


def bench_cold(minutes: list[int]) -> list[dict]:
    """Cold renders only (an empty speech cache each): real-time factor and the whole tree's peak."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="voiceguide-bench-cold-") as tmp:
        folder = Path(tmp)
        for m in minutes:
            env = dict(os.environ, VOICEGUIDE_CACHE_DIR=str(folder / f"cache-{m}"))
            routine = long_routine(folder, m * 60)
            cold = child(RENDER_CHILD, str(routine), str(folder / "cold.mp3"), str(m * 60), env=env)
            rows.append({"minutes": m, **cold})
            print(f"{m:>3} min MP3 cold, {os.cpu_count()} CPUs | {cold['wall']:6.1f}s "
                  f"({cold['seconds'] / cold['wall']:5.1f}x rt) | whole tree peak {cold['tree']} | "
                  f"render process alone {cold['rss_mib']:.0f} MiB", flush=True)
    return rows


def format_render_row(r: dict) -> str:
    seconds = r["warm"]["seconds"]
    x = lambda wall: seconds / wall  # noqa: E731  (times faster than real time)
    line = (f"{r['minutes']:>3} min MP3 | cold {r['cold']['wall']:6.1f}s ({x(r['cold']['wall']):5.1f}x rt) | "
            f"warm {r['warm']['wall']:6.1f}s ({x(r['warm']['wall']):5.1f}x rt), peak RSS "
            f"{r['warm']['rss_mib']:.0f} MiB | whole tree peak: warm {r['warm']['tree']}, "
            f"cold {r['cold']['tree']} | WAV warm {r['warm_wav']['wall']:6.1f}s | "
            f"ffmpeg-only floor {r['floor']:6.1f}s -> warm/floor {r['warm']['wall'] / r['floor']:.2f}")
    if r["pydub"]:
        line += (f" | pydub {r['pydub']['wall']:6.1f}s, {r['pydub']['rss_mib']:.0f} MiB -> "
                 f"{r['pydub']['wall'] / r['warm']['wall']:.1f}x slower than voiceguide warm")
    return line


BATCH_MANIFEST = """\
[defaults]
format = "mp3"

[[session]]
routine = "desk-break"
speed = [0.9, 1.0, 1.1]
ambient = ["brown", "ocean"]
"""


def batch_child(manifest: Path, out: Path, jobs: int, env: dict[str, str]) -> float:
    """Wall seconds of one `voiceguide batch --force` in its own process."""
    start = time.perf_counter()
    proc = subprocess.run([PY, "-m", "voiceguide", "batch", str(manifest), "-o", str(out), "-j", str(jobs),
                           "--force", "-q"], env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"voiceguide batch failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return time.perf_counter() - start


def bench_batch(jobs: tuple[int, ...] = (1, 2)) -> dict:
    with tempfile.TemporaryDirectory(prefix="voiceguide-bench-batch-") as tmp:
        folder = Path(tmp)
        env = dict(os.environ, VOICEGUIDE_CACHE_DIR=str(folder / "cache"))
        manifest = folder / "batch.toml"
        manifest.write_text(BATCH_MANIFEST)
        batch_child(manifest, folder / "warm-up", max(jobs), env)            # fills the speech cache
        state = json.loads((folder / "warm-up" / ".voiceguide-batch.json").read_text())["items"]
        sessions, audio = len(state), sum(item["duration"] for item in state.values())
        rows: dict = {"sessions": sessions, "audio_minutes": audio / 60}
        print(f"  {sessions} sessions, {audio / 60:.1f} minutes of audio in all, warm cache, {os.cpu_count()} CPUs",
              flush=True)
        for j in jobs:
            wall = batch_child(manifest, folder / f"out-{j}", j, env)
            rows[j] = wall
            print(f"  -j {j}: {wall:6.1f} s -> {60 * sessions / wall:5.1f} sessions per minute "
                  f"({audio / wall:5.1f}x real time)", flush=True)
        if len(jobs) > 1:
            print(f"  -j {jobs[-1]} is {rows[jobs[0]] / rows[jobs[-1]]:.2f}x the throughput of -j {jobs[0]}", flush=True)
    return rows


def bench_curve(minutes: list[int]) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="voiceguide-bench-curve-") as tmp:
        folder = Path(tmp)
        env = dict(os.environ, VOICEGUIDE_CACHE_DIR=str(folder / "cache"))   # shared: longer ones reuse speech
        print(f"{'length':>8} | {'warm render':>11} | {'s per audio min':>15} | {'x real time':>11} | "
              f"{'peak RSS':>8} | speech workers", flush=True)
        for m in minutes:
            routine = curve_routine(folder, m * 60)
            child(RENDER_CHILD, str(routine), str(folder / "cold.mp3"), str(m * 60), env=env)   # warms the cache
            warm = child(RENDER_CHILD, str(routine), str(folder / "warm.mp3"), str(m * 60), env=env)
            row = {"minutes": m, **warm}
            rows.append(row)
            print(f"{m:>4} min | {warm['wall']:9.1f} s | {warm['wall'] / (warm['seconds'] / 60):13.2f} s | "
                  f"{warm['seconds'] / warm['wall']:9.1f}x | {warm['rss_mib']:4.0f} MiB | "
                  f"{warm['workers_rss_mib']:.0f} MiB", flush=True)
    return rows


def bench_voices() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    import bench_voices

    texts, pronounce = bench_voices.routine_texts("hand-massage")
    print(f"Narration speed, hand-massage ({len(texts)} sentences), seconds of speech per second:")
    print(bench_voices.format_results(bench_voices.bench(texts, pronounce=pronounce)), flush=True)


def play_child(routine: str, env: dict[str, str], seconds: float, folder: Path) -> tuple[float, dict]:
    """Run `voiceguide play` (no terminal: no keys), stop it like Ctrl-C after `seconds`;
    (time.monotonic() when it was started, the stats it wrote)."""
    import signal
    stats = folder / "play-stats.json"
    stats.unlink(missing_ok=True)
    started = time.monotonic()
    proc = subprocess.Popen([PY, "-m", "voiceguide", "play", routine], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=dict(env, VOICEGUIDE_PLAY_STATS=str(stats)))
    time.sleep(seconds)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if proc.returncode not in (0, 130) or not stats.exists():
        raise SystemExit(f"voiceguide play failed ({proc.returncode}):\n{err[-2000:]}")
    return started, json.loads(stats.read_text())


def cpu_share(cpu: list[list[float]], first_sound: float, seconds: float) -> float | None:
    """CPU seconds per second over `seconds` of playing, from 5 s after the first sound."""
    t0 = first_sound + 5.0
    window = [(t, c) for t, c in cpu if t0 <= t <= t0 + seconds + 1.0]
    if len(window) < 2:
        return None
    (ta, ca), (tb, cb) = window[0], window[-1]
    return (cb - ca) / (tb - ta)


def bench_play(routine: str = "stress-relief", runs: int = 5, seconds: float = 20.0) -> dict:
    from tests.support.pulse import Recorder, pulse_missing, pulse_null_sink   # ROOT is on sys.path

    rows: dict = {"routine": routine}
    with tempfile.TemporaryDirectory(prefix="voiceguide-bench-play-") as tmp:
        folder = Path(tmp)
        env = dict(os.environ, VOICEGUIDE_CACHE_DIR=str(folder / "cache"), VOICEGUIDE_AUDIO_BACKEND="null")
        started, stats = play_child(routine, env, 60.0, folder)     # fills the caches
        rows["cold"] = stats["first_sound"] - started
        print(f"  null backend, empty caches (synthesizes every sentence first): first sound after "
              f"{rows['cold']:.2f} s", flush=True)
        warm = []
        for _ in range(runs):
            started, stats = play_child(routine, env, 3.0, folder)
            warm.append(stats["first_sound"] - started)
            if stats["underruns"]:
                print(f"  warning: {stats['underruns']} underruns", flush=True)
        rows["null"] = warm
        print(f"  null backend, warm caches, {runs} runs: first sound handed to the device after "
              f"{min(warm):.2f} / {sorted(warm)[len(warm) // 2]:.2f} / {max(warm):.2f} s (min / median / max)",
              flush=True)
        started, stats = play_child(routine, env, seconds + 7.0, folder)
        share = cpu_share(stats["cpu"], stats["first_sound"], seconds)
        rows["cpu"] = share
        print(f"  CPU while playing ({seconds:.0f} s, {stats['sample_rate']} Hz, its own bed): "
              f"{100 * share:.1f} % of one core, {stats['underruns']} underruns" if share is not None
              else "  CPU: not enough samples", flush=True)
        print(f"  longest wait between two device callbacks: {1000 * stats['max_callback_interval']:.0f} ms "
              f"(the device buffer holds {1000 * stats['device_buffer']:.0f} ms)", flush=True)
        missing = pulse_missing()
        if missing:
            print(f"  PulseAudio: not measured ({', '.join(missing)} not installed)", flush=True)
            return rows
        heard, handed = [], []
        with pulse_null_sink(folder / "pulse") as pulse_env:
            env = dict(env, PULSE_SERVER=pulse_env["PULSE_SERVER"], VOICEGUIDE_AUDIO_BACKEND="pulseaudio")
            for _ in range(3):
                recorder = Recorder(pulse_env)
                time.sleep(0.3)
                started, stats = play_child(routine, env, 4.0, folder)
                recorder.stop()
                first = recorder.first_sound()
                heard.append(None if first is None else first - started)
                handed.append(stats["first_sound"] - started)
        rows["pulse"], rows["pulse_handed"] = heard, handed
        fmt = lambda xs: " / ".join("-" if x is None else f"{x:.2f}" for x in xs)  # noqa: E731
        print(f"  PulseAudio null sink (kept awake like a sound card), warm caches: first sound heard at the "
              f"sink after {fmt(heard)} s (handed to miniaudio after {fmt(handed)} s)", flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("voices", "render", "cold", "play", "batch", "curve", "studio", "sound"))
    parser.add_argument("--minutes", help="lengths to try (default: render 30,60; cold 60; curve 5,15,30,60,120)")
    parser.add_argument("--no-pydub", action="store_true", help="skip the (slow) pydub baseline")
    args = parser.parse_args()
    if args.only in (None, "voices"):
        bench_voices()
    if args.only in (None, "render"):
        print("Render (long session fitted with --length, brown bed, -16 LUFS, MP3 VBR q4):", flush=True)
        bench_render([int(m) for m in (args.minutes or "30,60").split(",")], not args.no_pydub)
    if args.only == "cold":
        print("Cold render (empty speech cache, MP3, brown bed, fitted with --length):", flush=True)
        bench_cold([int(m) for m in (args.minutes or "60").split(",")])
    if args.only in (None, "play"):
        print("Live play (voiceguide play stress-relief, a process without a terminal):", flush=True)
        bench_play()
    if args.only in (None, "batch"):
        print("Batch (voiceguide batch --force, warm cache):", flush=True)
        bench_batch()
    if args.only in (None, "curve"):
        print("Cost curve (one warm render per length, MP3, brown bed, fitted with --length):", flush=True)
        bench_curve([int(m) for m in (args.minutes or "5,15,30,60,120").split(",")])
    if args.only in (None, "studio"):
        print("Studio (page, idle CPU, previews):", flush=True)
        for script in ("bench_studio.py", "bench_preview.py"):
            subprocess.run([sys.executable, str(Path(__file__).with_name(script))], check=False)
    if args.only in (None, "sound"):
        print("Sound (warm renders of bedtime, today's sound against each new feature):", flush=True)
        subprocess.run([sys.executable, str(Path(__file__).with_name("bench_sound.py"))], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
