"""The sound card, behind a tiny interface, and the list of output devices.

`Sink` is all the player needs from an output: start pulling frames from a callable, say
how many frames have been heard, stop. `MiniaudioSink` is the real one: miniaudio (pip,
MIT, bundles its own C library) opens the system's audio backend (PulseAudio/PipeWire,
ALSA, JACK, CoreAudio, WASAPI...) at the device's own rate in 32-bit float, and calls back
from its audio thread for each period. The callback only copies frames out of the ring
buffer (stream.py); nothing is computed there.

miniaudio quietly falls back to its "null" backend (which plays into nothing) when no
real one works; we never let it, so a machine without sound says so (exit status 3).
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol

import numpy as np

from ..errors import VoiceguideError

PERIOD_MS = 30          # frames per callback: small enough to answer keys quickly
PERIODS = 3             # device buffer: PERIODS x PERIOD_MS
BACKEND_ENV = "VOICEGUIDE_AUDIO_BACKEND"   # e.g. "pulseaudio", "alsa", "null" (tests)


class AudioUnavailable(VoiceguideError):
    """No audio output could be opened (no device, no backend, or it failed)."""

    exit_code = 3


Pull = Callable[[int], np.ndarray]
"""frames -> (frames, channels) float32: what the sink plays next."""


class Sink(Protocol):
    """An audio output the player feeds by being pulled from."""

    sample_rate: int
    channels: int
    latency: int          # frames between being pulled and being heard

    def start(self, pull: Pull) -> None: ...

    def pulled(self) -> int:
        """Frames pulled so far: the player's clock (minus `latency`, what is heard)."""
        ...

    def failed(self) -> str | None:
        """Why the output stopped by itself (a device unplugged), else None."""
        ...

    def stop(self) -> None: ...


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence C libraries (libasound prints a page of "ALSA lib ..." lines when there is no
    sound card) while a backend is probed. File descriptor 2 is swapped, not sys.stderr."""
    try:
        fd = sys.stderr.fileno()
        saved = os.dup(fd)
    except (AttributeError, OSError, ValueError):
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            sys.stderr.flush()
            os.dup2(null.fileno(), fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def _miniaudio():
    try:
        import miniaudio
    except ImportError as exc:   # pragma: no cover - a dependency
        raise AudioUnavailable(f"live play needs the miniaudio package ({exc})") from None
    return miniaudio


def backends(names: str | None = None) -> list:
    """The backends to try, in miniaudio's order of preference: from `names` (comma
    separated) or VOICEGUIDE_AUDIO_BACKEND, else every real one compiled in (never null)."""
    ma = _miniaudio()
    names = names if names is not None else os.environ.get(BACKEND_ENV)
    enabled = [b for b in ma.Backend if ma.is_backend_enabled(b)]
    if names:
        wanted = [n.strip().lower() for n in names.split(",") if n.strip()]
        known = {b.name.lower(): b for b in enabled}
        unknown = [n for n in wanted if n not in known]
        if unknown:
            raise AudioUnavailable(f"unknown audio backend {', '.join(unknown)} "
                                   f"(this system has: {', '.join(sorted(known))})")
        return [known[n] for n in wanted]
    return [b for b in enabled if b not in (ma.Backend.NULL, ma.Backend.CUSTOM)]


@dataclass(frozen=True)
class DeviceInfo:
    name: str
    backend: str
    rates: tuple[int, ...] = ()
    id: object = field(default=None, compare=False, repr=False)


def list_devices(backend_names: str | None = None) -> list[DeviceInfo]:
    """Output devices of the first backend that works."""
    ma = _miniaudio()
    errors = []
    for backend in backends(backend_names):
        try:
            with quiet_stderr():
                found = ma.Devices([backend])
                playbacks = _playbacks(ma, found)
        except ma.MiniaudioError as exc:
            errors.append(f"{backend.name.lower()}: {_reason(exc)}")
            continue
        if found.backend.lower() == "null" and backend != ma.Backend.NULL:
            continue
        return [DeviceInfo(name, found.backend, rates, device_id) for name, rates, device_id in playbacks]
    raise AudioUnavailable("no audio output found" + (f" ({'; '.join(errors)})" if errors else ""))


def _playbacks(ma, devices) -> list[tuple[str, tuple[int, ...], object]]:
    """(name, native rates, id) of each output. Like `Devices.get_playbacks`, but a device
    whose details cannot be read (ALSA's "pulse" device with no server running) is still
    listed instead of failing the whole list."""
    ffi, lib = ma.ffi, ma.lib
    with ffi.new("ma_device_info**") as infos, ffi.new("ma_uint32*") as count:
        result = lib.ma_context_get_devices(devices._context, infos, count, ffi.NULL, ffi.NULL)
        if result != lib.MA_SUCCESS:
            raise ma.MiniaudioError("cannot list devices", result)
        out = []
        for i in range(count[0]):
            info = infos[0][i]
            name = ffi.string(info.name).decode("utf-8", "replace")
            device_id = ffi.new("ma_device_id *", info.id)
            try:
                formats = devices._get_info(ma.DeviceType.PLAYBACK, info)["formats"]
            except ma.MiniaudioError:
                formats = []
            rates = tuple(sorted({f["samplerate"] for f in formats if f["samplerate"]}))
            out.append((name, rates, device_id))
        return out


# miniaudio result codes, as words (miniaudio.h)
_RESULTS = {-203: "not available", -204: "no device", -205: "not installed", -208: "not built in",
            -400: "could not start the backend", -401: "could not open the device",
            -402: "could not start the device", -103: "device busy"}


def _reason(exc: Exception) -> str:
    args = getattr(exc, "args", ())
    if len(args) > 1 and isinstance(args[1], int):
        return _RESULTS.get(args[1], f"{args[0]} (miniaudio error {args[1]})")
    return str(args[0]) if args else str(exc)


class MiniaudioSink:
    """A playback device pulled by miniaudio's audio thread."""

    def __init__(self, device: str | None = None, channels: int = 2, sample_rate: int = 0,
                 backend_names: str | None = None, period_ms: int = PERIOD_MS, periods: int = PERIODS):
        """`device`: part of a device's name (case-insensitive), None for the default.
        `sample_rate` 0 opens the device at its own rate (read it from `sample_rate`)."""
        ma = self._ma = _miniaudio()
        self.channels = channels
        chosen = backends(backend_names)
        device_id = None
        if device:
            devices = list_devices(backend_names)
            matches = [d for d in devices if device.lower() in d.name.lower()]
            exact = [d for d in matches if d.name.lower() == device.lower()]
            matches = exact or matches
            if len(matches) != 1:
                names = "; ".join(d.name for d in devices) or "none"
                what = "no output device" if not matches else "more than one output device"
                raise AudioUnavailable(f"{what} matches '{device}' (devices: {names})")
            device_id = matches[0].id
            chosen = [b for b in chosen if b.name.lower() == matches[0].backend.lower()] or chosen
        errors = []
        self._device = None
        for backend in chosen:
            try:
                with quiet_stderr():
                    dev = ma.PlaybackDevice(output_format=ma.SampleFormat.FLOAT32, nchannels=channels,
                                            sample_rate=sample_rate, buffersize_msec=period_ms,
                                            device_id=device_id, callback_periods=periods,
                                            backends=[backend], app_name="voiceguide")
            except ma.MiniaudioError as exc:
                errors.append(f"{backend.name.lower()}: {_reason(exc)}")
                continue
            self._device = dev
            break
        if self._device is None:
            raise AudioUnavailable("no audio output could be opened"
                                   + (f" ({'; '.join(errors)})" if errors else ""))
        self.backend = self._device.backend
        try:
            rate = int(self._device._device.sampleRate)     # what the device chose
        except (AttributeError, TypeError):                  # pragma: no cover
            rate = sample_rate
        self.sample_rate = rate or 48000
        self.latency = int(self.sample_rate * period_ms * periods / 1000)
        self.buffer_seconds = period_ms * periods / 1000
        self.max_interval = 0.0          # longest wait between two callbacks, in seconds
        self._pulled = 0
        self._error: str | None = None

    def _generator(self, pull: Pull):
        frames = yield b""
        last = None
        while True:
            block = pull(frames)
            self._pulled += frames
            now = time.monotonic()
            if last is not None:     # a callback this late would have let the device run dry
                self.max_interval = max(self.max_interval, now - last)
            last = now
            frames = yield memoryview(np.ascontiguousarray(block, np.float32).reshape(-1)).cast("B")

    def start(self, pull: Pull) -> None:
        gen = self._generator(pull)
        next(gen)
        self._device.stop_callback = self._stopped
        try:
            self._device.start(gen)
        except self._ma.MiniaudioError as exc:
            raise AudioUnavailable(f"could not start the audio output ({_reason(exc)})") from None

    def _stopped(self) -> None:
        """miniaudio's stop callback (its audio thread): only ever unasked-for here, since
        stop() unhooks it first."""
        if self._error is None:
            self._error = "the audio output stopped (device unplugged or the sound server went away)"

    def pulled(self) -> int:
        return self._pulled

    def failed(self) -> str | None:
        return self._error

    def stop(self) -> None:
        if self._device is not None:
            self._device.stop_callback = None
            self._device.close()
            self._device = None
