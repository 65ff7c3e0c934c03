"""Small PNG charts for the mail: a theme's last periods as bars over its baseline band.

matplotlib with the Agg backend (no display), rendered at a fixed size and DPI so the image is
the same on every machine and stays small (a few KB each) in the message. Pure: a `Chart` in,
PNG bytes out.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
from PIL import Image  # noqa: E402  (matplotlib's own dependency)

from rca.report.content import Chart  # noqa: E402

#: Shown 560 x 190 CSS px (the HTML says so), drawn at 2x for sharp phone and retina screens;
#: fonts are large for the size because phones show the chart at about half width.
WIDTH_IN, HEIGHT_IN, DPI, SCALE = 5.6, 1.9, 100, 2
TICK_PT, LEGEND_PT = 10, 9
PALETTE_COLOURS = 64
BAR = "#9aa5b1"
BAR_NOW = "#c0392b"
BAND = "#d6eaf8"
EXPECTED = "#1f4e79"


def short_period(name: str) -> str:
    """'2026-W46' → 'W46'; a day '2026-11-20' → '11-20' (the year is in the subject)."""
    return name.split("-", 1)[1] if "-W" in name else name[5:]


def render_chart(chart: Chart, *, title: str = "") -> bytes:
    """Bars for the counts, the last one highlighted; the shaded band is the baseline's usual
    range and the dash the model's expectation for the last period."""
    fig, ax = plt.subplots(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    try:
        x = list(range(len(chart.counts)))
        colours = [BAR] * (len(x) - 1) + [BAR_NOW]
        ax.axhspan(chart.band_low, chart.band_high, color=BAND, zorder=0, label="usual range")
        ax.bar(x, chart.counts, color=colours, width=0.7, zorder=2)
        if x:
            ax.hlines(chart.expected, x[-1] - 0.45, x[-1] + 0.45, colors=EXPECTED,
                      linestyles="--", linewidth=1.5, zorder=3, label="expected")  # fmt: skip
            ax.annotate(str(chart.counts[-1]), (x[-1], chart.counts[-1]), ha="center",
                        va="bottom", fontsize=TICK_PT, color=BAR_NOW, xytext=(0, 1),
                        textcoords="offset points")  # fmt: skip
        labels = [short_period(p) for p in chart.periods]
        if chart.partial and labels:
            labels[-1] += "*"
        ax.set_xticks(x, labels, fontsize=TICK_PT)
        ax.tick_params(axis="y", labelsize=TICK_PT)
        ax.set_ylim(0, max([*chart.counts, chart.band_high, chart.expected, 1]) * 1.3)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.legend(loc="upper left", fontsize=LEGEND_PT, frameon=False, ncol=2)
        if title:
            ax.set_title(title, fontsize=LEGEND_PT, loc="right", color="#555555")
        fig.tight_layout(pad=0.3)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI * SCALE, metadata={"Software": None})
        return _palette(buffer.getvalue())
    finally:
        plt.close(fig)


def _palette(png: bytes) -> bytes:
    """The same picture with at most PALETTE_COLOURS colours: a third of the bytes in the mail,
    no visible change for flat bars and a band."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=PALETTE_COLOURS).save(out, format="PNG", optimize=True)
    return out.getvalue()
