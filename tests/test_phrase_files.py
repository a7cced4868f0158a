"""A language people add without touching the package: a TOML phrase table in voiceguide's
data folder (script/phrasefiles.py, docs/voices.md "Adding a language"). The Italian table
used here is the one in the docs, read from docs/voices.md so the docs stay true."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from voiceguide import api
from voiceguide.cli import main
from voiceguide.export.sidecars import txt
from voiceguide.script import phrasefiles, phrases
from voiceguide.script.parse import RoutineError, parse_routine
from voiceguide.timeline import plan
from voiceguide.voices import Narrator
from voiceguide.voices.normalize import normalize

DOCS = Path(__file__).resolve().parents[1] / "docs" / "voices.md"
ITALIAN = re.search(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S).group(1)

ROUTINE = """+++
title = "Mani"

language = "it"
caution = "Se il polso fa male, salta questo passo."
+++

[caution]

# Mano {sides}

Massaggia il palmo {side} 30s, poi il {other} 1m.

[breathe 2 in 3s out 4s]

# Riposo

Riposa. [hold 5s]
"""


@pytest.fixture()
def data_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "data"
    (folder / "phrases").mkdir(parents=True)
    monkeypatch.setenv("VOICEGUIDE_DATA_DIR", str(folder))
    return folder


def add_table(data_dir: Path, text: str = ITALIAN, tag: str = "it") -> Path:
    path = data_dir / "phrases" / f"{tag}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problem_of(text: str) -> tuple[int, str]:
    with pytest.raises(RoutineError) as info:
        parse_routine(text, "mani.routine.md")
    (problem,) = info.value.problems
    return problem.line, problem.message


def test_the_docs_italian_table_is_complete_and_used_for_every_tag_of_it(data_dir):
    add_table(data_dir)
    table = phrases.lookup("it")
    assert table is not None and set(table) == set(phrases.ENGLISH)
    assert table["units"]["m"] == ("minuto", "minuti", "m")
    assert phrases.lookup("it-CH") == table and phrases.lookup("it_IT") == table
    routine = parse_routine(ROUTINE, "mani.routine.md")
    titles = [s.title for s in routine.sections]
    assert titles[1:] == ["Mano, lato sinistro", "Mano, lato destro", "Riposo"]
    said = [s.text for s in routine.steps if hasattr(s, "text")]
    assert said[0] == "Prima di cominciare, una parola di prudenza. Se il polso fa male, salta questo passo."
    assert "Massaggia il palmo sinistro 30s, poi il destro 1m." in said


def test_numbers_cues_and_transcript_markers_come_from_the_file(data_dir):
    add_table(data_dir)
    assert normalize("Massaggia il palmo 30s.", language="it") == "Massaggia il palmo trenta secondi."
    assert normalize("Poi 1m, 21s.", language="it") == "Poi un minuto, ventun secondi."   # ventuno drops its o before a noun, as in Italian
    timeline = plan(parse_routine(ROUTINE, "mani.routine.md"))
    assert timeline.cues == ("Inspira.", "Ed espira.")
    transcript = txt(timeline)
    assert "(2 respiri: Inspira. 3s, Ed espira. 4s)" in transcript and "(tieni 5s)" in transcript
    assert "breaths" not in transcript and "(hold" not in transcript


def test_an_italian_routine_renders_with_espeaks_italian_voice(data_dir, tmp_path, monkeypatch):
    add_table(data_dir)
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(tmp_path / "cache"))
    routine = tmp_path / "mani.routine.md"
    routine.write_text(ROUTINE, encoding="utf-8")
    out = tmp_path / "mani.wav"
    result = CliRunner().invoke(main, ["render", str(routine), "-o", str(out), "--engine", "pyttsx3",
                                       "--ambient", "none", "--mono", "--transcript", "txt"])
    assert result.exit_code == 0, result.output
    assert "(tieni 5s)" in (tmp_path / "mani.txt").read_text(encoding="utf-8")
    with Narrator(engine="pyttsx3", language="it", cache=tmp_path / "cache", jobs=1) as narrator:
        assert narrator.voice == "roa/it"
        request = narrator.request("Massaggia il palmo sinistro 30s, poi il destro 1m.", 1.0)
        assert request.text == "Massaggia il palmo sinistro trenta secondi, poi il destro un minuto."
    assert api.load(routine).meta.language == "it" and out.stat().st_size > 22050


def test_an_added_table_wins_over_the_shipped_one(data_dir):
    german = dict(phrases.PHRASES["de"])
    lines = [f"{key} = {_toml(value)}" for key, value in german.items() if not isinstance(value, dict)]
    tables = [f"[{key}]\n" + "\n".join(f'"{k}" = {_toml(v)}' for k, v in value.items())
              for key, value in german.items() if isinstance(value, dict)]
    text = "\n".join(lines) + "\n" + "\n".join(tables) + "\n"
    add_table(data_dir, text.replace('breathe_in = "Einatmen."', 'breathe_in = "Tief einatmen."'), "de")
    assert phrases.breathe_cues("de-AT") == ("Tief einatmen.", "Und ausatmen.")
    assert phrases.lookup("en") is phrases.ENGLISH            # other languages as shipped


def _toml(value) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "[" + ", ".join(_toml(v) for v in value) + "]"


@pytest.mark.parametrize("change, fault", [
    (lambda t: t.replace('introduction = "Introduzione"\n', ""), "missing key 'introduction'"),
    (lambda t: t.replace("breathe_out =", "breath_out ="), "missing key 'breathe_out'; unknown key 'breath_out'"),
    (lambda t: t.replace('times = "{n} volte"', 'times = "volte"'), "'times' must say where {n} goes"),
    (lambda t: t.replace('m = ["minuto", "minuti", "m"]', 'm = ["minuto", "minuti"]'), "'units' 'm' must be [one, several, gender]"),
    (lambda t: t.replace('numbers = "it"', 'numbers = "xx"'), "'numbers' 'xx' is not a language num2words knows"),
    (lambda t: t.replace('numbers = "it"', 'numbers = ["it"]'), "'numbers' must be a text"),
    (lambda t: t.replace('times = "{n} volte"', 'times = "{n} volte {x}"'), "'times' may hold no braces but {n}"),
    (lambda t: t.replace('"ecc." = "eccetera"', '"" = "eccetera"'), "'abbreviations' must be a table of words to words"),
    (lambda t: t.replace('sec = "s"', 'Sec = "s"'), "'unit_abbreviations' must map lowercase abbreviations"),
    (lambda t: t.replace('sec = "s"', 'sec = "sec"'), "(not sec = 'sec')"),
    (lambda t: t.replace('left = "sinistro"', 'left = "  "'), "'left' must be a text"),
])
def test_a_faulty_table_stops_the_routine_at_its_language_line(data_dir, change, fault):
    path = add_table(data_dir, change(ITALIAN))
    line, message = problem_of(ROUTINE)
    assert line == 4
    assert message.startswith(f'language "it": {path}: ') and fault in message, message


def test_a_toml_mistake_names_the_files_line(data_dir, tmp_path):
    path = add_table(data_dir, ITALIAN.replace('right = "destro"', 'right = destro'))
    line, message = problem_of(ROUTINE)
    expected_line = ITALIAN.splitlines().index('right = "destro"') + 1
    assert line == 4 and message.startswith(f'language "it": {path}:{expected_line}: '), message
    routine = tmp_path / "mani.routine.md"
    routine.write_text(ROUTINE, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(routine)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{routine}:4: language \"it\": {path}:{expected_line}: " in result.output


def test_without_a_table_the_error_names_the_file_to_write(data_dir):
    line, message = problem_of(ROUTINE)
    assert line == 4 and message.startswith('language "it": voiceguide has no phrases for it yet')
    assert f"write its table to {data_dir / 'phrases' / 'it.toml'}" in message


def test_voices_languages_lists_shipped_added_and_broken_tables(data_dir):
    add_table(data_dir)
    broken = add_table(data_dir, "name = 'Esperanto'\n", "eo")
    result = CliRunner().invoke(main, ["voices", "languages"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "de  German (shipped)" in lines and f"it  Italian (added: {data_dir / 'phrases' / 'it.toml'})" in lines
    assert any(line.startswith(f"eo  cannot be used: {broken}: missing key 'left'") for line in lines), lines
    assert lines[-1] == f"add a language: write its table to {data_dir / 'phrases'}/TAG.toml"
    listing = json.loads(CliRunner().invoke(main, ["voices", "languages", "--json"]).output)
    assert [e["tag"] for e in listing] == ["de", "en", "eo", "es", "fr", "it"]
    assert "error" in listing[2] and listing[5] == {"tag": "it", "name": "Italian",
                                                     "source": str(data_dir / "phrases" / "it.toml")}


def test_a_table_may_leave_the_later_keys_to_english(data_dir):
    without = "\n".join(line for line in ITALIAN.splitlines() if not line.startswith("marker_")) + "\n"
    add_table(data_dir, without)
    assert phrases.lookup("it")["marker_hold"] == "hold" and phrases.lookup("it")["breathe_in"] == "Inspira."
    assert "(hold 5s)" in txt(plan(parse_routine(ROUTINE, "mani.routine.md")))
    line = next(line for line in CliRunner().invoke(main, ["voices", "languages"]).output.splitlines()
                if line.startswith("it "))
    assert line.endswith("; in English: marker_breaths, marker_chime, marker_hold, marker_wait)"), line


def test_a_file_named_otherwise_than_its_tag_is_listed_as_unused(data_dir):
    add_table(data_dir, tag="pt-BR")
    assert phrases.lookup("pt-BR") is None
    entry = next(e for e in phrases.languages() if e["tag"] == "pt-br")
    assert "rename it pt-br.toml" in entry["error"]


def test_english_keeps_its_number_rules_whatever_its_table(data_dir):
    """A user's en.toml rewords what voiceguide adds, never how English numbers are said, so
    English speech and its cache keys stay as they were."""
    before = [normalize(t, language="en") for t in ("2nd round, 30s.", "Dr. Smith, 1-2m.", "e.g. 3x")]
    text = (data_dir / "phrases" / "it.toml")
    add_table(data_dir, ITALIAN.replace('numbers = "it"', 'numbers = "en"'), "en")
    assert phrases.breathe_cues("en") == ("Inspira.", "Ed espira.")        # the table is used...
    assert [normalize(t, language="en") for t in ("2nd round, 30s.", "Dr. Smith, 1-2m.", "e.g. 3x")] == before
    assert not text.exists()


def test_a_broken_english_table_never_breaks_the_command_line(data_dir, tmp_path):
    broken = add_table(data_dir, 'name = "x"\n', "en")
    for command in (["--help"], ["voices", "languages"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    routine = tmp_path / "hands.routine.md"
    routine.write_text('+++\ntitle = "Hands"\n+++\nRest.\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(routine)])
    assert result.exit_code == 2 and f'{routine}:2: language "en": {broken}: missing key' in result.output


def test_a_table_broken_after_the_routine_was_read_is_one_line(data_dir, tmp_path):
    """Parsed with a good table, narrated after it broke: an error line, not a traceback."""
    from voiceguide.errors import VoiceguideError

    path = add_table(data_dir)
    routine = parse_routine(ROUTINE, "mani.routine.md")
    path.write_text(ITALIAN.replace('right = "destro"\n', ""), encoding="utf-8")
    with pytest.raises(VoiceguideError, match="missing key 'right'"):
        normalize("Massaggia il palmo 30s.", language="it")
    assert routine.meta.language == "it"


@pytest.mark.parametrize("tag", ["de", "fr", "en"])
def test_the_template_of_a_shipped_table_reads_back_as_that_table(data_dir, tag):
    result = CliRunner().invoke(main, ["voices", "languages", "--template", tag])
    assert result.exit_code == 0 and result.output.startswith(f'# Phrase table for "{tag}": save it as ')
    path = add_table(data_dir, result.output, tag)
    assert phrasefiles.load(path) == {k: v for k, v in phrases.PHRASES[tag].items()}


def test_a_template_for_a_new_language_is_english_to_translate(data_dir):
    result = CliRunner().invoke(main, ["voices", "languages", "--template", "it-CH"])
    assert result.exit_code == 0 and "Every value below is English: translate each one" in result.output
    path = add_table(data_dir, result.output, "it-ch")
    table = phrasefiles.load(path)
    assert table["name"] == "it-ch" and table["numbers"] == "it" and table["left"] == "left"
    assert normalize("30s.", language="it-CH") == "trenta seconds."      # numbers at once, words to translate
    refused = CliRunner().invoke(main, ["voices", "languages", "--template", "no such"])
    assert refused.exit_code == 2 and refused.output.strip() == '"no such" is not a language tag like "it" or "pt-BR"'
