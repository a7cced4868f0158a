"""The always-available engine: pyttsx3, which drives espeak-ng on Linux and the system voices
on macOS (nsss) and Windows (sapi5).

`Pyttsx3Engine` lives in the caller's process and never imports pyttsx3; `Pyttsx3Backend`
runs inside a worker process. On Linux the backend loads the espeak-ng library shipped by
the `espeakng-loader` wheel (no system package needed) before pyttsx3 looks for one. On
macOS and Windows nothing is loaded by hand: pyttsx3 picks the platform driver, which writes
AIFF (macOS) or WAV (Windows) files that the parent reads either way.
"""
from __future__ import annotations

import importlib.util
import os
import platform
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .base import EngineUnavailable, VoiceInfo, VoiceNotFound, package_version
from .remote import WorkerEngine

BASE_WPM = 135.0
"""espeak's rate setting at speed 1.0. espeak speaks faster than its nominal rate once its
inter-word pauses are trimmed (150 comes out near 185 wpm), so 135 lands near base.CALM_WPM.
Whisper measured espeak en-US at 97% word accuracy at 145 wpm and 94.8% at 160."""
MIN_WPM, MAX_WPM = 80, 450     # what espeak-ng accepts; other drivers get the same clamp
LINUX_DEFAULT_VOICE = "gmw/en-us"
FINISH_WAIT = 10.0             # seconds to wait for the driver's "finished" callback after runAndWait


def words_per_minute(speed: float) -> int:
    return int(round(min(MAX_WPM, max(MIN_WPM, BASE_WPM * speed))))


def _driver() -> str:
    if sys.platform == "darwin":
        return "nsss"
    if sys.platform == "win32":
        return "sapi5"
    return "espeak"


def _bundled_espeak() -> tuple[str, str] | None:
    """(library, data dir) from espeakng-loader, if installed and complete."""
    if importlib.util.find_spec("espeakng_loader") is None:
        return None
    import espeakng_loader

    try:
        library, data = espeakng_loader.get_library_path(), espeakng_loader.get_data_path()
    except Exception:
        return None
    return (library, data) if Path(library).exists() and Path(data).is_dir() else None


class Pyttsx3Engine(WorkerEngine):
    """pyttsx3 in worker processes. Speed maps to words per minute (BASE_WPM at 1.0)."""

    name = "pyttsx3"
    backend = "voiceguide.voices.pyttsx3_engine:Pyttsx3Backend"
    restart_after_error = True     # an espeak that refused a setting is not trusted again

    def __init__(self, jobs: int = 1, **options: Any):
        super().__init__(jobs, **options)
        self._voices: list[VoiceInfo] | None = None

    @property
    def driver(self) -> str:
        return _driver()

    @property
    def version(self) -> str:
        if self.driver == "espeak":
            lib = f"espeak-ng (espeakng-loader {package_version('espeakng-loader')})" if _bundled_espeak() else "system espeak-ng"
        elif self.driver == "nsss":
            lib = f"nsss macOS {platform.mac_ver()[0]}"
        else:
            lib = f"sapi5 Windows {platform.version()}"
        return f"pyttsx3 {package_version('pyttsx3')}; {lib}"

    def unavailable_reason(self) -> str:
        if importlib.util.find_spec("pyttsx3") is None:
            return "pyttsx3 is not installed (pip install pyttsx3)"
        if self.driver == "espeak" and _bundled_espeak() is None:
            import ctypes.util

            if not (ctypes.util.find_library("espeak-ng") or ctypes.util.find_library("espeak")):
                return "no espeak-ng library: pip install espeakng-loader (or install the espeak-ng system package)"
        return ""

    def available(self) -> bool:
        return not self.unavailable_reason()

    def _require(self) -> None:
        reason = self.unavailable_reason()
        if reason:
            raise EngineUnavailable(f"the pyttsx3 engine is not available: {reason}")

    _listed: dict[str, list[VoiceInfo]] = {}
    """Each driver's voices, once per process: picking a voice for a routine's language (and the
    studio plans on every keystroke) need not start a worker each time."""

    def voices(self) -> list[VoiceInfo]:
        """The driver's voices (asks a worker once per process; espeak-ng lists about 140)."""
        self._require()
        if self._voices is None:
            known = Pyttsx3Engine._listed.get(self.driver)
            if known is None:
                listed = self.call("voices", {}, timeout=self.startup_timeout)
                known = [VoiceInfo(v["id"], v.get("language", ""), self.name, v.get("name", "")) for v in listed]
                Pyttsx3Engine._listed[self.driver] = known
            self._voices = known
        return list(self._voices)

    def default_voice(self) -> str:
        """espeak: American English; macOS/Windows: the user's system voice ("")."""
        return LINUX_DEFAULT_VOICE if self.driver == "espeak" else ""

    def _voice_arg(self, voice: str) -> str:
        if voice in ("", "default"):
            return self.default_voice()
        wanted = voice.lower()
        voices = self.voices()
        for v in voices:
            if wanted == v.name.lower():
                return v.name
        for v in voices:   # "en-us", "English (America)" or the last part of "gmw/en-us"
            if wanted in (v.language.lower(), v.description.lower(), v.name.lower().rsplit("/", 1)[-1]):
                return v.name
        english = ", ".join(v.name for v in voices if v.language.lower().startswith("en"))
        raise VoiceNotFound(f"pyttsx3 has no voice '{voice}'. English voices: {english or 'none'}")

    def voice_id(self, voice: str) -> str:
        self._require()
        return self._voice_arg(voice) or "system-default"


class Pyttsx3Backend:
    """Runs inside the worker: one pyttsx3 engine, one output file per request."""

    name = "pyttsx3"

    def __init__(self) -> None:
        self.driver = _driver()
        if self.driver == "espeak":
            bundled = _bundled_espeak()
            if bundled:
                import ctypes

                library, data = bundled
                # Load the wheel's library globally first so pyttsx3's own lookup of
                # "libespeak-ng.so.1" finds it, and point espeak at the matching data.
                ctypes.CDLL(library, mode=ctypes.RTLD_GLOBAL)
                os.environ["ESPEAK_DATA_PATH"] = data
        import pyttsx3

        self.engine = pyttsx3.init(self.driver)
        self.espeak: Any = None
        if self.driver == "espeak":
            from pyttsx3.drivers import _espeak

            self.espeak = _espeak
        self.finished = threading.Event()
        self.errors: list[str] = []
        self.engine.connect("finished-utterance", self._on_finished)
        self.engine.connect("error", self._on_error)
        self.extension = ".aiff" if self.driver == "nsss" else ".wav"
        self.voice: str | None = None
        # pyttsx3 starts "busy" and queues property changes until its first loop; an empty
        # loop makes later changes apply at once, where they can be checked.
        self.engine.runAndWait()

    def _wait_idle(self) -> None:
        """Block until espeak has finished everything, including the tail of the previous
        utterance that runs on after "finished" is announced.

        Why: a property set while espeak is busy goes into its command queue, and the
        stop() that pyttsx3's runAndWait performs then calls espeak_Cancel(), which drops
        it — about one request in ten came out at the previous request's rate."""
        if self.espeak is None:
            return
        deadline = time.monotonic() + FINISH_WAIT
        while self.espeak.IsPlaying() and time.monotonic() < deadline:
            time.sleep(0.002)

    def _on_finished(self, name: Any = None, completed: bool = True) -> None:
        self.finished.set()

    def _on_error(self, name: Any = None, exception: BaseException | None = None) -> None:
        self.errors.append(repr(exception))

    def info(self) -> dict[str, Any]:
        return {"driver": self.driver, "voice": str(self.engine.getProperty("voice"))}

    def voices(self) -> list[dict[str, str]]:
        out = []
        for v in self.engine.getProperty("voices"):
            languages = [x.decode("utf-8", "replace") if isinstance(x, bytes) else str(x) for x in (v.languages or [])]
            out.append({"id": str(v.id), "name": str(v.name or v.id), "language": languages[0] if languages else ""})
        return out

    def synth(self, text: str, voice: str, speed: float, out: str, seed: int = 0) -> dict[str, Any]:
        path = out + self.extension
        wpm = words_per_minute(speed)
        # Properties first, on an idle engine, then the file: the order that reliably
        # writes a file at the requested rate.
        self._wait_idle()
        if voice and voice != self.voice:
            self.engine.setProperty("voice", voice)
            self.voice = voice
        self.engine.setProperty("rate", wpm)
        self.engine.setProperty("volume", 1.0)
        self._wait_idle()
        if self.espeak is not None and self.engine.getProperty("rate") != wpm:
            raise RuntimeError(f"espeak did not take rate {wpm} (it reports {self.engine.getProperty('rate')})")
        self.finished.clear()
        self.errors.clear()
        self.engine.save_to_file(text, path)
        self.engine.runAndWait()
        # espeak calls back from its own thread: runAndWait may return before the file is
        # written. Wait for "finished", then for the file to exist with a stable size.
        self.finished.wait(FINISH_WAIT)
        deadline, last = time.monotonic() + FINISH_WAIT, -1
        while time.monotonic() < deadline:
            size = os.path.getsize(path) if os.path.exists(path) else -1
            if size > 0 and (size == last or self.finished.is_set()):
                break
            last = size
            time.sleep(0.02)
        self._wait_idle()
        if self.errors:
            raise RuntimeError(f"pyttsx3 reported: {'; '.join(self.errors)}")
        return {"path": path, "wpm": wpm}
