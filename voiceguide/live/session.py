"""Routine + options -> a session playing through the speakers (the `play` command's library
half; the CLI adds the terminal and the exit statuses).

    open the output first (no sound card: fail now, exit 3, before any work)
    -> narrate and plan exactly as `render` does (cached speech is read back, not synthesized)
    -> mix at the device's own rate -> the controller -> the look-ahead stream -> the device
    -> keys in, status out, until the end, `q`, or Ctrl-C (which fades out like `q`).
"""
from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Callable

from ..script.model import Routine
from ..session import Prepared, Progress, Resources, prepare
from ..settings import Settings, resolve
from ..sound.gain import estimate_gain
from .clock import Clock, SystemClock
from .commands import Command
from .controller import QUIT_FADE, Controller
from .cues import Cues
from .device import AudioUnavailable, MiniaudioSink, Sink
from .keys import HELP, KeySource, NoKeys
from .program import LiveParts
from .status import StatusLine
from .stream import Stats, Stream
from .tape import BedTape
from .warm import StartCache

POLL = 0.05        # seconds between looks at the keyboard and the status
PREFILL = 0.25     # seconds rendered before the device starts (the producer does the rest)
TAPE_SECONDS = 4.0 # bed history kept for rewinds (more than the stream's look-ahead)
# While playing, a thread waiting for the interpreter lock asks for it after 1 ms instead of
# Python's default 5 ms: the producer releases the lock in every numpy call, and with the
# background preparation busy at the start each release could otherwise cost it 5 ms.
SWITCH_INTERVAL = 0.001
WARM_AFTER = 0.5   # seconds: the background preparation starts once the first words are out


@dataclass(frozen=True)
class PlayOptions:
    settings: Settings | None = None  # None: the routine's own (loudness is the target)
    resources: Resources = field(default_factory=Resources)
    device: str | None = None        # part of a device name; None: the default output
    backend: str | None = None       # None: VOICEGUIDE_AUDIO_BACKEND, else every real one


@dataclass
class PlayResult:
    seconds: float                   # audio handed to the device
    stopped: bool                    # quit (q) before the end
    stats: Stats
    warnings: list[str] = field(default_factory=list)


class Session:
    """One playing session. `open()` the output, `prepare()` the mix, then `run()`."""

    def __init__(self, routine: Routine, options: PlayOptions = PlayOptions(),
                 on_warning: Callable[[str], None] | None = None, progress: Progress | None = None):
        self.routine, self.options = routine, options
        self.on_warning, self.progress = on_warning, progress
        self.warnings: list[str] = []
        self.sink: Sink | None = None
        self.stream: Stream | None = None
        self.controller: Controller | None = None
        self.prepared: Prepared | None = None
        self.cpu: list[tuple[float, float]] = []
        self._stop_warm = threading.Event()
        self._warmer: threading.Thread | None = None
        self.live = LiveParts()

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        if self.on_warning is not None:
            self.on_warning(message)

    def open(self, sink: Sink | None = None) -> Sink:
        """The audio output (raises AudioUnavailable, exit status 3)."""
        self.sink = sink or MiniaudioSink(self.options.device, channels=2, backend_names=self.options.backend)
        return self.sink

    def prepare(self, start_cache: StartCache | None | bool = True) -> Controller:
        """Narrate, plan and mix at the output's rate; render the first audio. The start-up
        cache (warm.py) is used unless `start_cache` is False or the options say no cache."""
        assert self.sink is not None, "open() first"
        settings = self.options.settings or resolve({}, self.routine.meta.settings)
        resources = self.options.resources
        self.prepared = prepare(self.routine, settings, resources, progress=self.progress, on_warning=self._warn)
        if start_cache is True:
            start_cache = StartCache(resources.store) if resources.store is not None else None
        self.live = LiveParts(start_cache or None)
        options = self.prepared.mix_options(resources, sample_rate=self.sink.sample_rate, channels=self.sink.channels)
        mix = self.prepared.mix(options, self.live.parts)
        tape = BedTape(mix.sample_rate, mix.channels, int(TAPE_SECONDS * mix.sample_rate))
        cues = Cues.make(mix.sample_rate, mix.options.speech_lufs,
                         mix.chimes.soft.samples if mix.chimes.soft is not None else None)
        self.controller = Controller(mix, gain_db=estimate_gain(mix, settings.loudness), tape=tape, cues=cues)
        self.stream = Stream(self.controller, latency=self.sink.latency)
        self.stream.pump(PREFILL)          # a moment of audio, so the device starts with something
        return self.controller

    def _warm_up(self) -> None:
        mix, tape, controller = self.controller.mix, self.controller.tape, self.controller
        try:
            self.live.warm_up(mix, tape.attach, lambda: controller.state.playing.position, self._stop_warm)
        except Exception as exc:                  # the producer prepares what it needs itself
            self._warn(f"background preparation failed: {exc}")

    def run(self, keys: KeySource | None = None, status: StatusLine | None = None,
            clock: Clock | None = None, threaded: bool = True) -> PlayResult:
        """Play to the end (or `q`). Ctrl-C fades out like `q`, then KeyboardInterrupt
        propagates; a second Ctrl-C stops at once. Tests pass a fake clock and
        `threaded=False` (the stream renders as the fake sink pulls)."""
        assert self.sink is not None and self.stream is not None, "prepare() first"
        self.clock = clock or SystemClock()
        keys = keys or NoKeys(self.clock)
        self.controller.wait_for_keys = not isinstance(keys, NoKeys)   # nobody to end a [wait]
        self.stream.synchronous = not threaded
        previous_interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)
        try:
            return self._run(keys, status)
        finally:
            sys.setswitchinterval(previous_interval)

    def _run(self, keys: KeySource, status: StatusLine | None) -> PlayResult:
        stream, sink = self.stream, self.sink
        if status is not None and not isinstance(keys, NoKeys):
            status.say(HELP)
        if stream.synchronous:             # fake time: everything in line, deterministic
            self.live.open_bed(self.controller.tape.attach)
        else:
            self._stop_warm.clear()
            self._warmer = threading.Thread(target=self._warm_up, name="voiceguide-warm-up", daemon=True)
        sink.start(stream.read)
        stream.start()
        started = self.clock.now()
        stopped = False
        try:
            while not stream.finished:
                for command in keys.poll(POLL):
                    stream.send(command)
                    stopped = stopped or command is Command.QUIT
                if self._warmer is not None and self._warmer.ident is None and (
                        stream.stats().first_sound is not None or self.clock.now() - started > WARM_AFTER):
                    self._warmer.start()   # after the first words: importing scipy holds the GIL a lot
                self._check()
                self._sample_cpu()
                if status is not None:
                    status.show(stream.now())
        except KeyboardInterrupt:
            stream.send(Command.QUIT)
            self._drain(QUIT_FADE + 1.0)
            raise
        self._drain(1.0)
        if status is not None:
            status.close()
        mix = self.controller.mix
        for message in [*mix.warnings, *([self.live.bed_error] if self.live.bed_error else [])]:
            self._warn(message)
        stats = stream.stats()
        return PlayResult(stats.frames / sink.sample_rate, stopped, stats, self.warnings)

    def _sample_cpu(self) -> None:
        """(seconds, CPU seconds of this process) about once a second, for the benchmark."""
        t = self.clock.now()
        if not self.cpu or t - self.cpu[-1][0] >= 1.0:
            times = os.times()
            self.cpu.append((t, times.user + times.system))

    def _check(self) -> None:
        if self.stream.error is not None:
            raise self.stream.error
        failed = self.sink.failed()
        if failed:
            raise AudioUnavailable(failed)

    def _drain(self, timeout: float) -> None:
        """Wait for the stream to end (a quit fades out) and the device to play what it holds."""
        clock = self.clock
        end = clock.now() + timeout
        while not self.stream.finished and clock.now() < end:
            self._check()
            clock.sleep(0.01)
        clock.sleep(self.sink.latency / self.sink.sample_rate + 0.02)

    def close(self) -> None:
        self._stop_warm.set()
        if self.sink is not None:
            self.sink.stop()
        if self.stream is not None:
            self.stream.stop()
        if self._warmer is not None and self._warmer.ident is not None:
            self._warmer.join(timeout=5.0)
        if self.prepared is not None:
            self.prepared.close()
            self.prepared = None

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def play(routine: Routine, options: PlayOptions = PlayOptions(), *, keys: KeySource | None = None,
         status: StatusLine | None = None, sink: Sink | None = None,
         on_warning: Callable[[str], None] | None = None, progress: Progress | None = None) -> PlayResult:
    """Play `routine` through the default (or chosen) audio output until it ends."""
    with Session(routine, options, on_warning, progress) as session:
        session.open(sink)
        session.prepare()
        return session.run(keys, status)
