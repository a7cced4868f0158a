"""Live play's mix parts: the same samples as a plain Mix once the bed is open, silence for the
bed until then, chimes and their levels served by the start-up cache, clips prepared ahead."""
from __future__ import annotations

import numpy as np

from voiceguide.live.program import LiveParts
from voiceguide.live.warm import StartCache
from voiceguide.sound.blocks import collect
from voiceguide.sound.mix import Mix, MixOptions

from .helpers import SR, SyntheticVoice, timeline

OPTIONS = MixOptions(sample_rate=SR, ambient="brown", chime="bell", start_bell=True, end_bell=True)


class CountingVoice:
    """A SyntheticVoice that counts what it is asked to say."""

    def __init__(self) -> None:
        self.voice = SyntheticVoice()
        self.said: list[str] = []

    def __call__(self, text: str) -> tuple[np.ndarray, int]:
        self.said.append(text)
        return self.voice(text)


def test_live_parts_render_what_a_plain_mix_renders_once_the_bed_is_open(tmp_path):
    voice = SyntheticVoice()
    tl = timeline(voice, hold=12.0)
    plain = Mix(tl, voice, OPTIONS)
    live = LiveParts(StartCache(tmp_path))
    mix = Mix(tl, voice, OPTIONS, live.parts)
    before = mix.render(0, 3 * SR)
    assert not mix.bed_source().read(SR).any()              # no bed yet: silence
    attached = []
    live.open_bed(attached.append)
    assert live.bed_error is None and len(attached) == 1
    expected = collect(plain.blocks(4096))
    got = collect(mix.blocks(4096))
    assert got.shape == expected.shape and np.array_equal(got, expected)
    assert np.array_equal(attached[0].read(SR), plain.bed_source().read(SR))
    # before the bed opened, the voice and chimes were there already, only the bed was not
    assert np.array_equal(before, plain.voice(0, 3 * SR))
    assert np.abs(expected[:3 * SR] - before).max() > 1e-3   # (and the bed is audible)


def test_a_warm_start_cache_serves_chimes_and_levels_with_the_same_sound(tmp_path):
    voice = SyntheticVoice()
    tl = timeline(voice, hold=12.0)
    cold = Mix(tl, voice, OPTIONS, LiveParts(StartCache(tmp_path)).parts)
    cache = StartCache(tmp_path)
    warm = Mix(tl, voice, OPTIONS, LiveParts(cache).parts)
    assert cache.misses == 0 and cache.hits >= 4      # the chime set; soft, start and end levels
    assert warm.placements == cold.placements         # the same chime gains
    plain = Mix(tl, voice, OPTIONS)
    assert np.array_equal(warm.voice(0, warm.frames), plain.voice(0, plain.frames))


def test_clips_prepared_ahead_are_taken_not_made_again(tmp_path):
    voice = CountingVoice()
    tl = timeline(voice.voice, hold=12.0)
    live = LiveParts()
    mix = Mix(tl, voice, OPTIONS, live.parts)
    live.prepare_ahead(mix, 0)
    ahead = list(voice.said)
    assert ahead and len(ahead) == len(set(ahead))
    voice.said.clear()
    first = mix.voice(0, 10 * SR)
    spoken_early = {p.key for p in mix.placements if p.kind == "speech" and p.start < 10 * SR}
    assert spoken_early and spoken_early <= set(ahead)
    assert not spoken_early & set(voice.said)         # taken from what was prepared
    plain = Mix(tl, voice.voice, OPTIONS)
    assert np.array_equal(first, plain.voice(0, 10 * SR))


def test_an_unreadable_bed_file_is_a_warning_not_a_failure(tmp_path):
    broken = tmp_path / "bed.wav"
    broken.write_bytes(b"not audio")
    voice = SyntheticVoice()
    live = LiveParts()
    mix = Mix(timeline(voice, hold=12.0), voice, MixOptions(sample_rate=SR, ambient=str(broken)), live.parts)
    attached = []
    live.open_bed(attached.append)
    assert not attached and live.bed_error is not None and live.bed_error.startswith("ambient bed not played:")
    assert not mix.bed_source().read(SR).any()
