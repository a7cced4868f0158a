"""The player: a cursor over the session's timeline that turns key presses into output frames.

Independent of any audio device and of real time: `render(n)` returns the next `n` output
frames, `apply(command)` changes what comes next, and everything is measured in frames.
The sound card, the keyboard and the clock are attached elsewhere (stream.py, session.py);
tests drive this class directly, frame by frame.

How each control works, in terms of the program (the `Mix`, a pure function of the frame):

* The cursor is a program frame (`position`) plus bed-only frames still owed before it
  moves on (`extra`). Playing renders the mix's voice at the position and the bed (which
  runs on by itself, see tape.py) with the mix's bed gain at the position.
* skip / repeat jump the cursor (to just before the next step, or to the start of the last
  instruction), with a short crossfade from the old position so nothing clicks.
* + / - change one hold: + owes 15 s more of bed at the hold's end, just before its end
  chime (the bed, not silence: it is a hold); - cuts 15 s from what is left of it (the
  owed extra first, then the hold itself, by a crossfaded jump to its end). Either changes
  the output by exactly 15 s, or by all that is left of the hold when that is less.
* a [wait] holds the program, the bed playing on, until space or `n` (waits.py).
* sections with beds of their own (`{ambient rain}`): the bed crossfades to the bed of the
  program position, wherever a jump lands (sectionbeds.py).
* pause fades out, then holds the cursor where the pause was pressed and outputs silence;
  resume fades back in from there. Volume steps glide over 50 ms. Quit fades to silence.
* Every control starts a cue (cues.py) over the output, which pause, volume and quit fades
  do not silence, so the listener always hears that the key worked.

State is one immutable `State` (state.py), replaced as frames are rendered, so the streaming
layer can snapshot it per block and rewind its look-ahead when a key arrives (stream.py). The
cues, the volume glide and the soft ceiling are applied after the program (output.py).
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from ..sound.blocks import db_to_gain
from ..sound.envelopes import seconds_to_frame
from ..sound.mix import Mix
from ..timeline import Event
from .beattone import beat_tone
from .commands import Command
from .cues import Cues
from .now import current_hold, describe
from .output import glide_level, mix_cues, soft_ceiling
from .sectionbeds import SectionBeds
from .state import Cursor, Now, State
from .tape import BedTape
from .waits import Waits

__all__ = ["Controller", "Cursor", "Now", "State", "QUIT_FADE"]

HOLD_STEP = 15.0          # seconds + and - change a hold by
VOLUME_STEP = 3.0         # dB per up/down
VOLUME_RANGE = (-30.0, 9.0)   # dB around the loudness target
PAUSE_FADE = 0.4          # seconds
RESUME_FADE = 0.2
QUIT_FADE = 1.0
START_FADE = 0.1          # the very first frames (playback may start mid-fade-in of the bed)
XFADE = 0.12              # crossfade of a jump
LEAD = 0.25               # a jump lands this far ahead of the words it jumps to
PREROLL = 0.12            # playback starts this far before the first words (after START_FADE)


@dataclass
class Controller:
    mix: Mix
    gain_db: float = 0.0                  # loudness gain (see session.estimate_gain)
    start: int | None = None              # first program frame (default: just before the words)
    tape: BedTape | None = None
    cues: Cues | None = None
    wait_for_keys: bool = True            # False (no terminal): a [wait] lasts its planned length
    state: State = field(init=False)

    def __post_init__(self) -> None:
        m = self.mix
        self.rate, self.channels = m.sample_rate, m.channels
        self.gain = np.float32(db_to_gain(self.gain_db))
        self.lead = int(LEAD * self.rate)
        self.xfade = max(1, int(XFADE * self.rate))
        events = m.timeline.events
        self.events: Sequence[Event] = events
        self.starts = [seconds_to_frame(e.start, self.rate) for e in events]
        self.ends = [seconds_to_frame(e.end, self.rate) for e in events]
        # Where a step of the script starts. Natural gaps and [pause] are not places to
        # skip to: nothing happens there.
        self.step_events = [i for i, e in enumerate(events)
                            if e.step is not None and e.kind != "pause" and self._previous_of_step(i) is None]
        self.step_frames = [self.starts[i] for i in self.step_events]
        self.holds = [i for i, e in enumerate(events) if e.kind == "hold"]
        self.waits = Waits.of(events, self.starts, self.ends, self.rate)
        if self.tape is None:
            self.tape = BedTape(self.rate, self.channels, int(4 * self.rate), m.bed_source())
        if self.cues is None:
            self.cues = Cues.make(self.rate, m.options.speech_lufs)
        if self.start is None:
            self.start = self.first_words()
        start = Cursor(max(0, min(self.start, m.frames)))
        self.beds = SectionBeds.of(m.options)        # None: one bed, no section changes it
        self.state = State(cursor=start, fade_step=1.0 / (START_FADE * self.rate),
                           beds=self.beds.at(start.position) if self.beds is not None else ())

    def _previous_of_step(self, i: int) -> int | None:
        """The event before `i` that belongs to the same step of the script (the sentences of
        a paragraph are separated by natural gaps; a hold is followed by its end chime)."""
        e = self.events
        j = i - 1
        while j >= 0 and e[j].step is None and e[j].kind == "pause":
            j -= 1
        if j >= 0 and e[i].step is not None and e[j].step is e[i].step and e[j].section == e[i].section:
            return j
        return None

    # -- the program --------------------------------------------------------------------

    def first_words(self) -> int:
        """Where live play starts: just before the first sound. (The timeline's lead-in is
        for files; a listener who typed `play` wants to hear the voice now.)"""
        first = self.mix.placements[0].start if self.mix.placements else 0
        return max(0, first - int(PREROLL * self.rate))

    def event_at(self, frame: int) -> int:
        """Index of the event that contains `frame` (the last one at or after the end)."""
        return max(0, min(bisect.bisect_right(self.starts, frame) - 1, len(self.events) - 1))

    def cut_point(self, hold: int, frames: int) -> int:
        """Where a hold changed by `frames` ends (a cut, less than 0: that much earlier)."""
        return self.ends[hold] + min(frames, 0)

    def _advance(self, cursor: Cursor, n: int, follow: bool = True) -> tuple[Cursor, np.ndarray, np.ndarray, np.ndarray]:
        """Play up to `n` frames from `cursor`: (cursor after them, voice, bed gain, beat
        track (beattone.py)). Stops early at the program's end, and (when `follow`) where a
        hold is cut, so the caller can crossfade that jump; owed extra bed is played in line."""
        voice = np.zeros((n, self.channels), np.float32)
        gain = np.zeros(n, np.float32)
        beat = np.zeros((n, 2))
        done = 0
        m = self.mix
        while done < n:
            if cursor.extra > 0:                             # a longer hold: bed only
                k = min(n - done, cursor.extra)
                gain[done:done + k] = cursor.extra_gain
                beat[done:done + k] = self._beat(cursor.position, 1)
                cursor = replace(cursor, extra=cursor.extra - k)
                done += k
                continue
            if cursor.waiting:                               # held in a [wait]: bed only
                gain[done:] = cursor.extra_gain
                beat[done:] = self._beat(cursor.position, 1)
                done = n
                break
            p = cursor.position
            stop = m.frames
            if follow and self.wait_for_keys and (at := self.waits.next_stop(p)) is not None:
                if at == p:                                  # a [wait] holds here
                    cursor = replace(cursor, waiting=True, extra_gain=float(m.bed_gain_curve(p, 1)[0]))
                    continue
                stop = at
            if follow:
                for hold, frames in cursor.changes:
                    at = self.cut_point(hold, frames)
                    if at == p and frames > 0:               # the hold's end: owe the bed
                        g = float(m.bed_gain_curve(p, 1)[0])
                        cursor = replace(cursor.with_change(hold, 0), extra=frames, extra_gain=g)
                        break
                    if at == p:                              # a cut starts here
                        return cursor, voice[:done], gain[:done], beat[:done]
                    if p < at < stop:
                        stop = at
                if cursor.extra > 0:
                    continue
            if p >= stop:
                break
            k = min(n - done, stop - p)
            voice[done:done + k] = m.voice(p, k)
            gain[done:done + k] = m.bed_gain_curve(p, k)
            beat[done:done + k] = self._beat(p, k)
            cursor = replace(cursor, position=p + k)
            done += k
        return cursor, voice[:done], gain[:done], beat[:done]

    def _beat(self, position: int, frames: int) -> np.ndarray | float:
        return self.mix.beats.track(position, frames) if self.mix.beats is not None else 0.0

    def _at_cut(self, cursor: Cursor) -> int | None:
        """The hold whose cut starts at the cursor, if any."""
        if cursor.extra:
            return None
        return next((h for h, f in cursor.changes if f < 0 and self.cut_point(h, f) == cursor.position), None)

    # -- rendering ----------------------------------------------------------------------

    def render(self, frames: int) -> np.ndarray:
        """The next `frames` output frames, (frames, channels) float32; fewer (maybe none)
        once the session has ended or was quit and every cue has sounded."""
        out = np.zeros((frames, self.channels), np.float32)
        done = 0
        while done < frames and not self.state.finished:
            done += self._render_into(out[done:])
        return out[:done]

    def _render_into(self, out: np.ndarray) -> int:
        """Render one stretch over which no mode, fade or crossfade ends; returns its length
        (0 only when the state moved on without output, e.g. to a cut or a pause)."""
        s = self.state
        hold = self._at_cut(s.cursor) if s.mode != "end" else None
        if hold is not None:                                 # a cut hold: jump to its end
            self.state = s = replace(s, cursor=replace(s.cursor.with_change(hold, 0), position=self.ends[hold]),
                                     fading=replace(s.cursor, changes=()), fading_left=self.xfade)
        n = len(out)
        target = 1.0 if s.mode == "play" else 0.0
        if s.fade != target:
            n = min(n, max(1, math.ceil(abs(target - s.fade) / s.fade_step)))
        if s.fading is not None:
            n = min(n, s.fading_left)
        if self.beds is not None and (left := self.beds.frames_to_change(s.cursor)) is not None:
            n = min(n, left)                                 # one section bed to follow
        cursor, fading, fading_left, fade = s.cursor, s.fading, s.fading_left, s.fade
        mode, resume, beat_phase, beds, bed_frames = s.mode, s.resume, s.beat_phase, s.beds, s.bed_frames
        out[:n] = 0.0
        if mode != "end" and (fade > 0 or target > 0):      # the program sounds
            cursor, voice, gain, beat = self._advance(s.cursor, n)
            ran_out = len(voice) < n and self._at_cut(cursor) is None
            n = len(voice)
            if fading is not None and n:
                fading, old_voice, old_gain, old_beat = self._advance(fading, n, follow=False)
                a = np.minimum((np.arange(1, n + 1) + self.xfade - fading_left) / self.xfade, 1.0)
                k = len(old_voice)
                beat[:k] = beat[:k] * a[:k, None] + old_beat * (1 - a[:k, None])   # glides across
                a = a.astype(np.float32)
                voice *= a[:, None]
                gain *= a
                voice[:k] += old_voice * (1 - a[:k, None])
                gain[:k] += old_gain * (1 - a[:k])
                fading_left -= n
                if fading_left <= 0:
                    fading, fading_left = None, 0
            if n:
                steps = np.arange(1, n + 1, dtype=np.float64) * s.fade_step
                ramp = np.minimum(fade + steps, target) if target > fade else np.maximum(fade - steps, target)
                if self.beds is None:
                    program = self.tape.read(bed_frames, n)
                else:
                    program, beds = self.beds.read(self.tape, bed_frames, n, s.cursor.position, beds)
                bed_frames += n
                if self.mix.beats is not None:               # under the voice, with the bed
                    tone, beat_phase = beat_tone(self.mix.beats, beat, s.out, beat_phase)
                    program += tone
                program *= gain[:, None]
                program += voice
                program *= ramp.astype(np.float32)[:, None]
                out[:n] = program
                fade = float(ramp[-1])
            if ran_out:                                      # the session is over
                fade = 0.0
                mode = "end" if mode == "play" else mode
        elif mode in ("end", "quit"):                         # only cues are left to sound
            n = min(n, self._cue_frames_left(s))
        cues = mix_cues(out[:n], s.out, s.cues, self.cues)
        level = glide_level(out[:n], s.level, db_to_gain(s.volume_db), self.rate)
        out[:n] *= self.gain
        soft_ceiling(out[:n])
        if mode == "pause" and fade == 0.0 and resume is not None:
            cursor, fading, fading_left, resume = resume, None, 0, None   # hold the place
        if mode == "quit" and fade == 0.0:
            fading, fading_left = None, 0
        self.state = replace(s, out=s.out + n, cursor=cursor, fading=fading, fading_left=fading_left,
                             fade=fade, mode=mode, resume=resume, level=level, cues=cues, beat_phase=beat_phase,
                             beds=beds, bed_frames=bed_frames)
        return n

    def _cue_frames_left(self, s: State) -> int:
        return max((at + len(self.cues[name]) - s.out for name, at in s.cues), default=0)

    # -- commands -----------------------------------------------------------------------

    def apply(self, command: Command) -> bool:
        """Act on a key at the current output frame. False when there was nothing to do
        (the listener hears a low, dull cue instead)."""
        if self.state.mode in ("quit", "end"):
            return False
        if command is Command.PAUSE and self.state.mode == "play" and self.wait_for_keys and \
                self.waits.holds(self.state.cursor):
            command = Command.SKIP                           # space ends a [wait], as n does
        handler = {
            Command.PAUSE: self._pause, Command.SKIP: self._skip, Command.REPEAT: self._repeat,
            Command.LONGER: lambda: self._hold(+1), Command.SHORTER: lambda: self._hold(-1),
            Command.LOUDER: lambda: self._volume(+1), Command.SOFTER: lambda: self._volume(-1),
            Command.QUIT: self._quit,
        }[command]
        cue = handler()
        s = self.state
        self.state = replace(s, cues=s.cues + ((cue or "nothing", s.out),))
        return cue is not None

    def _pause(self) -> str:
        s = self.state
        if s.mode == "pause":
            resumed = replace(s, mode="play", resume=None, fade_step=1.0 / (RESUME_FADE * self.rate))
            if s.resume is not None:          # still fading out: back to where it paused
                resumed = replace(resumed, cursor=s.resume, fading=replace(s.cursor, changes=()),
                                  fading_left=self.xfade)
            self.state = resumed
            return "resume"
        self.state = replace(s, mode="pause", resume=s.cursor, fade_step=1.0 / (PAUSE_FADE * self.rate))
        return "pause"

    def _quit(self) -> str:
        self.state = replace(self.state, mode="quit", resume=None, fade_step=1.0 / (QUIT_FADE * self.rate))
        return Command.QUIT.value

    def _volume(self, direction: int) -> str | None:
        s = self.state
        lo, hi = VOLUME_RANGE
        db = s.volume_db + direction * VOLUME_STEP
        if not lo - 1e-9 <= db <= hi + 1e-9:
            return None
        self.state = replace(s, volume_db=db)
        return (Command.LOUDER if direction > 0 else Command.SOFTER).value

    def _move(self, cursor: Cursor, crossfade: bool = True) -> None:
        """Make `cursor` the playing one, crossfaded from the old place. While pausing it
        becomes the place playback resumes from; once paused, the place it is held at."""
        s = self.state
        if s.mode == "pause" and s.resume is not None:
            self.state = replace(s, resume=cursor)
        elif s.mode == "pause" or not crossfade or cursor.position == s.cursor.position:
            self.state = replace(s, cursor=cursor)
        else:
            self.state = replace(s, cursor=cursor, fading=replace(s.cursor, changes=()),
                                 fading_left=self.xfade)

    def _jump(self, target: int) -> None:
        target = max(0, min(target, self.mix.frames))
        self._move(replace(self.state.playing, position=target, extra=0, waiting=False))

    def _skip(self) -> str | None:
        p = self.state.playing.position
        i = bisect.bisect_right(self.step_frames, p + self.lead)
        if i < len(self.step_frames):
            target = self.step_frames[i] - self.lead
        else:
            target = seconds_to_frame(self.mix.speech_end, self.rate)
        if target <= p:
            return None
        self._jump(target)
        return Command.SKIP.value

    def _repeat(self) -> str | None:
        p = self.state.playing.position
        i = self.event_at(p + self.lead)
        while i >= 0 and not (self.events[i].kind == "say" and self.starts[i] <= p + self.lead):
            i -= 1
        if i < 0:
            return None
        while (j := self._previous_of_step(i)) is not None:
            i = j                                             # back to the instruction's start
        self._jump(self.starts[i] - self.lead)
        return Command.REPEAT.value

    def _hold(self, direction: int) -> str | None:
        cursor = self.state.playing
        hold = current_hold(self, cursor)
        if hold is None:
            return None
        step = int(HOLD_STEP * self.rate)
        name = (Command.LONGER if direction > 0 else Command.SHORTER).value
        if cursor.extra > 0:                                  # in the owed bed already
            extra = cursor.extra + step if direction > 0 else max(0, cursor.extra - step)
            self._move(replace(cursor, extra=extra), crossfade=False)
            return name
        frames = cursor.change(hold)
        if direction > 0:
            self._move(cursor.with_change(hold, frames + step), crossfade=False)
            return name
        start = max(cursor.position, self.starts[hold])
        left = self.cut_point(hold, frames) - start + max(frames, 0)   # of the hold, still to come
        if left <= 0:
            return None
        frames -= min(step, left)
        if frames < 0 and self.cut_point(hold, frames) <= cursor.position:
            # all that is left goes: the hold ends now
            self._move(replace(cursor.with_change(hold, 0), position=self.ends[hold]))
        else:
            self._move(cursor.with_change(hold, frames), crossfade=False)
        return name

    # -- what is playing ----------------------------------------------------------------

    def describe(self, state: State | None = None) -> Now:
        return describe(self, state or self.state)
