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
