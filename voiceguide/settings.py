"""The one table of session settings, and the one place they are resolved.

Every setting that changes a session is one field of `Settings`, carrying its `Spec`: type,
unit, range, default, whether the front matter may set it, which faces offer it, and its help.
The CLI's options, the front-matter checks, the batch manifest checks and the studio's form
are all derived from this table, so adding a setting is one row here plus its effect where
it takes effect. "Option, else front matter, else default" happens once, in `resolve()`.

Numpy-free and face-free on purpose: the parser and every face import it.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields, replace
from typing import Any, Callable, Iterable, Iterator, Mapping

from .errors import Named, SettingError
from .limits import DEFAULT_LIMITS, Limits
from .script.durations import DurationError, format_duration, parse_duration

FACES = ("plan", "render", "play", "batch")
"""Where a setting is offered: `plan`/`validate` time a session, `render` and `batch` write
files, `play` plays live. The studio offers what `render` offers."""

ENGINES = ("auto", "piper", "pyttsx3")
ENGINE_ALIASES = {"espeak": "pyttsx3", "system": "pyttsx3", "neural": "piper"}
BEDS = ("white", "pink", "brown", "drone", "ocean", "rain", "stream", "wind", "fire")
"""The synthesized ambient beds (sound/beds.py makes them); a bed may also be a sound file."""
CHIMES = ("bowl", "bell", "wood", "gong")
"""The synthesized chimes (sound/chimes.py); a chime may also be a sound file."""
BEAT_RANGE = (0.5, 40.0)
"""Hz a beat tone may pulse at (a beat, not a pitch)."""
FORMATS = ("mp3", "wav", "flac", "ogg", "opus", "m4a", "m4b")
FORMAT_ALIASES = {"oga": "ogg", "vorbis": "ogg", "aac": "m4a", "mp4": "m4a", "wave": "wav"}


def _beat_hz(text: str) -> float:
    lo, hi = BEAT_RANGE
    try:
        hz = float(text)
    except ValueError:
        raise ValueError(f'"{text}" is not a number of Hz (write "10", or "6>3" for a glide)') from None
    if not (math.isfinite(hz) and lo <= hz <= hi):
        raise ValueError(f"{text} Hz is out of range ({lo:g} to {hi:g} Hz)")
    return hz


def beat_glide(value: str) -> tuple[float, float] | None:
    """`beat` as (start Hz, end Hz): "10" holds 10 Hz, "6>3" glides from 6 to 3 over the
    session; None for "none"."""
    text = value.strip().lower()
    if text in ("none", "off"):
        return None
    first, arrow, last = text.partition(">")
    start = _beat_hz(first.strip())
    return start, (_beat_hz(last.strip()) if arrow else start)


def _beat_shape(value: str) -> str:
    glide = beat_glide(value)
    if glide is None:
        return "none"
    a, b = glide
    return f"{a:g}" if a == b else f"{a:g}>{b:g}"


_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")


def _language_shape(value: str) -> str:
    """A BCP 47 tag's shape ("de", "pt-BR", "en-GB"); whether a voice speaks it is the session's check."""
    tag = value.strip().replace("_", "-")
    if not _LANGUAGE_TAG.fullmatch(tag):
        raise ValueError(f'"{value}" is not a language tag like "de" or "pt-BR"')
    primary, *rest = tag.split("-")
    return "-".join([primary.lower(), *(part.upper() if len(part) == 2 else part for part in rest)])


def language_tag(value: str) -> str:
    """`value` written as the `language` setting writes a tag ("pt_br" -> "pt-BR"), or "" when it
    is not shaped like a BCP 47 tag (a file's tag may say "German"): one rule for every reader."""
    try:
        return _language_shape(value)
    except ValueError:
        return ""


@dataclass(frozen=True)
class Spec:
    """How one setting is typed, checked, offered and explained."""

    kind: str                       # number | integer | duration | text | choice | flag
    help: str
    unit: str = ""                  # shown after the value: "dB", "LUFS", "Hz", "x"
    lo: float | None = None         # inclusive range of a number, integer or duration
    hi: float | None = None
    choices: tuple[str, ...] = ()   # for kind "choice" (compared case-insensitively)
    aliases: Mapping[str, str] = field(default_factory=dict)
    front_matter: bool = False      # a routine's front matter may set it
    faces: tuple[str, ...] = ("render", "play", "batch")
    metavar: str = ""
    numbers_as_text: bool = False   # a text setting that also takes a number (quality = 4)
    face_help: Mapping[str, str] = field(default_factory=dict)   # where a face needs it said otherwise
    off: str = ""                   # the value a `--no-NAME` flag stands for (a text setting's "none")
    shape: Callable[[str], str] | None = None   # a text setting's own check: canonical value, or ValueError
    suggest: str = ""               # names values known only at runtime (json_schema's `suggestions`): "voices"

    def help_for(self, face: str) -> str:
        return self.face_help.get(face, self.help)

    def describe_range(self) -> str:
        if self.kind == "choice":
            return ", ".join(self.choices)
        if self.kind == "duration":
            return "longer than zero" if self.lo else "zero or longer"
        if self.lo is None or self.hi is None:
            return ""
        unit = f" {self.unit}" if self.unit and self.unit != "x" else ""
        return f"{self.lo:g} to {self.hi:g}{unit}"


def setting(default: Any, spec: Spec) -> Any:
    """A `Settings` field: its default and its spec (kept in the field's metadata)."""
    return field(default=default, metadata={"spec": spec})


@dataclass(frozen=True)
class Settings:
    """Every setting of one session, resolved (option, else front matter, else default).

    Immutable, so one object flows from the face through planning, narration and mixing.
    `origin` says where each value came from ("option", "routine" or "default"): a file
    named by the routine is found beside the routine, one given as an option from the
    working folder, and errors point at the right place.
    """

    speed: float = setting(1.0, Spec(
        "number", "Narration speed: 1.0 is about 165 words a minute, 0.8 is calm, 1.2 brisk.",
        unit="x", lo=0.5, hi=2.0, front_matter=True, faces=FACES))
    length: float | None = setting(None, Spec(
        "duration", "Fit the session to exactly this length, e.g. 12m (pauses stretch or shrink).",
        lo=1.0, front_matter=True, faces=FACES, metavar="DURATION"))
    engine: str = setting("auto", Spec(
        "choice", "Speech engine (see: voiceguide voices).", choices=ENGINES, aliases=ENGINE_ALIASES,
        front_matter=True))
    language: str = setting("en", Spec(
        "text", 'Language of the routine, a tag like "de" or "pt-BR": picks a voice that speaks it.',
        front_matter=True, faces=(), metavar="TAG", shape=_language_shape))
    # Front matter only: it describes the text, whose side words and [caution] lead-in the
    # parser has already put in that language; an option could only half-translate it.
    voice: str = setting("default", Spec(
        "text", "Voice name or a piper .onnx model path (see: voiceguide voices).", front_matter=True,
        suggest="voices"))
    ambient: str = setting("brown", Spec(
        "text", "Ambient bed: " + ", ".join(BEDS) + ", a sound file, or none.", front_matter=True))
    ambient_volume: float = setting(-22.0, Spec(
        "number", "Bed level relative to the voice.", unit="dB", lo=-60.0, hi=0.0, front_matter=True))
    chime: str = setting("bowl", Spec(
        "text", "Chime sound: " + ", ".join(CHIMES) + ", a sound file, or none.", front_matter=True))
    spatial: float = setting(0.4, Spec(
        "number", "How far a {sides} section's voice moves to the hand being worked on (0 centred, "
        "1 fully; headphones show it best).", unit="x", lo=0.0, hi=1.0, front_matter=True))
    beat: str = setting("none", Spec(
        "text", 'A beat tone under the voice, in Hz: "10", "6>3" (a glide over the session), or none.',
        front_matter=True, metavar="HZ", off="none", numbers_as_text=True, shape=_beat_shape))
    beat_mode: str = setting("binaural", Spec(
        "choice", "binaural (a tone in each ear; headphones, stereo) or isochronic (a pulsed tone; "
        "speakers, mono).", choices=("binaural", "isochronic"), front_matter=True))
    carrier: float = setting(200.0, Spec(
        "number", "Pitch of the beat tone.", unit="Hz", lo=40.0, hi=1000.0, front_matter=True))
    beat_volume: float = setting(-3.0, Spec(
        "number", "Beat tone level relative to the bed.", unit="dB", lo=-30.0, hi=10.0, front_matter=True))
    wait: float = setting(30.0, Spec(
        "duration", "How long a [wait] step lasts in a file, before its soft cue (live play waits for a key).",
        lo=1.0, hi=1800.0, front_matter=True, faces=FACES, metavar="DURATION",
        face_help={"play": "How long a [wait] step lasts without a terminal (on one, play waits for space or n)."}))
    sleep: float = setting(0.0, Spec(
        "duration", "Keep the bed going this long after the last words, fading out (bedtime).",
        lo=0.0, metavar="DURATION"))
    bells: bool = setting(False, Spec("flag", "Ring a bell at the start and after the last words."))
    loudness: float = setting(-16.0, Spec(
        "number", "Integrated loudness target (true peak stays at or below -1 dBTP).",
        unit="LUFS", lo=-40.0, hi=-6.0,
        face_help={"play": "Loudness, estimated from the voice's level so that playback starts at once."}))
    format: str | None = setting(None, Spec(
        "choice", "Audio format, if not the output's extension.", choices=FORMATS, aliases=FORMAT_ALIASES,
        faces=("render", "batch"), face_help={"batch": "Format of items that set none (default mp3)."}))
    quality: str | None = setting(None, Spec(
        "text", "Encoder quality: MP3 VBR 0-9 (default 4) or a bitrate like 128k.", faces=("render", "batch"),
        numbers_as_text=True))
    sample_rate: int = setting(44100, Spec(
        "integer", "Sample rate of the output.", unit="Hz", lo=8000, hi=192000, faces=("render", "batch")))
    mono: bool = setting(False, Spec("flag", "One channel instead of two.", faces=("render", "batch")))
    cover: str = setting("drawn", Spec(
        "text", "Cover art: an image file (PNG or JPEG), drawn (the title over a calm picture), or none.",
        front_matter=True, faces=("render", "batch"), metavar="FILE", off="none"))
    max_session: float = setting(DEFAULT_LIMITS.max_session, Spec(
        "duration", "Refuse sessions longer than this, counting length and sleep.",
        lo=1.0, faces=FACES, metavar="DURATION"))
    origin: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def limits(self) -> Limits:
        return Limits(max_session=self.max_session)

    def given(self, name: str) -> bool:
        """Whether `name` was set as an option (not by the routine, not the default)."""
        return self.origin.get(name) == "option"

    def from_routine(self, name: str) -> bool:
        return self.origin.get(name) == "routine"

    def changed(self, **values: Any) -> "Settings":
        """A copy with `values` set as options (checked like any option)."""
        checked = {name: check(name, value) for name, value in values.items()}
        return replace(self, **checked, origin={**self.origin, **{name: "option" for name in checked}})

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in SCHEMA}


SCHEMA: dict[str, Spec] = {f.name: f.metadata["spec"] for f in fields(Settings) if "spec" in f.metadata}
DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(Settings) if f.name in SCHEMA}
FRONT_MATTER: tuple[str, ...] = tuple(name for name, spec in SCHEMA.items() if spec.front_matter)


def offered(face: str) -> Iterator[tuple[str, Spec]]:
    """The settings a face offers, in table order."""
    return ((name, spec) for name, spec in SCHEMA.items() if face in spec.faces)


# ---------------------------------------------------------------------------------------------
# Errors name the setting (errors.SettingError); each face spells the name its own way


def about(name: str, message: str) -> SettingError:
    """`NAME: message`, the usual shape."""
    return SettingError(Named(name), f": {message}")


def cli_flag(name: str) -> str:
    return "--" + name.replace("_", "-")


# ---------------------------------------------------------------------------------------------
# Checks: one per kind, shared by the CLI, the front matter, manifests and the studio


def _finite(value: float | int) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:                   # an integer too large for a float
        return False


def _number(spec: Spec, value: Any, integer: bool) -> float | int:
    """A TOML or Python number (text is the CLI's to convert: "0.8" in a manifest is a mistake)."""
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not _finite(value):
        what = "a whole number" if integer else "a number"
        raise ValueError(f"must be {what} from {spec.describe_range()}")
    if not spec.lo <= value <= spec.hi:     # type: ignore[operator]
        raise ValueError(f"{value:g} is out of range ({spec.describe_range()})")
    return int(value) if integer else float(value)


def _duration(spec: Spec, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError('must be a duration like "12m" or a number of seconds')
    try:
        seconds = parse_duration(value) if isinstance(value, str) else float(value)
    except DurationError as exc:
        raise ValueError(str(exc)) from None
    except OverflowError:                   # an integer of hundreds of digits
        seconds = math.inf
    if not math.isfinite(seconds):
        raise ValueError("must be a finite duration")
    if seconds <= 0 and spec.lo:
        raise ValueError("must be longer than zero")
    if seconds < 0:
        raise ValueError("must not be negative")
    if spec.lo and seconds < spec.lo:
        raise ValueError(f"{format_duration(seconds)} is shorter than {format_duration(spec.lo)}")
    if spec.hi is not None and seconds > spec.hi:
        raise ValueError(f"{format_duration(seconds)} is longer than {format_duration(spec.hi)}")
    return seconds


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("must not contain control characters")
    return value


def _choice(spec: Spec, value: Any, name: str) -> str:
    key = _text(value).strip().lower()
    key = spec.aliases.get(key, key)
    if key not in spec.choices:
        raise ValueError(f"unknown {name} '{value}' (choose from {', '.join(spec.choices)})")
    return key


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def check_value(spec: Spec, value: Any, name: str = "value") -> Any:
    """`value` as the setting wants it, or ValueError saying in a few words what is wrong."""
    if spec.kind in ("number", "integer"):
        return _number(spec, value, spec.kind == "integer")
    if spec.kind == "duration":
        return _duration(spec, value)
    if spec.kind == "choice":
        return _choice(spec, value, name)
    if spec.kind == "flag":
        return _flag(value)
    if spec.kind == "text":
        if spec.numbers_as_text and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        text = _text(value)
        return spec.shape(text) if spec.shape else text
    raise AssertionError(f"unknown kind {spec.kind}")


def check(name: str, value: Any) -> Any:
    """One setting's value checked and converted; SettingError naming it if it is wrong."""
    spec = SCHEMA.get(name)
    if spec is None:
        raise SettingError(f"unknown setting '{name}' (known: {', '.join(SCHEMA)})")
    try:
        return check_value(spec, value, name)
    except ValueError as exc:
        raise about(name, str(exc)) from None


def check_all(values: Mapping[str, Any], allowed: Iterable[str] | None = None) -> dict[str, Any]:
    """Several settings checked; None values are dropped (not given)."""
    allowed = set(SCHEMA if allowed is None else allowed)
    out = {}
    for name, value in values.items():
        if value is None:
            continue
        if name not in allowed:
            raise SettingError(f"unknown setting '{name}' (known: {', '.join(sorted(allowed))})")
        out[name] = check(name, value)
    return out


def resolve(options: Mapping[str, Any] | None = None, routine: Mapping[str, Any] | None = None) -> Settings:
    """The session's settings: each option if given (not None), else the routine's front
    matter, else the default. Options are checked here; front-matter values were checked
    when the routine was parsed."""
    given = check_all(options or {})
    front = {k: v for k, v in (routine or {}).items() if k in FRONT_MATTER}
    values, origin = {}, {}
    for name in SCHEMA:
        if name in given:
            values[name], origin[name] = given[name], "option"
        elif name in front:
            values[name], origin[name] = front[name], "routine"
        else:
            origin[name] = "default"
    return Settings(**values, origin=origin)


def json_schema(face: str = "render", suggestions: Mapping[str, Iterable[str]] | None = None) -> dict[str, Any]:
    """A JSON Schema of the settings a face offers (the studio builds its form from it).
    `suggestions` fills a setting's `examples` with what its `Spec.suggest` names, computed by
    the caller (the studio lists the voices; this module knows no engine)."""
    kinds = {"number": "number", "integer": "integer", "duration": "string", "text": "string",
             "choice": "string", "flag": "boolean"}
    properties: dict[str, Any] = {}
    for name, spec in offered(face):
        prop: dict[str, Any] = {"type": kinds[spec.kind], "description": spec.help_for(face), "default": DEFAULTS[name]}
        if spec.kind in ("number", "integer"):
            prop.update(minimum=spec.lo, maximum=spec.hi)
        if spec.kind == "choice":
            prop["enum"] = list(spec.choices)
        if spec.unit:
            prop["x-unit"] = spec.unit
        if spec.suggest and suggestions and spec.suggest in suggestions:
            prop["examples"] = list(suggestions[spec.suggest])
        if spec.kind == "duration":
            prop["type"] = ["string", "number"]
        if DEFAULTS[name] is None:
            prop["type"] = [*([prop["type"]] if isinstance(prop["type"], str) else prop["type"]), "null"]
        properties[name] = prop
    return {"type": "object", "properties": properties, "additionalProperties": False}
