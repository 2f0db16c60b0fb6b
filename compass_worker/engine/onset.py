"""Robust anomaly and onset detection for one time series.

Baseline = the part of the window before the suspected onset (the first 40 % by default, or up to a
hint from the incident text); location/scale by median and IQR (MAD as a fallback) so that the
baseline's own spikes do not hide the change. The onset is the first point after the baseline where
the robust z-score in the "bad" direction stays above the threshold for most of the next few points —
a persistence rule rather than a single crossing, so a lone spike is not an onset. A departure that
has already subsided and rose no higher than the baseline's own blips is the series' usual tail
recurring (a periodic slow request), not a change either.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Direction = Literal["up", "down", "either"]

ONSET_Z = 3.5  # z above which a point is "abnormal"
PERSIST = 3  # consecutive-ish points (3 of 4) needed for an onset
RECURRING_MARGIN = 1.25  # a blip at most this far beyond the baseline's own worst is the usual tail


@dataclass(frozen=True)
class Anomaly:
    """How a series moved against its baseline. `z_peak` is signed towards "bad" (≥ 0 = bad side)."""

    baseline: float  # median of the baseline
    scale: float  # robust scale used
    peak: float  # the most extreme value after the baseline in the bad direction
    last: float  # last value
    z_peak: float
    onset: float | None  # unix seconds of the persistent departure, None when none
    persistence: float  # fraction of post-onset points still abnormal (0 when no onset)
    n: int

    @property
    def anomalous(self) -> bool:
        return self.onset is not None and self.z_peak >= ONSET_Z

    @property
    def ratio(self) -> float:
        """peak / baseline (inf when the baseline is 0 and the peak is not)."""
        if self.baseline == 0:
            return math.inf if self.peak != 0 else 1.0
        return self.peak / self.baseline

    def strength(self, full_at: float = 8.0) -> float:
        """0..1: how clearly abnormal (0 below the onset threshold, 1 from `full_at` sigmas)."""
        if not self.anomalous:
            return 0.0
        return float(min(1.0, max(0.0, (self.z_peak - ONSET_Z + 1.0) / (full_at - ONSET_Z + 1.0))))


def robust_scale(x: np.ndarray, floor: float) -> float:
    q75, q25 = np.percentile(x, [75, 25])
    iqr = float(q75 - q25) / 1.349
    mad = float(np.median(np.abs(x - np.median(x)))) * 1.4826
    return max(iqr, mad, floor)


def analyse(
    timestamps: Sequence[float],
    values: Sequence[float],
    direction: Direction,
    *,
    baseline_until: float | None = None,
    abs_floor: float = 1e-9,
    rel_floor: float = 0.02,
) -> Anomaly | None:
    """Compare the series after its baseline with the baseline. None if there is too little data."""
    t = np.asarray(timestamps, dtype=np.float64)
    x = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(x)
    t, x = t[ok], x[ok]
    n = int(x.size)
    if n < 8:
        return None
    if baseline_until is not None:
        cut = int(np.searchsorted(t, baseline_until, side="left"))
        cut = min(max(cut, 5), n - 3)
    else:
        cut = max(5, int(n * 0.4))
    base = x[:cut]
    med = float(np.median(base))
    scale = robust_scale(base, max(abs_floor, abs(med) * rel_floor))
    if direction == "up":
        z = (x - med) / scale
    elif direction == "down":
        z = (med - x) / scale
    else:
        z = np.abs(x - med) / scale
    post = z[cut:]
    post_x = x[cut:]
    i_peak = int(np.argmax(post))
    z_peak = float(post[i_peak])
    peak = float(post_x[i_peak])
    onset_idx: int | None = None
    hot = post >= ONSET_Z
    for i in range(post.size):
        if not hot[i]:
            continue
        window = hot[i : i + PERSIST + 1]
        if window.sum() >= min(PERSIST, window.size) or (i >= post.size - 2 and window.all()):
            onset_idx = i
            break
    if onset_idx is None or _recurring_blip(z, cut, z_peak):
        return Anomaly(med, scale, peak, float(x[-1]), z_peak, None, 0.0, n)
    after = hot[onset_idx:]
    # Walk back from the crossing to where the rise started (half the threshold), for ordering.
    j = onset_idx
    while j > 0 and post[j - 1] >= ONSET_Z / 2:
        j -= 1
    onset_t = float(t[cut + j])
    return Anomaly(med, scale, peak, float(x[-1]), z_peak, onset_t, float(after.mean()), n)


def _recurring_blip(z: np.ndarray, cut: int, z_peak: float) -> bool:
    """Over by the last point, and no higher than the worst the baseline already showed: a service's
    periodic slow minute seen again, not a change that began. (A fault still going on at the last
    point, or one beyond anything in the baseline, stays an onset; so does one the baseline never
    saw a blip like.)"""
    base_worst = float(np.max(z[:cut]))
    return bool(z[-1] < ONSET_Z) and base_worst >= ONSET_Z and z_peak <= RECURRING_MARGIN * base_worst
