"""Hear a stretch of a session before rendering it: one step, one section, or the first minute,
mixed as the render will be (the studio's "play this step" and "compare speeds").

    plan as `voiceguide plan` does (measured where the store knows the sentence, else the
    voice's calibrated pace) -> the span's events -> speak ONLY the span's sentences ->
    plan again with those measured -> mix that stretch with the render's options -> the
    loudness gain live play estimates -> short edge fades -> samples (and WAV bytes)

A render narrates every sentence first; a preview cannot wait for that (a one-step preview of
a 15-minute routine must not narrate the routine), and need not: the plan's events come from
the routine's structure alone, so the span's event indices are the same in the estimated plan
(what the studio drew) and the re-plan; only their times move. Sentences outside the span sound
nowhere inside it (a measured clip ends where its event ends), so they are planned with their
best known duration and mixed as silence.

A `{voice NAME}` section is planned, spoken and mixed in its own voice, as the render does it
(the same speech keys and clips). A `Previewer` keeps narrators (and so their speech workers)
open between previews (preview_voices.py), so a sentence already spoken sounds at once and a
new one costs only its synthesis.
"""
from __future__ import annotations

import io
import os
import threading
import wave
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Literal, TypeVar

import numpy as np

from . import inputs
from .errors import VoiceguideError
from .library import plan_session
from .preview_voices import Narrators, Timer, Voices
from .script.model import Routine
from .session import Resources, _at_its_line, check_beat, sound_options
from .settings import Settings
from .sound.blocks import db_to_gain
from .sound.bedseek import BedSeeker
from .sound.chimes import ChimeSet
from .sound.gain import estimate_gain
from .sound.mix import Bed, Mix, MixOptions, MixParts, SpeechSource, open_bed, open_chimes, prepare_speech
from .sound.envelopes import seconds_to_frame
from .timeline import Timeline, from_speech_key, paced_speed, speech_voice
from .voices import SynthesisError

SpanKind = Literal["event", "section", "first"]
T = TypeVar("T")
EDGE_FADE = 0.02           # seconds faded in and out at the preview's edges (no click)
MAX_SECONDS = 300.0        # a preview is at most this long (a long section is cut): memory
REPLANS = 8                # "first": rounds of speaking what the measured plan brings in
WARM_TEXT = "Ready."       # spoken (and thrown away) to start a worker and load the voice


@dataclass(frozen=True)
class Span:
    """What to hear: event `index` or section `index` of the plan, or its `seconds` first seconds."""

    kind: SpanKind
    index: int = 0
    seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.kind not in ("event", "section", "first"):
            raise VoiceguideError(f"cannot preview a '{self.kind}': preview an event, a section or the first seconds")
        if self.kind == "first" and not self.seconds > 0:
            raise VoiceguideError(f"the first {self.seconds:g} seconds cannot be previewed: ask for more than 0")
        if self.kind == "first" and self.seconds > MAX_SECONDS:
            raise VoiceguideError(f"a preview is at most {MAX_SECONDS:g} seconds long; "
                                  f"the first {self.seconds:g} seconds cannot be previewed (render the session)")


@dataclass(frozen=True)
class Preview:
    """A stretch of the session as the render will sound there (its loudness gain applied)."""

    samples: np.ndarray        # float32 (frames, channels), in [-1, 1], edges faded
    sample_rate: int
    start: float               # where the stretch starts in the measured plan (seconds)
    duration: float
    synthesized: int = 0       # sentences spoken for this preview (0: all were known already)
    warnings: tuple[str, ...] = ()

    def wav(self) -> bytes:
        """16-bit PCM WAV bytes (what a browser's audio element plays)."""
        pcm = np.round(np.clip(self.samples, -1.0, 1.0) * 32767.0).astype("<i2")
        out = io.BytesIO()
        with wave.open(out, "wb") as w:
            w.setnchannels(self.samples.shape[1])
            w.setsampwidth(2)
            w.setframerate(self.sample_rate)
            w.writeframes(pcm.tobytes())
        return out.getvalue()


def _span_texts(timeline: Timeline, span: Span) -> list[tuple[str | None, str, float]]:
    """The (voice, sentence, speed) spoken inside the span (raises for a span the plan does not
    have): a `{pace}`d paragraph's sentences at their own speed, a `{voice NAME}` section's
    in that voice (None: the session's)."""
    if span.kind == "event":
        events = [timeline.events[_checked(span.index, len(timeline.events), "event")]]
    elif span.kind == "section":
        index = _checked(span.index, len(timeline.sections), "section")
        events = [e for e in timeline.events if e.section == index]
    else:
        events = [e for e in timeline.events if e.start < span.seconds]
    texts: dict[tuple[str | None, str, float], None] = {}
    speed = timeline.speed
    for event in events:
        if event.kind == "say" and event.text.strip():
            texts[(event.voice, event.text, paced_speed(speed, event.pace))] = None
        elif event.kind == "breathe":
            texts.update(dict.fromkeys((event.voice, cue, speed) for cue in timeline.cues))
    return list(texts)


def _checked(index: int, count: int, what: str) -> int:
    if not 0 <= index < count:
        have = f"{count} {what}s (0 to {count - 1})" if count else f"no {what}s"
        raise VoiceguideError(f"{what} {index} does not exist: the plan has {have}")
    return index


def _bounds(timeline: Timeline, mix: Mix, span: Span) -> tuple[float, float]:
    """(start, end) of the span in the measured plan, in seconds, at most MAX_SECONDS long."""
    if span.kind == "event":
        event = timeline.events[span.index]
        start, end = event.start, event.end
    elif span.kind == "section":
        section = timeline.sections[span.index]
        start, end = section.start, section.start + section.duration
    else:
        start, end = 0.0, min(span.seconds, mix.duration)
    return start, min(end, start + MAX_SECONDS)


def _changed(sound: str) -> tuple[int, int] | None:
    """When a sound file last changed (a bed or chime name: None), so an edited file is read again."""
    try:
        info = os.stat(sound)
    except (OSError, ValueError):
        return None
    return info.st_mtime_ns, info.st_size


def _faded(samples: np.ndarray, frames: int) -> np.ndarray:
    """Raised-cosine fades over `frames` at both edges (fewer for a very short stretch)."""
    k = min(frames, len(samples) // 2)
    if k > 0:
        ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(k) + 0.5) / k)).astype(np.float32)[:, None]
        samples[:k] *= ramp
        samples[len(samples) - k:] *= ramp[::-1]
    return samples


class Previewer:
    """Keeps speech workers warm between previews (a studio makes many). Thread-safe: each
    narrator is used by one preview at a time; at most `max_open` stay open (the least
    recently used is closed)."""

    def __init__(self, resources: Resources = Resources(), *, max_open: int = 2):
        self.resources = resources
        self._narrators = Narrators(resources, max_open)     # preview_voices.py
        self._lock = threading.Lock()
        self._beds: OrderedDict[tuple, Bed] = OrderedDict()
        self._seekers: weakref.WeakKeyDictionary[Any, BedSeeker] = weakref.WeakKeyDictionary()   # per open bed
        self._chimes: OrderedDict[tuple, ChimeSet] = OrderedDict()

    def warm(self, routine: Routine, settings: Settings) -> threading.Thread:
        """Start the session's speech worker in the background (the process starts, loads the
        voice and, the first time, calibrates its speed: seconds a preview need not wait for).
        Returns the thread; join it to wait. Failures are left for the preview to report."""
        voices = self._narrators.get(routine, settings)

        def run() -> None:
            with voices.lock:
                if voices.closed:
                    return
                try:    # straight to the engine: nothing is kept in memory or the store
                    voices.session.narrator.engine.synthesize(WARM_TEXT, settings.voice, settings.speed)
                except Exception:   # noqa: BLE001 - the preview reports what is wrong
                    pass

        thread = threading.Thread(target=run, name="voiceguide-preview-warm", daemon=True)
        thread.start()
        return thread

    # -- mixing ----------------------------------------------------------------------------

    def _cached(self, cache: OrderedDict, key: tuple, make: Callable[[], T]) -> T:
        """`cache[key]`, made if need be (a few kept, the least recently used dropped)."""
        with self._lock:
            if key in cache:
                cache.move_to_end(key)
                return cache[key]
        value = make()
        with self._lock:
            cache[key] = value
            while len(cache) > 4:
                cache.popitem(last=False)
        return value

    def _bed_at(self, mix: Mix, frame: int) -> Any:
        """The bed's reader at `frame`, from the checkpoints earlier previews left (a late step
        of a long session need not run the bed up from its start: seconds for the ocean)."""
        with self._lock:
            seeker = self._seekers.get(mix.bed)
            if seeker is None:
                seeker = self._seekers[mix.bed] = BedSeeker(mix.bed, mix.sample_rate)
        return seeker.at(frame)

    def _parts(self, voices: Voices, speed: float) -> MixParts:
        """The render's parts, with the bed and chimes kept between previews (a bed's level is
        measured when it opens; a file bed is decoded) and unspoken sentences silent."""
        def bed(options: MixOptions) -> Bed:
            key = (options.ambient, _changed(options.ambient), options.sample_rate, options.channels, options.seed,
                   options.ambient_changes)
            return self._cached(self._beds, key, lambda: open_bed(options))

        def chimes(options: MixOptions) -> ChimeSet:
            key = (options.chime, _changed(options.chime), options.sample_rate)
            return self._cached(self._chimes, key, lambda: open_chimes(options))

        def clip(key: str, speech: SpeechSource, options: MixOptions) -> np.ndarray:
            text, pace = from_speech_key(key)
            timer = Timer(voices.speaker(speech_voice(key)))     # a {voice NAME} section's: its own
            if timer.known(text, paced_speed(speed, pace)):
                return prepare_speech(key, speech, options)
            # Outside the span and never spoken: silent for as long as it is planned.
            return np.zeros(seconds_to_frame(timer(text, paced_speed(speed, pace)), options.sample_rate), np.float32)

        return MixParts(bed=bed, chimes=chimes, clip=clip)

    # -- the preview -----------------------------------------------------------------------

    def preview(self, routine: Routine, settings: Settings, span: Span) -> Preview:
        """The span of the session as the render will sound there. Raises VoiceguideError for
        a span the plan does not have, and what planning and narration raise."""
        check_beat(routine, settings)
        ambient, chime = inputs.ambient(routine, settings), inputs.chime(routine, settings)
        voices = self._narrators.locked(routine, settings)
        try:
            timeline, synthesized = self._narrate(voices, routine, settings, span)
            speed = timeline.speed

            def speech(key: str) -> tuple[np.ndarray, int]:     # as Prepared.mix speaks it
                text, pace = from_speech_key(key)
                spoken = voices.speaker(speech_voice(key)).narrator.speech(text, paced_speed(speed, pace))
                return spoken.samples, spoken.sample_rate

            options = MixOptions(
                sample_rate=settings.sample_rate, channels=1 if settings.mono else 2,
                ambient=ambient, ambient_volume=settings.ambient_volume, chime=chime, sleep=settings.sleep,
                start_bell=settings.bells, end_bell=settings.bells,
                clip_store=str(self.resources.store) if self.resources.store is not None else None,
                **sound_options(settings))  # type: ignore[arg-type]
            mix = Mix(timeline, speech, options, self._parts(voices, speed))
            start, end = _bounds(timeline, mix, span)
            first = seconds_to_frame(start, mix.sample_rate)
            block = mix.render(first, seconds_to_frame(end, mix.sample_rate) - first, bed=self._bed_at(mix, first))
            warnings = tuple(voices.warnings) + tuple(mix.warnings)
            voices.warnings.clear()
        finally:
            voices.lock.release()
        block *= np.float32(db_to_gain(estimate_gain(mix, settings.loudness)))
        samples = np.clip(_faded(block, round(EDGE_FADE * mix.sample_rate)), -1.0, 1.0)
        return Preview(samples, mix.sample_rate, first / mix.sample_rate, len(samples) / mix.sample_rate,
                       synthesized, warnings)

    def _narrate(self, voices: Voices, routine: Routine, settings: Settings, span: Span) -> tuple[Timeline, int]:
        """Plan as `voiceguide plan` does, speak the span's sentences that are not known yet (each
        in its section's voice), and plan again with them measured; for "first", until the
        measured plan brings no new sentence into the span. Returns the plan and how many
        sentences were spoken."""
        voices.open_sections(routine)             # an unknown {voice NAME}: at its heading's line
        timer, timers = voices.timers()
        timeline = plan_session(routine, settings, timer=timer, voices=timers)
        before = voices.synthesized
        for _ in range(REPLANS):
            new = [(voice, text, at) for voice, text, at in _span_texts(timeline, span)
                   if (text, at) not in voices.speaker(voice).measured]
            if not new:
                break
            for voice, at in dict.fromkeys((voice, at) for voice, _, at in new):   # per voice and speed
                speaker = voices.speaker(voice)
                texts = [text for v, text, speed in new if (v, speed) == (voice, at)]
                try:
                    spoken = speaker.narrator.prepare(texts, at)
                except SynthesisError as exc:
                    raise _at_its_line(exc, routine, timeline) from None
                for text, speech in zip(texts, spoken):
                    speaker.measured[(text, at)] = speech.duration
            timeline = plan_session(routine, settings, timer=timer, voices=timers)
        return timeline, voices.synthesized - before

    def close(self) -> None:
        """Stop every speech worker now (a preview still running fails)."""
        with self._lock:
            self._beds.clear()
            self._chimes.clear()
        self._narrators.close()

    def __enter__(self) -> "Previewer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
