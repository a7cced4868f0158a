"""The routine model: what a routine script means, independent of how it was written.

Everything here is immutable so a parsed routine can be shared between the planner, the
narrator and worker processes without copies or surprises.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Union


@dataclass(frozen=True)
class Meta:
    """Front-matter settings. Times are in seconds."""

    title: str
    description: str = ""
    suits: str = ""          # who the routine is for
    caution: str = ""        # who should check with a doctor first
    speed: float = 1.0       # narration tempo multiplier, 0.5 to 2.0
    voice: str = "default"
    engine: str = "auto"
    ambient: str = "brown"   # ambient bed name, a file path, or "none"
    ambient_volume: float = -22.0  # bed level in dB relative to the voice
    chime: str = "bell"      # chime sound name, or "none"
    length: float | None = None    # fit the whole session to exactly this long
    pronounce: Mapping[str, str] = field(default_factory=dict)
    # File line of each key that was set, so later checks (ambient file, length limit) can point at it.
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Say:
    """A block of narration: one paragraph, or the spoken title of a section."""

    text: str
    line: int
    is_title: bool = False


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


Step = Union[Say, Pause, Hold, Chime, Breathe]


@dataclass(frozen=True)
class Section:
    """A heading and the steps under it (up to the next heading). Becomes a chapter."""

    title: str
    line: int
    level: int = 1           # 1 to 3 for '#' to '###'; 0 for text before any heading
    spoken: bool = True      # the title is read aloud unless the heading says {silent}
    side: str | None = None  # "left"/"right" for a {sides} section's copies
    steps: tuple[Step, ...] = ()


@dataclass(frozen=True)
class Routine:
    meta: Meta
    sections: tuple[Section, ...]
    source: str              # file path or "builtin:NAME", used in messages

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(step for section in self.sections for step in section.steps)
