"""Timeline + speech + bed + chimes -> a stream of float32 blocks.

The mix is a pure function of (timeline, speech, options): every block is rendered on
demand from what overlaps it (the bed's next frames, the speech and chime placements that
sound in it, the ducking and fade gains at its frames), so memory stays flat for an hour
and `blocks()` can be called again to render the same samples (mastering measures first,
then renders again). Nothing depends on the block size.

`render(start, frames)` renders any stretch on its own, the same samples `blocks()` gives
there: live play moves around the session (skip, repeat, a longer hold) and keeps its own
bed reader running, so it asks for the voice (`voice()`) and the bed's gain
(`bed_gain_curve()`) at whatever frame it has reached.

Layers, in the order every way of rendering adds them: the bed and the beat tone under it
(`beats`, sound/beats.py; the bed's gain applies to both), then the centred sounds (mono
clips and chimes, in every channel), then the placed ones (a `{sides}` copy's speech,
stereo from sound/spatial.py). What the sections ask for (side, beat, their own bed) is
read off the timeline by sound/sections.py; where each sound starts, by sound/placements.py.

Where the bed, the chimes, their levels and the prepared clips come from is a `MixParts`:
four plain functions, by default the ones below. Live play passes its own (chimes from a
start-up cache, a bed opened in the background, clips prepared ahead); the samples are the
same either way.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator, Protocol

import numpy as np

from ..settings import DEFAULTS, SCHEMA, beat_glide
from ..timeline import Timeline
from .beats import MODES, BeatTone, add_tone, tone_amplitude
from .beds import BED_LUFS, bed
from .bedschedule import ScheduledBed
from .blocks import DEFAULT_BLOCK, BlockSource, db_to_gain
from .chimes import ChimeSet, Sound, chime_set
from .clips import EDGE_FADE, ClipStore, SPEECH_LUFS, ClipCache, fade_out, prepare_clip
from .envelopes import BedFades, Ducker, seconds_to_frame
from .loudness import clip_loudness
from .placements import Placement, place, speech_spans
from .sections import beat_curve, section_beds
from .spatial import spatialize


CONTROL = 32   # frames between gain-curve points


class SpeechSource(Protocol):
    """text -> (mono float32 samples, their sample rate). The mixer resamples, levels and
    fades the clip itself. Called again for every render pass (mastering renders twice), so
    it should be cheap for text it has already synthesized (cache it)."""

    def __call__(self, text: str) -> tuple[np.ndarray, int]: ...


@dataclass(frozen=True)
class MixOptions:
    sample_rate: int = DEFAULTS["sample_rate"]
    channels: int = 2
    ambient: str = DEFAULTS["ambient"]                # bed name, audio file path, or "none"
    ambient_volume: float = DEFAULTS["ambient_volume"]  # bed loudness in dB relative to the voice
    chime: str = DEFAULTS["chime"]                    # chime name, asset, audio file, or "none"
    seed: int = 0                    # bed randomness
    duck_db: float = 8.0             # how far the bed dips under the voice
    duck_attack: float = 0.3
    duck_release: float = 1.0
    fade_in: float = 3.0             # bed fade-in at the start
    fade_out: float = 5.0            # bed fade-out at the end
    sleep: float = 0.0               # > 0: bed continues after the last words, fading over this
    start_bell: bool = False         # opening bell at 0 s
    end_bell: bool = False           # closing bell when the last words end
    level_speech: bool = True        # bring every clip to the same loudness
    speech_lufs: float = SPEECH_LUFS
    clip_store: str | None = None    # the store's folder, keeping prepared clips between renders
    ambient_changes: tuple[tuple[float, str], ...] = ()   # (seconds, bed): sections' own beds (bedschedule.py)
    spatial: float = DEFAULTS["spatial"]    # a {sides} copy's voice towards its side, 0..1 (stereo)
    beat: str = DEFAULTS["beat"]            # beat tone: "none", "10", "10>4" (a glide over the session)
    beat_mode: str = DEFAULTS["beat_mode"]  # binaural | isochronic
    carrier: float = DEFAULTS["carrier"]    # the beat tone's pitch, Hz
    beat_volume: float = DEFAULTS["beat_volume"]  # beat tone level in dB relative to the bed

    def __post_init__(self) -> None:
        if self.channels not in (1, 2):
            raise ValueError("channels must be 1 (mono) or 2 (stereo)")
        rates = SCHEMA["sample_rate"]
        if not rates.lo <= self.sample_rate <= rates.hi:        # type: ignore[operator]
            raise ValueError(f"sample rate {self.sample_rate} is outside {rates.describe_range()}")
        if self.sleep < 0:
            raise ValueError("sleep must be zero or positive")
        if self.beat_mode not in MODES:
            raise ValueError(f"beat mode must be one of {', '.join(MODES)}, not {self.beat_mode!r}")
        beat_glide(self.beat)                                   # a bad beat fails here


class Bed(BlockSource, Protocol):
    """The calibrated, ungained bed: `restarted()` gives a new reader from its first frame."""

    def restarted(self) -> BlockSource: ...


class BedOpener(Protocol):
    def __call__(self, options: MixOptions) -> Bed: ...


class ChimeProvider(Protocol):
    def __call__(self, options: MixOptions) -> ChimeSet: ...


class ChimeGain(Protocol):
    """The gain that puts `sound` `lu` below a voice at `speech_lufs`."""

    def __call__(self, sound: Sound, lu: float, speech_lufs: float) -> float: ...


class ClipPreparer(Protocol):
    """text -> the clip the mix adds: mono float32 at the mix's rate, levelled, edges faded."""

    def __call__(self, text: str, speech: SpeechSource, options: MixOptions) -> np.ndarray: ...


def open_bed(options: MixOptions) -> Bed:
    """The bed, calibrated (about a second of scipy for a synthesized one); with
    `ambient_changes`, the session's bed crossfading to each section's own and back."""
    if options.ambient_changes:
        return ScheduledBed.open(options.ambient, options.ambient_changes, options.sample_rate,
                                 options.channels, options.seed)
    return bed(options.ambient, options.sample_rate, options.channels, options.seed)


def open_chimes(options: MixOptions) -> ChimeSet:
    return chime_set(options.chime, options.sample_rate)


def chime_gain(sound: Sound, lu: float, speech_lufs: float) -> float:
    """Gain putting a chime `lu` below the voice, judged on its first second (the strike is
    what is heard as its loudness; a long tail would otherwise make a bowl too loud)."""
    measured = clip_loudness(sound.samples[:sound.sample_rate], sound.sample_rate)
    return db_to_gain(speech_lufs + lu - measured) if np.isfinite(measured) else 1.0


def prepare_speech(text: str, speech: SpeechSource, options: MixOptions) -> np.ndarray:
    """Speak `text` and prepare the clip, through the clip store when the options name one."""
    samples, rate = speech(text)
    level = options.speech_lufs if options.level_speech else None
    if options.clip_store is None:
        return prepare_clip(samples, int(rate), options.sample_rate, level_lufs=level)
    store = ClipStore(options.clip_store)
    key = store.key(samples, int(rate), options.sample_rate, level)
    clip = store.get(key)
    if clip is None:
        clip = prepare_clip(samples, int(rate), options.sample_rate, level_lufs=level)
        store.put(key, clip)
    return clip


@dataclass(frozen=True)
class MixParts:
    """Where a mix gets its bed, chimes, chime levels and clips (by default: made here)."""

    bed: BedOpener = open_bed
    chimes: ChimeProvider = open_chimes
    chime_gain: ChimeGain = chime_gain
    clip: ClipPreparer = prepare_speech


@dataclass
class Mix:
    """A renderable session (implements `blocks.Program`)."""

    timeline: Timeline
    speech: SpeechSource
    options: MixOptions = field(default_factory=MixOptions)
    parts: MixParts = field(default_factory=MixParts)

    def __post_init__(self) -> None:
        if not self.options.ambient_changes:         # the sections' own beds ({ambient rain})
            self.options = replace(self.options, ambient_changes=section_beds(self.timeline, self.options.ambient))
        o = self.options
        self.sample_rate, self.channels = o.sample_rate, o.channels
        self.chimes: ChimeSet = self.parts.chimes(o)
        self.bed: Bed = self.parts.bed(o)   # fails early on a bad name
        self._chime_gains: dict[str, float] = {}
        self.warnings: list[str] = []
        self._overran: set[str] = set()
        # The prepared clips by text (`text in mix.clips`: prepared already).
        self.clips = ClipCache(lambda text: self.parts.clip(text, self.speech, o))
        self.speech_end = _last_activity(self.timeline)
        end = self.timeline.total
        if o.sleep > 0:
            end = max(end, self.speech_end + o.sleep)
        self.duration = end
        self.frames = seconds_to_frame(end, o.sample_rate)
        self.placements = place(self.timeline, self.chimes, self._chime_gain, o.sample_rate, self.frames,
                                self.speech_end, o.start_bell, o.end_bell)
        self._starts = [p.start for p in self.placements]
        # reach[i]: the furthest frame any of placements[0..i] can sound to (a running max),
        # so voice() finds everything overlapping a frame by scanning back from it.
        self._reach: list[int] = []
        for p in self.placements:
            reach = p.start + min(p.limit, self.frames - p.start)
            self._reach.append(max(reach, self._reach[-1]) if self._reach else reach)
        self._sounds: dict[int, np.ndarray] = {}   # placement index -> its sound (a few)
        self.speech_spans = speech_spans(self.placements, lambda key: len(self.clips(key)), o.sample_rate)
        self.ducker = Ducker.from_spans(self.speech_spans, o.duck_db, o.duck_attack, o.duck_release)
        self.fades = BedFades(end, o.fade_in, o.fade_out, self.speech_end if o.sleep > 0 else None)
        # Voice and bed levels as heard in the output: a centred mono voice in stereo is
        # 3 LU louder than the clip itself (BS.1770 sums channel powers).
        self.voice_lufs = o.speech_lufs + 10 * np.log10(o.channels)
        self.bed_gain = db_to_gain(self.voice_lufs + o.ambient_volume - BED_LUFS)
        # The beat tone sits with the bed (its level, ducking and fades): see docs/audio.md.
        curve = beat_curve(self.timeline, beat_glide(o.beat), end)
        if curve is not None and o.beat_mode == "binaural" and o.channels == 1:
            raise ValueError("a binaural beat needs two channels (use beat_mode isochronic)")
        self.beats = None if curve is None else BeatTone(
            curve, o.carrier, o.beat_mode, o.channels, o.sample_rate,
            tone_amplitude(BED_LUFS + o.beat_volume, o.carrier, o.beat_mode, o.channels, o.sample_rate))

    # -- setup -----------------------------------------------------------------------------

    def _chime_gain(self, sound: Sound, lu: float) -> float:
        """`parts.chime_gain`, once per sound and level."""
        key = f"{sound.name}/{lu}"
        if key not in self._chime_gains:
            self._chime_gains[key] = self.parts.chime_gain(sound, lu, self.options.speech_lufs)
        return self._chime_gains[key]

    # -- rendering -------------------------------------------------------------------------

    def _sound(self, p: Placement) -> np.ndarray:
        if p.kind == "chime":
            x = getattr(self.chimes, p.key).samples
        else:
            x = self.clips(p.key)
            if len(x) > p.nominal + self.sample_rate // 10 and p.key not in self._overran:
                self._overran.add(p.key)
                self.warnings.append(f"speech at {p.start / self.sample_rate:.2f}s runs "
                                     f"{(len(x) - p.nominal) / self.sample_rate:.2f}s past its "
                                     f"planned end: {p.key[:40]!r}")
            if p.side is not None and self.channels == 2 and self.options.spatial > 0:
                x = spatialize(x, p.side, self.options.spatial, self.sample_rate)   # (frames, 2)
        limit = min(p.limit, self.frames - p.start)
        if len(x) > limit:
            x = fade_out(x[:limit].copy(), int(EDGE_FADE * self.sample_rate))
        return x * np.float32(p.gain) if p.gain != 1.0 else x

    def bed_gain_curve(self, start: int, frames: int) -> np.ndarray:
        """Total bed gain (level, ducking, fades) at frames [start, start + frames).

        Evaluated every CONTROL frames on an absolute grid and interpolated linearly: the
        curves move over tenths of a second, and the result still depends only on the frame.
        """
        gain = self._bed_gain(start, frames)
        return gain if isinstance(gain, np.ndarray) else np.full(frames, gain, np.float32)

    def _bed_gain(self, start: int, frames: int) -> np.ndarray | np.float32:
        """`bed_gain_curve`, or one number when the gain holds still over the whole stretch
        (most of a session: under a sentence, or in a hold), which spares the per-frame
        interpolation and multiplication. The samples are the same either way."""
        c = CONTROL
        g0 = start // c * c
        grid = np.arange(g0, start + frames + c, c)
        t = grid / self.sample_rate
        values = self.bed_gain * self.ducker.gain(t) * self.fades.gain(t)
        if values.min() == values.max():
            return np.float32(values[0])
        return np.interp(np.arange(start, start + frames), grid, values).astype(np.float32)

    def bed_source(self) -> BlockSource:
        """A new reader of the (calibrated, ungained) bed from its first frame."""
        return self.bed.restarted()

    def _placed_sound(self, index: int) -> np.ndarray:
        sound = self._sounds.get(index)
        if sound is None:
            sound = self._sound(self.placements[index])
            if len(self._sounds) >= 16:                 # only a few sound at any moment
                self._sounds.pop(next(iter(self._sounds)))
            self._sounds[index] = sound
        return sound

    def _voice(self, start: int, frames: int) -> tuple[np.ndarray, np.ndarray | None]:
        """The speech and chimes in frames [start, start + frames): (the centred ones, mono;
        the placed ones, (frames, channels), or None when none sound there)."""
        mono, wide = np.zeros(max(0, frames), np.float32), None
        hi = bisect.bisect_left(self._starts, start + len(mono))
        first = hi
        while first > 0 and self._reach[first - 1] > start:
            first -= 1
        for i in range(first, hi):                       # in order, as blocks() adds them
            p = self.placements[i]
            if p.start + min(p.limit, self.frames - p.start) > start:
                wide = _add(mono, wide, start, p.start, self._placed_sound(i))
        return mono, wide

    def voice(self, start: int, frames: int) -> np.ndarray:
        """The speech and chimes sounding in frames [start, start + frames), float32
        (frames, channels): exactly what `blocks()` adds over the bed there, from any frame."""
        out = np.zeros((max(0, frames), self.channels), np.float32)
        return _over(out, *self._voice(start, frames))

    def under(self, out: np.ndarray, start: int) -> np.ndarray:
        """Add the beat tone at frames [start, start + len(out)) to `out`, the ungained bed
        there (the bed's gain then applies to both). Returns `out`."""
        return add_tone(out, self.beats.render(start, len(out))) if self.beats is not None else out

    def render(self, start: int, frames: int, bed: BlockSource | None = None) -> np.ndarray:
        """Frames [start, start + frames) of the session (fewer at its end), as `blocks()`
        renders them. The bed's next frames come from `bed` (a reader the caller keeps going);
        without one, a new reader is run up to `start` (exact, but costs time in proportion
        to `start`)."""
        start = max(0, start)
        frames = max(0, min(frames, self.frames - start))
        if bed is None:
            bed = self.bed_source()
            for skip in range(0, start, DEFAULT_BLOCK):
                bed.read(min(DEFAULT_BLOCK, start - skip))
        out = _scale(self.under(bed.read(frames), start), self._bed_gain(start, frames))
        return _over(out, *self._voice(start, frames))

    def blocks(self, block_frames: int = DEFAULT_BLOCK) -> Iterator[np.ndarray]:
        """Render the session from the top, `block_frames` frames at a time (the last block
        may be shorter). Each call renders the same samples again."""
        source = self.bed.restarted()
        starts = [p.start for p in self.placements]
        active: list[tuple[int, np.ndarray]] = []
        nxt = 0
        for pos in range(0, self.frames, block_frames):
            n = min(block_frames, self.frames - pos)
            out = _scale(self.under(source.read(n), pos), self._bed_gain(pos, n))
            hi = bisect.bisect_left(starts, pos + n)
            while nxt < hi:                       # sounds that start in this block
                p = self.placements[nxt]
                active.append((p.start, self._sound(p)))
                nxt += 1
            mono, wide = np.zeros(n, np.float32), None
            still = []
            for start, x in active:
                wide = _add(mono, wide, pos, start, x)
                if start + len(x) > pos + n:
                    still.append((start, x))
            active = still
            yield _over(out, mono, wide)


def _add(mono: np.ndarray, wide: np.ndarray | None, pos: int, start: int, x: np.ndarray) -> np.ndarray | None:
    """Add the part of sound `x` (starting at frame `start`) that falls in the stretch at
    `pos`: a mono sound to `mono`, a stereo one to `wide` (made when first needed)."""
    a, b = max(pos, start), min(pos + len(mono), start + len(x))
    if a < b:
        if x.ndim == 1:
            mono[a - pos:b - pos] += x[a - start:b - start]
        else:
            if wide is None:
                wide = np.zeros((len(mono), x.shape[1]), np.float32)
            wide[a - pos:b - pos] += x[a - start:b - start]
    return wide


def _over(out: np.ndarray, mono: np.ndarray, wide: np.ndarray | None) -> np.ndarray:
    """`out` with the voice layers added: the centred sounds in every channel, then the
    placed ones (always in this order, so every way of rendering gives the same samples).
    Channel by channel: numpy adds a row to a strided column several times faster than it
    broadcasts a (frames, 1) column over the block (numpy 2.4)."""
    for ch in range(out.shape[1]):
        out[:, ch] += mono
    if wide is not None:
        out += wide
    return out


def _scale(out: np.ndarray, gain: np.ndarray | np.float32) -> np.ndarray:
    """`out` times a per-frame gain (every channel alike, one by one, see _over) or a number."""
    if isinstance(gain, np.ndarray):
        for ch in range(out.shape[1]):
            out[:, ch] *= gain
    else:
        out *= gain
    return out


def _last_activity(timeline: Timeline) -> float:
    """When the last words (or hold, chime, breathing) end: the start of the closing quiet."""
    ends = [e.end for e in timeline.events if e.kind != "pause"]
    return max(ends) if ends else 0.0


def mix(timeline: Timeline, speech: SpeechSource | Callable[[str], tuple[np.ndarray, int]],
        options: MixOptions | None = None, **overrides) -> Mix:
    """Build the session mix. `overrides` are MixOptions fields (e.g. sample_rate=48000)."""
    opts = options or MixOptions()
    if overrides:
        opts = replace(opts, **overrides)
    return Mix(timeline, speech, opts)
