"""Functions over range vectors (rate, increase, *_over_time...), vectorised over all series.

Windows are closed on both ends, [t - range, t], as in Prometheus 2.x. Each function receives the
flattened samples of every series and, per (series, step), the window's [lo, hi) sample indices;
a window never crosses into another series. The arithmetic follows Prometheus 2.42's
promql/functions.go statement by statement, so results agree to rounding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from compass_lab.promql.flat import FlatSeries
from compass_lab.promql.labels import drop_name
from compass_lab.promql.values import BoolArray, FloatArray, IntArray, MatrixValue, VectorValue, merge_rows

# Bound the (windows x samples) matrices of gather-based functions to ~32 MB.
_GATHER_BUDGET = 4_000_000


@dataclass(frozen=True)
class Windows:
    t: IntArray  # flattened sample times (ms) of all series
    v: FloatArray
    lo: IntArray  # (N,) first sample index of each window
    hi: IntArray  # (N,) one past the last sample index
    end: IntArray  # (N,) window end time (ms)
    range_ms: int
    params: tuple[FloatArray, ...]  # (N,) per-window scalar arguments

    @property
    def n(self) -> IntArray:
        return self.hi - self.lo

    def first(self) -> IntArray:
        return np.minimum(self.lo, self.t.size - 1)

    def last(self) -> IntArray:
        return np.maximum(self.hi - 1, 0)

    def gather(self) -> tuple[IntArray, BoolArray]:
        width = max(int(self.n.max(initial=0)), 1)
        idx = self.lo[:, None] + np.arange(width, dtype=np.int64)[None, :]
        return np.minimum(idx, self.t.size - 1), idx < self.hi[:, None]

    def reduce(self, ufunc: np.ufunc) -> FloatArray:
        """ufunc over each window via reduceat (no (N, W) temporary); empty windows are garbage."""
        v = np.append(self.v, 0.0)  # so that hi == len(v) is still a valid reduceat index
        idx = np.empty(2 * self.lo.size, dtype=np.int64)
        idx[0::2] = self.lo
        idx[1::2] = self.hi
        return np.asarray(ufunc.reduceat(v, idx)[0::2], dtype=np.float64)


Result = tuple[FloatArray, BoolArray]


def _extrapolated(is_counter: bool, is_rate: bool) -> Callable[[Windows], Result]:
    def fn(w: Windows) -> Result:
        n = w.n
        f, last = w.first(), w.last()
        vf, vl = w.v[f], w.v[last]
        result = vl - vf
        if is_counter:
            # Cumulative value lost at resets; windows never span two series, so the spurious
            # "reset" where one series' samples end and the next begin is never subtracted.
            prev = w.v[:-1]
            corr = np.concatenate(([0.0], np.cumsum(np.where(w.v[1:] < prev, prev, 0.0))))
            result = result + (corr[last] - corr[f])
        range_start = w.end - w.range_ms
        to_start = (w.t[f] - range_start) / 1000.0
        to_end = (w.end - w.t[last]) / 1000.0
        sampled = (w.t[last] - w.t[f]) / 1000.0
        avg_gap = sampled / np.maximum(n - 1, 1)
        if is_counter:
            # Counters cannot go below zero: never extrapolate the start past the zero point.
            to_zero = sampled * (vf / result)
            clamp = (result > 0) & (vf >= 0) & (to_zero < to_start)
            to_start = np.where(clamp, to_zero, to_start)
        threshold = avg_gap * 1.1
        interval = sampled + np.where(to_start < threshold, to_start, avg_gap / 2)
        interval = interval + np.where(to_end < threshold, to_end, avg_gap / 2)
        factor = interval / sampled
        if is_rate:
            factor = factor / (w.range_ms / 1000.0)
        return result * factor, n >= 2

    return fn


def _instant(is_rate: bool) -> Callable[[Windows], Result]:
    def fn(w: Windows) -> Result:
        last = np.clip(w.hi - 1, 1, max(w.t.size - 1, 1)) if w.t.size > 1 else np.zeros_like(w.hi)
        prev = np.maximum(last - 1, 0)
        vl, vp = w.v[last], w.v[prev]
        if is_rate:
            result = np.where(vl < vp, vl, vl - vp)  # a counter reset: the new value is the increase
            result = result / ((w.t[last] - w.t[prev]) / 1000.0)
        else:
            result = vl - vp
        return result, w.n >= 2

    return fn


def _regression(w: Windows, origin: IntArray) -> tuple[FloatArray, FloatArray]:
    """Least squares slope/intercept per window, x in seconds relative to `origin`."""
    idx, mask = w.gather()
    n = mask.sum(axis=1).astype(np.float64)
    x = np.where(mask, (w.t[idx] - origin[:, None]) / 1000.0, 0.0)
    y = np.where(mask, w.v[idx], 0.0)
    sum_x, sum_y = x.sum(axis=1), y.sum(axis=1)
    sum_xy, sum_x2 = (x * y).sum(axis=1), (x * x).sum(axis=1)
    cov_xy = sum_xy - sum_x * sum_y / n
    var_x = sum_x2 - sum_x * sum_x / n
    slope = cov_xy / var_x
    intercept = sum_y / n - slope * sum_x / n
    first = w.v[w.first()]
    const_y = np.where(mask, w.v[idx] == first[:, None], True).all(axis=1)
    inf_first = np.isinf(first)
    slope = np.where(const_y, np.where(inf_first, np.nan, 0.0), slope)
    intercept = np.where(const_y, np.where(inf_first, np.nan, first), intercept)
    return slope, intercept


def _deriv(w: Windows) -> Result:
    slope, _ = _regression(w, w.t[w.first()])
    return slope, w.n >= 2


def _predict_linear(w: Windows) -> Result:
    duration, eval_times = w.params
    slope, intercept = _regression(w, eval_times.astype(np.int64))
    return slope * duration + intercept, w.n >= 2


def quantile_rows(vals: FloatArray, n: IntArray, q: FloatArray) -> FloatArray:
    """Prometheus' quantile(): interpolate between closest ranks; q<0 → -Inf, q>1 → +Inf.

    `vals` rows hold n[i] values followed by +Inf padding.
    """
    ordered = np.sort(vals, axis=1)
    nf = n.astype(np.float64)
    rank = q * (nf - 1)
    lower = np.maximum(0.0, np.floor(np.nan_to_num(rank)))
    upper = np.minimum(nf - 1, lower + 1)
    weight = rank - np.floor(rank)
    rows = np.arange(vals.shape[0])
    lo_i = np.clip(lower.astype(np.int64), 0, vals.shape[1] - 1)
    up_i = np.clip(upper.astype(np.int64), 0, vals.shape[1] - 1)
    out = ordered[rows, lo_i] * (1 - weight) + ordered[rows, up_i] * weight
    return np.where(q < 0, -np.inf, np.where(q > 1, np.inf, out))


def _over_time(kind: str) -> Callable[[Windows], Result]:
    def fn(w: Windows) -> Result:
        n = w.n
        ok = n >= 1
        nf = np.maximum(n, 1).astype(np.float64)
        if kind == "count":
            return n.astype(np.float64), ok
        if kind == "present":
            return np.ones(n.size), ok
        if kind == "last":
            return w.v[w.last()], ok
        if kind == "sum":
            return w.reduce(np.add), ok
        if kind == "avg":
            return w.reduce(np.add) / nf, ok
        if kind == "max":  # fmax: NaN only wins when every sample is NaN, as in Prometheus
            return w.reduce(np.fmax), ok
        if kind == "min":
            return w.reduce(np.fmin), ok
        idx, mask = w.gather()
        vals = w.v[idx]
        if kind == "quantile":
            return quantile_rows(np.where(mask, vals, np.inf), n, w.params[0]), ok
        # stddev/stdvar: shift by the window's first sample — exact 0 for constant windows.
        shifted = np.where(mask, vals - vals[:, :1], 0.0)
        mean = shifted.sum(axis=1) / nf
        dev = np.where(mask, shifted - mean[:, None], 0.0)
        var = (dev * dev).sum(axis=1) / nf
        return (np.sqrt(var) if kind == "stddev" else var), ok

    return fn


def _changes(reset_only: bool) -> Callable[[Windows], Result]:
    def fn(w: Windows) -> Result:
        v = w.v
        step = v[1:] < v[:-1] if reset_only else (v[1:] != v[:-1]) & ~(np.isnan(v[1:]) & np.isnan(v[:-1]))
        cum = np.concatenate(([0], np.cumsum(step)))
        return (cum[w.last()] - cum[w.first()]).astype(np.float64), w.n >= 1

    return fn


_GATHERING = frozenset(
    {"deriv", "predict_linear", "quantile_over_time", "stddev_over_time", "stdvar_over_time"}
)

RANGE_FUNCTIONS: dict[str, Callable[[Windows], Result]] = {
    "rate": _extrapolated(is_counter=True, is_rate=True),
    "increase": _extrapolated(is_counter=True, is_rate=False),
    "delta": _extrapolated(is_counter=False, is_rate=False),
    "irate": _instant(is_rate=True),
    "idelta": _instant(is_rate=False),
    "deriv": _deriv,
    "predict_linear": _predict_linear,
    "changes": _changes(reset_only=False),
    "resets": _changes(reset_only=True),
    **{
        f"{k}_over_time": _over_time(k)
        for k in ("avg", "min", "max", "sum", "count", "last", "quantile", "stddev", "stdvar", "present")
    },
}


def window_bounds(flat: FlatSeries, m: MatrixValue) -> tuple[IntArray, IntArray]:
    """(S, T) [lo, hi) sample indices of every series' window at every step."""
    return flat.search(m.window_end - m.range_ms, "left"), flat.search(m.window_end, "right")


def apply_range_function(name: str, m: MatrixValue, params: tuple[FloatArray, ...]) -> VectorValue:
    """`params` are per-step scalars (quantile's q, predict_linear's duration and eval times)."""
    fn = RANGE_FUNCTIONS[name]
    steps = int(m.window_end.size)
    flat = FlatSeries.of(m.series)
    if flat.t.size == 0:
        return VectorValue.empty(steps)
    lo, hi = window_bounds(flat, m)
    n_series = len(m.series)
    values = np.zeros((n_series, steps))
    present = np.zeros((n_series, steps), dtype=np.bool_)
    width = max(int((hi - lo).max(initial=0)), 1)
    chunk = n_series if name not in _GATHERING else max(1, _GATHER_BUDGET // (steps * width))
    with np.errstate(all="ignore"):
        for s0 in range(0, n_series, chunk):
            rows = slice(s0, min(n_series, s0 + chunk))
            count = rows.stop - rows.start
            w = Windows(
                flat.t,
                flat.v,
                lo[rows].ravel(),
                hi[rows].ravel(),
                np.tile(m.window_end, count),
                m.range_ms,
                tuple(np.tile(p, count) for p in params),
            )
            vals, ok = fn(w)
            values[rows] = vals.reshape(count, steps)
            present[rows] = (ok & (w.hi > w.lo)).reshape(count, steps)
    keep = present.any(axis=1)
    labels = [rs.labels if name == "last_over_time" else drop_name(rs.labels) for rs in m.series]
    idx = np.flatnonzero(keep)
    return merge_rows([labels[i] for i in idx], values[idx], present[idx])
