"""histogram_quantile over classic `le` buckets, following Prometheus 2.42's bucketQuantile."""

from __future__ import annotations

import math
import re

import numpy as np

from compass_lab.promql.labels import METRIC_NAME, Labels, drop_labels, get_label
from compass_lab.promql.values import BoolArray, FloatArray, VectorValue, merge_rows

_GO_FLOAT = re.compile(r"[+-]?(inf|infinity|nan|(\d+\.?\d*|\.\d+)(e[+-]?\d+)?)", re.IGNORECASE)
_EXCLUDED = frozenset({METRIC_NAME, "le"})


def _upper_bound(text: str) -> float | None:
    """Go's strconv.ParseFloat on the `le` label; None means Prometheus skips the sample."""
    if not _GO_FLOAT.fullmatch(text):
        return None
    return float(text)


def histogram_quantile(q: FloatArray, vec: VectorValue) -> VectorValue:
    # Buckets belong together when all labels but `le` agree (the metric name included).
    groups: dict[Labels, list[tuple[float, int]]] = {}
    out_labels: dict[Labels, Labels] = {}
    for i, lab in enumerate(vec.labels):
        ub = _upper_bound(get_label(lab, "le"))
        if ub is None:
            continue
        key = drop_labels(lab, frozenset({"le"}))
        groups.setdefault(key, []).append((ub, i))
        out_labels.setdefault(key, drop_labels(lab, _EXCLUDED))
    labels: list[Labels] = []
    rows_v: list[FloatArray] = []
    rows_p: list[BoolArray] = []
    with np.errstate(all="ignore"):
        for key, members in groups.items():
            vals, pres = _quantile_group(q, vec, members)
            labels.append(out_labels[key])
            rows_v.append(vals)
            rows_p.append(pres)
    if not labels:
        return VectorValue.empty(vec.steps)
    return merge_rows(labels, np.vstack(rows_v), np.vstack(rows_p))


def _quantile_group(
    q: FloatArray, vec: VectorValue, members: list[tuple[float, int]]
) -> tuple[FloatArray, BoolArray]:
    ubs = np.array(sorted({ub for ub, _ in members}))
    steps = vec.steps
    counts = np.zeros((ubs.size, steps))
    present = np.zeros((ubs.size, steps), dtype=np.bool_)
    for ub, i in members:  # coalesce buckets with the same bound (le="1" and le="1.0")
        j = int(np.searchsorted(ubs, ub))
        counts[j] += np.where(vec.present[i], vec.values[i], 0.0)
        present[j] |= vec.present[i]
    out = np.full(steps, np.nan)
    any_present = present.any(axis=0)
    # Columns sharing a presence pattern share a bucket list; usually there is one pattern.
    patterns: dict[bytes, list[int]] = {}
    for t in np.flatnonzero(any_present):
        patterns.setdefault(present[:, t].tobytes(), []).append(int(t))
    for cols_list in patterns.values():
        cols = np.array(cols_list)
        rows = present[:, cols[0]]
        out[cols] = _bucket_quantile(q[cols], ubs[rows], counts[rows][:, cols])
    return out, np.asarray(any_present, dtype=np.bool_)


def _bucket_quantile(q: FloatArray, ub: FloatArray, c: FloatArray) -> FloatArray:
    n = ub.size
    result = np.full(q.size, np.nan)
    if n >= 2 and math.isinf(ub[-1]) and ub[-1] > 0:
        # ensureMonotonic: a bucket never counts less than the previous one (NaN stays NaN).
        running = np.fmax.accumulate(c, axis=0)
        c = np.where(np.isnan(c), c, running)
        observations = c[-1]
        rank = q * observations
        cond = c[:-1] >= rank[None, :]
        b = np.where(cond.any(axis=0), cond.argmax(axis=0), n - 1)
        cols = np.arange(q.size)
        prev = np.maximum(b - 1, 0)
        start = np.where(b > 0, ub[prev], 0.0)
        below = np.where(b > 0, c[prev, cols], 0.0)
        end = ub[np.minimum(b, n - 1)]
        count = c[np.minimum(b, n - 1), cols] - below
        interp = start + (end - start) * ((rank - below) / count)
        result = np.where(b == n - 1, ub[n - 2], np.where((b == 0) & (ub[0] <= 0), ub[0], interp))
        result = np.where(observations == 0, np.nan, result)
    elif not (math.isinf(ub[-1]) and ub[-1] > 0):
        result = np.full(q.size, np.nan)
    return np.where(q < 0, -np.inf, np.where(q > 1, np.inf, result))
