"""Per-section beds: the session's bed crossfades to a section's own and back, smoothly,
exactly, and without synthesizing a bed while it is not heard."""
import numpy as np
import pytest
from scipy import signal

from voiceguide.sound import beds
from voiceguide.sound.bedschedule import FADE, MIN_FADE, ScheduledBed, ambient_changes, plan_fades
from voiceguide.sound.bedseek import BedSeeker
from voiceguide.sound.blocks import collect, read_all
from voiceguide.sound.loudness import integrated_loudness
from voiceguide.sound.mix import MixOptions, mix, open_bed
from support.synthetic import SyntheticVoice

from .helpers import routine
from voiceguide.script.model import Hold, Say
from voiceguide.timeline import plan

SR = 22050


def schedule(session="brown", changes=((20.0, "rain"), (50.0, "brown")), channels=2):
    return ScheduledBed.open(session, changes, SR, channels, seed=4)


# -- the change list --------------------------------------------------------------------------

def test_changes_only_where_the_bed_changes():
    sections = [(0.0, None), (30.0, "rain"), (61.5, "Rain"), (90.0, None), (120.0, None),
                (150.0, "none"), (170.0, "brown")]
    assert ambient_changes(sections, "brown") == ((30.0, "rain"), (90.0, "brown"), (150.0, "none"),
                                                  (170.0, "brown"))
    assert ambient_changes([(0.0, None), (40.0, None)], "ocean") == ()          # the plain bed
    assert ambient_changes([(0.0, "fire"), (40.0, None)], "ocean") == ((0.0, "fire"), (40.0, "ocean"))
    assert ambient_changes([(0.0, None), (9.0, "wind")], "/x/My Bed.wav") == ((9.0, "wind"),)


def test_crossfades_are_centred_and_never_overlap():
    first, fades = plan_fades("brown", [(30.0, "rain"), (31.0, "fire"), (31.2, "wind"), (90.0, "brown")], SR)
    assert first == "brown"
    # 31.0 and 31.2 are closer than MIN_FADE: one change to wind, at 31 s
    assert [(f.before, f.after) for f in fades] == [("brown", "rain"), ("rain", "wind"), ("wind", "brown")]
    assert fades[0].start == round(29.5 * SR) and fades[0].end == fades[1].start == round(30.5 * SR)
    assert fades[2].start == round((90 - FADE / 2) * SR) and fades[2].end == round((90 + FADE / 2) * SR)
    first, fades = plan_fades("brown", [(0.0, "rain"), (1.0, "fire")], SR)
    assert first == "rain" and fades[0].start == 0 and fades[0].end == 2 * SR   # starts at 0, no earlier
    assert plan_fades("brown", [(MIN_FADE / 2, "rain")], SR) == ("rain", ())


# -- the sound ----------------------------------------------------------------------------------

def test_before_and_after_a_change_it_is_exactly_the_named_beds():
    x = read_all(schedule(), SR * 70)
    brown = read_all(beds.bed("brown", SR, 2, 4), SR * 70)
    rain = read_all(beds.bed("rain", SR, 2, 4), SR * 70)
    a, b = round((20 - FADE / 2) * SR), round((20 + FADE / 2) * SR)
    assert np.array_equal(x[:a], brown[:a])                         # the session's bed
    assert np.array_equal(x[b:round(48 * SR)], rain[b - a:round(48 * SR) - a])   # rain, from its start
    # back to brown, which goes on from where it paused (not from its beginning again)
    c, d = round(48 * SR), round(52 * SR)
    brown_heard = a + (b - a) + (d - c)           # frames of brown read up to d
    assert np.array_equal(x[d:], brown[brown_heard:brown_heard + len(x) - d])


def test_the_spectrum_before_and_after_matches_the_beds():
    x = read_all(schedule(changes=((20.0, "fire"),)), SR * 40)[:, 0]
    def bands(y):
        f, p = signal.welch(y, SR, nperseg=4096)
        edges = 2.0 ** np.arange(5, 14)                 # octaves 32 Hz .. 8 kHz
        return np.array([10 * np.log10(p[(f >= lo) & (f < 2 * lo)].sum()) for lo in edges])
    alone = {name: read_all(beds.bed(name, SR, 2, 9), SR * 15)[:, 0] for name in ("brown", "fire")}
    before, after = bands(x[:SR * 15]), bands(x[SR * 25:])
    assert np.abs(before - bands(alone["brown"])).max() < 1.5
    assert np.abs(after - bands(alone["fire"])).max() < 1.5
    assert np.abs(before - after).max() > 6                         # and they are different beds


@pytest.mark.parametrize("pair", [("brown", "drone"), ("rain", "fire"), ("drone", "none"), ("none", "stream")])
def test_a_crossfade_has_no_click_and_keeps_the_level(pair):
    a, b = pair
    x = read_all(schedule(a, ((10.0, b),), channels=1), SR * 20)[:, 0].astype(np.float64)
    own = [read_all(beds.bed(n, SR, 1, 4), SR * 20)[:, 0].astype(np.float64) for n in pair]
    fade = slice(round((10 - FADE / 2) * SR), round((10 + FADE / 2) * SR))
    # No jump from one frame to the next bigger than either bed makes on its own...
    jumps = max(np.abs(np.diff(y)).max() for y in own)
    assert np.abs(np.diff(x[fade])).max() <= 1.05 * jumps
    # ...nor any kink (third difference) bigger than the beds' own.
    kinks = max(np.abs(np.diff(y, 3)).max() for y in own)
    assert np.abs(np.diff(x[fade], 3)).max() <= 1.05 * kinks
    # Equal power: through the fade, the level stays between those of the stretches of the
    # two beds that sound in it (the second from its start).
    if "none" not in pair:
        levels = [integrated_loudness(own[0][fade], SR), integrated_loudness(own[1][:SR * 4], SR)]
        assert min(levels) - 0.5 < integrated_loudness(x[fade], SR) < max(levels) + 0.5
    # (a hard switch would have clicked: the measures above do see it)
    if pair == ("brown", "drone"):
        cut = np.concatenate([own[0][:SR * 10], own[1][:SR * 10]])
        assert np.abs(np.diff(cut[SR * 10 - 5:SR * 10 + 5], 3)).max() > 1.05 * kinks


def test_only_the_beds_heard_are_synthesized():
    bed = schedule("brown", ((20.0, "rain"), (50.0, "brown"), (80.0, "wind")))
    reader = bed.restarted()
    read_all(reader, SR * 70, 5000)
    made = {key: r.source.position / SR for key, r in reader._readers.items()}
    chunk = 16384 / SR
    assert "wind" not in made                                    # not heard yet: not even opened
    assert 22 + 4 + 18 <= made["brown"] <= 22 + 4 + 18 + chunk   # 0-22 s and 48-70 s, no more
    assert 30 + FADE <= made["rain"] <= 30 + FADE + chunk        # 18-52 s only


def test_deterministic_whatever_the_reads():
    bed = schedule()
    whole = read_all(bed.restarted(), SR * 60, 60 * SR)
    sizes = np.random.default_rng(3).integers(1, 30_000, 200)
    reader, parts, done = bed.restarted(), [], 0
    for n in sizes:
        n = int(min(n, SR * 60 - done))
        parts.append(reader.read(n))
        done += n
    assert done == SR * 60 and np.array_equal(whole, np.concatenate(parts))
    assert np.array_equal(whole, read_all(schedule(), SR * 60, 4096))       # a new schedule too


def test_snapshots_and_seeking():
    bed = schedule()
    whole = read_all(bed.restarted(), SR * 60 + 5000)
    reader = bed.restarted()
    read_all(reader, SR * 21, 7000)                                  # inside the first fade
    twin = reader.snapshot()
    assert np.array_equal(reader.read(SR * 5), twin.read(SR * 5))
    seeker = BedSeeker(bed, SR, every=10.0)
    for frame in (SR * 55, SR * 21 + 17, SR * 49):                    # later, earlier, in a fade
        assert np.array_equal(seeker.at(frame).read(5000), whole[frame:frame + 5000])


def test_a_bad_name_fails_when_opened():
    with pytest.raises(ValueError, match="unknown ambient bed"):
        schedule(changes=((10.0, "thunder"),))


# -- in the mix ---------------------------------------------------------------------------------

def test_the_mix_plays_the_schedule_under_its_own_bed_gain():
    voice = SyntheticVoice()
    steps = (Say("Hello there, settle in.", 1), Hold(12.0, 2), Say("Now the rain.", 3), Hold(12.0, 4))
    timeline = plan(routine(("One", steps[:2]), ("Two", steps[2:])), timer=voice.timer)
    second = next(e.start for e in timeline.events if e.section == 1)
    options = MixOptions(sample_rate=SR, ambient="brown", chime="none",
                         ambient_changes=((second, "rain"),))
    assert isinstance(open_bed(options), ScheduledBed)
    assert not isinstance(open_bed(MixOptions(sample_rate=SR, ambient="brown")), ScheduledBed)
    m = mix(timeline, SyntheticVoice(level=0.0), options)
    out = collect(m.blocks(4096))
    expected = read_all(ScheduledBed.open("brown", ((second, "rain"),), SR, 2, 0), m.frames)
    expected *= m.bed_gain_curve(0, m.frames)[:, None]                 # ducking and fades on top
    assert np.allclose(out, expected, atol=1e-6)
    # and the rain is there in the second section (brighter than brown)
    def centroid(y):
        f, p = signal.welch(y[:, 0], SR, nperseg=2048)
        return (f * p).sum() / p.sum()
    a = round((second + FADE) * SR)
    assert centroid(out[a:a + 5 * SR]) > 4 * centroid(out[SR * 3:SR * 8])
