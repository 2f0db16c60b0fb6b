"""SVG charts drawn on the server: no JavaScript library, nothing fetched by the browser.

Each chart is an `<svg role="img">` with an `aria-label` that says what it shows; every bar has a `<title>`
(its exact value, shown on hover). Pages put the same numbers in a table beside the chart, for screen
readers and for anyone who wants the figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from markupsafe import Markup

# Colour-blind-safe (Okabe–Ito) and at least 3:1 against the white background.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#8A6D00", "#56B4E9", "#000000")


def color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def stacked_bars(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Decimal]]],
    *,
    title: str,
    unit: str = "$",
    width: int = 720,
    height: int = 240,
) -> Markup:
    """One bar per label, stacked by series (e.g. days × models); values in `unit`."""
    pad_left, pad_bottom, pad_top = 56, 28, 12
    totals = [sum((s[1][i] for s in series), Decimal(0)) for i in range(len(labels))]
    top = max(totals, default=Decimal(0)) or Decimal(1)
    plot_w, plot_h = width - pad_left - 8, height - pad_bottom - pad_top
    slot = plot_w / max(len(labels), 1)
    bar_w = max(2.0, slot * 0.7)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img"'
        f' aria-label="{escape(title)}" class="chart">'
    ]
    for frac in (0, 0.5, 1):  # gridlines with their values
        y = pad_top + plot_h * (1 - frac)
        parts.append(f'<line x1="{pad_left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(
            f'<text x="{pad_left - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">'
            f"{escape(_fmt(top * Decimal(str(frac)), unit))}</text>"
        )
    for i, label in enumerate(labels):
        x = pad_left + slot * i + (slot - bar_w) / 2
        y = pad_top + plot_h
        for j, (name, values) in enumerate(series):
            value = values[i]
            if value <= 0:
                continue
            h = float(value / top) * plot_h
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{color(j)}">'
                f"<title>{escape(label)} · {escape(name)}: {escape(_fmt(value, unit))}</title></rect>"
            )
        if len(labels) <= 16 or i % max(1, len(labels) // 8) == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - 8}" text-anchor="middle" class="axis">'
                f"{escape(label)}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def sparkline(values: Sequence[float], *, label: str, width: int = 120, height: int = 28) -> Markup:
    """A small line of a series' values in order (nothing for fewer than two points)."""
    if len(values) < 2:
        return Markup("")
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = (width - 4) / (len(values) - 1)
    points = " ".join(
        f"{2 + i * step:.1f},{height - 3 - (v - low) / span * (height - 6):.1f}" for i, v in enumerate(values)
    )
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}"'
        f' height="{height}" role="img" aria-label="{escape(label)}" class="sparkline">'
        f'<polyline points="{points}" fill="none" stroke="#0072B2" stroke-width="1.5"/></svg>'
    )


def _fmt(value: Decimal, unit: str) -> str:
    if unit == "$":
        return f"${value:,.2f}" if value >= 1 or value == 0 else f"${value:.4f}"
    return f"{value:,.0f} {unit}"
