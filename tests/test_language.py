"""The language a routine is written in: its voice, its numbers, its side words and cues.

`language = "de"` in the front matter picks a voice that speaks German (an added piper voice,
else espeak-ng's), spells numbers and durations in German, and says the words voiceguide adds
(`{side}`, a `{sides}` heading's suffix, the breathing cues, `[caution]`'s lead-in) from the
language's phrase table. English stays exactly as it was.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings as hypothesis_settings, strategies as st

from voiceguide import api
from voiceguide.errors import SettingError
from voiceguide.cli import main
from voiceguide.export.tags import chapters_from_timeline, read_chapters
from voiceguide.script import phrases
from voiceguide.script.parse import RoutineError, parse_routine
from voiceguide.timeline import BREATHE_IN_CUE, BREATHE_OUT_CUE, plan, spoken_texts
from voiceguide.voices import Narrator, resample
from voiceguide.voices.base import Speech, VoiceInfo
from voiceguide.voices.cache import SpeechCache
from voiceguide.voices.dsp import read_audio
from voiceguide.voices.language import NoVoiceForLanguage, best_voice
from voiceguide.voices.normalize import normalize
from support.voices import joe_as_german

GERMAN = """\
+++
title = "Handmassage"
language = "de"
caution = "Bei Schmerzen in den Gelenken lass diese Übung aus."
+++

[caution]

# Hand {sides}

Massiere die Hand {side} 30s lang, dann die {other} 2m lang.

[breathe 2 in 3s out 4s]

# Ruhe

Ruhe 1m30s. Halte 1s.
"""


def german(tmp_path: Path, text: str = GERMAN) -> Path:
    path = tmp_path / "hand.routine.md"
    path.write_text(text, encoding="utf-8")
    return path


# -- the phrase tables ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "de", "es", "fr"])
def test_every_shipped_table_is_complete(language):
    table = phrases.PHRASES[language]
    assert phrases.missing(language) == []
    assert set(table) == set(phrases.ENGLISH)
    assert set(table["units"]) == {"h", "m", "s", "ms"}
    for one, several, gender in table["units"].values():
        assert one and several and one != several and gender in ("", "m", "f")
    assert set(table["unit_abbreviations"].values()) <= set(table["units"])
    assert all(isinstance(table[k], str) and table[k].strip(" " if k != "thousands" else "") for k in table
               if k not in ("units", "unit_abbreviations", "one", "abbreviations"))   # French groups with a space
    assert table["breathe_in"].endswith(".") and table["breathe_out"].endswith(".")
    assert "{n}" in table["times"]


def test_a_tag_finds_its_language_table():
    assert phrases.lookup("de-AT") is phrases.PHRASES["de"]
    assert phrases.lookup("fr_CA") is phrases.PHRASES["fr"]
    assert phrases.lookup("xx") is None
    assert phrases.breathe_cues("en") == (BREATHE_IN_CUE, BREATHE_OUT_CUE) == ("Breathe in.", "And out.")
    assert phrases.breathe_cues("de") == ("Einatmen.", "Und ausatmen.")


# -- numbers and durations -----------------------------------------------------------------------


@pytest.mark.parametrize("language, text, spoken", [
    ("de", "Halte 30s.", "Halte dreißig Sekunden."),
    ("de", "Ruhe 2m, dann 1m30s.", "Ruhe zwei Minuten, dann eine Minute dreißig Sekunden."),
    ("de", "Halte 1s, 1h, 21s.", "Halte eine Sekunde, eine Stunde, einundzwanzig Sekunden."),
    ("de", "Wiederhole 5-10 Mal, 30-60s lang.", "Wiederhole fünf bis zehn Mal, dreißig bis sechzig Sekunden lang."),
    ("de", "Zähle bis 1.250, nimm 2,5 ml.", "Zähle bis eintausendzweihundertfünfzig, nimm zwei Komma fünf ml."),
    ("de", "Warte 5 Min. dann 10x, 50% & 20°.", "Warte fünf Minuten dann zehn Mal, fünfzig Prozent und zwanzig Grad."),
    ("de", "Öl, z.B. Mandel, usw.", "Öl, zum Beispiel Mandel, und so weiter."),
    ("es", "Mantén 30s y luego 1m.", "Mantén treinta segundos y luego un minuto."),
    ("es", "Descansa 1h, 21m, 21h.", "Descansa una hora, veintiún minutos, veintiuna horas."),
    ("es", "Cuenta hasta 1.250, p. ej. 2,5.", "Cuenta hasta mil doscientos cincuenta, por ejemplo dos coma cinco."),
    ("fr", "Tenez 30s, puis 1m.", "Tenez trente secondes, puis une minute."),
    ("fr", "Comptez 21s et 1 250 fois.", "Comptez vingt et une secondes et mille deux cent cinquante fois."),
    ("fr", "Répétez 5-10x, gauche/droite.", "Répétez cinq à dix fois, gauche ou droite."),
])
def test_numbers_and_durations_in_the_language(language, text, spoken):
    assert normalize(text, language=language) == spoken


@pytest.mark.parametrize("text", ["Hold for 30s.", "Rest 1m30s, then 2m more.", "Count to 1,250.",
                                  "The 21st and 100th time, e.g. 50% & 2.5 ml.", "Stretch 5-10 times."])
def test_english_is_spoken_as_before_whatever_its_region(text):
    assert normalize(text, language="en") == normalize(text) == normalize(text, language="en-GB")


@hypothesis_settings(max_examples=60, deadline=None)
@given(st.sampled_from(["de", "es", "fr"]), st.lists(st.integers(0, 10**13), min_size=1, max_size=4),
       st.sampled_from(["s", "m", "h", "ms", "x", "%", "°", " Min.", ",5", ".5", "-3", "-3s"]))
def test_no_digits_survive_in_any_language(language, numbers, suffix):
    text = "Ja " + ", ".join(f"{n}{suffix}" for n in numbers) + " gut."
    assert not re.search(r"\d", normalize(text, language=language))


# -- the words voiceguide adds -------------------------------------------------------------------


def test_side_words_titles_and_caution_in_german():
    routine = parse_routine(GERMAN, "hand.routine.md")
    hands = [s for s in routine.sections if s.side]
    assert [(s.title, s.side) for s in hands] == [("Hand, linke Seite", "left"), ("Hand, rechte Seite", "right")]
    said = [[step.text for step in s.steps if hasattr(step, "text")] for s in hands]
    assert said[0] == ["Hand, linke Seite.", "Massiere die Hand links 30s lang, dann die rechts 2m lang."]
    assert said[1] == ["Hand, rechte Seite.", "Massiere die Hand rechts 30s lang, dann die links 2m lang."]
    caution = routine.sections[0].steps[0]
    assert caution.text == ("Bevor wir beginnen, ein Wort zur Vorsicht. "
                            "Bei Schmerzen in den Gelenken lass diese Übung aus.")


@pytest.mark.parametrize("language, left_title, left_word", [
    ("en", "Hand, left side", "left"), ("es", "Hand, lado izquierdo", "izquierdo"),
    ("fr", "Hand, côté gauche", "gauche"),
])
def test_side_words_in_other_languages(language, left_title, left_word):
    text = f'+++\ntitle = "T"\nlanguage = "{language}"\n+++\n# Hand {{sides}}\n\nX {{side}} Y {{other}}.\n'
    left = parse_routine(text, "t.routine.md").sections[0]
    words = phrases.PHRASES[language]
    assert left.title == left_title and left.side == "left"
    assert left.steps[1].text == f"X {left_word} Y {words['right']}."


def test_caution_needs_a_caution_and_no_arguments():
    text = '+++\ntitle = "T"\n+++\n\nHello.\n\n[caution]\n\nAgain. [caution now]\n'
    with pytest.raises(RoutineError) as info:
        parse_routine(text, "t.routine.md")
    assert [str(p) for p in info.value.problems] == [
        "t.routine.md:7: [caution] speaks the front matter's caution, and this routine has none: "
        'add caution = "..."',
        "t.routine.md:9: [caution now]: [caution] takes no arguments (it speaks the front matter's caution)"]


def test_english_caution_lead_in():
    text = '+++\ntitle = "T"\ncaution = "Skip it if your wrists hurt."\n+++\n[caution]\n'
    step = parse_routine(text, "t.routine.md").steps[0]
    assert step.text == "Before we begin, a word of care. Skip it if your wrists hurt." and step.line == 5


def test_a_language_without_phrases_is_refused_at_its_line():
    text = '+++\ntitle = "T"\n\nlanguage = "it"\n+++\nCiao.\n'
    with pytest.raises(RoutineError) as info:
        parse_routine(text, "t.routine.md")
    (problem,) = info.value.problems
    assert problem.line == 4 and 'language "it": voiceguide has no phrases for it yet' in problem.message


def test_the_timeline_speaks_the_languages_cues():
    timeline = plan(parse_routine(GERMAN, "hand.routine.md"))
    assert timeline.language == "de" and timeline.cues == ("Einatmen.", "Und ausatmen.")
    assert [e.text for e in timeline.events if e.kind == "breathe"] == ["2 Atemzüge"] * 2   # as plan shows it
    texts = spoken_texts(timeline)
    assert "Einatmen." in texts and "Und ausatmen." in texts and BREATHE_IN_CUE not in texts
    assert timeline.sections[0].title == "Einleitung"        # text before any heading
    english = plan(parse_routine('+++\ntitle = "T"\n+++\nHi.\n\n[breathe 1]\n', "t.routine.md"))
    assert english.cues == (BREATHE_IN_CUE, BREATHE_OUT_CUE) and english.sections[0].title == "Introduction"


# -- picking the voice ---------------------------------------------------------------------------


def test_best_voice_prefers_the_exact_tag_then_the_plain_language():
    voices = [VoiceInfo(name, lang, "x") for name, lang in [
        ("roa/fr-be", "fr-be"), ("roa/fr", "fr-fr"), ("gmw/de", "de"), ("roa/pt", "pt"), ("roa/pt-br", "pt-br"),
        ("de_DE-thorsten", "de_DE")]]
    assert best_voice(voices, "fr").name == "roa/fr"
    assert best_voice(voices, "fr-BE").name == "roa/fr-be"
    assert best_voice(voices, "pt-BR").name == "roa/pt-br"
    assert best_voice(voices, "de").name == "gmw/de"
    assert best_voice(voices, "de-DE").name == "de_DE-thorsten"
    assert best_voice(voices, "de-AT").name == "gmw/de"
    assert best_voice(voices, "xx") is None


def test_an_added_piper_voice_for_the_language_comes_before_espeak(tmp_path, monkeypatch):
    """Its config names its language; joe's weights stand in for a German model (nothing is
    synthesized: the narrator only picks)."""
    from voiceguide.voices.piper_engine import PiperEngine
    if not PiperEngine().available():
        pytest.skip("piper is not installed here")
    joe_as_german(tmp_path / "voices")
    monkeypatch.setenv("VOICEGUIDE_VOICE_DIR", str(tmp_path / "voices"))
    with Narrator(language="de", cache=None, jobs=1) as narrator:
        assert (narrator.engine.name, narrator.voice) == ("piper", "de_DE-probe-medium")
    with Narrator(engine="pyttsx3", language="de", cache=None, jobs=1) as narrator:
        assert (narrator.engine.name, narrator.voice) == ("pyttsx3", "gmw/de")
    with Narrator(language="de", voice="joe", cache=None, jobs=1) as narrator:     # a named voice wins
        assert (narrator.engine.name, narrator.voice) == ("piper", "joe")
    with Narrator(language="en", cache=None, jobs=1) as narrator:                  # English as before
        assert (narrator.engine.name, narrator.voice) == ("piper", "default")


def test_no_voice_for_the_language_says_what_to_install():
    with pytest.raises(NoVoiceForLanguage) as info:
        Narrator(engine="pyttsx3", language="tlh", cache=None, jobs=1)
    assert str(info.value) == """language "tlh": no voice speaks it; install espeak-ng's tlh voice"""


# -- a German session, rendered ------------------------------------------------------------------


def _correlation(mixed: np.ndarray, clip: np.ndarray, around: int, search: int) -> float:
    """The best normalized correlation of `clip` with `mixed` starting within `search` frames
    of `around` (the mix levels, fades and masters the clip, which keeps its shape)."""
    best = 0.0
    clip = clip - clip.mean()
    for start in range(max(0, around - search), around + search):
        part = mixed[start:start + len(clip)]
        if len(part) < len(clip):
            break
        part = part - part.mean()
        denominator = np.linalg.norm(part) * np.linalg.norm(clip)
        if denominator:
            best = max(best, float(part @ clip / denominator))
    return best


def test_a_german_routine_renders_with_espeaks_german_voice(tmp_path):
    store = tmp_path / "store"
    out = tmp_path / "hand.wav"
    options = dict(engine="pyttsx3", ambient="none", chime="none", mono=True, sample_rate=22050)
    result = api.render(german(tmp_path), out, transcripts=("vtt", "txt"), cache_dir=store, jobs=2, **options)

    # What the narrator spoke: German words for numbers and durations, with espeak's German voice.
    cache = SpeechCache(store)
    with Narrator(engine="pyttsx3", language="de", cache=store, jobs=1) as narrator:
        assert narrator.voice == "gmw/de"
        for sentence, spoken in [
            ("Massiere die Hand links 30s lang, dann die rechts 2m lang.",
             "Massiere die Hand links dreißig Sekunden lang, dann die rechts zwei Minuten lang."),
            ("Ruhe 1m30s.", "Ruhe eine Minute dreißig Sekunden."),
            ("Halte 1s.", "Halte eine Sekunde."),
            ("Einatmen.", "Einatmen."),
        ]:
            request = narrator.request(sentence, 1.0)
            assert (request.voice, request.text) == ("gmw/de", spoken)
            assert cache.get(request) is not None, sentence        # the render synthesized exactly this
        cue = narrator.speech("Einatmen.", 1.0)

    # The transcript and the chapters: German side words, titles and cues.
    vtt = (tmp_path / "hand.vtt").read_text(encoding="utf-8")
    assert "NOTE Section: Hand, linke Seite" in vtt and "NOTE Section: Hand, rechte Seite" in vtt
    assert "Massiere die Hand links 30s lang, dann die rechts 2m lang." in vtt
    assert vtt.count("\nEinatmen.\n") == 4 and vtt.count("\nUnd ausatmen.\n") == 4
    assert "Breathe in." not in vtt and "left" not in vtt
    txt = (tmp_path / "hand.txt").read_text(encoding="utf-8")
    assert "Bevor wir beginnen, ein Wort zur Vorsicht." in txt
    assert "(2 Atemzüge: Einatmen. 3s, Und ausatmen. 4s)" in txt and "breaths" not in txt   # markers too
    titles = [c.title for c in chapters_from_timeline(result.timeline)]
    assert titles == ["Einleitung", "Hand, linke Seite", "Hand, rechte Seite", "Ruhe"]

    # The audio: each inhale starts with espeak's German "Einatmen." (measured by correlation).
    samples, rate = read_audio(out)
    assert rate == 22050
    mixed = samples if samples.ndim == 1 else samples.mean(axis=1)
    clip = resample(Speech(cue.samples, cue.sample_rate), rate).samples[: rate // 2]
    breathe = next(e for e in result.timeline.events if e.kind == "breathe")
    starts = [breathe.start, breathe.start + 7.0]            # in 3s + out 4s
    for start in starts:
        assert _correlation(mixed, clip, int(start * rate), rate // 20) > 0.9
    assert _correlation(mixed, clip, int((breathe.start + 3.0) * rate), rate // 20) < 0.6   # "Und ausatmen." there

    # A warm render of the same session into a file with chapters carries the German titles.
    m4b = tmp_path / "hand.m4b"
    api.render(german(tmp_path), m4b, cache_dir=store, jobs=1, **{**options, "mono": False, "sample_rate": 44100})
    assert [c.title for c in read_chapters(m4b)] == titles


# -- the command line ----------------------------------------------------------------------------


def test_a_language_no_voice_speaks_fails_with_one_line(tmp_path, monkeypatch):
    """A language with phrases (here a copy of German's under "xx") but no voice at all."""
    monkeypatch.setitem(phrases.PHRASES, "xx", dict(phrases.PHRASES["de"]))
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(tmp_path / "cache"))
    routine = german(tmp_path, GERMAN.replace('language = "de"', 'language = "xx"'))
    result = CliRunner().invoke(main, ["render", str(routine), "-o", str(tmp_path / "x.wav"), "--ambient", "none"])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert lines == [f"""{routine}:3: language "xx": no voice speaks it; add a piper voice for it """
                     """(voiceguide voices add MODEL.onnx) or install espeak-ng's xx voice"""]
    assert "Traceback" not in result.output and not (tmp_path / "x.wav").exists()
    checked = CliRunner().invoke(main, ["validate", str(routine)])       # validate knows it too
    assert checked.exit_code == 2 and checked.output.strip() == lines[0]


def test_a_voice_the_front_matter_names_is_checked_at_its_line(tmp_path):
    routine = tmp_path / "v.routine.md"
    routine.write_text('+++\ntitle = "T"\nvoice = "nobody"\n+++\nHello there.\n', encoding="utf-8")
    for command in (["validate", str(routine)], ["render", str(routine), "-o", str(tmp_path / "v.wav")]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2, result.output
        assert result.output.startswith(f"{routine}:3: voice: no engine has a voice 'nobody' ("), result.output
        assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    given = CliRunner().invoke(main, ["render", str(routine), "-o", str(tmp_path / "v.wav"), "--voice", "noone"])
    assert given.exit_code == 2 and given.output.startswith("no engine has a voice 'noone'"), given.output
    assert not (tmp_path / "v.wav").exists()


def test_a_language_option_cannot_translate_a_routine(tmp_path):
    """The CLI offers no --language (front matter only), and the library, which takes any
    setting, refuses one that differs from the routine's with one line."""
    result = CliRunner().invoke(main, ["render", str(german(tmp_path)), "-o", str(tmp_path / "x.wav"),
                                       "--language", "fr"])
    assert result.exit_code == 2 and "No such option '--language'" in result.output
    with pytest.raises(SettingError) as info:
        api.validate(api.load(german(tmp_path)), language="fr")
    assert str(info.value) == ('language: "fr" is not the language the routine is written in ("de"); a routine '
                               'says its language in its front matter: language = "..."')
    assert not (tmp_path / "x.wav").exists()


