"""Memory of the speech workers (docs/audio.md, "Speed and memory"): a piper worker hands back
what a long sentence needed, one that stays too big is recycled between sentences, and the
speech is the same either way. Real piper voice, short texts; timing goals live in scripts/bench."""
from __future__ import annotations

import sys

import pytest

from voiceguide.voices.piper_engine import PiperEngine
from voiceguide.voices.pool import fitting_size

SHORT = "Rest your hands in your lap."
LONG = ("Now, with your right thumb, press small and firm circles into the soft pads at the base of "
        "the thumb, then slowly, without any hurry at all, move across the palm to the pads below the "
        "little finger, where a racket, a club or a bar presses hardest, and stay there for a few "
        "slow and easy breaths.")     # one sentence of 60 words: the decoder's memory grows with it


@pytest.fixture()
def engine_factory():
    made: list[PiperEngine] = []

    def make(**options) -> PiperEngine:
        engine = PiperEngine(jobs=1, **options)
        if not engine.available():
            pytest.skip(f"piper not usable here: {engine.unavailable_reason()}")
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.close()


def test_a_worker_over_its_limit_is_recycled_and_speaks_the_same(piper, engine_factory):
    recycling = engine_factory(rss_limit=1.0)     # every worker is "too big" after a request
    first = recycling.synthesize(SHORT)
    middle = recycling.synthesize(LONG)
    again = recycling.synthesize(SHORT)
    assert recycling.workers_started == 3         # a fresh process for each sentence
    assert recycling.workers_recycled == 3
    assert again.samples.tobytes() == first.samples.tobytes()
    # and the same as a worker that was never recycled and spoke other things in between
    assert piper.synthesize(SHORT).samples.tobytes() == first.samples.tobytes()
    assert piper.synthesize(LONG).samples.tobytes() == middle.samples.tobytes()
    assert len(middle.samples) > 10 * middle.sample_rate     # the long one really is long


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the worker reads its RSS from /proc")
def test_a_worker_hands_back_what_a_long_sentence_needed(engine_factory):
    engine = engine_factory()
    engine.synthesize(SHORT)
    with engine.pool.worker() as w:
        after_short = w.rss_mib
    engine.synthesize(LONG)
    with engine.pool.worker() as w:
        after_long = w.rss_mib
    assert after_short > 50                       # it did report: the model alone is ~150 MiB
    # onnxruntime's arena kept ~350 MiB more after this sentence; handed back, it is the model's
    assert after_long < after_short + 60, (after_short, after_long)
    assert engine.workers_started == 1 and engine.workers_recycled == 0


def test_the_number_of_workers_fits_the_free_memory():
    assert fitting_size(2, 450.0, available=24_000.0) == 2
    assert fitting_size(4, 450.0, available=1_900.0) == 2     # half of what is free, 450 MiB each
    assert fitting_size(2, 450.0, available=300.0) == 1       # never fewer than one
    assert fitting_size(3, 0.0, available=10.0) == 3          # an engine with no estimate is not limited
