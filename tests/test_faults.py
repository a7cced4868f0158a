"""Engine faults at a rate, in real renders: a render under faults still comes out right
(retries on fresh workers, fallback to the other engine), or, when nothing can speak a
sentence, fails with one line naming it. Hangs are bounded by the synth timeout.

Faults come from the worker's test hooks (voiceguide/voices/worker.py): every injected
fault is logged to VOICEGUIDE_FAULT_LOG, and the tests count the lines. The counts of the
last run are appended to $VOICEGUIDE_RELIABILITY_REPORT when it is set (for docs/reliability.md).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from voiceguide.api import render
from voiceguide.script.parse import parse_routine
from voiceguide.timeline import spoken_texts
from voiceguide.voices import Narrator, SpeechCache
from voiceguide.voices.pyttsx3_engine import Pyttsx3Engine
from voiceguide.voices.remote import BadOutput, check_samples, check_speech
from voiceguide.voices.worker import GARBAGE, FaultPlan
from conftest import routine_text

ROOT = Path(__file__).resolve().parents[1]

BODY = """\
# Start
Settle into your chair and let your shoulders drop. [hold 1s]
Breathe in slowly through the nose.
Let the breath go out through the mouth. [pause 1s]

## Hands
Press your thumb gently into your palm.
Make small circles there.
Now stroke the back of your hand. [hold 1s]

# Finish
Rest your hands in your lap.
Well done.
"""

ALL_FAULTS = "hang,crash,empty,silent,error,noise,garbage"
QUICK = {"VOICEGUIDE_SYNTH_TIMEOUT": "2", "VOICEGUIDE_SYNTH_TIMEOUT_PER_WORD": "0.1"}


def _clear_fault_env(monkeypatch) -> None:
    for name in list(os.environ):
        if name.startswith("VOICEGUIDE_FAULT") or name.startswith("VOICEGUIDE_SYNTH_TIMEOUT"):
            monkeypatch.delenv(name)


def fault_counts(log: Path) -> Counter:
    """(engine, fault) -> how many times the workers injected it."""
    if not log.exists():
        return Counter()
    return Counter(tuple(line.split()[:2]) for line in log.read_text().splitlines() if line.strip())


def report(name: str, **numbers: object) -> None:
    path = os.environ.get("VOICEGUIDE_RELIABILITY_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"test": name, **numbers}, default=str) + "\n")


# -- the fault plan itself (no processes) -------------------------------------------------


def plan(serial: str = "1", **env: str) -> FaultPlan:
    return FaultPlan("piper", {"VOICEGUIDE_WORKER_SERIAL": serial, **env})


def test_rate_sets_the_share_of_misbehaving_calls_and_picks_among_the_listed_faults():
    p = plan(VOICEGUIDE_FAULT="empty,hang,crash,noise", VOICEGUIDE_FAULT_RATE="0.3", VOICEGUIDE_FAULT_SEED="7")
    chosen = [p.next() for _ in range(2000)]
    faults = Counter(c[0] for c in chosen if c)
    assert 500 <= sum(faults.values()) <= 700                  # 30% of 2000, seeded: no flakiness
    assert set(faults) == {"empty", "hang", "crash", "noise"}
    assert plan(VOICEGUIDE_FAULT="error", VOICEGUIDE_FAULT_RATE="0").next() is None
    assert plan(VOICEGUIDE_FAULT="error").next() == ("error", "")  # no rate: every call, as before


def test_seed_reproduces_and_a_restarted_worker_gets_a_new_sequence():
    env = dict(VOICEGUIDE_FAULT="error", VOICEGUIDE_FAULT_RATE="0.5", VOICEGUIDE_FAULT_SEED="42")
    a = plan("1", **env)
    b = plan("1", **env)
    c = plan("2", **env)
    seq_a = [a.next() is not None for _ in range(64)]
    assert seq_a == [b.next() is not None for _ in range(64)]   # same seed, same worker serial
    assert seq_a != [c.next() is not None for _ in range(64)]   # the replacement worker differs


def test_engine_specific_settings_win_and_garbage_kinds_can_be_forced():
    p = FaultPlan("pyttsx3", {"VOICEGUIDE_FAULT": "error", "VOICEGUIDE_FAULT_PYTTSX3": "garbage:nan",
                              "VOICEGUIDE_FAULT_PYTTSX3_RATE": "1"})
    assert p.next() == ("garbage", "nan")
    assert FaultPlan("piper", {"VOICEGUIDE_FAULT_PYTTSX3": "crash"}).next() is None
    kinds = {plan(VOICEGUIDE_FAULT="garbage", VOICEGUIDE_FAULT_SEED=str(i)).next()[1] for i in range(200)}
    assert kinds == set(GARBAGE)


@pytest.mark.parametrize("bad", ["explode", "garbage:purple", "hang:nan"])
def test_unknown_faults_are_refused_not_ignored(bad):
    with pytest.raises(ValueError, match="unknown fault"):
        plan(VOICEGUIDE_FAULT=bad)
    with pytest.raises(ValueError, match="between 0 and 1"):
        plan(VOICEGUIDE_FAULT="error", VOICEGUIDE_FAULT_RATE="1.5")


def test_injected_faults_are_logged_one_line_each(tmp_path):
    log = tmp_path / "faults.log"
    p = plan(VOICEGUIDE_FAULT="empty,crash", VOICEGUIDE_FAULT_RATE="0.5", VOICEGUIDE_FAULT_SEED="3",
             VOICEGUIDE_FAULT_LOG=str(log))
    fired = sum(p.next() is not None for _ in range(40))
    assert fired > 0 and sum(fault_counts(log).values()) == fired


# -- verification: garbage must not reach the render ---------------------------------------


def test_checks_catch_garbage_the_old_checks_let_through():
    rate, text = 22050, "Press your thumb gently into your palm."
    t = np.arange(int(2.0 * rate)) / rate
    speechlike = (0.5 * np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    check_speech(speechlike, rate, text, 1.0)                           # the control passes
    with pytest.raises(BadOutput, match="clipped"):
        check_speech(np.clip(speechlike * 40, -1, 1), rate, text, 1.0)
    with pytest.raises(BadOutput, match="out of range"):
        check_speech(speechlike * 8, rate, text, 1.0)
    with pytest.raises(BadOutput, match="noise, not speech"):
        check_speech(np.random.default_rng(1).uniform(-0.5, 0.5, len(t)).astype(np.float32), rate, text, 1.0)
    nan = speechlike.copy()
    nan[100] = np.nan
    with pytest.raises(BadOutput, match="NaN"):
        check_samples(nan)            # before trimming: trim_silence itself breaks on NaN


@pytest.mark.parametrize("kind, reason", [
    ("short", "implausible duration"),
    ("long", "implausible duration"),
    ("clipped", "clipped"),
    ("nan", "NaN/inf"),
    ("inf", "NaN/inf"),
    ("loud", "out of range"),
    ("static", "noise, not speech"),
])
def test_each_kind_of_garbage_is_caught_and_retried(tmp_path, kind, reason):
    log = tmp_path / "faults.log"
    tokens = tmp_path / "tokens"
    tokens.mkdir()
    (tokens / "once").touch()
    engine = Pyttsx3Engine(timeout=5.0, env={"VOICEGUIDE_FAULT": f"garbage:{kind}", "VOICEGUIDE_FAULT_TOKENS": str(tokens),
                                             "VOICEGUIDE_FAULT_LOG": str(log)})
    try:
        speech = engine.synthesize("Press your thumb gently into your palm.", "default", 1.0)
    finally:
        engine.close()
    assert fault_counts(log) == Counter({("pyttsx3", f"garbage:{kind}"): 1})
    assert len(engine.failures) == 1 and reason in engine.failures[0], engine.failures
    check_speech(speech.samples, speech.sample_rate, "Press your thumb gently into your palm.", 1.0)
    assert 1.0 < speech.duration < 5.0


# -- real renders under faults -------------------------------------------------------------


@pytest.fixture(scope="module")
def routine_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("routine") / "faults.routine.md"
    path.write_text(routine_text(BODY, 'title = "Faults"\nambient = "none"'))
    return path


@pytest.fixture(scope="module")
def clean_render(routine_path, tmp_path_factory):
    """The same render with pyttsx3 and no faults, in its own fresh cache."""
    base = tmp_path_factory.mktemp("clean")
    with pytest.MonkeyPatch.context() as mp:
        _clear_fault_env(mp)
        out = base / "clean.wav"
        result = render(parse_routine(routine_path.read_text(), str(routine_path)), out,
                        engine="pyttsx3", jobs=1, cache_dir=base / "cache")
    assert not result.warnings
    return out, result


def faulty_render(routine_path: Path, tmp_path: Path, monkeypatch, **env: str):
    _clear_fault_env(monkeypatch)
    monkeypatch.setenv("VOICEGUIDE_FAULT_LOG", str(tmp_path / "faults.log"))
    for name, value in {**QUICK, **env}.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "faulty.wav"
    result = render(parse_routine(routine_path.read_text(), str(routine_path)), out,
                    engine="pyttsx3", jobs=1, cache_dir=tmp_path / "cache")
    return out, result, fault_counts(tmp_path / "faults.log")


def spoken_by(cache_dir: Path, texts: list[str], speed: float) -> dict[str, tuple[str, float]]:
    """sentence -> (engine, seconds) of the entry the render cached for it (exactly one)."""
    cache = SpeechCache(cache_dir)
    with Narrator(engine="pyttsx3", cache=cache) as narrator:
        found = {}
        for text in texts:
            hits = [cache.get(narrator.request(text, speed, index=i)) for i in range(len(narrator.engines))]
            hits = [h for h in hits if h is not None]
            assert len(hits) == 1, (text, hits)
            found[text] = (hits[0].engine, hits[0].duration)
    return found


def test_render_under_faults_on_one_engine_stays_on_it(routine_path, clean_render, tmp_path, monkeypatch):
    """Every fault at a 30% rate on pyttsx3: retries on fresh workers land on pyttsx3 again.
    The timeline has the clean render's shape; each sentence lasts exactly as long as its
    cached speech (and within espeak's own 10 ms jitter of the clean take: espeak's pitch
    flutter carries over from whatever the worker spoke before, so a restarted worker's
    take differs slightly); rendering again from that cache without faults gives the
    same bytes, so nothing the faults produced got in."""
    out, result, faults = faulty_render(routine_path, tmp_path, monkeypatch, VOICEGUIDE_FAULT_PYTTSX3=ALL_FAULTS,
                                        VOICEGUIDE_FAULT_PYTTSX3_RATE="0.3", VOICEGUIDE_FAULT_PYTTSX3_SEED="31")
    _, clean = clean_render
    report("one-engine", faults={f"{e} {f}": n for (e, f), n in faults.items()})
    failing = sum(n for (_, f), n in faults.items() if f != "noise")
    assert failing >= 3, faults                               # the render really was under fire
    assert not result.warnings                                # no sentence needed the fallback
    events, clean_events = result.timeline.events, clean.timeline.events
    assert [(e.kind, e.text) for e in events] == [(e.kind, e.text) for e in clean_events]
    texts = spoken_texts(result.timeline)
    used = spoken_by(tmp_path / "cache", texts, result.timeline.speed)
    assert {engine for engine, _ in used.values()} == {"pyttsx3"}
    for e, c in zip(events, clean_events):
        if e.kind == "say":
            assert e.duration == used[e.text][1] and abs(e.duration - c.duration) <= 0.011
        else:
            assert e.duration == c.duration

    _clear_fault_env(monkeypatch)
    again = tmp_path / "again.wav"
    entries = SpeechCache(tmp_path / "cache").info().entries
    render(parse_routine(routine_path.read_text(), str(routine_path)), again,
           engine="pyttsx3", jobs=1, cache_dir=tmp_path / "cache")
    assert again.read_bytes() == out.read_bytes()
    assert SpeechCache(tmp_path / "cache").info().entries == entries == len(texts)


def test_render_with_chatter_on_stdout_is_byte_identical(routine_path, clean_render, tmp_path, monkeypatch):
    """The one fault that leaves the worker running ("noise": stray output, a forged
    protocol line) at a 30% rate: the same worker speaks everything, so the WAV is byte
    for byte the clean one."""
    out, result, faults = faulty_render(routine_path, tmp_path, monkeypatch, VOICEGUIDE_FAULT="noise",
                                        VOICEGUIDE_FAULT_RATE="0.3", VOICEGUIDE_FAULT_SEED="2")
    clean_out, clean = clean_render
    report("noise-only", faults={f"{e} {f}": n for (e, f), n in faults.items()})
    assert faults[("pyttsx3", "noise")] >= 2, faults
    assert not result.warnings
    assert result.timeline.to_json() == clean.timeline.to_json()
    assert out.read_bytes() == clean_out.read_bytes()


def test_render_under_faults_on_both_engines_falls_back_and_stays_consistent(
        routine_path, clean_render, tmp_path, monkeypatch):
    """pyttsx3 misbehaves 70% of the time and piper 30%: some sentences go to piper. The
    timeline keeps its shape, each sentence lasts exactly as long as the speech that was
    used for it, and the WAV is as long as the timeline."""
    out, result, faults = faulty_render(routine_path, tmp_path, monkeypatch, VOICEGUIDE_FAULT=ALL_FAULTS,
                                        VOICEGUIDE_FAULT_RATE="0.3", VOICEGUIDE_FAULT_PYTTSX3_RATE="0.7",
                                        VOICEGUIDE_FAULT_SEED="5", VOICEGUIDE_FAULT_PIPER_SEED="27")
    _, clean = clean_render
    report("both-engines", faults={f"{e} {f}": n for (e, f), n in faults.items()},
           fallbacks=len(result.warnings))
    assert faults[("pyttsx3", "hang")] and sum(faults.values()) >= 8, faults
    assert sum(n for (e, f), n in faults.items() if e == "piper" and f != "noise"), faults   # piper retried too
    fell_back = [w for w in result.warnings if "using piper for it instead" in w]
    assert fell_back and len(fell_back) == len(result.warnings)

    events, clean_events = result.timeline.events, clean.timeline.events
    assert [(e.kind, e.text) for e in events] == [(e.kind, e.text) for e in clean_events]
    for e, c in zip(events, clean_events):
        if e.kind != "say":
            assert e.duration == c.duration
    texts = spoken_texts(result.timeline)
    used = spoken_by(tmp_path / "cache", texts, result.timeline.speed)
    assert sorted(t for t, (engine, _) in used.items() if engine == "piper") == sorted(
        t for t in texts if any(f'"{t}"' in w for w in fell_back))
    for e in events:
        if e.kind == "say":
            assert e.duration == used[e.text][1]
    import wave
    with wave.open(str(out)) as w:
        assert abs(w.getnframes() / w.getframerate() - result.timeline.total) < 1.0 / w.getframerate() + 1e-6


def run_cli(args: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("VOICEGUIDE_FAULT", "VOICEGUIDE_SYNTH"))}
    full.update(env)
    full["PYTHONPATH"] = str(ROOT)
    # The subprocess timeout only guards against a hang of the test itself.
    return subprocess.run([sys.executable, "-m", "voiceguide", *args], env=full, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.parametrize("faults, reasons", [
    # Every garbage kind but "short": an eighth of a one-word sentence ("Start.") can pass for
    # a fast word, so it is not a sure failure (see docs/reliability.md); it has its own test.
    ("crash,empty,silent,error,garbage:long,garbage:clipped,garbage:nan,garbage:inf,garbage:loud,"
     "garbage:static", ()),
    ("hang", ("pyttsx3: pyttsx3 worker timed out", "piper: piper worker timed out")),
])
def test_when_every_engine_always_fails_the_cli_fails_cleanly(routine_path, tmp_path, faults, reasons):
    out = tmp_path / "never.wav"
    log = tmp_path / "faults.log"
    done = run_cli(["render", str(routine_path), "-o", str(out), "--engine", "pyttsx3", "--jobs", "1", "-q"],
                   {"VOICEGUIDE_CACHE_DIR": str(tmp_path / "cache"), "VOICEGUIDE_FAULT": faults,
                    "VOICEGUIDE_FAULT_RATE": "1.0", "VOICEGUIDE_FAULT_LOG": str(log),
                    "VOICEGUIDE_SYNTH_TIMEOUT": "1", "VOICEGUIDE_SYNTH_TIMEOUT_PER_WORD": "0"})
    counts = fault_counts(log)
    report(f"all-fail[{faults}]", faults={f"{e} {f}": n for (e, f), n in counts.items()}, exit=done.returncode)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    errors = [line for line in done.stderr.splitlines() if not line.startswith("warning: ")]
    assert len(errors) == 1, done.stderr
    # One line at the routine line of the sentence that failed (usually the first title, "Start.";
    # a garbage take can get past the checks for a word or two, and then a later sentence fails).
    said = re.match(rf'{re.escape(str(routine_path))}:(\d+): could not synthesize "(.+?)": '
                    rf'every engine failed: pyttsx3: ', errors[0])
    assert said, errors[0]
    line, sentence = int(said.group(1)), said.group(2)
    assert sentence.rstrip(".").split()[0] in routine_path.read_text().splitlines()[line - 1], errors[0]
    assert "every engine failed" in errors[0]
    for reason in reasons:
        assert reason in errors[0]
    assert not out.exists() and {p.name for p in tmp_path.iterdir()} <= {"cache", "faults.log"}   # no temp files
    # three attempts on each engine, each one an injected fault; nothing bad was cached
    assert sum(n for (e, _), n in counts.items() if e == "pyttsx3") == 3
    assert sum(n for (e, _), n in counts.items() if e == "piper") == 3
    assert SpeechCache(tmp_path / "cache").info().entries == 0
