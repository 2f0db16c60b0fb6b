"""All series of a selection in one flat array, so windows for every (series, step) are found
with a single `searchsorted` instead of one call per series.

Sample i of series s gets the key s * span + (t_i - base): keys ascend across the concatenation,
and a query time clipped into [-1, span - 1] can never leave its series' segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from compass_lab.promql.values import IntArray, RangeSeries


@dataclass(frozen=True)
class FlatSeries:
    t: IntArray  # all timestamps, series after series
    v: np.ndarray
    starts: IntArray  # (S + 1,) segment boundaries
    keys: IntArray
    base: int
    span: int

    @staticmethod
    def of(series: Sequence[RangeSeries]) -> FlatSeries:
        sizes = np.array([s.t.size for s in series], dtype=np.int64)
        starts = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        if starts[-1] == 0:
            empty = np.zeros(0, dtype=np.int64)
            return FlatSeries(empty, np.zeros(0), starts, empty, 0, 2)
        t = np.concatenate([s.t for s in series]).astype(np.int64)
        v = np.concatenate([s.v for s in series]).astype(np.float64)
        base = int(t.min())
        span = int(t.max()) - base + 2
        seg = np.repeat(np.arange(len(series), dtype=np.int64), sizes)
        return FlatSeries(t, v, starts, seg * span + (t - base), base, span)

    @property
    def n_series(self) -> int:
        return int(self.starts.size - 1)

    def search(self, times: IntArray, side: str) -> IntArray:
        """(S, T) absolute indices: searchsorted of each step time within each series' segment."""
        q = np.clip(times - self.base, -1, self.span - 1)
        query = np.arange(self.n_series, dtype=np.int64)[:, None] * self.span + q[None, :]
        found = np.searchsorted(self.keys, query.ravel(), side="left" if side == "left" else "right")
        return found.astype(np.int64).reshape(query.shape)
