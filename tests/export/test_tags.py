import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from voiceguide.export.encode import encode, export
from voiceguide.export.langcodes import from_iso639_2, iso639_2
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


# -- the language ---------------------------------------------------------------------------

SR = 22050


def tone(seconds: float = 1.0):
    t = np.arange(int(seconds * SR)) / SR
    yield (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[:, None]


@pytest.mark.parametrize("ext", ["mp3", "wav", "ogg", "opus", "flac", "m4a", "m4b"])
def test_the_language_reads_back_as_its_bcp47_tag(ext, tmp_path):
    """"eo" has no ISO 639-2 code in the table: it travels in TXXX:LANGUAGE alone in ID3."""
    for language in ("de", "de-AT", "eo", "en"):
        path = tmp_path / f"{language}.{ext}"
        encode(tone(), path, sample_rate=SR, channels=1,
               tags=Tags("Abendruhe", "Drei Teile", date="2025-03-04", language=language),
               chapters=[Chapter("Ankommen", 0.0, 0.5), Chapter("Schluss", 0.5, 1.0)])
        tags, chapters = read_tags_and_chapters(path)
        assert tags["language"] == language, (ext, language)
        assert tags["title"] == "Abendruhe" and [c.title for c in chapters] == ["Ankommen", "Schluss"]
    unsaid = tmp_path / f"none.{ext}"
    encode(tone(), unsaid, sample_rate=SR, channels=1, tags=Tags("Quiet", "No language"))
    assert "language" not in read_tags_and_chapters(unsaid)[0]


@pytest.mark.parametrize("ext", ["mp3", "wav"])
def test_id3_says_the_language_in_tlan_comm_and_txxx(ext, tmp_path):
    from mutagen.id3 import ID3
    from mutagen.wave import WAVE

    def frames(language: str):
        path = tmp_path / f"{language or 'none'}.{ext}"
        encode(tone(), path, sample_rate=SR, channels=1, tags=Tags("T", "About it", language=language))
        id3 = WAVE(path).tags if ext == "wav" else ID3(path)
        tlan, txxx = id3.get("TLAN"), id3.get("TXXX:LANGUAGE")
        [comm] = id3.getall("COMM")
        return (tlan.text[0] if tlan else None, txxx.text[0] if txxx else None, comm.lang)

    assert frames("de") == ("deu", "de", "deu")
    assert frames("de-AT") == ("deu", "de-AT", "deu")
    assert frames("pt-BR") == ("por", "pt-BR", "por")
    assert frames("en") == ("eng", "en", "eng")
    assert frames("eo") == (None, "eo", "eng")         # not in the table: no TLAN, COMM stays "eng"
    assert frames("") == (None, None, "eng")           # as files without a language always were


def test_a_tlan_without_txxx_reads_back_as_bcp47(tmp_path):
    """Another tagger's file: TLAN only, in the terminology or the bibliographic code."""
    from mutagen.id3 import ID3, TLAN

    for code, language in (("deu", "de"), ("ger", "de"), ("fra", "fr"), ("epo", "epo")):
        path = tmp_path / f"{code}.mp3"
        encode(tone(), path, sample_rate=SR, channels=1, tags=Tags("T"))
        id3 = ID3(path)
        id3.add(TLAN(encoding=1, text=[code]))
        id3.save(v2_version=3)
        assert read_tags_and_chapters(path)[0]["language"] == language


@pytest.mark.parametrize("ext", ["ogg", "opus", "flac"])
def test_vorbis_comments_carry_a_language_comment(ext, tmp_path):
    import mutagen

    path = tmp_path / f"s.{ext}"
    encode(tone(), path, sample_rate=SR, channels=1, tags=Tags("T", language="de-AT"))
    assert mutagen.File(path).tags["LANGUAGE"] == ["de-AT"]


def test_ffmetadata_has_a_language_key_only_when_one_is_said():
    assert "\nlanguage=de-AT\n" in ffmetadata(Tags("T", language="de-AT"))
    assert "language=" not in ffmetadata(Tags("T"))
    assert parse_ffmetadata(ffmetadata(Tags("T", language="de-AT")))[0]["language"] == "de-AT"


def test_only_mp4_files_get_the_mp4_language_atom(monkeypatch, tmp_path):
    """Another container whose tags ffmpeg writes (Matroska here, added for the test) gets its
    language from ffmpeg's metadata, never mutagen's MP4 writer (which cannot open it)."""
    from voiceguide.export.encode import decoded_frames
    from voiceguide.export.formats import FORMATS, Format

    monkeypatch.setitem(FORMATS, "mka", Format("mka", "flac", "matroska", "s16le", "-compression_level", "5"))
    path = tmp_path / "s.mka"
    encode(tone(), path, sample_rate=SR, channels=1, tags=Tags("T", language="de-AT"))
    assert decoded_frames(path) == (SR, SR)


def test_the_language_tables_map_both_ways():
    assert (iso639_2("de"), iso639_2("DE-at"), iso639_2("pt_BR"), iso639_2("eo"), iso639_2("")) == \
        ("deu", "deu", "por", "", "")
    for primary in ("en", "de", "es", "fr"):          # every language voiceguide has phrases for
        assert from_iso639_2(iso639_2(primary)) == primary
    assert from_iso639_2("GER") == "de" and from_iso639_2("epo") == "epo"
