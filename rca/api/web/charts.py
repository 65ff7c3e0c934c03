"""Charts as inline SVG, drawn on the server: no JavaScript, no assets, readable by screen
readers (`role="img"`, a title and a description, a `<title>` tooltip on every point).

A theme's series is drawn with its usual range (mean ± 2 SD of the previous periods, at least
Poisson) and the periods the spike detector flagged marked in red.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

BAND_PERIODS = 8


def usual_range(values: Sequence[float], i: int) -> tuple[float, float] | None:
    """Mean ± 2 SD of up to BAND_PERIODS values before `i` (SD at least sqrt(mean))."""
    before = list(values[max(0, i - BAND_PERIODS) : i])
    if len(before) < 3:
        return None
    mean = sum(before) / len(before)
    sd = math.sqrt(sum((v - mean) ** 2 for v in before) / (len(before) - 1))
    sd = max(sd, math.sqrt(mean))
    return max(0.0, mean - 2 * sd), mean + 2 * sd


def series_svg(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    flagged: Sequence[bool] | None = None,
    title: str,
    marks: Sequence[tuple[float, str]] = (),
    width: int = 640,
    height: int = 220,
    ident: str = "chart",
    fmt: str = ".0f",
    band: bool = True,
) -> str:
    """`ident` prefixes the title's and description's ids (several charts on one page); `fmt`
    formats the values (".0f" counts and seconds, ".2f" rates); `band` draws the usual range,
    whose Poisson floor fits counts only (a rate of 0.1 would get a band of ±0.6)."""
    n = len(values)
    if n == 0:
        return ""
    flagged = list(flagged or [False] * n)
    described = _describe(labels, values, flagged, fmt) + "".join(
        f" Marked: {text}." for _at, text in marks
    )
    bands = [usual_range(values, i) if band else None for i in range(n)]
    top = max([*values, *(b[1] for b in bands if b)], default=1.0) or 1.0
    left, right, upper, lower = 44, 12, 14, 34
    plot_w, plot_h = width - left - right, height - upper - lower

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return upper + plot_h * (1 - v / top)

    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc"'
        ' class="chart" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(described)}</desc>',
        f'<line x1="{left}" y1="{y(0):.1f}" x2="{width - right}" y2="{y(0):.1f}" class="axis"/>',
        f'<text x="{left - 6}" y="{y(top) + 4:.1f}" class="tick" text-anchor="end">'
        f"{top:{fmt}}</text>",
        f'<text x="{left - 6}" y="{y(0) + 4:.1f}" class="tick" text-anchor="end">0</text>',
    ]
    banded = [(i, b) for i, b in enumerate(bands) if b]
    if len(banded) >= 2:
        upper_edge = " ".join(f"{x(i):.1f},{y(b[1]):.1f}" for i, b in banded)
        lower_edge = " ".join(f"{x(i):.1f},{y(b[0]):.1f}" for i, b in reversed(banded))
        parts.append(f'<polygon points="{upper_edge} {lower_edge}" class="band"/>')
    for at, text in marks:  # an SOP change: a dashed line where it took effect
        parts.append(
            f'<line x1="{x(at):.1f}" y1="{upper}" x2="{x(at):.1f}" y2="{y(0):.1f}" '
            f'class="mark"><title>{escape(text)}</title></line>'
            f'<text x="{x(at) + 3:.1f}" y="{upper + 10}" class="tick">{escape(text[:24])}</text>'
        )
    line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
    parts.append(f'<polyline points="{line}" class="line"/>')
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        cls = "point spike" if flagged[i] else "point"
        note = " — spike" if flagged[i] else ""
        parts.append(
            f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="{5 if flagged[i] else 3}" '
            f'class="{cls}"><title>{escape(label)}: {value:{fmt}}{note}</title></circle>'
        )
    for i in sorted({0, n - 1}):
        anchor = "end" if i == n - 1 and n > 1 else "start"  # never clipped at the edges
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - 10}" class="tick" text-anchor="{anchor}">'
            f"{escape(labels[i])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _describe(
    labels: Sequence[str], values: Sequence[float], flagged: Sequence[bool], fmt: str = ".0f"
) -> str:
    spikes = [label for label, f in zip(labels, flagged, strict=True) if f]
    text = ", ".join(f"{label}: {v:{fmt}}" for label, v in zip(labels, values, strict=True))
    return text + (f". Spikes in {', '.join(spikes)}." if spikes else ".")


def ratio_svg(
    labels: Sequence[str],
    ratios: Sequence[float | None],
    lows: Sequence[float | None],
    highs: Sequence[float | None],
    *,
    flagged: Sequence[str] | None = None,
    title: str,
    width: int = 640,
) -> str:
    """Observed / expected per handler with its interval (a forest plot), the line at 1 being
    "as its mix predicts"; high flags red, low flags green. Rows without a ratio are skipped."""
    rows = [
        (label, r, lo if lo is not None else r, hi if hi is not None else r, f)
        for label, r, lo, hi, f in zip(
            labels, ratios, lows, highs, flagged or [""] * len(labels), strict=True
        )
        if r is not None and math.isfinite(r)
    ]
    if not rows:
        return ""
    step, upper, lower, left, right = 22, 10, 30, 170, 16
    height = upper + lower + step * len(rows)
    top = max(2.0, *(hi for *_, hi, _ in rows if math.isfinite(hi)))
    top = min(top, 5.0)  # a handful of contacts' 40x interval would flatten every other row
    plot_w = width - left - right

    def x(v: float) -> float:
        return left + plot_w * min(max(v, 0.0), top) / top

    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-labelledby="oe-title oe-desc"'
        ' class="chart" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="oe-title">{escape(title)}</title>',
        '<desc id="oe-desc">'
        + escape(
            "; ".join(
                f"{label}: {r:.2f} ({lo:.2f}-{hi:.2f}){' ' + f if f else ''}"
                for label, r, lo, hi, f in rows
            )  # fmt: skip
        )
        + "</desc>",
        f'<line x1="{x(1):.1f}" y1="{upper}" x2="{x(1):.1f}" y2="{height - lower}" class="axis"/>',
    ]
    for tick in (0.0, 1.0, top):
        parts.append(
            f'<text x="{x(tick):.1f}" y="{height - 10}" class="tick" text-anchor="middle">'
            f"{tick:.1f}</text>"
        )
    for i, (label, r, lo, hi, f) in enumerate(rows):
        cy = upper + step * i + step / 2
        cls = "point spike" if f == "high" else ("point good" if f == "low" else "point")
        parts.append(
            f'<text x="{left - 8}" y="{cy + 4:.1f}" class="tick" text-anchor="end">'
            f"{escape(str(label))[:24]}</text>"
            f'<line x1="{x(lo):.1f}" y1="{cy:.1f}" x2="{x(hi):.1f}" y2="{cy:.1f}" class="line"/>'
            f'<circle cx="{x(r):.1f}" cy="{cy:.1f}" r="4" class="{cls}"><title>'
            f"{escape(str(label))}: {r:.2f} (95% {lo:.2f}-{hi:.2f}){' ' + f if f else ''}"
            "</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)
