"""The four chime kinds (bowl, bell, wood, gong), measured: each sounds as described, they
differ from each other, and each is placed at its level relative to the voice in a mix."""
import itertools

import numpy as np
import pytest
from scipy import signal

from voiceguide.script.model import Chime, Hold, Pause, Say
from voiceguide.sound import chimes
from voiceguide.sound.blocks import collect
from voiceguide.sound.loudness import clip_loudness
from voiceguide.sound.mix import mix
from voiceguide.timeline import plan
from support.synthetic import SyntheticVoice

from .helpers import frames, routine

SR = 44100
KINDS = ("bowl", "bell", "wood", "gong")
ROLES = ("strike", "soft", "start", "end")


@pytest.fixture(scope="module")
def sets():
    return {kind: chimes.chime_set(kind, SR) for kind in KINDS}


def strike(sets, kind):
    return sets[kind].strike.samples.astype(np.float64)


def levels_db(x, window):
    n = len(x) // window
    return 10 * np.log10(np.mean(x[:n * window].reshape(n, window) ** 2, axis=1) + 1e-20)


def spectrum(x):
    return signal.welch(x, SR, nperseg=16384)


def centroid(x):
    f, p = spectrum(x)
    return float((f * p).sum() / p.sum())


def dominant(x):
    f, p = spectrum(x)
    return float(f[np.argmax(p)])


def share_below(x, hz):
    f, p = spectrum(x)
    return float(p[f < hz].sum() / p.sum())


def decay_seconds(x, drop=40.0):
    """From the loudest 10 ms to the first 10 ms `drop` dB below it."""
    lev = levels_db(x, SR // 100)
    k = int(np.argmax(lev))
    below = np.flatnonzero(lev[k:] < lev[k] - drop)
    return (below[0] if len(below) else len(lev) - k) / 100


def rise_seconds(x):
    """When the loudest 10 ms comes."""
    return int(np.argmax(levels_db(x, SR // 100))) / 100


def shimmer_db(x, t0, t1):
    """How much the level wavers (50 ms windows) around its smooth decay between t0 and t1."""
    lev = levels_db(x, SR // 20)[int(t0 * 20):int(t1 * 20)]
    t = np.arange(len(lev))
    return float((lev - np.polyval(np.polyfit(t, lev, 2), t)).std())


def onsets(x):
    """Strikes: 50 ms levels 5 dB over the level 100 ms before (a run of them counts once;
    a swell or a shimmer rises more slowly than that)."""
    lev = levels_db(np.r_[np.zeros(SR // 10), x], SR // 20)
    rising = lev[2:] - lev[:-2] > 5
    return int(np.sum(rising[1:] & ~rising[:-1]) + rising[0])


# -- each kind -------------------------------------------------------------------------------

def test_brightness_gong_then_bowl_then_bell(sets):
    c = {k: centroid(strike(sets, k)) for k in KINDS}
    assert c["gong"] < c["bowl"] < c["bell"]
    assert c["bowl"] > 2 * c["gong"] and c["bell"] > 2 * c["bowl"]


def test_decay_wood_shortest_gong_longest(sets):
    d = {k: decay_seconds(strike(sets, k)) for k in KINDS}
    assert d["wood"] == min(d.values()) and d["gong"] == max(d.values())
    assert d["wood"] < 0.3 and d["gong"] > 4.0


def test_the_bell_is_a_small_bell_higher_brighter_shorter_than_the_bowl(sets):
    bowl, bell = strike(sets, "bowl"), strike(sets, "bell")
    assert dominant(bell) > 2 * dominant(bowl)
    assert centroid(bell) > 2 * centroid(bowl)
    assert decay_seconds(bell) < 0.6 * decay_seconds(bowl)
    assert share_below(bell, 2000) < 0.8 < share_below(bowl, 2000)       # real sparkle up top


def test_the_bowl_is_the_original_sound(sets):
    s = sets["bowl"]
    assert np.array_equal(s.strike.samples, chimes.strike(523.25, chimes.BELL_PARTIALS, SR, attack=0.003, seconds=4.0))
    assert np.array_equal(s.soft.samples, chimes.soft(SR)) and s.soft.name == "soft"
    assert (s.strike.name, s.start.name, s.end.name) == ("bowl", "start", "end")
    assert dominant(strike(sets, "bowl")) == pytest.approx(523.25, rel=0.01)


def test_wood_is_short_hollow_and_low(sets):
    x = strike(sets, "wood")
    assert share_below(x, 2000) > 0.95                     # mostly below 2 kHz
    assert decay_seconds(x) < 0.3 and len(x) <= 0.5 * SR   # a knock, gone at once
    f, p = spectrum(x)
    peak = dominant(x)
    assert 400 < peak < 1000                                # hollow: one clear resonance...
    assert p[np.abs(f - peak) < 60].sum() > 0.5 * p.sum()   # ...holding most of the energy


def test_gong_is_low_swells_slowly_and_shimmers(sets):
    gong, bowl = strike(sets, "gong"), strike(sets, "bowl")
    assert dominant(gong) < 120                             # a low fundamental
    assert share_below(gong, 300) > 0.7
    assert rise_seconds(gong) > 0.2 > 0.03 > rise_seconds(bowl)   # it swells after the strike
    assert shimmer_db(gong, 1.0, 6.0) > 1.0                 # the doublets beat for seconds
    assert decay_seconds(gong) > 1.5 * decay_seconds(bowl)


@pytest.mark.parametrize("a,b", list(itertools.combinations(KINDS, 2)))
def test_all_kinds_differ(sets, a, b):
    x, y = strike(sets, a), strike(sets, b)
    brightness = abs(np.log2(centroid(x) / centroid(y)))
    length = abs(np.log2(decay_seconds(x) / decay_seconds(y)))
    assert brightness > 0.5 or length > 1.0, (a, b, brightness, length)
    f, px = spectrum(x)
    _, py = spectrum(y)
    bands = [(lo, 2 * lo) for lo in 2.0 ** np.arange(5, 14)]     # octaves from 32 Hz
    db = lambda p: np.array([10 * np.log10(p[(f >= lo) & (f < hi)].sum() / p.sum() + 1e-12) for lo, hi in bands])
    assert np.sqrt(np.mean((db(px) - db(py)) ** 2)) > 6                  # different spectra


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", ROLES)
def test_every_role_is_clean(sets, kind, role):
    sound = getattr(sets[kind], role)
    x = sound.samples
    assert x.dtype == np.float32 and sound.sample_rate == SR
    assert np.abs(x).max() == pytest.approx(1.0, abs=1e-6)
    assert abs(x[0]) < 1e-3 and abs(x[-1]) < 1e-3                    # starts and ends at zero
    assert np.abs(x[:SR // 1000]).max() < 0.5                        # no click: the attack takes time
    assert abs(float(x.mean())) < 2e-3                                # no DC
    names = {getattr(sets[kind], r).name for r in ROLES}
    assert len(names) == 4                                            # each role its own sound


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_has_a_softer_shorter_hold_chime_and_bells_that_open_and_close(sets, kind):
    s = sets[kind]
    assert len(s.soft.samples) < len(s.strike.samples)
    assert onsets(s.start.samples) < onsets(s.end.samples)            # the closing bell rings again
    assert onsets(s.strike.samples) == 1


def test_names_old_and_new():
    assert chimes.chime_set("Bell", SR).strike.name == "bell"              # "bell" is the small bell now
    assert chimes.chime_set(" gong ", SR).soft.name == "gong-soft"
    assert set(chimes.KINDS) == {"bowl", "bell", "wood", "gong"} <= set(chimes.SYNTHS)
    assert chimes.load("soft", SR).name == "soft"                          # the bowl's roles by name
    from voiceguide.settings import CHIMES
    assert tuple(chimes.KINDS) == tuple(CHIMES)


# -- in a mix ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_sits_at_its_level_under_the_voice(kind):
    voice = SyntheticVoice()
    steps = (Say("Listen to the chime now.", 1), Pause(1.5, 2, fixed=True), Chime(3), Pause(12.0, 4, fixed=True),
             Say("And rest.", 5), Hold(3.0, 6), Pause(4.0, 7, fixed=True))
    timeline = plan(routine(("Chimes", steps)), timer=voice.timer)
    m = mix(timeline, voice, sample_rate=SR, channels=1, ambient="none", chime=kind,
            start_bell=True, end_bell=True)
    x = collect(m.blocks())[:, 0]
    say = next(e for e in timeline.events if e.kind == "say")
    voice_lufs = clip_loudness(x[frames(say.start, SR):frames(say.end, SR)], SR)
    c = m.chimes
    chime = next(e for e in timeline.events if e.kind == "chime" and isinstance(e.step, Chime))
    held = next(e for e in timeline.events if e.kind == "chime" and isinstance(e.step, Hold))
    for start, sound, lu in ((chime.start, c.strike, c.strike_lu), (held.start, c.soft, c.soft_lu),
                             (m.speech_end, c.end, c.start_end_lu)):
        a = frames(start, SR)
        n = min(len(sound.samples), SR)                                    # its first second
        measured = clip_loudness(x[a:a + n], SR) - voice_lufs
        assert measured == pytest.approx(lu, abs=0.5), (kind, start, lu, measured)
