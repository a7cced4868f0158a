import json
import re

import pytest

from voiceguide.export.atomic import OutputExistsError
from voiceguide.export.sidecars import cues, srt, timestamp, txt, vtt, write_sidecars
from voiceguide.timeline import BREATHE_IN_CUE, BREATHE_OUT_CUE

CUE = re.compile(r"(\d\d):(\d\d):(\d\d)[.,](\d{3}) --> (\d\d):(\d\d):(\d\d)[.,](\d{3})\n(.+)")


def seconds(h, m, s, ms):
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def parsed(text):
    return [(seconds(*m.groups()[:4]), seconds(*m.groups()[4:8]), m.group(9)) for m in CUE.finditer(text)]


def test_vtt_cues_follow_the_say_events(timeline):
    text = vtt(timeline)
    assert text.startswith("WEBVTT\n\n")
    got = parsed(text)
    said = [e for e in timeline.events if e.kind == "say"]
    spoken = [(s, e, t) for s, e, t in got if t not in (BREATHE_IN_CUE, BREATHE_OUT_CUE)]
    assert [t for _, _, t in spoken] == [e.text for e in said]
    for (s, e, _), event in zip(spoken, said):
        assert s == pytest.approx(event.start, abs=0.0006) and e == pytest.approx(event.end, abs=0.0006)
    assert [t for _, _, t in got].count(BREATHE_IN_CUE) == 1
    for title in ("Arrive", "Breathe", "Close"):
        assert f"NOTE Section: {title}" in text


def test_srt_numbering_and_comma_times(timeline):
    text = srt(timeline)
    blocks = text.strip().split("\n\n")
    assert [b.split("\n")[0] for b in blocks] == [str(i) for i in range(1, len(blocks) + 1)]
    assert "," in blocks[0].split("\n")[1]
    assert len(parsed(text)) == len(cues(timeline))


def test_txt_is_the_script_with_sections_as_blank_lines(timeline):
    text = txt(timeline)
    parts = text.strip().split("\n\n")
    assert parts[0] == "Evening wind-down"
    assert parts[1].splitlines() == ["Arrive", "Sit comfortably and close your eyes.", "(hold 2s)"]
    assert parts[2].splitlines()[0] == "Breathe" and "1 breaths" in parts[2]
    assert parts[3].splitlines() == ["Close", "Well done.", "(chime)"]


def test_timestamps():
    assert timestamp(3723.4567) == "01:02:03.457"
    assert timestamp(0.0004, ",") == "00:00:00,000"


def test_write_sidecars_next_to_the_audio(timeline, tmp_path):
    audio = tmp_path / "session.mp3"
    paths = write_sidecars(timeline, audio)
    assert sorted(p.name for p in paths) == ["session.srt", "session.timeline.json", "session.txt", "session.vtt"]
    assert json.loads((tmp_path / "session.timeline.json").read_text()) == json.loads(json.dumps(timeline.to_json()))
    # All targets are checked before any is written: nothing changes when one exists.
    (tmp_path / "session.vtt").write_text("keep")
    (tmp_path / "session.srt").unlink()
    with pytest.raises(OutputExistsError):
        write_sidecars(timeline, audio)
    assert not (tmp_path / "session.srt").exists()
    write_sidecars(timeline, audio, force=True)
    assert (tmp_path / "session.vtt").read_text().startswith("WEBVTT")
