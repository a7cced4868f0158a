"""The routine model: what a routine script means, independent of how it was written.

Everything here is immutable so a parsed routine can be shared between the planner, the
narrator and worker processes without copies or surprises.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Union


@dataclass(frozen=True, init=False)
class Meta:
    """Front matter: the routine's own words, and the session settings it chose.

    `settings` holds only what the front matter set (checked by `voiceguide.settings`); read
    one as `meta.speed` and get the setting's default when the routine left it out. Resolving
    against options happens once, in `voiceguide.settings.resolve`.
    """

    title: str
    description: str = ""
    suits: str = ""          # who the routine is for
    caution: str = ""        # who should check with a doctor first
    pronounce: Mapping[str, str] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    # File line of each key that was set, so later checks (ambient file, length limit) can point at it.
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __init__(self, title: str, description: str = "", suits: str = "", caution: str = "",
                 pronounce: Mapping[str, str] | None = None, settings: Mapping[str, Any] | None = None,
                 lines: Mapping[str, int] | None = None, **chosen: Any):
        from ..settings import FRONT_MATTER
        unknown = set(chosen) - set(FRONT_MATTER)
        if unknown:
            raise TypeError(f"Meta() got settings no front matter may set: {', '.join(sorted(unknown))}")
        for name, value in (("title", title), ("description", description), ("suits", suits),
                            ("caution", caution), ("pronounce", dict(pronounce or {})),
                            ("settings", {**(settings or {}), **chosen}), ("lines", dict(lines or {}))):
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        """`meta.speed`: the front matter's value, else the setting's default."""
        from ..settings import DEFAULTS, FRONT_MATTER
        if name in FRONT_MATTER:
            return self.settings.get(name, DEFAULTS[name])
        raise AttributeError(name)


@dataclass(frozen=True)
class Say:
    """A block of narration: one paragraph, or the spoken title of a section. `pace` scales
    the session's speed for it (`{pace 0.8}` at the paragraph's end: slower closing words)."""

    text: str
    line: int
    is_title: bool = False
    pace: float = 1.0


@dataclass(frozen=True)
class Pause:
    """Silence under the ambient bed. Flexible pauses stretch when fitting a length."""

    seconds: float
    line: int
    fixed: bool = False


@dataclass(frozen=True)
class Hold:
    """A timed hold while the listener works; exact, ends with a soft chime."""

    seconds: float
    line: int


@dataclass(frozen=True)
class Wait:
    """A step the listener finishes in their own time (warm a towel): live play waits for a
    key; a file gives it `seconds`, or the session's `wait` setting when None, then a soft cue."""

    seconds: float | None
    line: int


@dataclass(frozen=True)
class Chime:
    line: int


@dataclass(frozen=True)
class Breathe:
    """Paced breathing: `count` breaths of fixed inhale and exhale times with spoken cues."""

    count: int
    line: int
    inhale: float = 4.0
    exhale: float = 6.0

    @property
    def seconds(self) -> float:
        return self.count * (self.inhale + self.exhale)


Step = Union[Say, Pause, Hold, Wait, Chime, Breathe]


@dataclass(frozen=True)
class Section:
    """A heading and the steps under it (up to the next heading). Becomes a chapter."""

    title: str
    line: int
    level: int = 1           # 1 to 3 for '#' to '###'; 0 for text before any heading
    spoken: bool = True      # the title is read aloud unless the heading says {silent}
    side: str | None = None  # "left"/"right" for a {sides} section's copies
    steps: tuple[Step, ...] = ()
    # The heading's own sound, over the session's settings: {beat 6}, {ambient rain}, {voice NAME}.
    beat: float | None = None
    ambient: str | None = None
    voice: str | None = None


@dataclass(frozen=True)
class Routine:
    meta: Meta
    sections: tuple[Section, ...]
    source: str              # file path or "builtin:NAME", used in messages

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(step for section in self.sections for step in section.steps)
