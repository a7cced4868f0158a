"""The speech cache: hits and misses, keys, corruption, concurrent processes, location."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from voiceguide.cachedir import cache_dir
from voiceguide.voices import Narrator, Request, Speech, SpeechCache


def request(text="Breathe in.", **changes) -> Request:
    fields = dict(engine="piper", voice="joe:abc", speed=1.0, text=text, version="piper-tts 1.8.0")
    fields.update(changes)
    return Request(**fields)


def speech(n=2205, value=0.25) -> Speech:
    return Speech(np.linspace(-value, value, n, dtype=np.float32), 22050, "piper", "joe:abc")


def test_miss_then_hit_round_trips_exactly(tmp_path):
    cache = SpeechCache(tmp_path)
    assert cache.get(request()) is None and cache.misses == 1
    original = speech()
    cache.put(request(), original)
    got = cache.get(request())
    assert got is not None and cache.hits == 1
    assert got.sample_rate == 22050 and got.engine == "piper" and got.voice == "joe:abc"
    assert np.array_equal(got.samples, original.samples)


def test_every_input_of_the_sound_is_in_the_key():
    base = request().key
    assert request().key == base                                    # stable
    assert len(base) == 64
    for change in ({"engine": "pyttsx3"}, {"version": "piper-tts 1.9.0"}, {"voice": "joe:def"},
                   {"speed": 1.25}, {"text": "Breathe out."}, {"options": (("gap", "0.3"),)}):
        assert request(**change).key != base, change
    assert request(speed=1.0).key == request(speed=1.00001).key     # same to 4 decimals


@pytest.mark.parametrize("damage", ["flip payload byte", "truncate", "garbage header", "empty file", "wrong key"])
def test_corrupt_entries_are_detected_dropped_and_regenerated(tmp_path, damage):
    cache = SpeechCache(tmp_path)
    cache.put(request(), speech())
    path = cache.entry_path(request().key)
    data = bytearray(path.read_bytes())
    if damage == "flip payload byte":
        data[-100] ^= 0x40
    elif damage == "truncate":
        data = data[: len(data) - 10]
    elif damage == "garbage header":
        data[:10] = b"\xff" * 10
    elif damage == "empty file":
        data = bytearray()
    else:                                          # another sentence's intact entry under this key
        other = request(text="other")
        cache.put(other, speech())
        data = bytearray(cache.entry_path(other.key).read_bytes())
    path.write_bytes(bytes(data))
    assert cache.get(request()) is None
    assert not path.exists()                       # dropped, so it is regenerated next time
    cache.put(request(), speech())
    assert cache.get(request()) is not None


_WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    from voiceguide.voices import Request, Speech, SpeechCache
    root, writer = sys.argv[1], int(sys.argv[2])
    cache = SpeechCache(root)
    for round in range(25):
        for k in range(8):
            req = Request("piper", "joe", 1.0, f"sentence {k}", "v1")
            # each writer's audio for a key differs (as piper's does), and is recognisable
            cache.put(req, Speech(np.full(3000 + k, writer / 10, np.float32), 22050))
            got = cache.get(req)
            assert got is not None, "a reader saw a missing or corrupt entry"
            assert len(got.samples) == 3000 + k and len(set(got.samples.tolist())) == 1
    print("ok", cache.hits, cache.misses)
""")


def test_concurrent_writers_and_readers_in_separate_processes(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path), str(w)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for w in range(1, 5)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert out.startswith("ok 200 0")          # every read was a valid hit
    cache = SpeechCache(tmp_path)
    info = cache.info()
    assert info.entries == 8
    for k in range(8):
        got = cache.get(Request("piper", "joe", 1.0, f"sentence {k}", "v1"))
        assert got is not None and got.samples[0] in {np.float32(w / 10) for w in range(1, 5)}
    assert not list(cache.path.rglob("*.tmp"))     # no temp files left behind


def test_info_and_clear_touch_only_cache_files(tmp_path):
    cache = SpeechCache(tmp_path)
    assert cache.info().entries == 0 and cache.info().bytes == 0
    for i in range(3):
        cache.put(request(f"sentence {i}"), speech())
    info = cache.info()
    assert info.entries == 3 and info.bytes > 3 * 2205 * 4 and info.path == tmp_path / "speech"
    (tmp_path / "keep.txt").write_text("not ours")
    (tmp_path / "speech" / "notes.txt").write_text("not ours either")
    assert cache.clear() == 3
    assert cache.info().entries == 0
    assert (tmp_path / "keep.txt").exists() and (tmp_path / "speech" / "notes.txt").exists()


def test_write_failure_warns_but_does_not_fail(tmp_path):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    cache = SpeechCache(blocker)
    with pytest.warns(RuntimeWarning, match="could not write to the speech cache"):
        cache.put(request(), speech())
    assert cache.get(request()) is None


def test_location_env_override_and_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    assert SpeechCache(cache_dir()).path == tmp_path / "mine" / "speech"
    if sys.platform.startswith("linux"):
        monkeypatch.delenv("VOICEGUIDE_CACHE_DIR")
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert cache_dir() == tmp_path / "xdg" / "voiceguide"


def test_narrator_cache_hit_needs_no_engine_process(espeak, private_cache):
    texts = ["Open your hands.", "Close them softly.", "Open your hands."]
    first = Narrator("pyttsx3", jobs=2, cache=private_cache)
    try:
        spoken = first.prepare(texts, 1.0)
        assert first.stats.synthesized == 2 and first.cache.info().entries == 2
        assert first.cache.path.is_relative_to(private_cache)
    finally:
        first.close()
    second = Narrator("pyttsx3", jobs=2, cache=private_cache)
    try:
        again = second.prepare(texts, 1.0)
        assert second.stats.cache_hits == 2 and second.stats.synthesized == 0
        assert second.engine.workers_started == 0                      # nothing was started
        assert all(np.array_equal(a.samples, b.samples) for a, b in zip(spoken, again))
    finally:
        second.close()


def test_no_cache_writes_nothing(private_cache):
    with Narrator("pyttsx3", cache=False, jobs=1) as narrator:
        narrator.speech("No cache today.")
    assert not Path(private_cache).exists() or not any(Path(private_cache).rglob("*.vgc"))
