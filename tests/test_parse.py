"""The routine parser: what valid scripts mean, and every error path with its line number."""
import pytest

from voiceguide.script.model import Breathe, Chime, Hold, Pause, Say
from voiceguide.script.parse import RoutineError, parse_bytes, parse_routine
from conftest import routine_text


def problems_of(text: str) -> list[str]:
    with pytest.raises(RoutineError) as info:
        parse_routine(text, "r.md")
    return [str(p) for p in info.value.problems]


def only_problem(text: str) -> str:
    found = problems_of(text)
    assert len(found) == 1, found
    return found[0]


# --- meaning of valid scripts ------------------------------------------------------------------

def test_front_matter_values(parse):
    routine = parse("Hello.\n", front='title = "T"\nspeed = 0.8\nvoice = "joe"\nambient = "none"\n'
                    'length = "1m30s"\nsuits = "all"\ncaution = "doctor"\n[pronounce]\nfoo = "fu"')
    meta = routine.meta
    assert (meta.title, meta.speed, meta.voice, meta.ambient, meta.length) == ("T", 0.8, "joe", "none", 90.0)
    assert (meta.suits, meta.caution, dict(meta.pronounce)) == ("all", "doctor", {"foo": "fu"})


def test_defaults(parse):
    meta = parse("Hello.\n").meta
    assert (meta.speed, meta.voice, meta.engine, meta.length) == (1.0, "default", "auto", None)


def test_sections_paragraphs_and_directives(parse):
    routine = parse("""\
        # Warm up
        Rub your palms together. [hold 30s]
        Now rotate your wrists. [pause 5s]

        Another paragraph
        over two lines. [pause 2s fixed] Then more. [chime]
        [breathe 3 in 3s out 5s]
        """)
    (section,) = routine.sections
    assert section.title == "Warm up" and section.level == 1 and section.line == 4
    kinds = [type(s).__name__ for s in section.steps]
    assert kinds == ["Say", "Say", "Hold", "Say", "Pause", "Say", "Pause", "Say", "Chime", "Breathe"]
    assert section.steps[0] == Say("Warm up.", 4, is_title=True)
    assert section.steps[1] == Say("Rub your palms together.", 5)
    assert section.steps[2] == Hold(30.0, 5)
    assert section.steps[4] == Pause(5.0, 6, fixed=False)
    assert section.steps[5] == Say("Another paragraph over two lines.", 8)
    assert section.steps[6] == Pause(2.0, 9, fixed=True)
    assert section.steps[9] == Breathe(3, 10, 3.0, 5.0)


def test_sides_expand_left_then_right(parse):
    routine = parse("""\
        ## Effleurage {sides}
        Stroke your {side} hand with your {other} palm.
        """)
    left, right = routine.sections
    assert (left.side, right.side) == ("left", "right")
    assert left.title == "Effleurage, left side"
    assert left.steps[1].text == "Stroke your left hand with your right palm."
    assert right.steps[1].text == "Stroke your right hand with your left palm."


def test_side_placeholder_in_heading_is_substituted(parse):
    left, right = parse("# Your {side} hand {sides}\nRelax.\n").sections
    assert (left.title, right.title) == ("Your left hand", "Your right hand")


def test_silent_heading_is_a_section_without_spoken_title(parse):
    (section,) = parse("# Quiet {silent}\nHello.\n").sections
    assert section.title == "Quiet" and not section.spoken
    assert section.steps == (Say("Hello.", 5),)


def test_flags_in_either_order(parse):
    sections = parse("# Both {silent} {sides}\nUse your {side} hand.\n").sections
    assert len(sections) == 2 and not sections[0].spoken


def test_text_before_first_heading_is_an_introduction(parse):
    intro, first = parse("Welcome.\n# One\nHi.\n").sections
    assert intro.level == 0 and intro.title == "" and intro.steps == (Say("Welcome.", 4),)
    assert first.title == "One"


def test_comments_are_ignored_and_keep_line_numbers(parse):
    routine = parse("<!-- one\ntwo -->\nSpoken <!-- not spoken --> text.\n")
    assert routine.sections[0].steps == (Say("Spoken text.", 6),)


def test_markdown_decoration_is_not_spoken(parse):
    steps = parse("- First *item*.\n- Second `item`.\n").sections[0].steps
    assert steps == (Say("First item. Second item.", 4),)


def test_crlf_and_bom(parse):
    routine = parse_routine("\ufeff+++\r\ntitle = \"T\"\r\n+++\r\nHello.\r\n", "r.md")
    assert routine.sections[0].steps == (Say("Hello.", 4),)


def test_hashtag_without_space_is_text(parse):
    assert parse("#1 tip: relax.\n").sections[0].steps == (Say("#1 tip: relax.", 4),)


# --- every error path, with its line ----------------------------------------------------------

@pytest.mark.parametrize("front, expected", [
    ('title = "T"\nspeed = 3', "r.md:3: speed: 3 is out of range (0.5 to 2)"),
    ('title = "T"\nspeed = "fast"', "r.md:3: speed: must be a number from 0.5 to 2"),
    ('title = "T"\nspeed = true', "r.md:3: speed: must be a number from 0.5 to 2"),
    ('title = "T"\ncolour = "red"', "r.md:3: unknown front-matter key 'colour'"),
    ('title = ""', "r.md:2: 'title' must not be empty"),
    ('title = 5', "r.md:2: 'title' must be a string, not 5"),
    ('title = "T"\nvoice = "  "', "r.md:3: voice: must be a non-empty string"),
    ('title = "T"\nlength = "12 minutes"', "r.md:3: length: bad duration '12 minutes'"),
    ('title = "T"\nlength = 0', "r.md:3: length: must be longer than zero"),
    ('title = "T"\nlength = [1]', "r.md:3: length: must be a duration"),
    ('title = "T"\nambient_volume = 6', "r.md:3: ambient_volume: 6 is out of range (-60 to 0 dB)"),
    ('title = "T"\n[pronounce]\nfoo = 1', "r.md:3: [pronounce] entries must map words"),
    ('description = "no title"', "r.md:1: front matter needs a title"),
    ('title = "T"\nspeed = = 1', "r.md:3: front matter is not valid TOML"),
])
def test_front_matter_errors(front, expected):
    assert only_problem(routine_text("Hello.\n", front)).startswith(expected)


@pytest.mark.parametrize("body, expected", [
    ("Hi. [pause]\n", "r.md:4: [pause]: write [pause 5s] or [pause 5s fixed]"),
    ("Hi. [pause 5x]\n", "r.md:4: [pause]: bad duration '5x'"),
    ("Hi. [pause 0s]\n", "r.md:4: [pause 0s]: the duration must be longer than zero"),
    ("Hi.\n\n[hold 30s 10s]\n", "r.md:6: [hold 30s 10s]: write [hold 30s]"),
    ("Hi. [hold soon]\n", "r.md:4: [hold]: bad duration 'soon'"),
    ("Hi. [chime loud]\n", "r.md:4: [chime loud]: [chime] takes no arguments"),
    ("[breathe]\n", "r.md:4: [breathe]: write [breathe 5]"),
    ("[breathe many]\n", "r.md:4: [breathe many]: write [breathe 5]"),
    ("[breathe 0]\n", "r.md:4: [breathe 0]: the number of breaths must be from 1 to 100"),
    ("[breathe 3 up 2s]\n", "r.md:4: [breathe 3 up 2s]: write [breathe 5]"),
    ("[breathe 3 in 2x]\n", "r.md:4: [breathe]: bad duration '2x'"),
    ("Hi. [rest 5s]\n", "r.md:4: unknown directive [rest 5s] (expected pause, hold, wait, chime, breathe or caution)"),
    ("Hi. [wait 5s 2s]\n", "r.md:4: [wait 5s 2s]: write [wait] or [wait 60s]"),
    ("Hi. [wait 0.5s]\n", "r.md:4: [wait 0.5s]: a wait lasts from 1s to 30m"),
    ("Hi. [wait 31m]\n", "r.md:4: [wait 31m]: a wait lasts from 1s to 30m"),
    ("Hi. [wait soon]\n", "r.md:4: [wait]: bad duration 'soon'"),
    ("Slow {pace 0.8} words.\n", "r.md:4: {pace 0.8} must end its paragraph"),
    ("Slow words. {pace 2}\n", "r.md:4: {pace 2}: the pace must be from 0.5 to 1.5"),
    ("Slow words. {pace 0.4}\n", "r.md:4: {pace 0.4}: the pace must be from 0.5 to 1.5"),
    ("Slow words. {pace}\n", "r.md:4: {pace}: write {pace 0.8}"),
    ("Slow words. {pace slow}\n", "r.md:4: {pace slow}: write {pace 0.8}"),
    ("Words.\n\n{pace 0.8}\n", "r.md:6: {pace} must end a paragraph of words"),
    ("[hold 5s] {pace 0.8}\n", "r.md:4: {pace} must end a paragraph of words"),
    ("# Title {pace 0.8}\nHi.\n", "r.md:4: {pace 0.8} must end its paragraph"),
    ("Hi. []\n", "r.md:4: empty directive '[]'"),
    ("Hi. [hold 30s\n", "r.md:4: unmatched square bracket in: Hi. [hold 30s"),
    ("Use your {side} hand.\n", "r.md:4: {side} is only allowed in a section whose heading ends with {sides}"),
    ("# H\nYour {other} hand.\n", "r.md:5: {other} is only allowed in a section"),
    ("Hello {name}.\n", "r.md:4: unknown placeholder {name}"),
    ("Hello {side.\n", "r.md:4: unmatched brace in: Hello {side."),
    ("#### Deep\nHi.\n", "r.md:4: heading level 4 is too deep"),
    ("#\nHi.\n", "r.md:4: heading has no title"),
    ("# {sides}\nHi.\n", "r.md:4: heading has no title"),
    ("# Title {loud}\nHi.\n", "r.md:4: unknown placeholder {loud}"),
    ("Hi.\n<!-- never closed\n", "r.md:5: comment '<!--' is never closed with '-->'"),
    ("<!-- only a comment -->\n", "r.md:3: the routine has no steps"),
])
def test_body_errors(body, expected):
    assert only_problem(routine_text(body)).startswith(expected)


def test_sides_scope_ends_at_next_heading():
    text = routine_text("# A {sides}\nYour {side} hand.\n# B\nYour {side} hand.\n")
    assert only_problem(text).startswith("r.md:7: {side} is only allowed")


@pytest.mark.parametrize("text, expected", [
    ("", "r.md:1: the file is empty"),
    ("\n\n   \n", "r.md:1: the file is empty"),
    ("title = 'x'\n", "r.md:1: a routine must start with '+++' front matter"),
    ("\n+++\ntitle = 'x'\nHello.\n", "r.md:2: front matter opened with '+++' is never closed"),
])
def test_structure_errors(text, expected):
    assert only_problem(text).startswith(expected)


def test_all_problems_reported_in_line_order():
    text = routine_text("Hi. [rest]\n\n# H\n[hold]\n{x}\n", 'title = "T"\nspeed = 9')
    found = problems_of(text)
    assert [p.split(":")[1] for p in found] == ["3", "5", "8", "9"]


def test_error_message_is_file_line_message():
    with pytest.raises(RoutineError) as info:
        parse_routine(routine_text("[hold]\n"), "dir/my.routine.md")
    assert str(info.value) == "dir/my.routine.md:4: [hold]: write [hold 30s]"


def test_bytes_not_utf8_reports_line():
    data = routine_text("Hello.\nCaf\xe9\n").encode("latin-1")
    with pytest.raises(RoutineError) as info:
        parse_bytes(data, "r.md")
    assert str(info.value) == "r.md:5: the file is not UTF-8 text (is it a routine script?)"


def test_binary_file():
    with pytest.raises(RoutineError) as info:
        parse_bytes(b"+++\ntitle='x'\n+++\n\x00\x01\x02", "r.md")
    assert str(info.value).startswith("r.md:4: the file contains NUL bytes")


# --- a heading's own sound: {beat N}, {ambient NAME}, {voice NAME} -----------------------------

def test_heading_attributes_set_the_sections_sound(parse):
    intro, left, right, plain = parse(
        "# Settle {beat 6}\nHello.\n# Hands {ambient Rain} {sides} {voice kim} {silent}\n"
        "Work the {side} hand.\n# Close\nBye.\n").sections
    assert (intro.title, intro.beat, intro.ambient, intro.voice) == ("Settle", 6.0, None, None)
    assert (left.side, left.ambient, left.voice, left.spoken) == ("left", "rain", "kim", False)
    assert (right.side, right.ambient, right.voice) == ("right", "rain", "kim")
    assert (plain.beat, plain.ambient, plain.voice) == (None, None, None)


@pytest.mark.parametrize("heading, says", [
    ("# A {beat 6>3}", "{beat} takes one number of Hz"),
    ("# A {beat 90}", "{beat}: 90 Hz is out of range (0.5 to 40 Hz)"),
    ("# A {beat}", "{beat} needs a value, like {beat 6}"),
    ("# A {ambient lava}", "unknown bed 'lava' in {ambient} (choose from white, pink"),
    ("# A {beats 6}", "unknown placeholder {beats 6}"),
])
def test_heading_attribute_errors_name_their_line(heading, says):
    problem = only_problem(routine_text(f"{heading}\nHello.\n"))
    assert problem.startswith("r.md:4: " + says), problem
