"""The studio's remembered durations (studio/durations.py) follow what is actually spoken: a
sentence's measured duration is kept under the narrator's cache request, so editing the phrase
table that spells its numbers and units makes it unmeasured again, as `api.length` says."""
from __future__ import annotations

import re
from pathlib import Path

from voiceguide import api
from voiceguide.session import Resources, prepare
from voiceguide.studio.durations import Durations

from conftest import routine_text

DOCS = Path(__file__).resolve().parents[2] / "docs" / "voices.md"
ITALIAN = re.search(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S).group(1)
SENTENCE = "Massaggia il palmo 30s."


def test_an_edited_phrase_table_is_not_shown_as_measured(tmp_path, monkeypatch):
    table = tmp_path / "data" / "phrases" / "it.toml"
    table.parent.mkdir(parents=True)
    table.write_text(ITALIAN, encoding="utf-8")
    monkeypatch.setenv("VOICEGUIDE_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "mani.routine.md"
    path.write_text(routine_text(f"# Mano\n{SENTENCE}\n",
                                 'title = "Mani"\nlanguage = "it"\nambient = "none"\nchime = "none"\nengine = "pyttsx3"'))
    routine = api.load(path)
    store = tmp_path / "store"
    with prepare(routine, api.settings(routine), Resources(store, jobs=1)) as prepared:
        spoken = [e.duration for e in prepared.timeline.events if e.text == SENTENCE]
    durations = Durations(store)
    for _ in range(2):          # measured, the second time from what it remembered
        before = durations.length(routine, api.settings(routine))
        assert before.measured
        assert [e.duration for e in before.timeline.events if e.text == SENTENCE] == spoken

    # "30s" is now said "trenta secondi lenti": another sentence, never spoken, so estimated.
    table.write_text(ITALIAN.replace('"secondi"', '"secondi lenti"'), encoding="utf-8")
    expected = api.length(routine, cache_dir=store)
    after = durations.length(routine, api.settings(routine))
    assert not expected.measured and not after.measured
    said = [e.duration for e in after.timeline.events if e.text == SENTENCE]
    assert said == [e.duration for e in expected.timeline.events if e.text == SENTENCE]
    assert said != spoken and after.seconds == expected.seconds
