"""Number formatting exactly as Prometheus' JSON API writes sample values."""

from __future__ import annotations

import math

import numpy as np


def format_value(v: float) -> str:
    """Go's strconv.FormatFloat(v, 'f', -1, 64): shortest round-trip digits, never an exponent."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    text = repr(float(v))
    if "e" in text or "E" in text:
        text = np.format_float_positional(v, unique=True, trim="-")
    elif text.endswith(".0"):
        text = text[:-2]
    return text  # Go prints negative zero as "-0", and so do we


def format_values(values: np.ndarray) -> list[str]:
    """format_value over an array, with fast paths for the common cases (integers, plain decimals)."""
    arr = np.asarray(values, dtype=np.float64)
    out = np.empty(arr.size, dtype=object)
    with np.errstate(all="ignore"):
        mag = np.abs(arr)
        integral = (arr == np.floor(arr)) & (mag < 1e15)
        plain = ~integral & (mag >= 1e-4) & (mag < 1e15)
    out[integral] = list(map(str, arr[integral].astype(np.int64).tolist()))
    out[plain] = list(map(repr, arr[plain].tolist()))
    for i in np.flatnonzero(~(integral | plain)):
        out[i] = format_value(float(arr[i]))
    # Negative zero is integral but must print as "-0", like Go.
    for i in np.flatnonzero(integral & (arr == 0) & np.signbit(arr)):
        out[i] = "-0"
    result: list[str] = out.tolist()
    return result


def ms_to_seconds(ms: int) -> float:
    """Prometheus writes timestamps as seconds with millisecond precision."""
    return ms / 1000.0
