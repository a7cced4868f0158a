"""One table of settings: every face is derived from it, and values are resolved once."""
from __future__ import annotations

import click
import pytest

from voiceguide import settings
from voiceguide.batch.options import OPTIONS as MANIFEST_OPTIONS
from voiceguide.cli import main
from voiceguide.errors import SettingError
from voiceguide.export.formats import FORMATS as ENCODERS
from voiceguide.script.front import KEYS as FRONT_KEYS
from voiceguide.script.parse import RoutineError, parse_routine
from voiceguide.voices.registry import PREFERENCE, engine_names


def options_of(command: str) -> dict[str, click.Option]:
    return {p.name: p for p in main.commands[command].params if isinstance(p, click.Option)}


@pytest.mark.parametrize("face, command", [("render", "render"), ("play", "play"), ("batch", "batch"),
                                           ("plan", "plan")])
def test_each_command_offers_exactly_its_faces_settings_with_the_schemas_help(face, command):
    options = options_of(command)
    offered = dict(settings.offered(face))
    assert offered, face
    for name, spec in offered.items():
        option = options[name]
        assert option.opts == [settings.cli_flag(name)]
        assert option.help.startswith(spec.help_for(face).rstrip(".")), name
        if spec.kind in ("number", "integer"):
            assert spec.describe_range() in option.help
    schema_options = {name for name in options if name in settings.SCHEMA}
    assert schema_options == set(offered)


def test_manifests_and_front_matter_take_the_schemas_settings():
    assert set(MANIFEST_OPTIONS) == {name for name, _ in settings.offered("batch")}
    front = {name for name, spec in settings.SCHEMA.items() if spec.front_matter}
    assert front and front <= set(FRONT_KEYS)
    assert set(FRONT_KEYS) - front == {"title", "description", "suits", "caution", "pronounce"}


def test_choices_are_the_encoders_and_engines_themselves():
    assert tuple(ENCODERS) == settings.FORMATS
    assert engine_names() == list(settings.ENGINES) and set(PREFERENCE) < set(settings.ENGINES)


def test_option_else_front_matter_else_default_once():
    chosen = settings.resolve({"speed": 0.8, "voice": None}, {"speed": 1.2, "voice": "joe", "ambient": "none"})
    assert (chosen.speed, chosen.voice, chosen.ambient, chosen.chime) == (0.8, "joe", "none", "bowl")
    assert chosen.origin["speed"] == "option" and chosen.from_routine("voice") and chosen.origin["chime"] == "default"
    assert chosen.given("speed") and not chosen.given("voice")
    again = chosen.changed(speed=1.0)
    assert again.speed == 1.0 and chosen.speed == 0.8          # frozen: a copy


def test_a_routines_front_matter_flows_into_its_settings():
    routine = parse_routine('+++\ntitle = "T"\nspeed = 0.9\nlength = "3m"\nengine = "espeak"\n+++\nHello.\n', "r.md")
    assert routine.meta.settings == {"speed": 0.9, "length": 180.0, "engine": "pyttsx3"}
    assert routine.meta.speed == 0.9 and routine.meta.ambient == "brown"     # unset: the default
    assert settings.resolve({}, routine.meta.settings).length == 180.0


@pytest.mark.parametrize("name, value, says", [
    ("speed", 3, "speed: 3 is out of range (0.5 to 2)"),
    ("speed", "fast", "speed: must be a number from 0.5 to 2"),
    ("ambient_volume", 6, "ambient_volume: 6 is out of range (-60 to 0 dB)"),
    ("length", 0, "length: must be longer than zero"),
    ("sleep", "nan", "sleep: bad duration"),
    ("engine", "pipr", "engine: unknown engine 'pipr' (choose from auto, piper, pyttsx3)"),
    ("format", "mp4a", "format: unknown format 'mp4a'"),
    ("sample_rate", 44100.5, "sample_rate: must be a whole number"),
    ("bells", "yes", "bells: must be true or false"),
    ("voice", "  ", "voice: must be a non-empty string"),
    ("volume", 1, "unknown setting 'volume'"),
])
def test_one_check_one_message_each_face_spells_the_name(name, value, says):
    with pytest.raises(SettingError) as info:
        settings.check(name, value)
    assert str(info.value).startswith(says)
    if name in settings.SCHEMA:
        assert info.value.spelled(settings.cli_flag).startswith(says.replace(name, settings.cli_flag(name), 1))


def test_the_same_check_in_the_front_matter_names_its_line():
    with pytest.raises(RoutineError) as info:
        parse_routine('+++\ntitle = "T"\n\nspeed = 3\n+++\nHello.\n', "r.md")
    assert str(info.value) == "r.md:4: speed: 3 is out of range (0.5 to 2)"


def test_the_studio_form_schema_has_every_render_setting_with_its_range():
    schema = settings.json_schema("render")
    assert set(schema["properties"]) == {name for name, _ in settings.offered("render")}
    speed = schema["properties"]["speed"]
    assert (speed["minimum"], speed["maximum"], speed["default"]) == (0.5, 2.0, 1.0)
    assert schema["properties"]["engine"]["enum"] == list(settings.ENGINES)
    assert "null" in schema["properties"]["length"]["type"]


def test_settings_and_the_cli_import_no_numpy():
    """The schema is numpy-free, and the CLI starts without the audio stack: a Ctrl-C while
    the command starts must meet the CLI's handlers, not an import of numpy or ffmpeg."""
    import subprocess
    import sys
    code = "import sys, voiceguide.settings, voiceguide.script.parse, voiceguide.cli; print('numpy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


@pytest.mark.parametrize("value, canonical, glide", [
    ("10", "10", (10.0, 10.0)), (6, "6", (6.0, 6.0)), (" 6 > 3 ", "6>3", (6.0, 3.0)),
    ("none", "none", None), ("OFF", "none", None), ("2.5>40", "2.5>40", (2.5, 40.0)),
])
def test_beat_is_one_rate_or_a_glide(value, canonical, glide):
    assert settings.check("beat", value) == canonical
    assert settings.beat_glide(canonical) == glide


@pytest.mark.parametrize("value, says", [
    ("100", "beat: 100 Hz is out of range (0.5 to 40 Hz)"),
    ("6>", 'beat: "" is not a number of Hz'),
    ("fast", 'beat: "fast" is not a number of Hz'),
    ("0.1>4", "beat: 0.1 Hz is out of range"),
])
def test_a_bad_beat_says_what_is_wrong(value, says):
    with pytest.raises(SettingError) as info:
        settings.check("beat", value)
    assert str(info.value).startswith(says)


@pytest.mark.parametrize("value, canonical", [("de", "de"), ("pt_br", "pt-BR"), ("EN-gb", "en-GB"),
                                              ("zh-Hans", "zh-Hans"), ("cmn", "cmn")])
def test_language_takes_a_tag_in_its_usual_spelling(value, canonical):
    assert settings.check("language", value) == canonical


@pytest.mark.parametrize("value", ["german", "d", "de--x", "de de", "12"])
def test_language_refuses_what_is_not_a_tag(value):
    with pytest.raises(SettingError, match="is not a language tag"):
        settings.check("language", value)
