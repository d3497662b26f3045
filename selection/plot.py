"""The quadrant scatter: difficulty (x) against influence (y), the selection highlighted.

A standalone SVG written by hand (no plotting library): threshold lines split the plane
into DIQ's quadrants, each labelled with its pool and selected counts; every point
carries a `<title>` (record id and scores) for hovering. Record ids are escaped.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.saxutils import escape

import pandas as pd

from selection.strategies import Thresholds, quadrants

WIDTH, HEIGHT = 760, 580
LEFT, RIGHT, TOP, BOTTOM = 90, 30, 60, 70
MAX_POINTS = 20_000
COLOURS = {"Q1": "#fde0dd", "Q2": "#e0ecf4", "Q3": "#fff7bc", "Q4": "#f0f0f0"}
SELECTED = "#c51b2a"
OTHER = "#8c8c8c"


def nice_ticks(low: float, high: float, count: int = 6) -> list[float]:
    """Round tick values covering [low, high] (1-2-5 steps)."""
    if not math.isfinite(low) or not math.isfinite(high) or high <= low:
        return [low]
    raw = (high - low) / max(1, count - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = start
    while value <= high + step * 1e-9:
        ticks.append(0.0 if abs(value) < step * 1e-9 else value)
        value += step
    return ticks


def _format(value: float) -> str:
    # six significant digits: IFD values crowd around 1, where four would print 1.00049 as "1"
    return f"{value:.6g}"


def tick_label(value: float, ticks: list[float]) -> str:
    """A tick value with as many decimals as the tick step needs (0.998, 1.000, 1.002)."""
    if len(ticks) < 2:
        return _format(value)
    step = abs(ticks[1] - ticks[0])
    if step >= 1e5 or step < 1e-4:
        return f"{value:.3g}"
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    if round(step * 10**decimals, 6) % 1:  # steps like 0.25 need one more digit
        decimals += 1
    return f"{value:.{decimals}f}"


def _jitter(record_id: str) -> float:
    """A deterministic offset in [-0.5, 0.5) from the id."""
    digest = hashlib.sha256(record_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "little") / 2**32 - 0.5


def _range(values: pd.Series) -> tuple[float, float]:
    low, high = float(values.min()), float(values.max())
    if high == low:
        low, high = low - 1, high + 1
    pad = (high - low) * 0.04
    return low - pad, high + pad


def quadrant_svg(
    scores: pd.DataFrame,
    selected: Iterable[str],
    split: Thresholds,
    *,
    title: str,
    difficulty_label: str = "difficulty",
    influence_label: str = "influence",
) -> str:
    """The SVG document for one selection."""
    chosen = set(selected)
    frame = scores[["id", "difficulty", "influence"]].copy()
    frame["quadrant"] = quadrants(scores, split)
    frame["selected"] = frame["id"].isin(chosen)
    levels = sorted(frame["difficulty"].unique())
    jittered = len(levels) <= 10 and len(frame) > len(levels)
    x_values = frame["difficulty"].astype(float)
    if jittered:
        gap = min((b - a for a, b in zip(levels, levels[1:], strict=False)), default=1.0)
        x_values = x_values + frame["id"].map(_jitter) * 0.6 * gap
    frame["x"] = x_values
    x_low, x_high = _range(frame["x"])
    y_low, y_high = _range(frame["influence"].astype(float))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(value: float) -> float:
        return LEFT + (value - x_low) / (x_high - x_low) * plot_w

    def sy(value: float) -> float:
        return TOP + (y_high - value) / (y_high - y_low) * plot_h

    tx = min(max(sx(split.difficulty), LEFT), LEFT + plot_w)
    ty = min(max(sy(split.influence), TOP), TOP + plot_h)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="Helvetica, Arial, sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        # quadrant backgrounds: Q1 top right, Q2 top left, Q3 bottom right, Q4 bottom left
        _rect(tx, TOP, LEFT + plot_w - tx, ty - TOP, COLOURS["Q1"]),
        _rect(LEFT, TOP, tx - LEFT, ty - TOP, COLOURS["Q2"]),
        _rect(tx, ty, LEFT + plot_w - tx, TOP + plot_h - ty, COLOURS["Q3"]),
        _rect(LEFT, ty, tx - LEFT, TOP + plot_h - ty, COLOURS["Q4"]),
    ]
    parts += _axes(x_low, x_high, y_low, y_high, sx, sy, plot_w, plot_h)
    parts.append(
        f'<line x1="{tx:.1f}" y1="{TOP}" x2="{tx:.1f}" y2="{TOP + plot_h}" stroke="#444" '
        'stroke-dasharray="5,4"/>'
    )
    parts.append(
        f'<line x1="{LEFT}" y1="{ty:.1f}" x2="{LEFT + plot_w}" y2="{ty:.1f}" stroke="#444" '
        'stroke-dasharray="5,4"/>'
    )
    drawn, omitted = _points_to_draw(frame)
    parts.append('<g fill-opacity="0.55">')
    parts += [_point(row, sx, sy) for row in drawn.itertuples() if not row.selected]
    parts.append("</g>")
    parts.append('<g fill-opacity="0.9">')
    parts += [_point(row, sx, sy) for row in drawn.itertuples() if row.selected]
    parts.append("</g>")
    parts += _quadrant_labels(frame, tx, ty, plot_w, plot_h)
    caption = (
        f"{len(chosen & set(frame['id']))} of {len(frame)} records selected (red). "
        f"Thresholds: influence {_format(split.influence)} ({split.influence_rule}), "
        f"difficulty {_format(split.difficulty)} ({split.difficulty_percentile:g}th pct)."
    )
    if jittered:
        caption += " Difficulty levels jittered for display."
    if omitted:
        caption += f" {omitted} unselected points not drawn."
    parts.append(
        f'<text x="{WIDTH / 2}" y="28" text-anchor="middle" font-size="16" '
        f'font-weight="bold">{escape(title)}</text>'
    )
    parts.append(f'<text x="{WIDTH / 2}" y="46" text-anchor="middle">{escape(caption)}</text>')
    parts.append(
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 18}" text-anchor="middle">'
        f"{escape(difficulty_label)}</text>"
    )
    parts.append(
        f'<text x="22" y="{TOP + plot_h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 22 {TOP + plot_h / 2})">{escape(influence_label)}</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _rect(x: float, y: float, w: float, h: float, fill: str) -> str:
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" fill="{fill}"/>'


def _axes(
    x_low: float,
    x_high: float,
    y_low: float,
    y_high: float,
    sx: Callable[[float], float],
    sy: Callable[[float], float],
    plot_w: float,
    plot_h: float,
) -> list[str]:
    parts = [
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>'
    ]
    x_ticks = nice_ticks(x_low, x_high)
    for tick in x_ticks:
        x = sx(tick)
        parts.append(
            f'<line x1="{x:.1f}" y1="{TOP + plot_h}" x2="{x:.1f}" y2="{TOP + plot_h + 5}" stroke="#333"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">'
            f"{tick_label(tick, x_ticks)}</text>"
        )
    y_ticks = nice_ticks(y_low, y_high)
    for tick in y_ticks:
        y = sy(tick)
        parts.append(f'<line x1="{LEFT - 5}" y1="{y:.1f}" x2="{LEFT}" y2="{y:.1f}" stroke="#333"/>')
        parts.append(
            f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">'
            f"{tick_label(tick, y_ticks)}</text>"
        )
    return parts


def _points_to_draw(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """All selected points, and unselected ones thinned (by id order) to MAX_POINTS in total."""
    if len(frame) <= MAX_POINTS:
        return frame, 0
    chosen = frame[frame["selected"]]
    rest = frame[~frame["selected"]].sort_values("id")
    keep = max(0, MAX_POINTS - len(chosen))
    step = max(1, math.ceil(len(rest) / max(1, keep)))
    thinned = rest.iloc[::step]
    return pd.concat([thinned, chosen]), len(rest) - len(thinned)


def _point(row: Any, sx: Callable[[float], float], sy: Callable[[float], float]) -> str:
    x, y, selected = sx(row.x), sy(row.influence), row.selected
    label = escape(
        f"{row.id} ({row.quadrant}): difficulty {_format(row.difficulty)}, "
        f"influence {_format(row.influence)}"
    )
    return (
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{3.4 if selected else 2.4}" '
        f'fill="{SELECTED if selected else OTHER}"><title>{label}</title></circle>'
    )


def _quadrant_labels(
    frame: pd.DataFrame, tx: float, ty: float, plot_w: float, plot_h: float
) -> list[str]:
    names = {
        "Q1": "Q1 high D, high I",
        "Q2": "Q2 low D, high I",
        "Q3": "Q3 high D, low I",
        "Q4": "Q4 low D, low I",
    }
    anchors = {
        "Q1": (LEFT + plot_w - 6, TOP + 16, "end"),
        "Q2": (LEFT + 6, TOP + 16, "start"),
        "Q3": (LEFT + plot_w - 6, TOP + plot_h - 8, "end"),
        "Q4": (LEFT + 6, TOP + plot_h - 8, "start"),
    }
    parts = []
    for quadrant, (x, y, anchor) in anchors.items():
        members = frame[frame["quadrant"] == quadrant]
        text = f"{names[quadrant]}: {len(members)} ({int(members['selected'].sum())} selected)"
        parts.append(
            f'<text x="{x}" y="{y}" text-anchor="{anchor}" font-weight="bold" fill="#333">'
            f"{escape(text)}</text>"
        )
    return parts
