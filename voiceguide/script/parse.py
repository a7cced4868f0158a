"""Routine script text -> Routine model, in one pass that collects every problem.

A routine is shared, hand-edited text: the parser must report each mistake with its file and
line, all of them at once, and never fail with anything but `RoutineError`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from ..limits import DEFAULT_LIMITS, Limits
from .durations import DurationError, format_duration, parse_duration
from .front import parse_front
from .headings import heading_attributes, heading_flags
from .model import Breathe, Chime, Hold, Pause, Routine, Say, Section, Step, Wait
from .pace import take_pace
from .phrases import ENGLISH, Phrases, table_for
from .problems import CONTROL as _CONTROL, Collector as _Collector, Problem, RoutineError, excerpt

__all__ = ["FENCE", "Problem", "RoutineError", "excerpt", "parse_bytes", "parse_routine"]

FENCE = "+++"
MAX_BREATHS = 100
SIDES = ("left", "right")

_HEADING = re.compile(r"^(#+)(?:[ \t]+(.*))?$")   # no lazy groups: linear on a 1 MB line
_DIRECTIVE = re.compile(r"\[([^\[\]]*)\]")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_BREATH_COUNT = re.compile(r"[0-9]{1,9}")
DIRECTIVES = "expected pause, hold, wait, chime, breathe or caution"


# ---------------------------------------------------------------------------------------------
# Body


@dataclass
class _SectionDraft:
    title: str
    line: int
    level: int
    spoken: bool
    sides: bool
    steps: list[Step] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)   # beat, ambient, voice


def _strip_comments(lines: list[str], first_line: int, out: _Collector) -> list[str]:
    """Blank out <!-- ... --> comments, keeping line numbers intact."""
    result: list[str] = []
    open_at: int | None = None
    for offset, text in enumerate(lines):
        kept = []
        pos = 0
        while pos <= len(text):
            if open_at is None:
                start = text.find("<!--", pos)
                if start < 0:
                    kept.append(text[pos:])
                    break
                kept.append(text[pos:start])
                open_at = first_line + offset
                pos = start + 4
            else:
                end = text.find("-->", pos)
                if end < 0:
                    break
                open_at = None
                pos = end + 3
        result.append("".join(kept))
    if open_at is not None:
        out.add(open_at, "comment '<!--' is never closed with '-->'")
    return result


def _parse_duration_arg(arg: str, line: int, what: str, out: _Collector) -> float | None:
    try:
        seconds = parse_duration(arg)
    except DurationError as exc:
        out.add(line, f"[{what}]: {exc}")
        return None
    if seconds <= 0:
        out.add(line, f"[{what} {arg}]: the duration must be longer than zero")
        return None
    return seconds


def _parse_directive(body: str, line: int, out: _Collector) -> Step | None:
    """`body` is the text inside the brackets, e.g. "pause 5s fixed"."""
    words = body.split()
    if not words:
        out.add(line, f"empty directive '[]' ({DIRECTIVES})")
        return None
    name, args = words[0].lower(), words[1:]
    shown = f"[{excerpt(body.strip())}]"
    if name == "pause":
        fixed = bool(args) and args[-1].lower() == "fixed"
        if fixed:
            args = args[:-1]
        if len(args) != 1:
            out.add(line, f"{shown}: write [pause 5s] or [pause 5s fixed]")
            return None
        seconds = _parse_duration_arg(args[0], line, "pause", out)
        return None if seconds is None else Pause(seconds, line, fixed)
    if name == "hold":
        if len(args) != 1:
            out.add(line, f"{shown}: write [hold 30s]")
            return None
        seconds = _parse_duration_arg(args[0], line, "hold", out)
        return None if seconds is None else Hold(seconds, line)
    if name == "wait":
        return _parse_wait(args, shown, line, out)
    if name == "chime":
        if args:
            out.add(line, f"{shown}: [chime] takes no arguments")
            return None
        return Chime(line)
    if name == "breathe":
        return _parse_breathe(args, shown, line, out)
    if name == "caution":
        return _parse_caution(args, shown, line, out)
    out.add(line, f"unknown directive {shown} ({DIRECTIVES})")
    return None


def _parse_wait(args: list[str], shown: str, line: int, out: _Collector) -> Wait | None:
    """`[wait]` (the session's `wait` setting in a file) or `[wait 60s]`, within the setting's range."""
    from ..settings import SCHEMA
    if len(args) > 1:
        out.add(line, f"{shown}: write [wait] or [wait 60s]")
        return None
    if not args:
        return Wait(None, line)
    seconds = _parse_duration_arg(args[0], line, "wait", out)
    if seconds is None:
        return None
    spec = SCHEMA["wait"]
    if not spec.lo <= seconds <= spec.hi:   # type: ignore[operator]
        out.add(line, f"{shown}: a wait lasts from {format_duration(spec.lo)} to {format_duration(spec.hi)}")
        return None
    return Wait(seconds, line)


class _Reader(_Collector):
    """The problems, and what the body takes from the front matter: its language's words (the
    side words, [caution]'s lead-in) and its caution (None: the front matter was unreadable)."""

    words: Phrases = ENGLISH
    caution: str | None = None


def _parse_caution(args: list[str], shown: str, line: int, out: _Collector) -> Say | None:
    """[caution]: the language's lead-in ("Before we begin, a word of care."), then the caution."""
    caution, words = getattr(out, "caution", None), getattr(out, "words", ENGLISH)
    if args:
        out.add(line, f"{shown}: [caution] takes no arguments (it speaks the front matter's caution)")
        return None
    if caution is None or not caution.strip():     # None: the front matter's own problems are reported
        if caution is not None:
            out.add(line, '[caution] speaks the front matter\'s caution, and this routine has none: add caution = "..."')
        return None
    text = " ".join(f"{words['caution']} {caution}".split())
    return Say(text, line) if _check_length(text, line, "[caution] with its caution", out) else None


def _parse_breathe(args: list[str], shown: str, line: int, out: _Collector) -> Breathe | None:
    usage = f"{shown}: write [breathe 5] or [breathe 5 in 4s out 6s]"
    if not args or not _BREATH_COUNT.fullmatch(args[0]) or len(args) not in (1, 3, 5):
        out.add(line, usage)
        return None
    count = int(args[0])
    if not 1 <= count <= MAX_BREATHS:
        out.add(line, f"{shown}: the number of breaths must be from 1 to {MAX_BREATHS}")
        return None
    times = {"in": 4.0, "out": 6.0}
    rest = args[1:]
    for key, value in zip(rest[::2], rest[1::2]):
        if key.lower() not in times:
            out.add(line, usage)
            return None
        seconds = _parse_duration_arg(value, line, "breathe", out)
        if seconds is None:
            return None
        times[key.lower()] = seconds
    return Breathe(count, line, times["in"], times["out"])


def _check_placeholders(text: str, line: int, sides: bool, out: _Collector) -> bool:
    ok = True
    for match in _PLACEHOLDER.finditer(text):
        name = match.group(1).strip()
        if name in ("side", "other"):
            if not sides:
                out.add(line, f"{{{name}}} is only allowed in a section whose heading ends with {{sides}}")
                ok = False
        elif name.split()[:1] and name.split()[0].lower() == "pace":
            out.add(line, f"{{{excerpt(name)}}} must end its paragraph, after the last words and directives")
            ok = False
        else:
            out.add(line, f"unknown placeholder {{{excerpt(name)}}} (only {{side}} and {{other}} exist)")
            ok = False
    if ok and ("{" in _PLACEHOLDER.sub("", text) or "}" in _PLACEHOLDER.sub("", text)):
        out.add(line, f"unmatched brace in: {excerpt(text.strip())}")
        ok = False
    return ok


def _clean_text(text: str) -> str:
    """Markdown decoration that should not be spoken: list markers, emphasis, code ticks."""
    text = _LIST_MARKER.sub("", text)
    return text.replace("**", "").replace("__", "").replace("`", "").replace("*", "")


def _check_length(text: str, line: int, what: str, out: _Collector) -> bool:
    limit = out.limits.max_step_chars
    if len(text) <= limit:
        return True
    out.add(line, f"{what} has {len(text):,} characters; a step may have at most {limit:,} "
                  f"(split it into paragraphs with blank lines)")
    return False


def _paragraph_steps(lines: list[tuple[int, str]], sides: bool, out: _Collector) -> list[Step]:
    """One paragraph -> Say blocks split around its directives."""
    steps: list[Step] = []
    words: list[str] = []
    first_line = 0
    lines, pace, pace_line = *take_pace(lines, out), lines[-1][0]

    def flush() -> None:
        nonlocal first_line
        text = " ".join(" ".join(words).split())
        if text and _check_length(text, first_line, "this paragraph", out):
            steps.append(Say(text, first_line, pace=pace))
        words.clear()
        first_line = 0

    for line, raw in lines:
        raw = _clean_text(raw)
        pos = 0
        for match in _DIRECTIVE.finditer(raw):
            chunk = raw[pos:match.start()]
            if chunk.strip():
                first_line = first_line or line
                words.append(chunk)
            pos = match.end()
            step = _parse_directive(match.group(1), line, out)
            if step is not None:
                flush()
                steps.append(step)
        chunk = raw[pos:]
        if chunk.strip():
            first_line = first_line or line
            words.append(chunk)
        leftover = _DIRECTIVE.sub("", raw)
        if "[" in leftover or "]" in leftover:
            out.add(line, f"unmatched square bracket in: {excerpt(raw.strip())}")
        _check_placeholders(leftover, line, sides, out)
    flush()
    if pace != 1.0 and not any(isinstance(step, Say) for step in steps):
        out.add(pace_line, "{pace} must end a paragraph of words: it sets the speed they are spoken at")
    return steps


def _parse_heading(match: re.Match[str], line: int, out: _Collector) -> _SectionDraft | None:
    hashes, title = match.group(1), match.group(2) or ""
    if len(hashes) > 3:
        out.add(line, f"heading level {len(hashes)} is too deep: use # to ### for sections")
        return None
    flags, raw, title = heading_flags(title)
    attributes = heading_attributes(raw, line, out)
    if attributes is None:
        return None
    title = _clean_text(title).strip()
    if not title:
        out.add(line, "heading has no title")
        return None
    if not _check_length(title, line, "this heading", out):
        return None
    if not _check_placeholders(title, line, "sides" in flags, out):
        return None
    return _SectionDraft(title, line, len(hashes), "silent" not in flags, "sides" in flags,
                         attributes=attributes)


def _parse_body(lines: list[str], first_line: int, out: _Collector) -> list[_SectionDraft]:
    drafts = [_SectionDraft("", first_line, 0, False, False)]
    paragraph: list[tuple[int, str]] = []

    def end_paragraph() -> None:
        if paragraph:
            drafts[-1].steps.extend(_paragraph_steps(paragraph, drafts[-1].sides, out))
            paragraph.clear()

    for offset, text in enumerate(_strip_comments(lines, first_line, out)):
        line = first_line + offset
        heading = _HEADING.match(text)
        if heading:
            end_paragraph()
            section = _parse_heading(heading, line, out)
            if section is not None:
                drafts.append(section)
            else:  # keep following steps out of the previous section's {sides} scope
                drafts.append(_SectionDraft("", line, 1, False, False))
        elif not text.strip():
            end_paragraph()
        else:
            paragraph.append((line, text))
    end_paragraph()
    return drafts


def _substitute(step: Step, side: str, words: Phrases = ENGLISH) -> Step:
    """{side} and {other} as the routine's language says "left" and "right"."""
    if not isinstance(step, Say):
        return step
    other = SIDES[1 - SIDES.index(side)]
    return replace(step, text=step.text.replace("{side}", words[side]).replace("{other}", words[other]))


def _expand(drafts: list[_SectionDraft], words: Phrases = ENGLISH) -> tuple[Section, ...]:
    """Drafts -> sections: add spoken titles and repeat {sides} sections per side (the
    section's `side` stays "left"/"right"; the words spoken are the language's)."""
    sections: list[Section] = []
    for draft in drafts:
        if draft.level == 0 and not draft.steps:
            continue
        for side in SIDES if draft.sides else (None,):
            if side is None:
                title = draft.title
            elif "{side}" in draft.title or "{other}" in draft.title:
                title = _substitute(Say(draft.title, 0), side, words).text  # type: ignore[union-attr]
            else:
                title = f"{draft.title}, {words[side + '_side']}"
            steps: list[Step] = []
            if draft.spoken and title:
                steps.append(Say(title.rstrip(".") + ".", draft.line, is_title=True))
            steps.extend(_substitute(s, side, words) if side else s for s in draft.steps)
            sections.append(Section(title, draft.line, draft.level, draft.spoken, side, tuple(steps),
                                    **draft.attributes))
    return tuple(sections)


# ---------------------------------------------------------------------------------------------
# Entry points


def parse_routine(text: str, source: str = "<routine>", limits: Limits = DEFAULT_LIMITS) -> Routine:
    """Parse routine text. Raises RoutineError listing every problem; nothing else escapes."""
    out = _Reader(source, limits)
    _check_characters(text, source)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
    first_content = next((i for i, t in enumerate(lines) if t.strip()), None)
    if first_content is None:
        raise RoutineError([Problem(source, 1, "the file is empty: a routine starts with +++ front matter")])
    if lines[first_content].strip() != FENCE:
        raise RoutineError([Problem(source, first_content + 1,
                                    f"a routine must start with '{FENCE}' front matter (title = \"...\") "
                                    f"then '{FENCE}', found: {excerpt(lines[first_content].strip())}")])
    close = next((i for i in range(first_content + 1, len(lines)) if lines[i].strip() == FENCE), None)
    if close is None:
        raise RoutineError([Problem(source, first_content + 1, f"front matter opened with '{FENCE}' is never closed")])
    meta = parse_front(lines[first_content + 1:close], first_content + 2, out)
    if meta is not None:     # the body says {side} and [caution] in the routine's language
        table, fault = table_for(meta.language)
        out.words, out.caution = table or ENGLISH, meta.caution
        if fault:
            out.add(meta.lines.get("language", first_content + 2), fault)
    drafts = _parse_body(lines[close + 1:], close + 2, out)
    sections = _expand(drafts, out.words)
    if not out.problems and not any(section.steps for section in sections):
        out.add(close + 1, "the routine has no steps: add some narration after the front matter")
    if out.problems or meta is None:
        raise RoutineError(out.problems)
    return Routine(meta, sections, source)


def _check_characters(text: str, source: str) -> None:
    """Binary or garbled files fail on their first bad character, before anything else."""
    match = _CONTROL.search(text)
    if match is None:
        return
    line = text.count("\n", 0, match.start()) + 1
    if match.group() == "\x00":
        message = "the file contains NUL bytes: it looks binary, not a routine script"
    else:
        message = (f"control character U+{ord(match.group()):04X} in the text: the file looks binary "
                   f"or garbled, not a routine script")
    raise RoutineError([Problem(source, line, message)])


def parse_bytes(data: bytes, source: str, limits: Limits = DEFAULT_LIMITS) -> Routine:
    """Decode UTF-8 (reporting the line of a bad byte) and parse."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise RoutineError([Problem(source, 1, "the file is UTF-32 text: save it as UTF-8")])
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise RoutineError([Problem(source, 1, "the file is UTF-16 text: save it as UTF-8")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise RoutineError([Problem(source, line, "the file is not UTF-8 text (is it a routine script?)")]) from None
    return parse_routine(text, source, limits)
