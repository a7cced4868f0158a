"""Several renders at once sharing one cache, and a cache damaged or emptied under a render.

Real `voiceguide render` processes (pyttsx3, one worker each, tiny routines) start together
on a fresh VOICEGUIDE_CACHE_DIR, cold and then warm. Every output must match the same render
done alone, the cache must hold exactly one valid entry per sentence and no temp files, and
nobody may warn. The number of renders of the last run is appended to
$VOICEGUIDE_RELIABILITY_REPORT when it is set (for docs/reliability.md).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from voiceguide.api import render
from voiceguide.script.parse import parse_routine
from voiceguide.sound.clips import ClipStore
from voiceguide.voices import Narrator, Request, Speech, SpeechCache
from voiceguide.store import HEADER_SIZE, SPEECH, SUFFIX, decode as decode_entry
from voiceguide.voices.cache import decode
from conftest import routine_text

ROOT = Path(__file__).resolve().parents[1]

SENTENCES = [
    "Settle into your chair.",
    "Let your shoulders drop.",
    "Breathe in slowly through the nose.",
    "Press your thumb into your palm.",
    "Make small circles there.",
    "Rest your hands in your lap.",
]
# Overlapping routines: every sentence is in two or three of them.
ROUTINES = {
    "one": [0, 1, 2, 3],
    "two": [1, 2, 3, 4],
    "three": [2, 3, 4, 5],
    "four": [0, 2, 4, 5],
}


def write_routines(folder: Path) -> dict[str, Path]:
    paths = {}
    for name, picks in ROUTINES.items():
        body = "# Begin\n" + "\n".join(SENTENCES[i] for i in picks[:2]) + " [pause 1s]\n\n# End\n" + \
               "\n".join(SENTENCES[i] for i in picks[2:]) + "\n"
        path = folder / f"{name}.routine.md"
        path.write_text(routine_text(body, f'title = "{name}"\nambient = "none"'))
        paths[name] = path
    return paths


def distinct_sentences() -> set[str]:
    return {f"{s}" for s in SENTENCES} | {"Begin.", "End."}


def report(name: str, **numbers: object) -> None:
    path = os.environ.get("VOICEGUIDE_RELIABILITY_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"test": name, **numbers}) + "\n")


def env_for(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOICEGUIDE_FAULT", "VOICEGUIDE_SYNTH"))}
    env.update(VOICEGUIDE_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT), PYTHONWARNINGS="default")
    return env


def start_render(routine: Path, out: Path, cache: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "voiceguide", "render", str(routine), "-o", str(out), "--engine", "pyttsx3",
         "--jobs", "1", "-q", "--timeline", str(out.with_suffix(".json"))],
        env=env_for(cache), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run_together(jobs: list[tuple[Path, Path]], cache: Path) -> list[tuple[int, str]]:
    """Start every render at once, then wait for all; (exit status, stderr) each."""
    procs = [start_render(routine, out, cache) for routine, out in jobs]
    results = []
    for p in procs:
        try:
            _, err = p.communicate(timeout=300)   # guards the test against a hang only
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
        results.append((p.returncode, err))
    return results


def check_cache(cache: Path, one_clip_each: bool = True) -> int:
    """Every entry decodes under its own key and holds usable speech, no temp files are
    left, every prepared clip verifies. Returns the number of speech entries."""
    speech_dir, clip_dir = cache / "speech", cache / "clips"
    entries = [p for p in speech_dir.glob("??/*") if p.is_file()]
    assert entries and all(p.name.endswith(SUFFIX) for p in entries), [p.name for p in entries]
    for p in entries:
        payload = decode_entry(SPEECH, p.name[: -len(SUFFIX)], p.read_bytes())
        speech = decode(payload) if payload is not None else None
        assert speech is not None and speech.duration > 0.2 and np.all(np.isfinite(speech.samples)), p
    clips = [p for p in clip_dir.glob("??/*") if p.is_file()]
    assert clips and all(p.suffix == SUFFIX for p in clips), [p.name for p in clips]
    store = ClipStore(cache)
    assert all(store.get(p.stem) is not None for p in clips)
    if one_clip_each:
        assert len(clips) == len(entries)  # one prepared clip per sentence, nothing twice
    return len(entries)


def say_events(timeline_json: Path) -> list[tuple[str, str, float]]:
    data = json.loads(timeline_json.read_text())
    return [(e["kind"], e["text"], e["duration"]) for e in data["events"]]


def test_concurrent_renders_share_one_cache(tmp_path):
    paths = write_routines(tmp_path)
    cache = tmp_path / "shared-cache"

    cold = run_together([(paths[n], tmp_path / f"cold-{n}.wav") for n in ROUTINES], cache)
    assert [code for code, _ in cold] == [0] * len(ROUTINES), cold
    assert all(err == "" for _, err in cold), cold          # no warning, cache or otherwise
    assert check_cache(cache) == len(distinct_sentences())

    warm = run_together([(paths[n], tmp_path / f"warm-{n}.wav") for n in ROUTINES], cache)
    assert [code for code, _ in warm] == [0] * len(ROUTINES) and all(err == "" for _, err in warm), warm
    assert check_cache(cache) == len(distinct_sentences())

    # The same renders alone: from the shared cache byte for byte what ran concurrently (a
    # sentence two processes synthesized at once is the first one's take in both), and
    # from a fresh cache the same timeline, within espeak's 10 ms take-to-take jitter.
    for name, routine in paths.items():
        alone = tmp_path / f"alone-{name}.wav"
        render(parse_routine(routine.read_text(), str(routine)), alone,
               engine="pyttsx3", jobs=1, cache_dir=cache)
        cold_bytes = (tmp_path / f"cold-{name}.wav").read_bytes()
        assert cold_bytes == alone.read_bytes() == (tmp_path / f"warm-{name}.wav").read_bytes(), name

        fresh = tmp_path / f"fresh-{name}.wav"
        done = run_together([(routine, fresh)], tmp_path / f"fresh-cache-{name}")
        assert done == [(0, "")]
        ours, theirs = say_events(tmp_path / f"cold-{name}.json"), say_events(fresh.with_suffix(".json"))
        assert [e[:2] for e in ours] == [e[:2] for e in theirs]
        assert all(abs(a[2] - b[2]) <= 0.011 for a, b in zip(ours, theirs))
    report("concurrent-renders", cold=len(cold), warm=len(warm), alone=2 * len(paths),
           entries=len(distinct_sentences()))


# -- damaged and vanishing entries ---------------------------------------------------------


@pytest.fixture
def one_routine(tmp_path):
    path = tmp_path / "one.routine.md"
    path.write_text(routine_text("# Begin\n" + "\n".join(SENTENCES[:3]) + "\n", 'title = "one"\nambient = "none"'))
    return parse_routine(path.read_text(), str(path))


def render_in(cache: Path, routine, out: Path, monkeypatch):
    with _no_warnings():
        return render(routine, out, engine="pyttsx3", jobs=1, cache_dir=cache)


class _no_warnings:
    """Fail on any warning raised inside (cache trouble is reported as a warning)."""

    def __enter__(self):
        import warnings
        self._catch = warnings.catch_warnings(record=True)
        self.caught = self._catch.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        self._catch.__exit__(*exc)
        assert not [str(w.message) for w in self.caught]


def test_corrupt_and_truncated_entries_are_synthesized_again(tmp_path, one_routine, monkeypatch):
    cache = tmp_path / "cache"
    first = render_in(cache, one_routine, tmp_path / "first.wav", monkeypatch)
    entries = sorted(cache.glob(f"speech/??/*{SUFFIX}"))
    assert len(entries) == 4
    flipped, truncated = entries[0], entries[1]
    data = flipped.read_bytes()
    flipped.write_bytes(data[:-100] + bytes([data[-100] ^ 0x40]) + data[-99:])
    truncated.write_bytes(truncated.read_bytes()[:-1000])
    second = render_in(cache, one_routine, tmp_path / "second.wav", monkeypatch)
    assert not first.warnings and not second.warnings
    assert check_cache(cache, one_clip_each=False) == 4      # both were made again, and verify
    assert flipped.read_bytes() != data
    assert [(e.kind, e.text) for e in second.timeline.events] == [(e.kind, e.text) for e in first.timeline.events]


def test_a_damaged_prepared_clip_is_not_mixed_in(tmp_path, one_routine, monkeypatch):
    """A flipped byte in a stored clip would still decode as samples; the store's checksum
    catches it, the clip is prepared again from the (intact) speech, and the output is unchanged."""
    cache = tmp_path / "cache"
    render_in(cache, one_routine, tmp_path / "first.wav", monkeypatch)
    clips = sorted(cache.glob(f"clips/??/*{SUFFIX}"))
    assert len(clips) == 4
    for clip in clips:
        data = bytearray(clip.read_bytes())
        samples = (len(data) - HEADER_SIZE) // 4
        data[HEADER_SIZE + 4 * (samples // 2) + 3] ^= 0x40   # a middle sample's exponent: loud, still a float
        clip.write_bytes(bytes(data))
    render_in(cache, one_routine, tmp_path / "second.wav", monkeypatch)
    assert (tmp_path / "second.wav").read_bytes() == (tmp_path / "first.wav").read_bytes()
    check_cache(cache)


READER = textwrap.dedent("""
    import sys, numpy as np
    from voiceguide.voices import Request, SpeechCache
    cache, rounds = SpeechCache(sys.argv[1]), int(sys.argv[2])
    seen = {"hit": 0, "miss": 0}
    for i in range(rounds):
        for n in range(8):
            got = cache.get(Request("piper", "v", 1.0, f"sentence {n}", "1"))
            if got is None:
                seen["miss"] += 1
                continue
            expected = np.full(4000 + n, (n + 1) / 10, np.float32)
            assert np.array_equal(got.samples, expected), (n, got.samples[:3])
            seen["hit"] += 1
    print(seen["hit"], seen["miss"])
""")


def entry(n: int) -> tuple[Request, Speech]:
    return Request("piper", "v", 1.0, f"sentence {n}", "1"), Speech(np.full(4000 + n, (n + 1) / 10, np.float32), 22050)


def test_entries_deleted_and_rewritten_while_other_processes_read(tmp_path):
    """Readers in two processes see either the right samples or a miss, never a mix or an
    error, while this process deletes and writes the same entries as fast as it can."""
    cache = SpeechCache(tmp_path)
    for n in range(8):
        cache.put(*entry(n))
    readers = [subprocess.Popen([sys.executable, "-c", READER, str(tmp_path), "300"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env_for(tmp_path)) for _ in range(2)]
    while any(r.poll() is None for r in readers):
        for n in range(8):
            cache.entry_path(entry(n)[0].key).unlink(missing_ok=True)
            cache.put(*entry(n))
    outputs = [r.communicate() for r in readers]
    assert [r.returncode for r in readers] == [0, 0], outputs
    hits = [tuple(map(int, out.split())) for out, _ in outputs]
    assert all(h > 0 and m > 0 for h, m in hits), hits       # both cases really happened
    assert not list(tmp_path.glob("speech/??/*.tmp"))


def test_first_writer_wins_so_concurrent_takes_converge(tmp_path):
    """Two processes that synthesized the same sentence at once (different takes) both go
    on with the take that reached the cache first."""
    cache = SpeechCache(tmp_path)
    request = Request("piper", "v", 1.0, "same sentence", "1")
    take1 = Speech(np.full(5000, 0.1, np.float32), 22050, "piper")
    take2 = Speech(np.full(5200, 0.2, np.float32), 22050, "piper")
    assert cache.put(request, take1) is take1
    kept = cache.put(request, take2)
    assert np.array_equal(kept.samples, take1.samples)
    assert np.array_equal(cache.get(request).samples, take1.samples)
    path = cache.entry_path(request.key)
    path.write_bytes(path.read_bytes()[:-8])                 # a corrupt entry is replaced, not adopted
    assert cache.put(request, take2) is take2 and np.array_equal(cache.get(request).samples, take2.samples)


def test_planned_speech_survives_its_cache_entries_being_deleted(tmp_path):
    """A long render keeps only part of its speech in memory. If another process empties
    the cache meanwhile, what the timeline was planned with must still be what is mixed:
    espeak's takes differ with history, so synthesizing again would not match."""
    from voiceguide.voices.pyttsx3_engine import Pyttsx3Engine

    engine = Pyttsx3Engine(jobs=1)
    cache = SpeechCache(tmp_path / "cache")
    try:
        with Narrator([engine], cache=cache, jobs=1, memory_limit=1) as narrator:
            planned = narrator.prepare(SENTENCES[:4], 1.0)
            assert cache.info().entries == 4
            cache.clear()                                     # `voiceguide cache clear` elsewhere
            again = [narrator.speech(t, 1.0) for t in SENTENCES[:4]]
            assert narrator.stats.synthesized == 4            # nothing synthesized a second time
            for a, b in zip(planned, again):
                assert np.array_equal(a.samples, b.samples)
    finally:
        engine.close()


CLEARER = textwrap.dedent("""
    import sys, time
    from voiceguide.voices import SpeechCache
    cache, until = SpeechCache(sys.argv[1]), time.monotonic() + float(sys.argv[2])
    rounds = 0
    while time.monotonic() < until:
        cache.clear()
        rounds += 1
        time.sleep(0.001)
    print(rounds)
""")


def test_clearing_the_cache_while_another_process_writes_never_warns(tmp_path):
    """`voiceguide cache clear`, run over and over by another process: it must leave the
    temp file of an entry being written alone, and a writer whose shard folder it removed
    a moment before makes the folder again instead of warning about an unwritable cache."""
    import warnings

    cache = SpeechCache(tmp_path)
    clearer = subprocess.Popen([sys.executable, "-c", CLEARER, str(tmp_path), "4"], stdout=subprocess.PIPE,
                               text=True, env=env_for(tmp_path))
    writes = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")                       # a cache warning fails the test
        while clearer.poll() is None:
            for n in range(8):
                cache.put(*entry(n))
                writes += 1
    rounds = int(clearer.communicate()[0])
    assert clearer.returncode == 0 and rounds > 10 and writes > 100
