"""The narration layer's front door: text in, speech out — normalized, cached, parallel, and
never silently missing a sentence.

    with Narrator(engine="auto", voice="default", pronounce=meta.pronounce) as narrator:
        narrator.prepare(sentences, speed)          # synthesize everything, all cores
        timeline = plan(routine, timer=narrator.timer())   # measured durations
        audio = narrator.speech(sentence, speed)    # from memory/cache, instantly

If the chosen engine fails on a sentence (after its own retries), the next engine speaks it
and a warning says so; if every engine fails, SynthesisError names the sentence.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
import weakref
from collections import OrderedDict
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from .base import Engine, EngineUnavailable, Request, Speech, SynthesisError, VoiceNotFound
from ..store import Store
from .cache import SpeechCache
from .dsp import is_silent
from .normalize import normalize
from ..script.phrases import is_english
from .language import best_voice, language_chain
from .remote import BadOutput, check_samples

SpeechTimer = Callable[[str, float], float]
EMPTY_RATE = 22050   # sample rate reported for sentences with nothing to say


def _usable(speech: Speech) -> str | None:
    """Why `speech` must not reach the mix (None if it may): the checks every engine's
    result and every cache entry pass, whoever made it. Worker engines check far more
    (length for the words, clipping, noise) before they return anything."""
    try:
        check_samples(speech.samples)
    except BadOutput as exc:
        return str(exc)
    return "the engine returned silence" if is_silent(speech.samples) else None


def _unspill(entry: tuple[str, int, str, str]) -> Speech:
    path, rate, engine, voice = entry
    return Speech(np.load(path, allow_pickle=False), rate, engine, voice)


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


class NarrationWarning(UserWarning):
    """A sentence was spoken by a fallback engine, or the cache could not be used."""


@dataclass
class NarratorStats:
    cache_hits: int = 0
    synthesized: int = 0
    fallbacks: int = 0


class Narrator:
    """Speaks sentences with the best available engine, caching every result."""

    def __init__(
        self,
        engine: str | Engine | Sequence[Engine] = "auto",
        voice: str = "default",
        cache: str | Path | Store | SpeechCache | None = None,
        pronounce: Mapping[str, str] | None = None,
        jobs: int | None = None,
        fallback: bool = True,
        on_warning: Callable[[str], None] | None = None,
        memory_limit: int | None = None,
        language: str = "en",
        **engine_options: Any,
    ):
        """`engine`: a name ("auto", "piper", "pyttsx3"), an engine, or engines to try in
        order. `cache`: the store (or its folder) or a SpeechCache; None or False: no disk cache.
        `jobs`: worker processes per engine (default: CPU count). `on_warning` receives
        fallback notices instead of `warnings.warn`. Raises EngineUnavailable/VoiceNotFound
        when the requested engine or voice cannot work. `language` (a BCP 47 tag) is what the
        text is written in: it is normalized for it, and with the default voice a voice that
        speaks it is picked (voices/language.py; NoVoiceForLanguage if none does)."""
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.voice = voice
        self.language = language
        self.pronounce = dict(pronounce or {})
        self.on_warning = on_warning
        if isinstance(engine, str):
            self.engines, self.voice = language_chain(language, engine, voice, self.jobs, fallback, **engine_options)
            self._owns_engines = True
        else:
            self.engines = [engine] if isinstance(engine, Engine) else list(engine)
            self._owns_engines = False
        if not self.engines:
            raise EngineUnavailable("no engine to narrate with")
        if cache is True:
            raise TypeError("Narrator(cache=...) takes the store's folder (or a SpeechCache), "
                            "not True; None or False keeps nothing on disk")
        if cache is None or cache is False:
            self.cache: SpeechCache | None = None
        elif isinstance(cache, SpeechCache):
            self.cache = cache
        else:
            self.cache = SpeechCache(cache)
        if self.cache is not None and self._owns_engines:
            for e in self.engines:     # piper: measure each voice's speed curve once, not per run
                keep = getattr(e, "keep_calibrations_in", None)
                if keep is not None:
                    keep(self.cache.store)
        self.stats = NarratorStats()
        # Sentences kept in memory, oldest first. With `memory_limit` (bytes), the oldest move
        # past the limit to a private folder and are read back when needed again, so an
        # hour-long render does not hold an hour of speech, with or without a disk cache.
        self._memo: OrderedDict[tuple[str, float], Speech] = OrderedDict()
        self._memo_bytes = 0
        self.memory_limit = memory_limit
        self._spilled: dict[tuple[str, float], tuple[str, int, str, str]] = {}   # evicted, on disk
        self._spill_dir: str | None = None
        self._voice_ids: dict[int, tuple[str, str]] = {}
        self._versions: dict[int, str] = {}
        self._lock = threading.Lock()
        self._voice_for(0)   # unknown voice -> VoiceNotFound now, not mid-render

    @property
    def engine(self) -> Engine:
        """The engine that speaks unless it fails."""
        return self.engines[0]

    def for_voice(self, voice: str) -> "Narrator":
        """A narrator for another voice (a `{voice NAME}` section) on this one's engines: the
        same workers, cache, pronunciations and language. The first engine that has the voice
        leads, the others stay its fallbacks; VoiceNotFound if none has it. It closes no engine."""
        reasons: list[str] = []
        for leading in self.engines:
            try:
                leading.voice_id(voice)
            except (VoiceNotFound, EngineUnavailable) as exc:
                reasons.append(str(exc))
                continue
            engines = [leading] + [e for e in self.engines if e is not leading]
            return Narrator(engines, voice, self.cache, self.pronounce, self.jobs, on_warning=self.on_warning,
                            memory_limit=self.memory_limit, language=self.language)
        raise VoiceNotFound("; ".join(reasons))

    def normalize(self, text: str) -> str:
        """Exactly what gets spoken for `text` (and keyed in the cache)."""
        return normalize(text, self.pronounce, self.language)

    def _voice_for(self, index: int) -> tuple[str, str]:
        """(voice name to pass, stable voice id) for engine `index`. Fallback engines use
        the requested voice if they have it, else their default, or in a language other than
        English their voice for it: none (VoiceNotFound) rather than an English voice
        reading German."""
        if index not in self._voice_ids:
            engine = self.engines[index]
            try:
                pair = (self.voice, engine.voice_id(self.voice))
            except VoiceNotFound:
                if index == 0:
                    raise
                fallback = "default" if is_english(self.language) else _language_voice(engine, self.language)
                pair = (fallback, engine.voice_id(fallback))
            # Version first: another thread that sees the voice id may read the version at once.
            self._versions[index] = engine.version
            self._voice_ids[index] = pair
        return self._voice_ids[index]

    def _warn(self, message: str) -> None:
        if self.on_warning is not None:
            self.on_warning(message)
        else:
            warnings.warn(message, NarrationWarning, stacklevel=3)

    def request(self, text: str, speed: float = 1.0, index: int = 0) -> Request:
        """The cache request for `text` on engine `index` (text is normalized here)."""
        _, voice_id = self._voice_for(index)
        return Request(self.engines[index].name, voice_id, float(speed), self.normalize(text), self._versions[index])

    def speech(self, text: str, speed: float = 1.0) -> Speech:
        """`text` spoken at `speed`, trimmed to short faded edges, at the engine's native rate."""
        spoken = self.normalize(text)
        memo_key = (spoken, round(float(speed), 4))
        with self._lock:
            if memo_key in self._memo:
                self._memo.move_to_end(memo_key)
                return self._memo[memo_key]
            spilled = self._spilled.get(memo_key)
        if spilled is not None:
            try:
                return _unspill(spilled)
            except (OSError, ValueError):
                pass   # the private copy is gone: fall back to the cache, then synthesis
        if not any(ch.isalnum() for ch in spoken):
            speech = Speech(np.zeros(0, np.float32), EMPTY_RATE)
        else:
            speech = self._speak(text, spoken, float(speed))
        with self._lock:
            if memo_key not in self._memo:
                self._memo[memo_key] = speech
                self._memo_bytes += speech.samples.nbytes
            self._trim_memo()
        return speech

    def _trim_memo(self) -> None:
        if self.memory_limit is None:
            return
        while self._memo_bytes > self.memory_limit and len(self._memo) > 1:
            key, old = self._memo.popitem(last=False)
            self._memo_bytes -= old.samples.nbytes
            self._spill(key, old)

    def _spill(self, key: tuple[str, float], speech: Speech) -> None:
        """Keep an evicted sentence in a private folder rather than re-reading the shared
        cache: another process may delete that entry meanwhile, and synthesizing it again
        gives a take of another length than the one the timeline was planned with."""
        if self._spill_dir is None:
            # Named like the engines' temp folders, so a run after a killed one sweeps it.
            self._spill_dir = tempfile.mkdtemp(prefix=f"voiceguide-speech.{os.getpid()}.")
            weakref.finalize(self, shutil.rmtree, self._spill_dir, True)
        if key in self._spilled:
            return
        path = os.path.join(self._spill_dir, f"{uuid.uuid4().hex}.npy")
        try:
            np.save(path, speech.samples, allow_pickle=False)
        except OSError:
            return   # disk full: the shared cache (or synthesis) remains the way back
        self._spilled[key] = (path, speech.sample_rate, speech.engine, speech.voice)

    def _speak(self, text: str, spoken: str, speed: float) -> Speech:
        failures: list[str] = []
        for index, engine in enumerate(self.engines):
            try:
                voice, voice_id = self._voice_for(index)
            except (VoiceNotFound, EngineUnavailable) as exc:
                failures.append(f"{engine.name}: {exc}")
                continue
            request = Request(engine.name, voice_id, speed, spoken, self._versions[index])
            if self.cache is not None:
                cached = self.cache.get(request)
                if cached is not None and _usable(cached) is None:
                    with self._lock:
                        self.stats.cache_hits += 1
                    return cached
                if cached is not None:   # intact but unusable (an old or foreign entry): replace it
                    self.cache.discard(request)
            try:
                speech = engine.synthesize(spoken, voice, speed)
                problem = _usable(speech)
                if problem:      # any Engine, not only worker engines, must not pass garbage on
                    raise SynthesisError(spoken, problem, engine.name)
            except SynthesisError as exc:
                failures.append(f"{engine.name}: {exc.reason}")
                if index + 1 < len(self.engines):
                    self._warn(f'{engine.name} could not speak "{text}" ({exc.reason}); '
                               f"using {self.engines[index + 1].name} for it instead")
                continue
            with self._lock:
                self.stats.synthesized += 1
                self.stats.fallbacks += index > 0
            if self.cache is not None:
                kept = self.cache.put(request, speech)   # another process's take, if it was first
                speech = kept if _usable(kept) is None else speech
            return speech
        raise SynthesisError(text, "every engine failed: " + "; ".join(failures))

    def prepare(self, texts: Iterable[str], speed: float = 1.0) -> list[Speech]:
        """Synthesize all `texts` (in parallel, `jobs` at a time) so later `speech()` and
        `timer()` calls are instant. Returns the speech in input order."""
        texts = list(texts)
        unique = list(dict.fromkeys(texts))
        if len(unique) <= 1 or self.jobs == 1:
            done = {t: self.speech(t, speed) for t in unique}
        else:
            pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="voiceguide-tts")
            try:
                done = dict(zip(unique, pool.map(lambda t: self.speech(t, speed), unique)))
            finally:
                # Ctrl-C or a failed sentence: drop the queued sentences, so only those being
                # spoken finish (plain shutdown would speak the whole batch first).
                pool.shutdown(wait=True, cancel_futures=True)
        return [done[t] for t in texts]

    def forget(self) -> None:
        """Drop the in-memory copies of spoken sentences (to free memory after a render, or
        to synthesize again when the cache is off). The disk cache is untouched."""
        with self._lock:
            self._memo.clear()
            self._memo_bytes = 0
            for path, *_ in self._spilled.values():
                _remove(path)
            self._spilled.clear()

    def timer(self) -> SpeechTimer:
        """A SpeechTimer for `timeline.plan`: measured seconds of each sentence."""
        return lambda sentence, speed: self.speech(sentence, speed).duration

    def close(self) -> None:
        """Stop the engine workers (only those this narrator created)."""
        if self._spill_dir is not None:
            shutil.rmtree(self._spill_dir, ignore_errors=True)
            self._spill_dir, self._spilled = None, {}
        if self._owns_engines:
            for engine in self.engines:
                engine.close()

    def __enter__(self) -> "Narrator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _language_voice(engine: Engine, language: str) -> str:
    """The name of `engine`'s voice for `language` (voices/language.py), or VoiceNotFound."""
    found = best_voice(engine.voices(), language)
    if found is None:
        raise VoiceNotFound(f"{engine.name} has no voice for language \"{language}\"")
    return found.name
