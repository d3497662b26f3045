"""Inline SVG charts: forest plots, interval bars, scatter plots. No JavaScript, no fonts.

Charts are drawn on the server so the report prints, reads without JavaScript and
diffs as text. Every label passes through `markupsafe.escape`; numbers are formatted
here, so nothing untrusted reaches the markup unescaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# Okabe-Ito (colour-blind safe), then three extra distinguishable colours.
PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7",
    "#56B4E9", "#999999", "#000000", "#882255", "#44AA99",
)  # fmt: skip
ROW = 22
# Column widths of an interval chart: labels, plot, notes.
WIDE = (250, 380, 270)
COMPACT = (150, 260, 210)


def colour(index: int) -> str:
    """The colour of the model at `index` (cycling after ten models)."""
    return PALETTE[index % len(PALETTE)]


@dataclass(frozen=True)
class IntervalRow:
    """One row of a forest or interval chart."""

    label: str
    estimate: float
    low: float
    high: float
    colour: str = PALETTE[0]
    note: str = ""  # text to the right of the plot
    band: float = math.nan  # +-band drawn around zero (the MDE)
    filled: bool = True  # filled point (significant) or hollow


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick positions covering [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low] if math.isfinite(low) else []
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    # the first round step that is not much smaller than an even split of the range
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= 0.75 * raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= high + 1e-9 * step:
        ticks.append(0.0 if abs(value) < step * 1e-9 else round(value, 12))
        value += step
    return ticks


def interval_chart(
    rows: Sequence[IntervalRow],
    *,
    domain: tuple[float, float] | None = None,
    formatter: Callable[[float], str] = lambda v: f"{v:.2f}",
    zero_line: bool = True,
    bars: bool = False,
    title: str = "",
    widths: tuple[int, int, int] = WIDE,
) -> Markup:
    """Rows of point estimates with interval whiskers on one shared horizontal axis.

    With `bars`, each estimate is also drawn as a bar from the domain's origin (per-
    benchmark charts); otherwise it is a forest plot, with an optional grey band of
    +-`band` around zero (the minimum detectable effect).
    """
    finite = [
        v for r in rows for v in (r.low, r.high, r.estimate, r.band, -r.band) if math.isfinite(v)
    ]
    if domain is None:
        low, high = (min(finite), max(finite)) if finite else (-1.0, 1.0)
        if zero_line:
            low, high = min(low, 0.0), max(high, 0.0)
        pad = (high - low) * 0.05 or 1.0
        domain = (low - pad, high + pad)
    low, high = domain
    label_width, plot_width, text_width = widths
    width = label_width + plot_width + text_width
    top = 24 if title else 8
    height = top + ROW * len(rows) + 30

    def x(value: float) -> float:
        clipped = min(max(value, low), high)
        return label_width + (clipped - low) / (high - low) * plot_width

    parts = [
        f'<svg class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title or "interval chart")}">'
    ]
    if title:
        parts.append(f'<text x="4" y="16" class="title">{escape(title)}</text>')
    for tick in nice_ticks(low, high):
        tx = x(tick)
        parts.append(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{top}" y2="{height - 26}" class="grid"/>'
        )
        parts.append(
            f'<text x="{tx:.1f}" y="{height - 12}" class="tick">{escape(formatter(tick))}</text>'
        )
    if zero_line and low < 0 < high:
        parts.append(
            f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{top}" y2="{height - 26}" class="zero"/>'
        )
    origin = x(max(low, 0.0)) if low < 0 < high or low >= 0 else x(low)
    for index, row in enumerate(rows):
        cy = top + ROW * index + ROW / 2
        parts.append(
            f'<text x="{label_width - 8}" y="{cy + 4:.1f}" class="label"><title>{escape(row.label)}</title>{escape(_clip(row.label, label_width // 7))}</text>'
        )
        if math.isfinite(row.band) and row.band > 0:
            parts.append(
                f'<rect x="{x(-row.band):.1f}" y="{cy - 7:.1f}" width="{x(row.band) - x(-row.band):.1f}" '
                'height="14" class="band"/>'
            )
        if bars and math.isfinite(row.estimate):
            left, right = sorted((origin, x(row.estimate)))
            parts.append(
                f'<rect x="{left:.1f}" y="{cy - 6:.1f}" width="{right - left:.1f}" height="12" '
                f'fill="{row.colour}" fill-opacity="0.35"/>'
            )
        if math.isfinite(row.low) and math.isfinite(row.high):
            parts.append(
                f'<line x1="{x(row.low):.1f}" x2="{x(row.high):.1f}" y1="{cy:.1f}" y2="{cy:.1f}" '
                f'stroke="{row.colour}" class="whisker"/>'
            )
            for end in (row.low, row.high):
                parts.append(
                    f'<line x1="{x(end):.1f}" x2="{x(end):.1f}" y1="{cy - 4:.1f}" y2="{cy + 4:.1f}" '
                    f'stroke="{row.colour}" class="whisker"/>'
                )
        if math.isfinite(row.estimate):
            fill = row.colour if row.filled else "#fff"
            parts.append(
                f'<circle cx="{x(row.estimate):.1f}" cy="{cy:.1f}" r="4.5" fill="{fill}" stroke="{row.colour}" '
                'stroke-width="1.5"/>'
            )
        parts.append(
            f'<text x="{label_width + plot_width + 10}" y="{cy + 4:.1f}" class="note">{escape(row.note)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class Point:
    """One point of a scatter plot."""

    x: float
    y: float
    highlighted: bool = False


def scatter(
    points: Sequence[Point],
    *,
    x_label: str,
    y_label: str,
    title: str,
    colour_on: str = PALETTE[3],
    x_line: float = math.nan,
    y_line: float = math.nan,
    size: int = 300,
) -> Markup:
    """A scatter plot with highlighted points drawn on top, and optional dashed guide lines."""
    finite = [p for p in points if math.isfinite(p.x) and math.isfinite(p.y)]
    margin_left, margin_bottom, margin_top = 48, 36, 22
    width = size + margin_left + 10
    height = size + margin_bottom + margin_top
    if not finite:
        return Markup(
            f'<svg class="chart" width="{width}" height="40">'
            f'<text x="4" y="20" class="title">{escape(title)}: no finite points</text></svg>'
        )
    x_low, x_high = _padded(min(p.x for p in finite), max(p.x for p in finite))
    y_low, y_high = _padded(min(p.y for p in finite), max(p.y for p in finite))

    def sx(value: float) -> float:
        return margin_left + (value - x_low) / (x_high - x_low) * size

    def sy(value: float) -> float:
        return margin_top + size - (value - y_low) / (y_high - y_low) * size

    parts = [
        f'<svg class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="4" y="14" class="title">{escape(title)}</text>',
        f'<rect x="{margin_left}" y="{margin_top}" width="{size}" height="{size}" class="frame"/>',
    ]
    for tick in nice_ticks(x_low, x_high, 4):
        parts.append(
            f'<text x="{sx(tick):.1f}" y="{margin_top + size + 14}" class="tick">{tick:g}</text>'
        )
    for tick in nice_ticks(y_low, y_high, 4):
        parts.append(
            f'<text x="{margin_left - 4}" y="{sy(tick) + 4:.1f}" class="label">{tick:g}</text>'
        )
    parts.append(
        f'<text x="{margin_left + size / 2:.1f}" y="{height - 4}" class="tick">{escape(x_label)}</text>'
        f'<text x="12" y="{margin_top + size / 2:.1f}" class="tick" '
        f'transform="rotate(-90 12 {margin_top + size / 2:.1f})">{escape(y_label)}</text>'
    )
    if math.isfinite(x_line):
        parts.append(
            f'<line x1="{sx(x_line):.1f}" x2="{sx(x_line):.1f}" y1="{margin_top}" y2="{margin_top + size}" class="guide"/>'
        )
    if math.isfinite(y_line):
        parts.append(
            f'<line x1="{margin_left}" x2="{margin_left + size}" y1="{sy(y_line):.1f}" y2="{sy(y_line):.1f}" class="guide"/>'
        )
    for highlighted in (False, True):
        fill = colour_on if highlighted else "#b8b8b8"
        radius = 2.4 if highlighted else 1.8
        parts.extend(
            f'<circle cx="{sx(p.x):.1f}" cy="{sy(p.y):.1f}" r="{radius}" fill="{fill}"/>'
            for p in finite
            if p.highlighted is highlighted
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _padded(low: float, high: float) -> tuple[float, float]:
    pad = (high - low) * 0.04 or max(abs(low) * 0.1, 1.0)
    return low - pad, high + pad


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
