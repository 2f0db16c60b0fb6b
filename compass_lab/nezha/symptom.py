"""What the on-call engineer writes: read off the entry service's own dashboard (front_service.csv).

The text names the entry service and the signal that moved most (success rate, else p99 latency), with
the values a dashboard shows and the minute it started — never the injected service or fault.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
BASELINE_S = 1800.0
SR_DROP_POINTS = 1.0  # a success-rate dip an engineer notices on a dashboard (percentage points)
LATENCY_RATIO = 1.25  # a p99 rise an engineer notices


@dataclass(frozen=True)
class EntrySignals:
    """The entry service's series on one time axis: latency percentiles (s) and success rate (%)."""

    ts: F64
    latency: dict[str, F64]  # "p50", "p90", "p95", "p99" -> values; NaN where a sample is missing
    success: F64 | None  # None when not recorded


@dataclass(frozen=True)
class Symptom:
    text: str
    since: float  # unix seconds of the first sample that showed it


def hhmm(ts: float) -> str:
    return time.strftime("%H:%M", time.gmtime(ts))


def seconds(v: float) -> str:
    return f"{v * 1000:.0f}ms" if v < 1.0 else f"{v:.1f}s"


def _window(sig: EntrySignals, values: F64, start: float, end: float) -> tuple[F64, F64]:
    sel = (sig.ts >= start) & (sig.ts <= end) & np.isfinite(values)
    return sig.ts[sel], values[sel]


def describe(entry: str, sig: EntrySignals, onset: float, at: float) -> Symptom:
    """The symptom as seen between `onset` and `at` against the half hour before."""
    if sig.success is not None:
        _, s_base = _window(sig, sig.success, onset - BASELINE_S, onset - 1e-9)
        s_ts, s_after = _window(sig, sig.success, onset, at)
        # a success rate that sits near 0 in the baseline is not measured meaningfully: ignore it
        if s_base.size and s_after.size and float(np.median(s_base)) >= 50.0:
            base = float(np.median(s_base))
            low = float(np.min(s_after))
            if low <= base - SR_DROP_POINTS:
                since = float(s_ts[np.argmax(s_after <= base - SR_DROP_POINTS)])
                return Symptom(
                    f"{entry} success rate down to {low:.0f}% (normally ~{base:.0f}%) since {hhmm(since)}",
                    since,
                )
    # the latency percentile that moved most, as an engineer scanning the dashboard's panels would pick
    best: tuple[float, str, float, float, float] | None = None  # (ratio, percentile, base, peak, since)
    for q, values in sorted(sig.latency.items()):
        _, base_v = _window(sig, values, onset - BASELINE_S, onset - 1e-9)
        ts, after = _window(sig, values, onset, at)
        if not base_v.size or not after.size or float(np.median(base_v)) <= 0:
            continue
        base, peak = float(np.median(base_v)), float(np.max(after))
        since = float(ts[np.argmax(after >= base + 0.5 * (peak - base))])
        if best is None or peak / base > best[0]:
            best = (peak / base, q, base, peak, since)
    if best is None:
        return Symptom(f"{entry} looks unhealthy since {hhmm(onset)}", onset)
    ratio, q, base, peak, since = best
    if ratio >= LATENCY_RATIO:
        return Symptom(
            f"{entry} {q} latency up to {seconds(peak)} (normally ~{seconds(base)}) since {hhmm(since)}",
            since,
        )
    return Symptom(
        f"{entry} feels slower than usual since {hhmm(since)}? {q} latency {seconds(peak)} "
        f"(normally ~{seconds(base)})",
        since,
    )
