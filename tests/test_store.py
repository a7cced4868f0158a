"""The one disk store: format checks, recency pruning, racing writers, info/clear of every kind."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from voiceguide import store as store_module
from voiceguide.live.warm import StartCache
from voiceguide.sound.clips import ClipStore
from voiceguide.store import CLIPS, HEADER_SIZE, SPEECH, STARTS, VOICES, Store, clear_all, usage
from voiceguide.voices import Request, Speech, SpeechCache

ROOT = Path(__file__).resolve().parents[1]
KEY = "ab" * 32


def test_round_trip_and_file_layout(tmp_path):
    store = Store(tmp_path)
    assert store.get(SPEECH, KEY) is None
    assert store.put(SPEECH, KEY, b"hello") == b"hello"
    assert store.get(SPEECH, KEY) == b"hello"
    path = tmp_path / "speech" / "ab" / f"{KEY}.vgc"
    data = path.read_bytes()
    assert data[:4] == b"VGST" and len(data) == HEADER_SIZE + 5 and data.endswith(b"hello")
    assert store.get(CLIPS, KEY) is None                      # namespaces are separate
    with pytest.raises(ValueError):
        store.get(SPEECH, "../../etc/passwd")


@pytest.mark.parametrize("damage", ["flip a payload byte", "truncate", "empty", "bad magic", "another key's entry"])
def test_a_damaged_entry_is_a_miss_and_is_removed(tmp_path, damage):
    store = Store(tmp_path)
    payload = bytes(range(256)) * 4
    store.put(CLIPS, KEY, payload)
    path = store.path(CLIPS, KEY)
    data = bytearray(path.read_bytes())
    if damage == "flip a payload byte":
        data[-100] ^= 0x01
    elif damage == "truncate":
        data = data[:-1]
    elif damage == "empty":
        data = bytearray()
    elif damage == "bad magic":
        data[0] ^= 0xFF
    else:
        other = "cd" * 32
        store.put(CLIPS, other, payload)
        data = bytearray(store.path(CLIPS, other).read_bytes())   # same payload, other key
    path.write_bytes(bytes(data))
    assert store.get(CLIPS, KEY) is None
    assert not path.exists()                                   # dropped: made again next time
    assert store.put(CLIPS, KEY, payload) == payload and store.get(CLIPS, KEY) == payload


def test_prune_keeps_the_most_recently_used(tmp_path):
    store = Store(tmp_path)
    keys = [f"{i:02x}" * 32 for i in range(6)]
    for age, key in enumerate(keys):
        store.put(STARTS, key, bytes(1000))
        past = time.time() - 1000 + age                        # written in this order, long ago
        os.utime(store.path(STARTS, key), (past, past))
    assert store.get(STARTS, keys[0]) is not None             # the oldest write, used just now
    entry = store.path(STARTS, keys[0]).stat().st_size
    assert store.prune(STARTS, 3 * entry) == 3
    kept = [k for k in keys if store.path(STARTS, k).exists()]
    assert kept == [keys[0], keys[4], keys[5]]
    assert store.info(STARTS).bytes <= 3 * entry
    assert store.prune(STARTS, 3 * entry) == 0


def test_start_cache_stays_under_its_cap(tmp_path):
    cache = StartCache(tmp_path, max_bytes=20_000)
    for i in range(10):
        cache.put(StartCache.key("entry", i), samples=np.full(1000, i, np.float32))   # ~4 kB each
    assert Store(tmp_path).info(STARTS).bytes <= 20_000
    newest = cache.get(StartCache.key("entry", 9))
    assert newest is not None and np.array_equal(newest["samples"], np.full(1000, 9, np.float32))
    assert cache.get(StartCache.key("entry", 0)) is None and cache.misses == 1


RACER = textwrap.dedent("""
    import hashlib, sys, time
    from voiceguide.store import Store
    store, writer, start = Store(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    while time.time() < start:
        pass
    for i in range(60):
        key = f"{i:04x}" * 16
        kept = store.put("speech", key, (writer * 5000).encode())
        print(key, kept[:1].decode())
""")


def test_two_processes_putting_the_same_keys_agree_on_one_entry(tmp_path):
    start = time.time() + 1.5                                  # both import first, then race
    procs = [subprocess.Popen([sys.executable, "-c", RACER, str(tmp_path), w, str(start)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
             for w in "AB"]
    outputs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        outputs.append(dict(line.split() for line in out.splitlines()))
    store = Store(tmp_path)
    assert outputs[0].keys() == outputs[1].keys() and len(outputs[0]) == 60
    for key, kept in outputs[0].items():
        assert kept == outputs[1][key]                         # both went on with the same bytes
        assert store.get(SPEECH, key) == (kept * 5000).encode()
    assert not list(tmp_path.rglob("*.tmp"))


def test_info_and_clear_cover_every_kind_and_old_formats(tmp_path):
    store = Store(tmp_path)
    request = Request("piper", "joe", 1.0, "Breathe in.", "1")
    SpeechCache(store).put(request, Speech(np.full(2205, 0.1, np.float32), 22050, "piper", "joe"))
    clips = ClipStore(store)
    clips.put(ClipStore.key(np.ones(10, np.float32), 22050, 44100, -20.0), np.zeros(100, np.float32))
    StartCache(store).put(StartCache.key("start"), head=np.zeros(10, np.float32))
    store.put(VOICES, KEY, b'{"d1": 2.5}')
    (tmp_path / "speech" / "ab").mkdir(parents=True, exist_ok=True)
    (tmp_path / "speech" / "ab" / f"{KEY}.seg").write_bytes(b"an entry of an earlier version")
    (tmp_path / "play" / f"{KEY}.npz").write_bytes(b"an earlier start entry")
    (tmp_path / "speech" / "notes.txt").write_text("not ours")
    (tmp_path / "keep.txt").write_text("not ours either")
    before = usage(tmp_path)
    assert {k: u.entries for k, u in before.items()} == {SPEECH: 2, CLIPS: 1, STARTS: 2, VOICES: 1}
    assert before[SPEECH].bytes > 2205 * 4 and before[CLIPS].path == tmp_path / "clips"
    assert clear_all(tmp_path) == {SPEECH: 2, CLIPS: 1, STARTS: 2, VOICES: 1}
    assert all(u.entries == 0 and u.bytes == 0 for u in usage(tmp_path).values())
    assert (tmp_path / "speech" / "notes.txt").exists() and (tmp_path / "keep.txt").exists()
    assert not any((tmp_path / kind).exists() for kind in ("clips", "play", "voices"))


def test_an_unwritable_folder_warns_once_and_hands_the_payload_back(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    store = Store(blocker)
    with pytest.warns(RuntimeWarning, match="could not write to the clips cache"):
        assert store.put(CLIPS, KEY, b"data") == b"data"
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert store.put(SPEECH, KEY, b"more") == b"more"       # said once per folder
    assert store.get(CLIPS, KEY) is None


def test_a_writer_outlasts_a_clear_that_keeps_taking_its_folder(tmp_path, monkeypatch):
    """`cache clear` in another process removes the empty shard folder between the writer's
    mkdir and its temp file, again and again on a loaded machine (CI saw five in a row): the
    writer makes the folder again each time, and the entry is written without a warning."""
    import shutil
    import tempfile
    import warnings

    real_mkstemp, lost = tempfile.mkstemp, []

    def folder_taken(*args, **kwargs):
        if len(lost) < 12:                  # the clear wins twelve races in a row
            lost.append(kwargs["dir"])
            shutil.rmtree(kwargs["dir"])
            return real_mkstemp(*args, **kwargs)     # FileNotFoundError, as a real race gives
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(store_module.tempfile, "mkstemp", folder_taken)
    store = Store(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert store.put(SPEECH, KEY, b"payload") == b"payload"
    assert len(lost) == 12 and store.get(SPEECH, KEY) == b"payload"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(("." * node.level) + (node.module or ""))
    return names


def test_the_store_is_support_and_only_faces_find_its_folder():
    package = ROOT / "voiceguide"
    allowed = {".", ".errors", ".tempfiles", "__future__"}
    for name in _imports(package / "store.py"):
        assert name in allowed or (not name.startswith(".") and name.split(".")[0] in sys.stdlib_module_names), name
    faces = {package / "cachedir.py"} | set((package / "cli").rglob("*.py")) | set((package / "batch").rglob("*.py")) \
        | set((package / "studio").rglob("*.py"))
    for file in package.rglob("*.py"):
        if file in faces:
            continue
        tree = ast.parse(file.read_text())
        strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        assert "VOICEGUIDE_CACHE_DIR" not in strings, file            # reads the environment
        assert not any(name.endswith("cachedir") for name in _imports(file)), file
    assert store_module.NAMESPACES == (SPEECH, CLIPS, STARTS, VOICES)
