"""Cover art: drawn from the routine's name and title, or the user's own picture, embedded in
every format and read back twice: by our reader (mutagen) and by ffmpeg, which knows nothing
of how we wrote it."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib import resources
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageFont

from voiceguide.cli import main
from voiceguide.errors import SettingError
from voiceguide.export.artwork import checked_picture, read_picture
from voiceguide.export.cover import FONT, SIZE, cover_png, routine_cover_png, routine_name, session_cover
from voiceguide.export.encode import export
from voiceguide.export.formats import EncodeError, resolve_format
from voiceguide.export.tags import Tags, chapters_from_timeline, read_tags_and_chapters
from voiceguide.script.parse import parse_routine
from voiceguide.settings import resolve
from voiceguide.sound.ffmpeg import ffmpeg_exe

FORMATS = ["mp3", "m4a", "m4b", "flac", "ogg", "opus", "wav"]


def pixels(png: bytes) -> np.ndarray:
    with Image.open(BytesIO(png)) as image:
        return np.asarray(image.convert("RGB")).astype(np.int16)


def ffmpeg_picture(path: Path) -> tuple[str, bytes]:
    """ffmpeg's own view of the file's picture: its stream line and the picture's bytes."""
    banner = subprocess.run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-i", str(path)],
                            capture_output=True, text=True).stderr
    stream = next((line for line in banner.splitlines() if "Video:" in line), "")
    data = subprocess.run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(path),
                           "-map", "0:v:0", "-frames:v", "1", "-c", "copy", "-f", "image2pipe", "-"],
                          capture_output=True).stdout
    return stream, data


def jpeg(size: int = 600, colour: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    out = BytesIO()
    Image.new("RGB", (size, size), colour).save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.mark.parametrize("ext", FORMATS)
def test_the_drawn_cover_reads_back_from_every_format_at_1400(ext, program, timeline, tmp_path):
    try:
        resolve_format(f"x.{ext}")
    except EncodeError as exc:
        pytest.skip(f"this ffmpeg cannot write {ext}: {exc}")
    png = cover_png("Evening wind-down", "evening")
    chapters = chapters_from_timeline(timeline, end=program.frames / program.sample_rate)
    path = tmp_path / f"s.{ext}"
    export(program, path, tags=Tags("Evening wind-down"), chapters=chapters, cover=png)

    assert read_picture(path) == png
    with Image.open(BytesIO(read_picture(path))) as image:
        assert (image.format, image.size) == ("PNG", (1400, 1400))
    stream, data = ffmpeg_picture(path)
    assert "1400x1400" in stream and "attached pic" in stream, stream
    assert data == png
    tags, back = read_tags_and_chapters(path)         # the picture displaced no tag or chapter
    assert tags["title"] == "Evening wind-down"
    assert [c.title for c in back] == [c.title for c in chapters]


def test_without_a_cover_a_file_has_no_picture(program, tmp_path):
    for ext in ("mp3", "m4a", "flac", "ogg"):
        path = tmp_path / f"s.{ext}"
        export(program, path, tags=Tags("T"))
        assert read_picture(path) is None
        assert ffmpeg_picture(path) == ("", b"")


def test_a_users_jpeg_is_embedded_as_it_is(program, tmp_path):
    picture = jpeg()
    for ext in ("mp3", "m4b", "flac", "opus"):
        path = tmp_path / f"s.{ext}"
        export(program, path, tags=Tags("T"), cover=picture)
        assert read_picture(path) == picture
        assert "mjpeg" in ffmpeg_picture(path)[0]


# -- the drawing ------------------------------------------------------------------------------


def test_colours_come_from_the_name_and_stay_the_same():
    one, other = pixels(cover_png("Evening", "bedtime")), pixels(cover_png("Evening", "morning"))
    assert one.shape == (SIZE, SIZE, 3)
    sky = (slice(int(SIZE * 0.55), int(SIZE * 0.6)), slice(0, 200))      # beside the moon, under no text
    difference = np.abs(one[sky].mean(axis=(0, 1)) - other[sky].mean(axis=(0, 1)))
    assert difference.max() > 20, difference
    again = cover_png.__wrapped__("Evening", "bedtime")                   # drawn anew, not the cache
    assert again == cover_png("Evening", "bedtime")


def test_the_same_cover_in_another_process():
    """Nothing depends on Python's salted hash(): another interpreter draws the same bytes."""
    code = ("import hashlib, sys; from voiceguide.export.cover import cover_png; "
            "sys.stdout.write(hashlib.sha256(cover_png('Evening', 'bedtime')).hexdigest())")
    import hashlib
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout == hashlib.sha256(cover_png("Evening", "bedtime")).hexdigest()


@pytest.mark.parametrize("title", ["Calm", "A body scan for the end of a long day at work",
                                   "Supercalifragilisticexpialidocious " * 12, "x" * 500])
def test_the_title_is_drawn_inside_the_margins_above_the_moon(title):
    blank, titled = pixels(cover_png("", "same")), pixels(cover_png(title, "same"))
    changed = np.argwhere(np.abs(titled - blank).max(axis=2) > 40)
    assert len(changed) > 2000, "no title drawn"
    (top, left), (bottom, right) = changed.min(axis=0), changed.max(axis=0)
    assert left >= 100 and right <= SIZE - 100, (left, right)
    assert top >= 100 and bottom < SIZE * 0.37, (top, bottom)          # the moon starts at 0.395


TITLE_AREA = (slice(0, int(SIZE * 0.4)), slice(None))                  # above the moon


def title_area(png: bytes) -> np.ndarray:
    return pixels(png)[TITLE_AREA]


@pytest.mark.parametrize("title", ["Füße und Hände: Öl für die Nacht", "Détente à la fenêtre, cœur ouvert, reçu",
                                   "Вечерняя медитация перед сном", "Βραδινός διαλογισμός για ύπνο"])
def test_titles_in_other_scripts_are_drawn_in_letters_not_boxes(title):
    """Pillow's built-in font drew every letter beyond ASCII as the same .notdef box. In the
    shipped font each such letter has a glyph of its own, unlike U+FFFF (no font has that),
    and changing those letters changes the drawn title."""
    folder = resources.files("voiceguide.export") / "fonts"
    assert (folder / "LICENSE-DejaVu.txt").read_text().startswith("Fonts are (c) Bitstream")
    with resources.as_file(folder / FONT) as path:
        font = ImageFont.truetype(str(path), 64)
    letters = sorted({c for c in title if not c.isascii()})
    masks = {c: (font.getmask(c).size, bytes(font.getmask(c))) for c in letters + ["\uffff"]}
    box = masks.pop("\uffff")
    assert all(mask != box for mask in masks.values()), [c for c, mask in masks.items() if mask == box]
    assert len(set(masks.values())) == len(letters)                     # boxes would all be one

    drawn, blank = title_area(cover_png(title, "same")), title_area(cover_png("", "same"))
    assert (np.abs(drawn - blank).max(axis=2) > 40).sum() > 2000, "no title drawn"
    swapped = title.translate({ord(a): b for a, b in zip(letters, letters[1:] + letters[:1])})
    assert swapped != title
    assert (np.abs(title_area(cover_png(swapped, "same")) - drawn).max(axis=2) > 40).sum() > 200


@pytest.mark.parametrize("title", ["夜の瞑想", "Evening 瞑想", "Calm 🌙"])
def test_a_title_the_font_cannot_draw_is_left_off_the_cover(title):
    """Boxes would say less than no title (the title is in the file's tags): the cover is the
    one drawn with an empty title, everything else as it was."""
    assert cover_png(title, "same") == cover_png("", "same")
    assert cover_png(title, "same") != cover_png("", "other")            # still coloured by the name


def test_a_routines_name_is_its_file_or_builtin_name():
    routine = parse_routine('+++\ntitle = "Wind down"\n+++\nHello.\n', "/some/where/bedtime.routine.md")
    assert routine_name(routine) == "bedtime"
    assert routine_name(parse_routine('+++\ntitle = "T"\n+++\nHello.\n', "builtin:bedtime")) == "bedtime"
    assert routine_cover_png(routine) == cover_png("Wind down", "bedtime")


# -- the setting ------------------------------------------------------------------------------


def routine_in(folder: Path, front: str = "", name: str = "r.routine.md"):
    path = folder / name
    path.write_text(f'+++\ntitle = "Test"\nambient = "none"\n{front}+++\nHello there. [pause 1s]\n')
    return parse_routine(path.read_text(), str(path))


def chosen(routine, **options):
    return session_cover(routine, resolve(options, routine.meta.settings))


def test_drawn_by_default_and_none_omits_it(tmp_path):
    routine = routine_in(tmp_path)
    assert chosen(routine) == routine_cover_png(routine)
    assert chosen(routine, cover="none") is None
    assert chosen(routine_in(tmp_path, 'cover = "None"\n')) is None


def test_a_front_matter_cover_is_found_beside_the_routine(tmp_path, monkeypatch):
    (tmp_path / "art").mkdir()
    (tmp_path / "art" / "mine.jpg").write_bytes(jpeg())
    monkeypatch.chdir(tmp_path / "art")                   # not from the working folder
    routine = routine_in(tmp_path, 'cover = "art/mine.jpg"\n')
    assert chosen(routine) == jpeg()


def test_another_image_format_is_converted_to_png(tmp_path):
    out = BytesIO()
    Image.new("RGB", (64, 64), (10, 20, 30)).save(out, "GIF")
    converted = checked_picture(out.getvalue())
    with Image.open(BytesIO(converted)) as image:
        assert (image.format, image.size) == ("PNG", (64, 64))


@pytest.mark.parametrize("front, says", [
    ('cover = "../outside.png"', "r.routine.md:4: cover '../outside.png' is outside the routine's folder"),
    ('cover = "link.png"', "r.routine.md:4: cover 'link.png' is outside the routine's folder"),
    ('cover = "notes.png"', "notes.png is not an image"),
    ('cover = "cut.png"', "cut.png is a damaged image"),
    ('cover = "missing.png"', "r.routine.md:4: cover 'missing.png' is neither drawn, none nor an image file"),
    ('cover = "art"', "art is not a file"),
])
def test_a_bad_cover_is_refused_with_one_line(tmp_path, front, says):
    inside = tmp_path / "routine"
    inside.mkdir()
    (tmp_path / "outside.png").write_bytes(cover_png("x", "y"))
    (inside / "link.png").symlink_to(tmp_path / "outside.png")
    (inside / "notes.png").write_text("not a picture\n")
    (inside / "cut.png").write_bytes(cover_png("x", "y")[:5000])
    (inside / "art").mkdir()
    routine = routine_in(inside, front + "\n")
    with pytest.raises(SettingError) as info:
        chosen(routine)
    message = str(info.value)
    assert says in message and "\n" not in message, message


def test_an_option_names_a_file_from_the_working_folder(tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    routine = routine_in(elsewhere)
    (tmp_path / "mine.jpg").write_bytes(jpeg())
    monkeypatch.chdir(tmp_path)
    assert chosen(routine, cover="mine.jpg") == jpeg()
    with pytest.raises(SettingError) as info:
        chosen(routine, cover="nope.png")
    assert info.value.spelled(lambda name: "--" + name).startswith("--cover 'nope.png' is neither")


# -- whole renders, through the CLI ---------------------------------------------------------------


@pytest.fixture
def folder(tmp_path, cache_env):
    (tmp_path / "mine.jpg").write_bytes(jpeg())
    return tmp_path


def render(folder: Path, *args: str, front: str = "") -> tuple[Path, str]:
    routine = routine_in(folder, front)
    out = folder / "out.mp3"
    if out.exists():
        out.unlink()
    result = CliRunner().invoke(main, ["render", routine.source, "-o", str(out), *args])
    return out, result.output if result.exit_code == 0 else f"exit {result.exit_code}: {result.output}"


def test_a_render_carries_the_drawn_cover_the_users_or_none(folder, monkeypatch):
    out, said = render(folder)
    assert out.exists(), said
    assert read_picture(out) == routine_cover_png(routine_in(folder))

    out, said = render(folder, front='cover = "mine.jpg"\n')
    assert read_picture(out) == jpeg(), said

    monkeypatch.chdir(folder)
    out, said = render(folder, "--cover", "mine.jpg", front='cover = "none"\n')     # the option wins
    assert read_picture(out) == jpeg(), said

    out, said = render(folder, "--no-cover", front='cover = "mine.jpg"\n')
    assert out.exists(), said
    assert read_picture(out) is None and ffmpeg_picture(out) == ("", b"")


def test_a_bad_cover_option_fails_before_any_work_with_one_line(folder, monkeypatch):
    (folder / "notes.txt").write_text("hello\n")
    monkeypatch.chdir(folder)
    out, said = render(folder, "--cover", "notes.txt")
    assert said.startswith("exit 2"), said
    assert not out.exists()
    lines = [line for line in said.removeprefix("exit 2: ").splitlines() if line.strip()]
    assert len(lines) == 1 and re.search(r"^--cover 'notes\.txt': \S+notes\.txt is not an image", lines[0]), said
    assert "Traceback" not in said


def test_the_studio_takes_a_cover_only_from_its_folder(tmp_path):
    """The studio's form offers the setting too; a value there must not reach outside FOLDER."""
    from voiceguide import api
    from voiceguide.errors import VoiceguideError
    from voiceguide.studio import checks
    folder = (tmp_path / "studio").resolve()
    folder.mkdir()
    (folder / "mine.jpg").write_bytes(jpeg())
    (tmp_path / "secret.png").write_bytes(cover_png("x", "y"))
    routine = routine_in(folder)
    mine = api.settings(routine, cover="mine.jpg")
    assert checks.sound_files(folder, routine, mine, "r") == {"cover": str(folder / "mine.jpg")}
    assert checks.sound_files(folder, routine, api.settings(routine), "r") == {}        # drawn
    assert checks.sound_files(folder, routine, api.settings(routine, cover="none"), "r") == {}
    for outside in (str(tmp_path / "secret.png"), "../secret.png"):
        with pytest.raises(VoiceguideError, match="^cover '.*' is outside the studio folder"):
            checks.sound_files(folder, routine, api.settings(routine, cover=outside), "r")


def test_validate_checks_the_cover_as_render_does(tmp_path, monkeypatch):
    """`voiceguide validate` reports a cover that is missing or not an image at its line, and
    accepts a real picture beside the routine (render would refuse the same, before any work)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(tmp_path / "store"))
    (tmp_path / "notes.png").write_text("not a picture")
    Image.new("RGB", (64, 64), (20, 40, 90)).save(tmp_path / "mine.png")
    for value, ok in (("nope.png", False), ("notes.png", False), ("mine.png", True), ("none", True)):
        (tmp_path / "c.routine.md").write_text(f'+++\ntitle = "C"\ncover = "{value}"\n+++\n# A\nHello.\n')
        result = CliRunner().invoke(main, ["validate", "c.routine.md"])
        if ok:
            assert result.exit_code == 0, result.output
        else:
            assert result.exit_code == 2 and result.stderr.startswith(f"c.routine.md:3: cover '{value}'"), result.stderr
            assert len(result.stderr.strip().splitlines()) == 1
