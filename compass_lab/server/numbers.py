"""Number formatting shared by the Loki and Tempo renderers."""

from __future__ import annotations

import math


def format_sample(v: float) -> str:
    """A sample value as Prometheus/Loki print it (Go's strconv.FormatFloat(v, 'f', -1, 64))."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def seconds(ns: int) -> float:
    """Unix ns → float seconds with millisecond precision, as Loki's matrix timestamps."""
    return round(ns / 1e9, 3)
