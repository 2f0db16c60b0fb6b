"""Turns per-sample rates and distributions into Prometheus series the way exporters expose them.

Counters are cumulative, integer where they count events, reset to 0 when the process restarts,
and a labelled counter only exists once its label combination was first observed (client
libraries create children lazily). A NaN sample means the series was not scraped then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from compass_lab.model import FloatArray, Series
from compass_lab.scenarios.blueprint import STEP_S
from compass_lab.scenarios.signals import lognormal_cdf

SERVER_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CLIENT_BUCKETS = (0.01, 0.05, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def fmt_le(le: float) -> str:
    return "+Inf" if le == float("inf") else repr(float(le))


def segmented_cumsum(inc: FloatArray, resets: Iterable[int]) -> FloatArray:
    out = np.cumsum(inc)
    for r in sorted(set(resets)):
        if 0 < r < len(out):
            out[r:] -= out[r - 1]
    return out


class SeriesOut:
    def __init__(self, ts: FloatArray) -> None:
        self.ts = ts
        self.n = len(ts)
        self.series: list[Series] = []
        self._index: dict[tuple[tuple[str, str], ...], int] = {}

    def add(self, labels: Mapping[str, str], values: FloatArray) -> None:
        if np.isnan(values).all():
            return
        v = np.asarray(values, dtype=np.float64)
        key = tuple(sorted(labels.items()))
        at = self._index.get(key)
        if at is not None:
            # Two outcomes that a convention spells the same (e.g. timeout and reset both `code="error"`)
            # are one series in a real exporter: their counts add up.
            prev = self.series[at].values
            merged = np.where(np.isnan(prev), v, np.where(np.isnan(v), prev, prev + v))
            self.series[at] = Series(dict(labels), self.ts, merged)
            return
        self._index[key] = len(self.series)
        self.series.append(Series(dict(labels), self.ts, v))

    def gauge(
        self, name: str, labels: Mapping[str, str], values: npt.ArrayLike, mask: np.ndarray | None = None
    ) -> None:
        v = np.broadcast_to(np.asarray(values, dtype=np.float64), (self.n,)).copy()
        if mask is not None:
            v[~mask] = np.nan
        self.add({"__name__": name, **labels}, v)

    def counter(
        self,
        name: str,
        labels: Mapping[str, str],
        per_step: FloatArray,
        mask: np.ndarray | None = None,
        resets: Sequence[int] = (),
        integer: bool = True,
        lazy: bool = False,
        offset: float = 0.0,
    ) -> None:
        """`per_step` is the increase per scrape interval (rate × 15 s)."""
        inc = np.where(mask, per_step, 0.0) if mask is not None else per_step
        cum = segmented_cumsum(np.maximum(inc, 0.0), resets) + offset
        if integer:
            cum = np.floor(cum)
        if mask is not None:
            cum = np.where(mask, cum, np.nan)
        if lazy:
            seen = np.nonzero(np.nan_to_num(cum, nan=0.0) > 0)[0]
            if len(seen) == 0:
                return
            cum[: seen[0]] = np.nan
        self.add({"__name__": name, **labels}, cum)

    def histogram(
        self,
        name: str,
        labels: Mapping[str, str],
        rate: FloatArray,
        mean: FloatArray,
        sigma: FloatArray,
        buckets: Sequence[float],
        mask: np.ndarray | None = None,
        resets: Sequence[int] = (),
        lazy: bool = False,
        with_max: bool = False,
        with_buckets: bool = True,
    ) -> None:
        """A latency histogram of `rate` events/s, lognormal with the given mean and shape."""
        counts = rate * STEP_S
        if mask is not None:
            counts = np.where(mask, counts, 0.0)
        total = segmented_cumsum(counts, resets)
        if lazy and not (np.floor(total) > 0).any():
            return
        first = int(np.argmax(np.floor(total) > 0)) if lazy else 0
        keep = np.ones(self.n, dtype=bool) if mask is None else mask.copy()
        keep[:first] = False
        median = mean * np.exp(-(sigma**2) / 2.0)

        def emit(suffix: str, values: FloatArray, extra: Mapping[str, str]) -> None:
            v = np.where(keep, values, np.nan)
            self.add({"__name__": f"{name}{suffix}", **labels, **extra}, v)

        if with_buckets:
            for le in buckets:
                frac = lognormal_cdf(le, median, sigma)
                emit("_bucket", np.floor(segmented_cumsum(counts * frac, resets)), {"le": fmt_le(le)})
            emit("_bucket", np.floor(total), {"le": "+Inf"})
        emit("_count", np.floor(total), {})
        emit("_sum", segmented_cumsum(counts * mean, resets), {})
        if with_max:  # Micrometer's decaying max: roughly the p99.9 of the last window
            mx = median * np.exp(3.1 * sigma)
            emit("_max", np.where(counts > 0, mx, 0.0), {})
