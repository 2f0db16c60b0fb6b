"""Evaluates parsed LogQL against a `LogIndex`, with Loki's semantics for windows, limits and steps.

- Log queries: lines in [start, end), merged across streams newest-first (backward) or oldest-first,
  cut at `limit` entries in total, then grouped by their final label set.
- Metric queries: a range aggregation at step t covers (t - range, t]; steps run start, start+step, …, ≤ end;
  a step with no entries has no sample (Loki omits it rather than reporting 0).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from compass_lab.logql.ast import (
    Binary,
    Expr,
    Grouping,
    LineFilter,
    LogExpr,
    MetricExpr,
    RangeAgg,
    Scalar,
    Stage,
    VecAgg,
)
from compass_lab.logql.errors import LogQLQueryError
from compass_lab.logql.index import IndexedStream, IntArray, LogIndex
from compass_lab.logql.lexer import duration_ns
from compass_lab.logql.parser import parse
from compass_lab.logql.pipeline import Entry, run_pipeline
from compass_lab.model import FloatArray

Direction = Literal["forward", "backward"]
LabelKey = tuple[tuple[str, str], ...]
MAX_POINTS = 11_000  # Loki's per-series resolution limit


@dataclass(frozen=True)
class StreamResult:
    labels: Mapping[str, str]
    entries: tuple[tuple[int, str], ...]  # (ts_ns, line) in the query's direction


@dataclass(frozen=True)
class StreamsResult:
    streams: tuple[StreamResult, ...]
    lines_scanned: int
    bytes_scanned: int


@dataclass(frozen=True)
class MetricSeries:
    labels: Mapping[str, str]
    values: FloatArray  # one per step; NaN = no sample at that step


@dataclass(frozen=True)
class MetricResult:
    steps_ns: tuple[int, ...]
    series: tuple[MetricSeries, ...]
    instant: bool


QueryResult = StreamsResult | MetricResult


def default_step_ns(start_ns: int, end_ns: int) -> int:
    """Loki's default step when none is given: range/250, at least one second."""
    return max(math.floor((end_ns - start_ns) / 1e9 / 250), 1) * 10**9


def parse_step_ns(text: str) -> int:
    """A `step` parameter: float seconds ("60", "0.5") or a duration ("1m")."""
    try:
        return int(float(text) * 1e9)
    except ValueError:
        ns = duration_ns(text)
        if ns <= 0:
            raise LogQLQueryError(
                f'invalid parameter "step": cannot parse "{text}" to a valid duration'
            ) from None
        return ns


def query_range(
    index: LogIndex,
    query: str,
    start_ns: int,
    end_ns: int,
    *,
    limit: int = 100,
    direction: Direction = "backward",
    step_ns: int | None = None,
) -> QueryResult:
    expr = parse(query)
    if end_ns < start_ns:
        raise LogQLQueryError("invalid parameter: end timestamp must not be before start time")
    if isinstance(expr, LogExpr):
        return _run_log_query(index, expr, start_ns, end_ns, limit, direction)
    step = step_ns if step_ns is not None else default_step_ns(start_ns, end_ns)
    if step <= 0:
        raise LogQLQueryError(
            "zero or negative query resolution step widths are not accepted. Try a positive integer"
        )
    if (end_ns - start_ns) // step + 1 > MAX_POINTS:
        raise LogQLQueryError(
            "exceeded maximum resolution of 11,000 points per timeseries. "
            "Try decreasing the query resolution (?step=XX)"
        )
    steps = tuple(range(start_ns, end_ns + 1, step))
    return MetricResult(steps, _finish(_eval(index, expr, steps)), instant=False)


def query_instant(index: LogIndex, query: str, time_ns: int) -> MetricResult:
    expr = parse(query)
    if isinstance(expr, LogExpr):
        raise LogQLQueryError(
            "log queries are not supported as an instant query type, please change your query to a "
            "range query type"
        )
    steps = (time_ns,)
    return MetricResult(steps, _finish(_eval(index, expr, steps)), instant=True)


def _finish(vectors: dict[LabelKey, FloatArray]) -> tuple[MetricSeries, ...]:
    return tuple(
        MetricSeries(dict(key), values)
        for key, values in sorted(vectors.items())
        if not bool(np.all(np.isnan(values)))
    )


# -- log queries -------------------------------------------------------------------------------------


def _leading_filters(stages: tuple[Stage, ...]) -> tuple[tuple[LineFilter, ...], tuple[Stage, ...]]:
    """The line filters before any parser (answered from the stream's cached masks), and the rest."""
    n = 0
    while n < len(stages) and isinstance(stages[n], LineFilter):
        n += 1
    return tuple(f for f in stages[:n] if isinstance(f, LineFilter)), stages[n:]


def _stream_entries(
    s: IndexedStream, expr: LogExpr, start_ns: int, end_ns: int, backward: bool, counter: list[int]
) -> Iterator[tuple[int, int, Entry]]:
    lo, hi = s.span(start_ns, end_ns, include_end=False)
    order = range(hi - 1, lo - 1, -1) if backward else range(lo, hi)
    filters, rest = _leading_filters(expr.stages)
    mask = s.passing(filters)
    for i in order:
        counter[0] += 1
        counter[1] += len(s.lines[i])
        if mask is not None and not mask[i]:
            continue
        entry = run_pipeline(rest, s.labels, s.lines[i])
        if entry is not None:
            ts = int(s.ts[i])
            # heapq.merge needs one ascending key: negate time when newest comes first.
            yield (-ts if backward else ts), ts, entry


def _run_log_query(
    index: LogIndex, expr: LogExpr, start_ns: int, end_ns: int, limit: int, direction: Direction
) -> StreamsResult:
    if limit <= 0:
        raise LogQLQueryError("invalid query, limit must be a positive number")
    backward = direction == "backward"
    counter = [0, 0]
    merged = heapq.merge(
        *(_stream_entries(s, expr, start_ns, end_ns, backward, counter) for s in index.select(expr.matchers)),
        key=lambda item: item[0],
    )
    grouped: dict[LabelKey, list[tuple[int, str]]] = {}
    labels_of: dict[LabelKey, Mapping[str, str]] = {}
    for n, (_, ts, entry) in enumerate(merged):
        if n >= limit:
            break
        key = tuple(sorted(entry.labels.items()))
        grouped.setdefault(key, []).append((ts, entry.line))
        labels_of.setdefault(key, entry.labels)
    streams = tuple(StreamResult(dict(labels_of[k]), tuple(v)) for k, v in grouped.items())
    return StreamsResult(streams, counter[0], counter[1])


# -- metric queries ----------------------------------------------------------------------------------


def _eval(index: LogIndex, expr: MetricExpr, steps: tuple[int, ...]) -> dict[LabelKey, FloatArray]:
    if isinstance(expr, RangeAgg):
        return _range_agg(index, expr, steps)
    if isinstance(expr, VecAgg):
        return _vec_agg(expr, _eval(index, expr.inner, steps))
    if isinstance(expr, Scalar):
        return {(): np.full(len(steps), expr.value)}
    return _binary(index, expr, steps)


def _group_key(labels: Mapping[str, str], grouping: Grouping | None) -> LabelKey:
    if grouping is None:
        return ()
    if grouping.without:
        return tuple(sorted((k, v) for k, v in labels.items() if k not in grouping.labels))
    return tuple(sorted((k, v) for k, v in labels.items() if k in grouping.labels))


def _unwrap_value(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        ns = duration_ns(raw)
        return ns / 1e9 if ns > 0 or raw.startswith("0") else None


def _range_agg(index: LogIndex, expr: RangeAgg, steps: tuple[int, ...]) -> dict[LabelKey, FloatArray]:
    window_start = steps[0] - expr.range_ns
    window_end = steps[-1]
    samples: dict[LabelKey, tuple[list[int], list[float]]] = {}
    filters, rest = _leading_filters(expr.log.stages)
    for s in index.select(expr.log.matchers):
        lo, hi = s.span(window_start, window_end, include_end=True)
        mask = s.passing(filters)
        for i in range(lo, hi) if mask is None else (lo + np.flatnonzero(mask[lo:hi])).tolist():
            entry = run_pipeline(rest, s.labels, s.lines[i])
            if entry is None:
                continue
            labels = entry.labels
            if expr.unwrap is not None:
                value = _unwrap_value(labels.get(expr.unwrap))
                if value is None:
                    continue  # Loki flags a sample-extraction error; the lab drops the line instead
                labels = {k: v for k, v in labels.items() if k != expr.unwrap}
            elif expr.op in ("bytes_over_time", "bytes_rate"):
                value = float(len(s.lines[i].encode()))
            else:
                value = 1.0
            key = _group_key(labels, expr.grouping) if expr.grouping else tuple(sorted(labels.items()))
            ts_list, val_list = samples.setdefault(key, ([], []))
            ts_list.append(int(s.ts[i]))
            val_list.append(value)
    step_arr = np.asarray(steps, dtype=np.int64)
    out: dict[LabelKey, FloatArray] = {}
    for key, (ts_list, val_list) in samples.items():
        order = np.argsort(np.asarray(ts_list, dtype=np.int64), kind="stable")
        ts = np.asarray(ts_list, dtype=np.int64)[order]
        vals = np.asarray(val_list, dtype=np.float64)[order]
        hi_idx: IntArray = np.searchsorted(ts, step_arr, "right")
        lo_idx: IntArray = np.searchsorted(ts, step_arr - expr.range_ns, "right")
        out[key] = _window_values(expr, vals, lo_idx, hi_idx)
    return out


def _window_values(expr: RangeAgg, vals: FloatArray, lo: IntArray, hi: IntArray) -> FloatArray:
    n = (hi - lo).astype(np.float64)
    empty = n == 0
    range_s = expr.range_ns / 1e9
    cumsum = np.concatenate(([0.0], np.cumsum(vals)))
    sums = cumsum[hi] - cumsum[lo]
    result: FloatArray
    if expr.op == "count_over_time":
        result = n
    elif expr.op == "rate":
        result = n / range_s
    elif expr.op in ("bytes_over_time", "sum_over_time"):
        result = sums
    elif expr.op == "bytes_rate":
        result = sums / range_s
    elif expr.op == "avg_over_time":
        result = np.divide(sums, n, out=np.zeros_like(sums), where=~empty)
    else:
        result = np.full(len(lo), np.nan)
        for j, (a, b) in enumerate(zip(lo, hi, strict=True)):
            if b > a:
                window = vals[a:b]
                if expr.op == "max_over_time":
                    result[j] = float(window.max())
                elif expr.op == "min_over_time":
                    result[j] = float(window.min())
                else:  # quantile_over_time
                    assert expr.param is not None
                    result[j] = float(np.quantile(window, expr.param))
    return np.where(empty, np.nan, result)


def _vec_agg(expr: VecAgg, vectors: dict[LabelKey, FloatArray]) -> dict[LabelKey, FloatArray]:
    groups: dict[LabelKey, list[tuple[LabelKey, FloatArray]]] = {}
    for key, values in vectors.items():
        groups.setdefault(_group_key(dict(key), expr.grouping), []).append((key, values))
    out: dict[LabelKey, FloatArray] = {}
    for gkey, members in groups.items():
        stack = np.vstack([v for _, v in members])
        present = ~np.isnan(stack)
        count = present.sum(axis=0).astype(np.float64)
        none = count == 0
        if expr.op in ("topk", "bottomk"):
            assert expr.param is not None
            k = int(expr.param)
            ranked = np.where(present, stack, -np.inf if expr.op == "topk" else np.inf)
            order = np.argsort(-ranked if expr.op == "topk" else ranked, axis=0, kind="stable")
            keep = np.zeros_like(present)
            for j in range(stack.shape[1]):
                keep[order[:k, j], j] = True
            kept = np.where(keep & present, stack, np.nan)
            for (key, _), row in zip(members, kept, strict=True):
                out[key] = row
            continue
        filled = np.where(present, stack, 0.0)
        total = filled.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            if expr.op == "sum":
                agg = total
            elif expr.op == "count":
                agg = count
            elif expr.op == "avg":
                agg = total / count
            elif expr.op == "max":
                agg = np.where(present, stack, -np.inf).max(axis=0)
            elif expr.op == "min":
                agg = np.where(present, stack, np.inf).min(axis=0)
            else:  # stddev / stdvar (population, as Prometheus)
                mean = total / count
                var = (np.where(present, (stack - mean) ** 2, 0.0)).sum(axis=0) / count
                agg = var if expr.op == "stdvar" else np.sqrt(var)
        out[gkey] = np.where(none, np.nan, agg)
    return out


_ARITH = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "%": np.fmod,
    "^": np.power,
}
_CMP = {
    "==": np.equal,
    "!=": np.not_equal,
    ">": np.greater,
    "<": np.less,
    ">=": np.greater_equal,
    "<=": np.less_equal,
}


def _apply(op: str, a: FloatArray, b: FloatArray, return_bool: bool, keep: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        if op in _ARITH:
            result: FloatArray = _ARITH[op](a, b)
            return result
        hit = _CMP[op](a, b)
        missing = np.isnan(a) | np.isnan(b)
        if return_bool:
            return np.where(missing, np.nan, hit.astype(np.float64))
        return np.where(hit & ~missing, keep, np.nan)


def _binary(index: LogIndex, expr: Binary, steps: tuple[int, ...]) -> dict[LabelKey, FloatArray]:
    left = _eval(index, expr.left, steps)
    right = _eval(index, expr.right, steps)
    lscalar = isinstance(expr.left, Scalar)
    rscalar = isinstance(expr.right, Scalar)
    if rscalar:
        b = right[()]
        return {k: _apply(expr.op, v, b, expr.return_bool, v) for k, v in left.items()}
    if lscalar:
        a = left[()]
        return {k: _apply(expr.op, a, v, expr.return_bool, v) for k, v in right.items()}
    # One-to-one matching on identical label sets (no on()/ignoring() in the subset).
    return {k: _apply(expr.op, v, right[k], expr.return_bool, v) for k, v in left.items() if k in right}


def is_metric_query(query: str) -> bool:
    expr: Expr = parse(query)
    return not isinstance(expr, LogExpr)
