"""query_range / query_instant: evaluate and shape the result as Prometheus' API `data` object."""

from __future__ import annotations

import numpy as np
import promql_parser as pp

from compass_lab.promql.errors import PromQLError
from compass_lab.promql.evaluator import Evaluator, unwrap
from compass_lab.promql.flat import FlatSeries
from compass_lab.promql.format import format_value, format_values, ms_to_seconds
from compass_lab.promql.labels import labels_to_dict
from compass_lab.promql.parse import parse
from compass_lab.promql.rangefuncs import window_bounds
from compass_lab.promql.store import SeriesStore, to_ms
from compass_lab.promql.values import Grid, MatrixValue, ScalarValue, StringValue, VectorValue

MAX_POINTS = 11_000

# The JSON shape Prometheus returns (the API's `data` member): built here, only serialised by callers.
ResultData = dict[str, object]
Point = list[float | str]

_TYPE_NAMES = {
    pp.MatrixSelector: "range vector",
    pp.SubqueryExpr: "range vector",
    pp.StringLiteral: "string",
}


def _expr_type(node: pp.Expr) -> str:
    node = unwrap(node)
    for cls, name in _TYPE_NAMES.items():
        if isinstance(node, cls):
            return name
    if isinstance(node, pp.Call) and node.func.return_type == pp.ValueType.Matrix:
        return "range vector"
    return "instant vector or scalar"


def query_range(store: SeriesStore, expr: str, start: float, end: float, step: float) -> ResultData:
    start_ms, end_ms, step_ms = to_ms(start), to_ms(end), to_ms(step)
    if end_ms < start_ms:
        raise PromQLError("bad_data", "end timestamp must not be before start time")
    if step_ms <= 0:
        raise PromQLError(
            "bad_data",
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        )
    if (end_ms - start_ms) // step_ms > MAX_POINTS:
        raise PromQLError(
            "bad_data",
            "exceeded maximum resolution of 11,000 points per timeseries. "
            "Try decreasing the query resolution (?step=XX)",
        )
    node = parse(expr)
    kind = _expr_type(node)
    if kind in ("range vector", "string"):
        raise PromQLError(
            "bad_data", f'invalid expression type "{kind}" for range query, must be Scalar or instant Vector'
        )
    grid = Grid.of(start_ms, end_ms, step_ms)
    value = Evaluator(store, grid, start_ms, end_ms).eval(node)
    if isinstance(value, ScalarValue):
        values = _points(grid.times, format_values(value.values))
        return {"resultType": "matrix", "result": [{"metric": {}, "values": values}]}
    if not isinstance(value, VectorValue):
        raise PromQLError(
            "bad_data", "invalid expression type for range query, must be Scalar or instant Vector"
        )
    result: list[ResultData] = []
    for i in sorted(range(len(value.labels)), key=lambda k: value.labels[k]):
        idx = np.flatnonzero(value.present[i])
        if idx.size:
            points = _points(grid.times[idx], format_values(value.values[i, idx]))
            result.append({"metric": labels_to_dict(value.labels[i]), "values": points})
    return {"resultType": "matrix", "result": result}


def query_instant(store: SeriesStore, expr: str, time: float) -> ResultData:
    t_ms = to_ms(time)
    node = parse(expr)
    grid = Grid.of(t_ms, t_ms, 1)
    value = Evaluator(store, grid, t_ms, t_ms).eval(node)
    ts = ms_to_seconds(t_ms)
    if isinstance(value, ScalarValue):
        return {"resultType": "scalar", "result": [ts, format_value(float(value.values[0]))]}
    if isinstance(value, StringValue):
        return {"resultType": "string", "result": [ts, value.value]}
    if isinstance(value, MatrixValue):
        return {"resultType": "matrix", "result": _raw_matrix(value)}
    vector = [
        {"metric": labels_to_dict(lab), "value": [ts, format_value(float(value.values[i, 0]))]}
        for i, lab in enumerate(value.labels)
        if value.present[i, 0]
    ]
    return {"resultType": "vector", "result": vector}


def _raw_matrix(m: MatrixValue) -> list[ResultData]:
    """A bare range selector at an instant: the raw samples of each series' window."""
    ordered = sorted(m.series, key=lambda s: s.labels)
    flat = FlatSeries.of(ordered)
    if flat.t.size == 0:
        return []
    lo, hi = window_bounds(flat, m)
    out: list[ResultData] = []
    for i, rs in enumerate(ordered):
        sl = slice(int(lo[i, 0]), int(hi[i, 0]))
        if sl.stop > sl.start:
            points = _points(flat.t[sl], format_values(flat.v[sl]))
            out.append({"metric": labels_to_dict(rs.labels), "values": points})
    return out


def _points(times_ms: np.ndarray, values: list[str]) -> list[Point]:
    return list(map(list, zip((times_ms / 1000.0).tolist(), values, strict=True)))
