import pytest
from hypothesis import given, settings, strategies as st

from voiceguide.export.encode import export
from voiceguide.export.tags import (Chapter, Tags, chapters_from_timeline, ffmetadata, parse_ffmetadata,
                                    read_chapters, read_tags_and_chapters)

TAGS = Tags("Evening wind-down", "Three parts; with = signs # and \\ slashes", date="2025-03-04")


def test_chapters_tile_the_program(timeline):
    chapters = chapters_from_timeline(timeline, end=timeline.total + 30)
    assert [c.title for c in chapters] == ["Arrive", "Breathe", "Close"]
    assert chapters[0].start == 0.0
    assert chapters[-1].end == pytest.approx(timeline.total + 30)
    for a, b in zip(chapters, chapters[1:]):
        assert a.end == b.start
    for c, s in zip(chapters[1:], timeline.sections[1:]):
        assert c.start == s.start


@pytest.mark.parametrize("ext", ["mp3", "m4b", "m4a", "ogg", "opus", "flac", "wav"])
def test_tags_and_chapters_read_back_with_their_times(ext, program, timeline, tmp_path):
    chapters = chapters_from_timeline(timeline, end=program.frames / program.sample_rate)
    path = tmp_path / f"s.{ext}"
    export(program, path, tags=TAGS, chapters=chapters)
    tags, back = read_tags_and_chapters(path)
    assert tags["title"] == TAGS.title and tags["album"] == "voiceguide"
    assert tags["date"].startswith("2025")
    assert tags.get("comment", tags.get("description")) == TAGS.description
    assert [c.title for c in back] == [c.title for c in chapters]
    for got, want in zip(back, chapters):
        assert got.start == pytest.approx(want.start, abs=0.0015)
        assert got.end == pytest.approx(want.end, abs=0.03)
    assert read_chapters(path) == back


def test_mp3_chapters_are_id3_chap_with_a_toc(program, timeline, tmp_path):
    from mutagen.id3 import ID3
    path = tmp_path / "s.mp3"
    export(program, path, tags=TAGS, chapters=chapters_from_timeline(timeline))
    id3 = ID3(path)
    toc = id3.getall("CTOC")[0]
    assert toc.child_element_ids == ["chp0", "chp1", "chp2"]
    assert id3.version[:2] == (2, 3)


text = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("=;#\\\n"), max_size=40)


@settings(max_examples=60, deadline=None)
@given(title=text, description=text, chapter=text)
def test_ffmetadata_escaping_round_trips(title, description, chapter):
    tags = Tags(title or "t", description, date="2025-01-01")
    meta = ffmetadata(tags, [Chapter(chapter, 0.0, 1.5), Chapter("two", 1.5, 3.0)])
    got_tags, got_chapters = parse_ffmetadata(meta)
    assert got_tags["title"] == (title or "t")
    assert got_tags.get("comment", "") == description
    assert [c.title for c in got_chapters] == [chapter, "two"]
    assert got_chapters[1].start == 1.5 and got_chapters[1].end == 3.0
