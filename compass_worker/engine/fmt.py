"""How the engine writes times and measured values into evidence and summaries."""

from __future__ import annotations

import math
from datetime import UTC, datetime


def hhmm(ts: float | None) -> str:
    if ts is None:
        return "?"
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%H:%M")


def fmt_value(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return "n/a"
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"
    if unit == "bytes":
        return f"{value / 2**20:.0f} MiB"
    return f"{value:.3g}"


def fmt_measured(value: float, unit: str) -> str:
    """A value with its unit spelt out (cores, req/s, per s, messages…) where `fmt_value` leaves it
    implicit; counts and flags stay bare numbers."""
    text = fmt_value(value, unit)
    if unit in ("", "ratio", "s", "bytes", "count", "flag") or text == "n/a":
        return text
    return f"{text} {unit}"
