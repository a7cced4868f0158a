"""Property-based tests: the parser never fails with anything but RoutineError, and scripts
built from the grammar parse to exactly what was written."""
from hypothesis import HealthCheck, given, settings, strategies as st

from voiceguide.script.model import Breathe, Chime, Hold, Pause, Say
from voiceguide.script.parse import RoutineError, parse_bytes, parse_routine
from voiceguide.timeline import plan

ALPHABET = st.sampled_from(list("+#[]{}<>!-=\"' \n\tab1.sx") + ["[hold 5s]", "{side}", "{sides}",
                           "<!--", "-->", "+++", "title = ", "[pause", "ms", "\r", "\ufeff", "é"])


def _parses_or_reports(text: str) -> None:
    try:
        routine = parse_routine(text, "f.md")
    except RoutineError as exc:
        assert exc.problems, "a RoutineError always carries problems"
        for problem in exc.problems:
            assert problem.file == "f.md" and problem.line >= 1
            assert "\n" not in problem.message
        return
    assert routine.meta.title


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_any_text_parses_or_reports(text):
    _parses_or_reports(text)


@settings(max_examples=400)
@given(st.lists(ALPHABET, max_size=60).map("".join))
def test_routine_shaped_noise_parses_or_reports(text):
    _parses_or_reports("+++\ntitle = \"x\"\n+++\n" + text)
    _parses_or_reports(text)


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_any_bytes_parse_or_report(data):
    try:
        parse_bytes(data, "f.md")
    except RoutineError as exc:
        assert all(p.line >= 1 for p in exc.problems)


WORD = st.text(alphabet="abcdefghij", min_size=1, max_size=8)
SENTENCE = st.lists(WORD, min_size=1, max_size=6).map(lambda w: " ".join(w).capitalize() + ".")
SECONDS = st.integers(min_value=1, max_value=600)
STEP = st.one_of(
    SENTENCE.map(lambda s: (f"{s}\n\n", Say)),
    SECONDS.map(lambda n: (f"[hold {n}s]\n\n", Hold)),
    SECONDS.map(lambda n: (f"[pause {n}s]\n\n", Pause)),
    st.just(("[chime]\n\n", Chime)),
    st.integers(min_value=1, max_value=9).map(lambda n: (f"[breathe {n}]\n\n", Breathe)),
)
SECTION = st.tuples(WORD, st.booleans(), st.lists(STEP, min_size=1, max_size=5))


@settings(max_examples=150)
@given(st.lists(SECTION, min_size=1, max_size=5))
def test_generated_routines_parse_to_what_was_written(sections):
    text = "+++\ntitle = \"Generated\"\n+++\n"
    expected: list[list[type]] = []
    for title, silent, steps in sections:
        text += f"# {title}{' {silent}' if silent else ''}\n"
        text += "".join(source for source, _ in steps)
        expected.append(([] if silent else [Say]) + [kind for _, kind in steps])
    routine = parse_routine(text, "g.md")
    assert [[type(s) for s in sec.steps] for sec in routine.sections] == expected
    assert [sec.title for sec in routine.sections] == [t for t, _, _ in sections]
    timeline = plan(routine)
    assert abs(sum(e.duration for e in timeline.events) - timeline.total) < 1e-6


# ---------------------------------------------------------------------------------------------
# Hostile values: every key, any TOML value; numbers of any size; text with control characters

from voiceguide.limits import Limits  # noqa: E402
from voiceguide.script.durations import DurationError, format_clock, format_duration, parse_duration  # noqa: E402
from voiceguide.script.front import KEYS as _KEYS  # noqa: E402

TOML_VALUES = st.one_of(
    st.integers().map(str),
    st.sampled_from(["nan", "inf", "-inf", "1e308", "1e400", "-0.0", "1" + "0" * 400, "1" + "0" * 5000,
                     "true", "1979-05-27", "[]", "{}", "[" * 500 + "]" * 500, "{a = {b = 1}}"]),
    st.floats().map(repr),                                    # nan and inf are TOML too
    st.text(st.characters(max_codepoint=0xFFFF, blacklist_categories=("Cs",)), max_size=30)
      .map(lambda t: '"' + "".join(f"\\u{ord(c):04x}" for c in t) + '"'),   # any character, escaped
    st.sampled_from(['"999999h"', '"1e308s"', '"-5s"', '"nans"', '"0s"', '"3m"', '""', '" "', '"\\u001b[2J"']),
)


def _one_line_problems(text: str, limits: Limits = Limits()) -> None:
    try:
        routine = parse_routine(text, "f.md", limits)
    except RoutineError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.line >= 1
            assert "\n" not in problem.message and "\r" not in problem.message
            assert len(problem.message) <= 400
        assert len(str(exc).splitlines()) <= 51          # 50 problems, then a count
        return
    assert routine.meta.title


@settings(max_examples=200)
@given(st.lists(st.tuples(st.sampled_from(sorted(_KEYS)), TOML_VALUES), max_size=4, unique_by=lambda kv: kv[0]))
def test_any_value_for_any_key_parses_or_reports_on_one_line(pairs):
    front = 'title = "T"\n' if "title" not in dict(pairs) else ""
    front += "\n".join(f"{key} = {value}" for key, value in pairs)
    _one_line_problems(f"+++\n{front}\n+++\nHello. [pause 1s]\n")


@settings(max_examples=200)
@given(st.lists(st.one_of(ALPHABET, st.sampled_from(["\x1b", "\x07", "\x0b", "\x0c", "²", "٣", "9" * 50,
                                                     "[breathe ", "[hold ", "s]", "h]", "{sides}", "{silent}",
                                                     "# ", "\n\n", " " * 40])), max_size=60).map("".join),
       st.integers(min_value=1, max_value=40))
def test_hostile_bodies_with_small_limits_parse_or_report(body, step_chars):
    _one_line_problems('+++\ntitle = "x"\n+++\n' + body, Limits(max_step_chars=step_chars))


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=30), st.from_regex(r"[0-9]{1,400}(\.[0-9]{1,20})?(h|m|s|ms)", fullmatch=True)))
def test_durations_parse_to_a_finite_number_or_a_short_error(text):
    try:
        seconds = parse_duration(text)
    except DurationError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 150
        return
    assert seconds >= 0 and seconds == seconds and seconds != float("inf")


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_any_number_formats_without_overflow(seconds):
    assert isinstance(format_duration(abs(seconds)), str)
    assert isinstance(format_clock(abs(seconds)), str)
