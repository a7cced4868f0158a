"""Voices you bring: `voiceguide voices add MODEL.onnx` checks a piper voice and installs it,
`voiceguide voices remove NAME` uninstalls it.

A voice is added only once it has proved itself: its files agree with each other
(modelcheck.py), a piper worker loads it (the same worker process every synthesis runs in) and
its own pace is a speaking pace (a wrong sample rate in the config makes it absurdly fast or
slow), and it speaks a test sentence that passes the checks every synthesis passes
(remote.check_speech). Only then does its folder appear under its name, by one rename of a
temp folder in the same voice folder, so a broken voice is never half installed. Each added
voice keeps a record (voice.json) of its language, sample rate, quality and licence.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .. import tempfiles
from ..store import Store
from .base import EngineUnavailable, SynthesisError
from .modelcheck import MODEL_CARD, VoiceFacts, VoiceRefused, check_files, config_path
from .piper_engine import CALIBRATION_TEXT, PiperEngine, find_voices
from .places import RECORD, entries, user_voice_dir, voice_folders
from .pool import RequestFailed, WorkerError

TEST_SENTENCE = "Breathe in slowly, and let your shoulders soften as you breathe out."
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,79}$")
RESERVED = ("default", "auto")
NATIVE_WPM = (110.0, 320.0)
"""Words a minute a voice may speak at its own pace (measured: joe reads the calibration
sentence at 191). Outside, its config's sample rate is wrong: joe's 22,050 Hz audio declared
as 48,000 Hz came out at 416, declared as 11,025 Hz at 96."""
_TEMP = tempfiles.pattern(r"\.(?:adding|removing)", "")
Step = Callable[[str], None]


@dataclass(frozen=True)
class InstalledVoice:
    """An added voice, as its record says."""

    name: str
    folder: Path
    model: Path
    language: str
    sample_rate: int
    quality: str
    licence: str              # "unknown" when nothing said
    licence_from: str         # "given", "config", "model card" or ""
    shared: bool              # in a VOICEGUIDE_VOICES folder: used, never changed

    @property
    def licence_known(self) -> bool:
        return self.licence != "unknown"


def _installed(entry: Any) -> InstalledVoice:
    record = entry.record

    def text(key: str, default: str = "") -> str:
        value = record.get(key)
        return value if isinstance(value, str) else default

    rate = record.get("sample_rate")
    return InstalledVoice(entry.name, entry.model.parent, entry.model, text("language"),
                          rate if isinstance(rate, int) else 0, text("quality"), text("licence", "unknown") or "unknown",
                          text("licence_from"), not entry.folder.writable)


def installed_voices() -> list[InstalledVoice]:
    """Every added voice: the user's, then the shared folders' (a name may be in both)."""
    return [_installed(e) for folder in voice_folders() for e in entries(folder) if e.record is not None]


def _check_name(name: str) -> str:
    if not NAME.match(name) or name.lower().endswith(".onnx") or name.lower() in RESERVED:
        raise VoiceRefused(f"'{name}' cannot name a voice (letters, digits, and _ . + - after the first; "
                           f"not {', '.join(RESERVED)})")
    taken = next((v for v in find_voices() if v.name.lower() == name.lower()), None)
    if taken is not None:
        raise VoiceRefused(f"there is already a voice '{taken.name}' ({taken.model}); add this one with "
                           f"another --name")
    if (user_voice_dir() / name).exists():
        raise VoiceRefused(f"{user_voice_dir() / name} is in the way of a voice named '{name}'; "
                           f"add it with another --name")
    return name


def _one_line(text: str, limit: int = 400) -> str:
    """A worker's error as part of one line (onnxruntime's end in a newline, some are long)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def native_wpm(calibration: dict[str, Any]) -> float:
    """Words a minute of the calibration sentence at the voice's own pace (length scale 1),
    from the durations a worker measured when it loaded the voice."""
    seconds = (float(calibration["d0.75"]) + float(calibration["d1.25"])) / 2
    return len(CALIBRATION_TEXT.split()) * 60.0 / seconds


def try_voice(model: Path, facts: VoiceFacts, shown: Path, store: Store | None = None) -> float:
    """Load `model` in a piper worker and have it speak the test sentence; VoiceRefused
    (naming `shown`, the file the user gave) if it cannot. Returns the test's seconds."""
    if importlib.util.find_spec("piper") is None or importlib.util.find_spec("onnxruntime") is None:
        raise EngineUnavailable("piper-tts is not installed (pip install piper-tts): it is needed to check a voice")
    engine = PiperEngine(1, retries=1)
    if store is not None:
        engine.keep_calibrations_in(store)    # the first render with the voice skips its calibration
    try:
        try:
            loaded = engine.call("load", {"voice": str(model), "calibration": None}, engine.startup_timeout)
        except (WorkerError, RequestFailed) as exc:
            raise VoiceRefused(f"{shown}: piper could not load it ({_one_line(str(exc))})") from None
        wpm = native_wpm(loaded)
        if not NATIVE_WPM[0] <= wpm <= NATIVE_WPM[1]:
            raise VoiceRefused(f"{shown}: at its own pace it speaks {wpm:.0f} words a minute, which no voice "
                               f"does: is its sample rate ({facts.sample_rate} Hz in its config) right?")
        try:
            speech = engine.synthesize(TEST_SENTENCE, str(model), 1.0)
        except SynthesisError as exc:
            raise VoiceRefused(f"{shown}: it could not speak a test sentence ({_one_line(exc.reason)})") from None
        return speech.duration
    finally:
        engine.close()


@dataclass(frozen=True)
class Added:
    voice: InstalledVoice
    test_seconds: float       # how long the test sentence lasted


def _sweep(folder: Path) -> None:
    tempfiles.sweep(folder, _TEMP, trees=True)


def add(model: str | os.PathLike[str], name: str | None = None, licence: str | None = None, *,
        store: Store | str | os.PathLike[str] | None = None, step: Step | None = None) -> Added:
    """Check the piper voice `model` (its .onnx.json beside it) and install it as `name`
    (default: the model's file name). `licence` says the voice's licence when its config and
    model card do not (or overrides them). `store` (or its folder): where its speed calibration
    is kept, so the first render with it need not measure it again.
    `step` hears what is being done. Raises VoiceRefused and leaves nothing behind."""
    say = step or (lambda _: None)
    source = Path(model).expanduser()
    say(f"checking {source.name} and {config_path(source).name}")
    facts = check_files(source)
    name = _check_name(name if name is not None else source.stem)
    if licence is not None and (not licence.strip() or any(ord(c) < 32 for c in licence)):
        raise VoiceRefused("--licence must be one line of text")
    home = user_voice_dir()
    try:
        home.mkdir(parents=True, exist_ok=True)
        _sweep(home)
        temp = Path(tempfile.mkdtemp(dir=home, prefix=f".adding.{os.getpid()}."))
    except OSError as exc:
        raise VoiceRefused(f"cannot write to the voice folder {home} ({exc.strerror or exc})") from None
    try:
        say(f"copying it to {home}")
        copy = temp / f"{name}.onnx"
        try:
            shutil.copyfile(source, copy)
            shutil.copyfile(config_path(source), config_path(copy))
            if source.with_name(MODEL_CARD).is_file():
                shutil.copyfile(source.with_name(MODEL_CARD), temp / MODEL_CARD)
        except OSError as exc:
            raise VoiceRefused(f"cannot copy {source} to {home} ({exc.strerror or exc})") from None
        facts = check_files(copy)             # what is installed is what was checked
        say("loading it in a piper worker and speaking a test sentence")
        seconds = try_voice(copy, facts, source, store if store is None or isinstance(store, Store) else Store(store))
        given = licence.strip() if licence is not None else ""
        record = {"format": 1, "name": name, "model": copy.name, "language": facts.language,
                  "sample_rate": facts.sample_rate, "quality": facts.quality,
                  "licence": given or facts.licence or "unknown",
                  "licence_from": "given" if given else facts.licence_from, "added_from": str(source.absolute())}
        (temp / RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        try:
            os.rename(temp, home / name)
        except OSError as exc:
            raise VoiceRefused(f"cannot install {home / name} ({exc.strerror or exc}); was a voice '{name}' "
                               f"added meanwhile?") from None
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    voice = next(v for v in installed_voices() if v.folder == home / name)
    return Added(voice, seconds)


def remove(name: str) -> InstalledVoice:
    """Uninstall the added voice `name` from the user's voice folder (never a shared one)."""
    wanted = name.lower()
    added = [v for v in installed_voices() if v.name.lower() == wanted]
    mine = next((v for v in added if not v.shared), None)
    if mine is None:
        if added:
            raise VoiceRefused(f"voice '{added[0].name}' is in the shared voice folder {added[0].folder.parent} "
                               f"(VOICEGUIDE_VOICES), which voiceguide never changes")
        loose = next((v for v in find_voices() if v.name.lower() == wanted), None)
        if loose is not None:
            raise VoiceRefused(f"voice '{loose.name}' was not added with `voiceguide voices add` (it is "
                               f"{loose.model}, from {loose.source})")
        names = ", ".join(v.name for v in installed_voices() if not v.shared) or "none"
        raise VoiceRefused(f"no added voice '{name}' (added: {names})")
    home = mine.folder.parent
    _sweep(home)
    trash = Path(tempfile.mkdtemp(dir=home, prefix=f".removing.{os.getpid()}."))
    try:
        os.rename(mine.folder, trash / mine.name)     # gone from every listing at once
    except OSError as exc:
        shutil.rmtree(trash, ignore_errors=True)
        raise VoiceRefused(f"cannot remove {mine.folder} ({exc.strerror or exc})") from None
    shutil.rmtree(trash, ignore_errors=True)
    return mine


def suggested_voices() -> list[str]:
    """The voices a form suggests for `voice` (the studio): default, then every piper voice,
    added ones included (espeak's 140 are left to `voiceguide voices`)."""
    return ["default", *(v.name for v in find_voices())]
