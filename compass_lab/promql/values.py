"""Evaluation values: every expression is evaluated at all steps of a grid at once.

An instant vector over T steps is S label sets, an (S, T) value matrix and an (S, T) presence mask
(a computed value may legitimately be NaN, so presence cannot be encoded as NaN).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from compass_lab.promql.errors import PromQLError
from compass_lab.promql.labels import Labels

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Prometheus' global evaluation_interval default: the step of a subquery written without one.
DEFAULT_SUBQUERY_STEP_MS = 60_000


@dataclass(frozen=True)
class Grid:
    """Evaluation timestamps (ms). An instant query is a one-step grid."""

    times: IntArray
    start_ms: int
    end_ms: int

    @property
    def size(self) -> int:
        return int(self.times.size)

    @staticmethod
    def of(start_ms: int, end_ms: int, step_ms: int) -> Grid:
        times = np.arange(start_ms, end_ms + 1, step_ms, dtype=np.int64)
        return Grid(times, start_ms, end_ms)


@dataclass(frozen=True)
class ScalarValue:
    values: FloatArray  # (T,)


@dataclass(frozen=True)
class StringValue:
    value: str


@dataclass(frozen=True)
class VectorValue:
    labels: tuple[Labels, ...]
    values: FloatArray  # (S, T)
    present: BoolArray  # (S, T)

    @staticmethod
    def empty(steps: int) -> VectorValue:
        return VectorValue((), np.zeros((0, steps)), np.zeros((0, steps), dtype=np.bool_))

    @property
    def steps(self) -> int:
        return int(self.values.shape[1])

    def compact(self) -> VectorValue:
        """Drop rows that are absent at every step."""
        keep = self.present.any(axis=1)
        if bool(keep.all()):
            return self
        idx = np.flatnonzero(keep)
        return VectorValue(tuple(self.labels[i] for i in idx), self.values[idx], self.present[idx])


@dataclass(frozen=True)
class RangeSeries:
    """Raw samples a range function reads: from storage or from a subquery's inner evaluation."""

    labels: Labels
    t: IntArray
    v: FloatArray


@dataclass(frozen=True)
class MatrixValue:
    """A range vector: series plus, per step, the window (window_end - range_ms, window_end]."""

    series: tuple[RangeSeries, ...]
    range_ms: int
    window_end: IntArray  # (T,) evaluation time minus offset (or the @ time)


Value = ScalarValue | StringValue | VectorValue | MatrixValue


def merge_rows(labels: list[Labels], values: FloatArray, present: BoolArray) -> VectorValue:
    """Combine rows with identical label sets (disjoint in time); overlap is Prometheus' error."""
    if len(set(labels)) == len(labels):
        return VectorValue(tuple(labels), values, present).compact()
    order: dict[Labels, list[int]] = {}
    for i, lab in enumerate(labels):
        order.setdefault(lab, []).append(i)
    out_v = np.zeros((len(order), values.shape[1]))
    out_p = np.zeros((len(order), values.shape[1]), dtype=np.bool_)
    for j, rows in enumerate(order.values()):
        if len(rows) > 1 and bool((present[rows].sum(axis=0) > 1).any()):
            raise PromQLError("execution", "vector cannot contain metrics with the same labelset")
        for r in rows:
            out_v[j] = np.where(present[r], values[r], out_v[j])
            out_p[j] |= present[r]
    return VectorValue(tuple(order), out_v, out_p).compact()
