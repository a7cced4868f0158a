"""A picture of a session: sections as bands, events as coloured bars on one time axis, and the
rendered waveform's envelope above them when there is audio. People would rather look than read.

matplotlib is an optional extra (`pip install voiceguide[plot]`); it is imported only here.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import VoiceguideError
from .timeline import Timeline

KIND_COLOURS = {
    "say": "#3b6ea8",
    "hold": "#e0913a",
    "wait": "#c9a227",
    "breathe": "#5aa469",
    "chime": "#b5527d",
    "pause": "#d9d9d9",
}
KIND_ROWS = ("say", "breathe", "hold", "wait", "pause", "chime")


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise VoiceguideError("drawing a picture needs matplotlib: pip install 'voiceguide[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def draw_timeline(timeline: Timeline, path: Path, envelope: np.ndarray | None = None,
                  envelope_rate: float = 10.0) -> None:
    """Write a PNG of `timeline` to `path`. `envelope` is a peak level (0..1) per 1/envelope_rate
    seconds of the rendered audio, drawn above the events when given."""
    plt = _pyplot()
    minutes = timeline.total / 60.0
    rows = 2 if envelope is not None else 1
    fig, axes = plt.subplots(rows, 1, figsize=(12, 2.2 + 1.3 * rows), sharex=True,
                             gridspec_kw={"height_ratios": [1, 2][-rows:]}, squeeze=False)
    ax = axes[-1][0]
    for index, span in enumerate(timeline.sections):
        shade = "#f4f1ea" if index % 2 == 0 else "#ffffff"
        ax.axvspan(span.start / 60, (span.start + span.duration) / 60, color=shade, zorder=0)
        # Titles alternate between two lines and are cut to their band's width, so they never overlap.
        fits = int(2 * 165 * span.duration / max(timeline.total, 1e-9))
        title = span.title if len(span.title) <= fits else span.title[: max(fits - 1, 0)] + "…"
        if fits >= 4:
            ax.text((span.start + span.duration / 2) / 60, len(KIND_ROWS) - 0.4 + 0.4 * (index % 2),
                    title, ha="center", va="bottom", fontsize=7, clip_on=True)
    for event in timeline.events:
        row = len(KIND_ROWS) - 1 - KIND_ROWS.index(event.kind)
        ax.broken_barh([(event.start / 60, max(event.duration, 0.2) / 60)], (row - 0.35, 0.7),
                       color=KIND_COLOURS[event.kind], zorder=2)
    ax.set_yticks(range(len(KIND_ROWS)), list(reversed(KIND_ROWS)))
    ax.set_ylim(-0.6, len(KIND_ROWS) + 0.5)
    ax.set_xlim(0, minutes)
    ax.set_xlabel("minutes")
    if envelope is not None:
        top = axes[0][0]
        t = np.arange(len(envelope)) / envelope_rate / 60.0
        top.fill_between(t, -envelope, envelope, color="#3b6ea8", linewidth=0)
        top.set_ylim(-1, 1)
        top.set_yticks([])
        top.set_ylabel("audio")
    axes[0][0].set_title(f"{timeline.title}: {minutes:.1f} min at speed {timeline.speed:g}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")   # whatever the name ends with (temp files)
    plt.close(fig)
