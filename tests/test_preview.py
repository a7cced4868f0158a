"""Previews with the real voice: a step, a section or the first seconds, mixed as the render
will be. Lengths, speech energy and loudness are measured on the samples; what was spoken is
counted in the store and the narrator's own statistics."""
from __future__ import annotations

import io
import threading
import wave

import numpy as np
import pytest

from voiceguide import api
from voiceguide.errors import VoiceguideError
from voiceguide.preview import MAX_SECONDS, Previewer, Span
from voiceguide.script.parse import parse_routine
from voiceguide.session import Resources
from voiceguide.sound.loudness import integrated_loudness
from voiceguide.voices import SpeechCache
from conftest import routine_text

BODY = """\
# Arrive
Let your shoulders drop and rest your hands in your lap. [hold 3s]
Notice the weight of your arms. Feel your feet on the floor. Let your jaw soften.

# Breathe
[breathe 1 in 2s out 3s]
Well done. [chime]
"""

LONG_BODY = """\
# Rest
Close your eyes for a long rest. [hold 70s]
Open your eyes slowly.
"""


def routine(body: str = BODY, front: str = 'title = "Preview test"'):
    return parse_routine(routine_text(body, front), "preview-test.routine.md")


def rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-30))


def entries(store) -> int:
    return SpeechCache(store).info().entries


@pytest.fixture(scope="module")
def previewer(speech_cache):
    with Previewer(Resources(speech_cache)) as p:
        yield p


def planned(r, store, **options):
    """The plan as `POST /api/plan` makes it: measured where the store knows the sentence."""
    return api.length(r, cache_dir=store, **options).timeline


def index_of(timeline, kind: str, text: str = "") -> int:
    return next(i for i, e in enumerate(timeline.events) if e.kind == kind and e.text.startswith(text))


def test_an_event_preview_lasts_the_event_and_has_speech(previewer, speech_cache):
    r = routine()
    i = index_of(planned(r, speech_cache, ambient="none"), "say", "Notice")
    pv = previewer.preview(r, api.settings(r, ambient="none"), Span("event", i))
    event = planned(r, speech_cache, ambient="none").events[i]    # measured now: it was just spoken
    assert event.text == "Notice the weight of your arms."
    rate = pv.sample_rate
    assert abs(pv.start - event.start) <= 1 / rate
    assert abs(len(pv.samples) - round(event.duration * rate)) <= 2
    assert pv.duration == pytest.approx(len(pv.samples) / rate)
    assert rms_db(pv.samples) > -30                                  # speech, not silence
    assert np.abs(pv.samples).max() <= 1.0 and pv.samples.dtype == np.float32


def test_a_hold_is_silent_without_a_bed_and_not_with_one(previewer, speech_cache):
    r = routine()
    i = index_of(planned(r, speech_cache), "hold")
    quiet = previewer.preview(r, api.settings(r, ambient="none"), Span("event", i))
    bed = previewer.preview(r, api.settings(r, ambient="brown"), Span("event", i))
    assert quiet.duration == pytest.approx(3.0, abs=2 / quiet.sample_rate)
    assert np.abs(quiet.samples).max() < 1e-4                        # nothing sounds in a quiet hold
    assert rms_db(bed.samples) > -50                                 # the bed does
    assert quiet.synthesized == bed.synthesized == 0                 # a hold speaks nothing


def test_speed_changes_the_tempo_and_keeps_the_event(previewer, speech_cache):
    """Speed is the engine's own tempo: about 1/speed, though each take's length varies a
    little (piper's noise is drawn per sentence and speed), so the preview is compared with
    the engine's measured takes, and with 1.5 loosely."""
    r = routine()
    i = index_of(planned(r, speech_cache, ambient="none"), "say", "Let your shoulders")
    durations, measured = {}, {}
    for speed in (0.8, 1.2):
        assert planned(r, speech_cache, speed=speed, ambient="none").events[i].text.startswith("Let your")
        pv = previewer.preview(r, api.settings(r, speed=speed, ambient="none"), Span("event", i))
        durations[speed] = pv.duration
        measured[speed] = planned(r, speech_cache, speed=speed, ambient="none").events[i].duration
    assert durations[0.8] / durations[1.2] == pytest.approx(measured[0.8] / measured[1.2], abs=0.005)
    assert durations[0.8] / durations[1.2] == pytest.approx(1.5, rel=0.15)


def test_a_section_preview_covers_the_section(previewer, speech_cache):
    r = routine()
    pv = previewer.preview(r, api.settings(r), Span("section", 1))
    section = planned(r, speech_cache).sections[1]
    rate = pv.sample_rate
    assert section.title == "Breathe"
    assert abs(pv.start - section.start) <= 1 / rate
    assert abs(len(pv.samples) - round((section.start + section.duration) * rate) + round(section.start * rate)) <= 1


def test_the_first_seconds(previewer, speech_cache):
    long = routine(LONG_BODY, 'title = "Long"\nambient = "none"')
    before = entries(speech_cache)
    pv = previewer.preview(long, api.settings(long), Span("first", seconds=60))
    assert pv.start == 0.0 and len(pv.samples) == 60 * pv.sample_rate
    rate = pv.sample_rate
    assert rms_db(pv.samples[:5 * rate]) > -35                       # the first words
    assert np.abs(pv.samples[-10 * rate:]).max() < 1e-4              # inside the hold (no bed)
    spoken = {e.text for e in planned(long, speech_cache).events if e.kind == "say" and e.start < 60}
    assert spoken == {"Rest.", "Close your eyes for a long rest."}
    assert pv.synthesized == 2 and entries(speech_cache) == before + 2   # not the words after the hold
    assert not api.length(long, cache_dir=speech_cache).measured

    short = routine()
    whole = previewer.preview(short, api.settings(short), Span("first", seconds=60))
    total = planned(short, speech_cache).total
    assert total < 60
    assert abs(len(whole.samples) - round(total * whole.sample_rate)) <= 1


def test_only_the_span_is_spoken(previewer, speech_cache):
    r = routine("# Only\nThe purple lighthouse hums.\nA copper kettle sings.\nNine owls count the stars.\n")
    settings = api.settings(r, ambient="none")
    i = index_of(planned(r, speech_cache, ambient="none"), "say", "A copper")
    before = entries(speech_cache)
    pv = previewer.preview(r, settings, Span("event", i))
    assert pv.synthesized == 1 and entries(speech_cache) == before + 1
    again = previewer.preview(r, settings, Span("event", i))
    assert again.synthesized == 0 and entries(speech_cache) == before + 1
    assert np.array_equal(pv.samples, again.samples)


def test_one_step_of_a_builtin_speaks_one_sentence(previewer, speech_cache):
    r = api.load("desk-break")
    timeline = planned(r, speech_cache)
    i = next(i for i, e in enumerate(timeline.events) if e.kind == "say" and i > len(timeline.events) // 2)
    before = entries(speech_cache)
    pv = previewer.preview(r, api.settings(r), Span("event", i))
    assert pv.synthesized == 1 and entries(speech_cache) == before + 1
    assert planned(r, speech_cache).events[i].text == timeline.events[i].text


def test_the_open_narrator_is_reused_and_the_least_recent_closed():
    """With no store only the open narrator remembers the speech: the second call must not
    speak again, and gives the same samples. With one narrator open, another voice (here
    other pronunciations) closes it, and the first sentence must be spoken again."""
    r = routine()
    other = routine(front='title = "Preview test"\n[pronounce]\nlap = "lapp"')
    settings = api.settings(r, ambient="none")
    i = index_of(planned(r, None, ambient="none"), "say", "Notice")
    with Previewer(max_open=1) as previewer:
        first = previewer.preview(r, settings, Span("event", i))
        second = previewer.preview(r, settings, Span("event", i))
        assert previewer.preview(other, api.settings(other, ambient="none"), Span("event", i)).synthesized == 1
        third = previewer.preview(r, settings, Span("event", i))
    assert first.synthesized == 1 and second.synthesized == 0 and third.synthesized == 1
    assert np.array_equal(first.samples, second.samples)
    assert np.array_equal(first.samples, third.samples)     # the same take: seeded by the sentence


def test_event_indices_do_not_move_when_speech_is_measured(previewer, speech_cache):
    r = routine("# Fresh\nA silver fox naps by the river. [pause 2s]\nThe wind turns the old mill. [hold 2s]\n")
    before = planned(r, speech_cache, length=40)           # estimated, fitted to 40 s
    assert not api.length(r, cache_dir=speech_cache, length=40).measured
    i = index_of(before, "say", "The wind")
    pv = previewer.preview(r, api.settings(r, length=40), Span("event", i))
    after = planned(r, speech_cache, length=40)            # that sentence measured now
    assert [(e.kind, e.text, e.section) for e in after.events] == [(e.kind, e.text, e.section) for e in before.events]
    assert after.total == pytest.approx(40.0) and before.events[i].duration != after.events[i].duration
    assert abs(pv.start - after.events[i].start) <= 1 / pv.sample_rate


def test_a_speech_heavy_preview_is_at_the_loudness_target(previewer, speech_cache):
    r = routine()
    for loudness in (-16.0, -20.0):
        pv = previewer.preview(r, api.settings(r, loudness=loudness), Span("section", 0))
        assert integrated_loudness(pv.samples, pv.sample_rate) == pytest.approx(loudness, abs=2.0)


def test_the_wav_parses_back(previewer):
    r = routine()
    for mono, channels in ((False, 2), (True, 1)):
        pv = previewer.preview(r, api.settings(r, mono=mono, sample_rate=22050), Span("event", 1))
        with wave.open(io.BytesIO(pv.wav())) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (22050, channels, 2)
            assert w.getnframes() == len(pv.samples)
            data = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, channels) / 32767
        assert np.abs(data - pv.samples).max() < 1e-4


def test_edges_are_faded(previewer):
    r = routine()
    pv = previewer.preview(r, api.settings(r), Span("first", seconds=4))
    assert abs(pv.samples[0]).max() < 1e-3 and abs(pv.samples[-1]).max() < 1e-3
    assert rms_db(pv.samples[pv.sample_rate:2 * pv.sample_rate]) > -60      # the bed in between


def test_concurrent_previews(previewer):
    r = routine()
    settings = api.settings(r)
    results: list = [None, None]

    def run(k: int) -> None:
        results[k] = previewer.preview(r, settings, Span("event", 1))

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert np.array_equal(results[0].samples, results[1].samples)


@pytest.mark.parametrize("span, message", [
    (Span("event", 40), "event 40 does not exist: the plan has {events} events (0 to {last})"),
    (Span("event", -1), "event -1 does not exist: the plan has {events} events (0 to {last})"),
    (Span("section", 2), "section 2 does not exist: the plan has 2 sections (0 to 1)"),
])
def test_a_span_the_plan_does_not_have(previewer, speech_cache, span, message):
    r = routine()
    events = len(planned(r, speech_cache).events)
    with pytest.raises(VoiceguideError) as caught:
        previewer.preview(r, api.settings(r), span)
    assert str(caught.value) == message.format(events=events, last=events - 1)


@pytest.mark.parametrize("make, message", [
    (lambda: Span("first", seconds=0), "the first 0 seconds cannot be previewed"),
    (lambda: Span("first", seconds=-3), "the first -3 seconds cannot be previewed"),
    (lambda: Span("first", seconds=MAX_SECONDS + 1), "a preview is at most"),
    (lambda: Span("step", 1), "cannot preview a 'step'"),
])
def test_bad_spans(make, message):
    with pytest.raises(VoiceguideError, match=message):
        make()


def test_a_preview_is_the_render_mix_where_all_speech_is_known(previewer, speech_cache):
    """Once the store holds every sentence, a preview's stretch is the render's own mix there
    (the same bed, clips, chimes and ducking), times the live loudness gain."""
    from voiceguide.session import prepare
    from voiceguide.sound.blocks import db_to_gain
    from voiceguide.sound.gain import estimate_gain
    r = routine()
    settings = api.settings(r, ambient="ocean", bells=True)
    resources = Resources(speech_cache)
    with prepare(r, settings, resources) as prepared:
        mix = prepared.mix(prepared.mix_options(resources))
        pv = previewer.preview(r, settings, Span("section", 1))
        start = round(pv.start * mix.sample_rate)
        expected = mix.render(start, len(pv.samples)) * db_to_gain(estimate_gain(mix, settings.loudness))
    assert prepared.timeline.sections[1].start == pytest.approx(pv.start, abs=1 / mix.sample_rate)
    edge = round(0.02 * mix.sample_rate)
    assert np.abs(expected).max() > 0.05
    np.testing.assert_allclose(pv.samples[edge:-edge], np.clip(expected[edge:-edge], -1, 1), atol=1e-5)


def test_a_late_step_sounds_the_same_from_the_bed_checkpoints(speech_cache):
    """The second preview of a step late in a session starts the bed from a checkpoint (one per
    minute passed) instead of from frame 0: the samples are the same as a new previewer's."""
    r = routine(LONG_BODY * 3, 'title = "Long"\nambient = "ocean"')
    late = index_of(planned(r, speech_cache), "say", "Open your eyes") + 6       # the third pass's
    with Previewer(Resources(speech_cache)) as warm:
        warm.preview(r, api.settings(r), Span("event", 1))                  # early: no checkpoint needed
        first = warm.preview(r, api.settings(r), Span("event", late))        # runs up, leaves checkpoints
        again = warm.preview(r, api.settings(r), Span("event", late))        # from the last checkpoint
    assert first.start > 120 and np.array_equal(first.samples, again.samples)
    with Previewer(Resources(speech_cache)) as fresh:
        assert np.array_equal(fresh.preview(r, api.settings(r), Span("event", late)).samples, again.samples)


OTHER = "gmw/en-gb-x-rp"       # espeak's second English voice: quick to speak
SHARED = "Breathe out slowly."
VOICED = f"""\
# Settle
{SHARED} [hold 2s]

# Count {{voice {OTHER}}}
{SHARED}
[breathe 1 in 2s out 2s]
"""


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    a, b = a[:n] - a[:n].mean(), b[:n] - b[:n].mean()
    return float(np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)))


def test_a_voiced_section_previews_in_its_voice_as_the_render_mixes_it(speech_cache):
    """A `{voice NAME}` section is spoken in that voice in a preview too: the preview speaks
    the section's sentences (its title, its words, the breathing cues) with the render's
    speech keys, so once the store holds every sentence the preview is the render's mix
    there, and the words in it are the section voice's take, not the session voice's."""
    from voiceguide.session import prepare
    from voiceguide.sound.blocks import db_to_gain
    from voiceguide.sound.gain import estimate_gain
    from voiceguide.timeline import speech_key
    front = 'title = "Two voices"\nengine = "pyttsx3"\nchime = "bowl"'
    r = routine(VOICED, front + '\nambient = "rain"')
    quiet = routine(VOICED, front + '\nambient = "none"')
    resources = Resources(speech_cache)
    with Previewer(resources) as previewer:
        cold = previewer.preview(quiet, api.settings(quiet), Span("section", 1))
        assert cold.synthesized == 4       # "Count.", the words and both cues, in the section's voice
        with prepare(r, api.settings(r), resources) as prepared:
            assert prepared.narrator.stats.synthesized == 2       # only the first section: "Settle." and its words
            assert sum(v.stats.synthesized for v in prepared.voices.values()) == 0   # the preview's
            settings = api.settings(r)
            mix = prepared.mix(prepared.mix_options(resources))
            pv = previewer.preview(r, settings, Span("section", 1))
            start = round(pv.start * mix.sample_rate)
            expected = mix.render(start, len(pv.samples)) * db_to_gain(estimate_gain(mix, settings.loudness))
            said = next(e for e in prepared.timeline.events if e.voice == OTHER and e.text == SHARED)
            theirs, mine = mix.clips(speech_key(SHARED, voice=OTHER)), mix.clips(speech_key(SHARED))
            quiet_pv = previewer.preview(quiet, api.settings(quiet), Span("section", 1))
    assert pv.synthesized == 0 and prepared.timeline.sections[1].start == pytest.approx(pv.start, abs=1 / mix.sample_rate)
    edge = round(0.02 * mix.sample_rate)
    assert np.abs(expected).max() > 0.05
    np.testing.assert_allclose(pv.samples[edge:-edge], np.clip(expected[edge:-edge], -1, 1), atol=1e-5)
    # The words heard in the preview are the section voice's clip (no bed: only the voice).
    at = round((said.start - quiet_pv.start) * quiet_pv.sample_rate)
    heard = quiet_pv.samples[at:at + len(theirs), 0]
    right, wrong = correlation(heard, theirs), correlation(heard, mine)
    print(f"correlation {right:.3f} with the section voice's clip, {wrong:.3f} with the session voice's")
    assert right > 0.95 and wrong < 0.6
