"""Numeric building blocks for re-expressing rendered series in another exporter's convention.

Real exporters disagree on more than names: some export cumulative counters, others per-second or
per-minute gauges; some histograms, others pre-computed quantiles or averages; seconds, milliseconds or
microseconds. These helpers turn the library's cumulative series into those shapes, sample by sample.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from compass_lab.model import FloatArray, Series
from compass_lab.scenarios.blueprint import STEP_S

WINDOW = 4  # samples (1 minute): what a vendor agent aggregates before it reports


def increments(values: FloatArray) -> FloatArray:
    """Per-scrape increase of a cumulative series; a drop is a restart (the new value is the increase)."""
    prev = np.concatenate([[np.nan], values[:-1]])
    d = values - prev
    out: FloatArray = np.where(d < 0, values, d)
    return out


def windowed(inc: FloatArray, w: int = WINDOW) -> FloatArray:
    """Sum of the last `w` increments; NaN where none of them is known."""
    known = ~np.isnan(inc)
    csum = np.cumsum(np.where(known, inc, 0.0))
    ccount = np.cumsum(known)
    total = csum - np.concatenate([np.zeros(w), csum[:-w]])
    count = ccount - np.concatenate([np.zeros(w), ccount[:-w]])
    out: FloatArray = np.where(count > 0, total, np.nan)
    return out


def per_second(cumulative: FloatArray, w: int = WINDOW) -> FloatArray:
    out: FloatArray = windowed(increments(cumulative), w) / (w * STEP_S)
    return out


def ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return out


@dataclass
class Hist:
    """One histogram child: its count, sum and cumulative buckets (upper bound → values)."""

    labels: dict[str, str]
    count: FloatArray | None = None
    sum: FloatArray | None = None
    buckets: dict[float, FloatArray] = field(default_factory=dict)

    def mean(self) -> FloatArray:
        if self.count is None or self.sum is None:
            return np.full(0, np.nan)
        return ratio(windowed(increments(self.sum)), windowed(increments(self.count)))

    def quantile(self, q: float) -> FloatArray:
        """The q-quantile over the last minute, interpolated within buckets (as histogram_quantile does)."""
        les = sorted(self.buckets)
        counts = np.array([windowed(increments(self.buckets[le])) for le in les])
        total = counts[-1]
        target = q * total
        out = np.full(total.shape, np.nan)
        finite = [le for le in les if np.isfinite(le)]
        for i in range(total.shape[0]):
            if not total[i] > 0:
                continue
            k = int(np.searchsorted(counts[:, i], target[i], side="left"))
            if k >= len(finite):
                out[i] = finite[-1]
                continue
            lo_le = finite[k - 1] if k > 0 else 0.0
            lo_c = counts[k - 1, i] if k > 0 else 0.0
            hi_c = counts[k, i]
            frac = (target[i] - lo_c) / (hi_c - lo_c) if hi_c > lo_c else 1.0
            out[i] = lo_le + (finite[k] - lo_le) * frac
        return out

    def rate(self) -> FloatArray:
        return per_second(self.count) if self.count is not None else np.full(0, np.nan)


def hist_groups(series: Iterable[Series], base: str) -> list[Hist]:
    """Children of histogram `base` (its `_bucket`, `_sum`, `_count` series), in first-seen order."""
    groups: dict[tuple[tuple[str, str], ...], Hist] = {}
    for s in series:
        name = s.labels["__name__"]
        if not name.startswith(base + "_"):
            continue
        suffix = name[len(base) + 1 :]
        if suffix not in ("bucket", "sum", "count"):
            continue
        labels = {k: v for k, v in s.labels.items() if k not in ("__name__", "le")}
        key = tuple(sorted(labels.items()))
        h = groups.setdefault(key, Hist(labels))
        if suffix == "bucket":
            h.buckets[float(s.labels["le"])] = np.asarray(s.values)
        elif suffix == "sum":
            h.sum = np.asarray(s.values)
        else:
            h.count = np.asarray(s.values)
    return list(groups.values())


def by_name(series: Iterable[Series]) -> dict[str, list[Series]]:
    out: dict[str, list[Series]] = defaultdict(list)
    for s in series:
        out[s.labels["__name__"]].append(s)
    return out
