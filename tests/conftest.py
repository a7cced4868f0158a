"""Shared test helpers."""
from __future__ import annotations

import textwrap

import pytest

from voiceguide.script.parse import parse_routine


def routine_text(body: str, front: str = 'title = "Test"') -> str:
    return f"+++\n{front}\n+++\n" + textwrap.dedent(body)


@pytest.fixture
def parse():
    def _parse(body: str, front: str = 'title = "Test"'):
        return parse_routine(routine_text(body, front), "test.routine.md")
    return _parse
