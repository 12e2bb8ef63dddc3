"""Per-day stacked bars as inline SVG, drawn on the server: no script, no library, works offline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from apps.console.html import e

COLOURS = ("#2f6fde", "#f0a43a", "#2bb673", "#c0392b", "#8e6cd8", "#17a2b8", "#e67eb0", "#7f8c8d")
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 1000, 280, 112, 34, 12


def stacked_days(days: Sequence[date], series: dict[str, dict[date, float]], unit: str) -> str:
    """One bar per day, one coloured segment per series key (at most len(COLOURS) keys; callers fold the
    rest into "other"). The y axis starts at zero; the top is the tallest day."""
    keys = list(series)
    tallest = max((sum(series[k].get(d, 0.0) for k in keys) for d in days), default=0.0) or 1.0
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    step = plot_w / max(len(days), 1)
    bar_w = max(step * 0.8, 1.0)
    parts: list[str] = []
    for tick in range(5):
        value = tallest * tick / 4
        y = TOP + plot_h - plot_h * tick / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eef1f5"/>'
                     f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{e(_short(value))}</text>')
    label_every = max(1, len(days) // 10)
    for i, day in enumerate(days):
        x = LEFT + i * step + (step - bar_w) / 2
        base = float(TOP + plot_h)
        for k_index, key in enumerate(keys):
            value = series[key].get(day, 0.0)
            if value <= 0:
                continue
            h = plot_h * value / tallest
            base -= h
            parts.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                         f'fill="{COLOURS[k_index % len(COLOURS)]}"><title>{e(day)} {e(key)}: '
                         f'{e(_short(value))} {e(unit)}</title></rect>')
        if i % label_every == 0:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle">'
                         f'{day.strftime("%m-%d")}</text>')
    legend = "".join(f'<span><i style="background:{COLOURS[i % len(COLOURS)]}"></i>{e(k)}</span>'
                     for i, k in enumerate(keys))
    return (f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" aria-label="{e(unit)} per day">'
            f'{"".join(parts)}</svg><div class="legend">{legend}</div>')


def day_range(since: date, until: date) -> list[date]:
    return [since + timedelta(days=i) for i in range((until - since).days + 1)]


def _short(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 1_000:
        return f"{value / 1_000:.1f}k"
    if 0 < value < 1:
        return f"{value:.6f}".rstrip("0")  # dollars: fractions of a cent, not exponents
    return f"{value:.4g}"
