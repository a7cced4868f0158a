"""The voice at the hand being worked on: a mono clip placed a little to one side.

Why a head model and not a pan: a pan only makes one channel quieter, which on headphones
sounds like a broken earphone rather than like someone sitting to your left. What a head
does to a sound from one side is (1) it reaches the far ear later, by up to about 0.6 ms
(the interaural time difference, ITD), and (2) the head shadows the far ear from the
highs while the near ear gets a little more of them; low frequencies bend round the head,
so their level hardly differs (the interaural level difference, ILD, grows with frequency).

The model here is the cheapest that does both: the far ear is delayed (a whole number of
frames plus a 4-tap Lagrange fractional delay, whose slight treble loss hides inside the
shadow) and both ears go through a second-order high shelf (RBJ cookbook biquad), cut on
the far side and boosted on the near side, flat below a few hundred Hz. `amount` (the
`spatial` setting, 0 to 1) scales the delay and both shelves' dB together. On speakers the
delay is the kind of time difference a spaced pair of microphones records, and the level
differences stay a few dB, so the voice is just off centre there rather than hard panned.

`spatialize` is a pure function of its inputs; the mixer applies it once per placed clip.
"""
from __future__ import annotations

import math

import numpy as np

from .lazy import signal

ITD = 0.56e-3           # s: the far ear's delay at amount 1 (with the shelves' phase, 0.6 ms in all)
SHELF_HZ = 1800.0       # the shelves' midpoint: the head shadows frequencies above it
NEAR_DB = 2.5           # treble boost at the near ear, at amount 1
FAR_DB = -6.0           # treble cut at the far ear (head shadow), at amount 1
SIDES = ("left", "right")


def high_shelf(gain_db: float, f0: float, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(b, a) of a high shelf with slope 1 (Audio EQ Cookbook): 0 dB at DC, `gain_db`
    well above `f0`, half of it at `f0`."""
    a_ = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * math.pi * min(f0, 0.45 * sample_rate) / sample_rate
    cos, alpha = math.cos(w0), math.sin(w0) / 2.0 * math.sqrt(2.0)
    root = 2.0 * math.sqrt(a_) * alpha
    b = np.array([a_ * ((a_ + 1) + (a_ - 1) * cos + root),
                  -2.0 * a_ * ((a_ - 1) + (a_ + 1) * cos),
                  a_ * ((a_ + 1) + (a_ - 1) * cos - root)])
    a = np.array([(a_ + 1) - (a_ - 1) * cos + root,
                  2.0 * ((a_ - 1) - (a_ + 1) * cos),
                  (a_ + 1) - (a_ - 1) * cos - root])
    return b / a[0], a / a[0]


def fractional_delay(delay: float) -> tuple[int, np.ndarray]:
    """A delay of `delay` frames as (whole frames, 4 Lagrange taps). The taps are centred
    (their own delay between 1 and 2 frames) where that is possible, where Lagrange
    interpolation is most accurate."""
    whole = max(0, int(math.floor(delay)) - 1)
    d = delay - whole
    k = np.arange(4)
    taps = np.array([np.prod([(d - m) / (j - m) for m in k if m != j]) for j in k])
    return whole, taps


def spatialize(clip: np.ndarray, side: str, amount: float, sample_rate: int) -> np.ndarray:
    """A mono clip -> float32 (frames, 2), the voice `amount` (0..1) towards `side`. The
    near ear starts on the clip's first frame; the far ear's delay makes the result a few
    frames longer than the clip."""
    if side not in SIDES:
        raise ValueError(f"side must be left or right, not {side!r}")
    amount = min(max(float(amount), 0.0), 1.0)
    x = np.asarray(clip, np.float32)
    whole, taps = fractional_delay(amount * ITD * sample_rate)
    tail = whole + len(taps)
    out = np.zeros((len(x) + tail, 2), np.float32)
    near, far = (0, 1) if side == "left" else (1, 0)
    # float32 second-order sections: the shelves are gentle, and it halves the cost
    out[:len(x), near] = signal.sosfilt(_sos(amount * NEAR_DB, sample_rate), x)
    delayed = np.convolve(x, taps.astype(np.float32))             # len(x) + 3 frames
    out[whole:whole + len(delayed), far] = signal.sosfilt(_sos(amount * FAR_DB, sample_rate), delayed)
    return out


def _sos(gain_db: float, sample_rate: int) -> np.ndarray:
    b, a = high_shelf(gain_db, SHELF_HZ, sample_rate)
    return np.concatenate([b, a])[None, :].astype(np.float32)
