"""The docs stay true: their example routines parse and plan, and the README shows real help."""
from pathlib import Path

import pytest

from voiceguide.script.parse import parse_routine
from voiceguide.timeline import plan

ROOT = Path(__file__).resolve().parent.parent


def fenced_blocks(path: Path) -> list[tuple[str, str]]:
    """(info string, body) of every ``` fenced block."""
    blocks, info, body = [], None, []
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            if info is None:
                info, body = line[3:].strip(), []
            else:
                blocks.append((info, "\n".join(body) + "\n"))
                info = None
        elif info is not None:
            body.append(line)
    return blocks


def routine_examples(path: Path) -> list[str]:
    return [body for info, body in fenced_blocks(path) if not info and body.startswith("+++\n")]


@pytest.mark.parametrize("index", range(2))
def test_format_doc_examples_parse_and_plan(index):
    examples = routine_examples(ROOT / "docs" / "routine-format.md")
    assert len(examples) == 2
    routine = parse_routine(examples[index], "example.routine.md")
    assert plan(routine).total > 10


def test_format_doc_shows_wait_and_pace_as_they_plan():
    """The first example uses `[wait]` and `{pace}`; its plan has a wait of the `wait` default
    and a paragraph spoken at its own pace."""
    from voiceguide.settings import DEFAULTS
    first = routine_examples(ROOT / "docs" / "routine-format.md")[0]
    assert "[wait]" in first and "{pace 0.8}" in first
    timeline = plan(parse_routine(first, "example.routine.md"))
    assert [e.duration for e in timeline.events if e.kind == "wait"] == [DEFAULTS["wait"]]
    assert {e.pace for e in timeline.events if e.kind == "say"} == {1.0, 0.8}


def test_cli_reference_is_generated_from_the_real_help():
    import importlib.util
    spec = importlib.util.spec_from_file_location("gen_cli_docs", ROOT / "scripts" / "gen_cli_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import difflib
    written, real = (ROOT / "docs" / "cli.md").read_text(), module.render()
    diff = "".join(list(difflib.unified_diff(written.splitlines(True), real.splitlines(True), "docs/cli.md", "--help"))[:60])
    assert written == real, f"docs/cli.md is stale: run .venv/bin/python scripts/gen_cli_docs.py\n{diff}"
