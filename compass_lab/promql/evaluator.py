"""Walks the promql-parser AST, evaluating every node at all steps of a grid at once."""

from __future__ import annotations

import numpy as np
import promql_parser as pp

from compass_lab.promql import functions as fn
from compass_lab.promql.aggregate import aggregate
from compass_lab.promql.binops import ARITHMETIC, COMPARISON, Card, Matching, scalar_scalar, vector_scalar
from compass_lab.promql.binops import vector_vector as vv_binop
from compass_lab.promql.errors import PromQLError, unsupported
from compass_lab.promql.flat import FlatSeries
from compass_lab.promql.histogram import histogram_quantile
from compass_lab.promql.labels import drop_name
from compass_lab.promql.parse import datetime_ms, duration_ms, matchers_of
from compass_lab.promql.rangefuncs import RANGE_FUNCTIONS, apply_range_function, window_bounds
from compass_lab.promql.store import SeriesStore
from compass_lab.promql.values import (
    DEFAULT_SUBQUERY_STEP_MS,
    BoolArray,
    FloatArray,
    Grid,
    IntArray,
    MatrixValue,
    RangeSeries,
    ScalarValue,
    StringValue,
    Value,
    VectorValue,
    merge_rows,
)

LOOKBACK_MS = 300_000  # Prometheus' default --query.lookback-delta

_CARD: list[tuple[pp.VectorMatchCardinality, Card]] = [
    (pp.VectorMatchCardinality.OneToOne, "one-to-one"),
    (pp.VectorMatchCardinality.ManyToOne, "many-to-one"),
    (pp.VectorMatchCardinality.OneToMany, "one-to-many"),
    (pp.VectorMatchCardinality.ManyToMany, "many-to-many"),
]


def unwrap(node: pp.Expr) -> pp.Expr:
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    return node


class Evaluator:
    """Evaluates expressions over `grid`; `query_start_ms`/`query_end_ms` resolve `@ start()/end()`."""

    def __init__(self, store: SeriesStore, grid: Grid, query_start_ms: int, query_end_ms: int) -> None:
        self.store = store
        self.grid = grid
        self.query_start_ms = query_start_ms
        self.query_end_ms = query_end_ms

    # --- helpers ---------------------------------------------------------------------------------

    def _at_ms(self, at: pp.AtModifier | None) -> int | None:
        if at is None:
            return None
        if at.type == pp.AtModifierType.Start:
            return self.query_start_ms
        if at.type == pp.AtModifierType.End:
            return self.query_end_ms
        assert at.at is not None
        return datetime_ms(at.at)

    def _eval_times(self, at: pp.AtModifier | None, offset_ms: int) -> IntArray:
        at_ms = self._at_ms(at)
        base = self.grid.times if at_ms is None else np.full(self.grid.size, at_ms, dtype=np.int64)
        return base - offset_ms

    def scalar(self, node: pp.Expr) -> FloatArray:
        value = self.eval(node)
        if not isinstance(value, ScalarValue):
            raise PromQLError("bad_data", "expected a scalar argument")
        return value.values

    def vector(self, node: pp.Expr) -> VectorValue:
        value = self.eval(node)
        if not isinstance(value, VectorValue):
            raise PromQLError("bad_data", "expected an instant vector argument")
        return value

    def matrix(self, node: pp.Expr) -> MatrixValue:
        value = self.eval(node)
        if not isinstance(value, MatrixValue):
            raise PromQLError("bad_data", "expected a range vector argument")
        return value

    # --- nodes -----------------------------------------------------------------------------------

    def eval(self, node: pp.Expr) -> Value:
        steps = self.grid.size
        if isinstance(node, pp.NumberLiteral):
            return ScalarValue(np.full(steps, float(node.val)))
        if isinstance(node, pp.StringLiteral):
            return StringValue(node.val)
        if isinstance(node, pp.ParenExpr):
            return self.eval(node.expr)
        if isinstance(node, pp.UnaryExpr):
            return self._negate(self.eval(node.expr))
        if isinstance(node, pp.VectorSelector):
            return self.select_instant(node)[0]
        if isinstance(node, pp.MatrixSelector):
            return self._matrix_selector(node)
        if isinstance(node, pp.SubqueryExpr):
            return self._subquery(node)
        if isinstance(node, pp.Call):
            return self._call(node)
        if isinstance(node, pp.AggregateExpr):
            return self._aggregate(node)
        if isinstance(node, pp.BinaryExpr):
            return self._binary(node)
        raise unsupported(f"expression {type(node).__name__}")

    def _negate(self, value: Value) -> Value:
        if isinstance(value, ScalarValue):
            return ScalarValue(-value.values)
        if isinstance(value, VectorValue):
            return merge_rows([drop_name(lab) for lab in value.labels], -value.values, value.present)
        raise PromQLError("bad_data", "unary minus needs a scalar or an instant vector")

    def select_instant(self, node: pp.VectorSelector) -> tuple[VectorValue, IntArray]:
        """Latest sample within the lookback window [t - 5m, t] (Prometheus 2.x: both ends closed).

        Also returns each value's sample timestamp, which only `timestamp()` needs.
        """
        times = self._eval_times(node.at, duration_ms(node.offset))
        series = self.store.select(matchers_of(node))
        flat = FlatSeries.of(series)
        steps = self.grid.size
        if flat.t.size == 0:
            return VectorValue.empty(steps), np.zeros((0, steps), dtype=np.int64)
        idx = flat.search(times, "right") - 1
        safe = np.maximum(idx, 0)
        sample_t = flat.t[safe]
        present = (idx >= flat.starts[:-1, None]) & (sample_t >= times[None, :] - LOOKBACK_MS)
        keep = present.any(axis=1)
        rows = np.flatnonzero(keep)
        vec = VectorValue(tuple(series[i].labels for i in rows), flat.v[safe[rows]], present[rows])
        return vec, sample_t[rows]

    def _matrix_selector(self, node: pp.MatrixSelector) -> MatrixValue:
        vs = node.vector_selector
        window_end = self._eval_times(vs.at, duration_ms(vs.offset))
        series = tuple(self.store.select(matchers_of(vs)))
        return MatrixValue(series, duration_ms(node.range), window_end)

    def _subquery(self, node: pp.SubqueryExpr) -> MatrixValue:
        offset = duration_ms(node.offset)
        range_ms = duration_ms(node.range)
        step = duration_ms(node.step) if node.step is not None else DEFAULT_SUBQUERY_STEP_MS
        if step <= 0:
            raise PromQLError("bad_data", "subquery step must be positive")
        at_ms = self._at_ms(node.at)
        outer_start = self.grid.start_ms if at_ms is None else at_ms
        outer_end = self.grid.end_ms if at_ms is None else at_ms
        # Prometheus aligns the inner grid to multiples of the step (absolute time), not to the query.
        lowest = outer_start - offset - range_ms
        start = step * (lowest // step)
        if start < lowest:
            start += step
        inner_grid = Grid.of(start, outer_end - offset, step)
        inner = Evaluator(self.store, inner_grid, self.query_start_ms, self.query_end_ms)
        value = inner.eval(node.expr)
        if not isinstance(value, VectorValue):
            raise PromQLError("bad_data", "subquery is only allowed on instant vector")
        series = tuple(
            RangeSeries(lab, inner_grid.times[value.present[i]], value.values[i][value.present[i]])
            for i, lab in enumerate(value.labels)
        )
        return MatrixValue(series, range_ms, self._eval_times(node.at, offset))

    # --- functions -------------------------------------------------------------------------------

    def _call(self, node: pp.Call) -> Value:
        name = node.func.name
        args = list(node.args)
        steps = self.grid.size
        times_s = self.grid.times / 1000.0
        if name in RANGE_FUNCTIONS:
            if name == "quantile_over_time":
                return apply_range_function(name, self.matrix(args[1]), (self.scalar(args[0]),))
            if name == "predict_linear":
                params = (self.scalar(args[1]), self.grid.times.astype(np.float64))
                return apply_range_function(name, self.matrix(args[0]), params)
            return apply_range_function(name, self.matrix(args[0]), ())
        if name == "time":
            return ScalarValue(times_s)
        if name == "vector":
            return VectorValue(((),), self.scalar(args[0])[None, :], np.ones((1, steps), dtype=np.bool_))
        if name == "scalar":
            vec = self.vector(args[0])
            count = vec.present.sum(axis=0)
            only = np.where(vec.present, vec.values, 0.0).sum(axis=0) if vec.labels else np.zeros(steps)
            return ScalarValue(np.where(count == 1, only, np.nan))
        if name in fn.MATH:
            return fn.map_values(self.vector(args[0]), fn.MATH[name])
        if name == "round":
            nearest = self.scalar(args[1]) if len(args) > 1 else np.ones(steps)
            return fn.round_to(self.vector(args[0]), nearest)
        if name == "clamp":
            return fn.clamp(self.vector(args[0]), self.scalar(args[1]), self.scalar(args[2]))
        if name == "clamp_min":
            return fn.clamp(self.vector(args[0]), self.scalar(args[1]), np.full(steps, np.inf))
        if name == "clamp_max":
            return fn.clamp(self.vector(args[0]), np.full(steps, -np.inf), self.scalar(args[1]))
        if name == "timestamp":
            return self._timestamp(args[0])
        if name == "histogram_quantile":
            return histogram_quantile(self.scalar(args[0]), self.vector(args[1]))
        if name == "label_replace":
            strs = [self._string(a) for a in args[1:]]
            return fn.label_replace(self.vector(args[0]), strs[0], strs[1], strs[2], strs[3])
        if name == "label_join":
            strs = [self._string(a) for a in args[1:]]
            return fn.label_join(self.vector(args[0]), strs[0], strs[1], strs[2:])
        if name in ("sort", "sort_desc"):
            return fn.sort_rows(self.vector(args[0]), descending=name == "sort_desc")
        if name == "absent":
            return self._absent(args[0], np.asarray(self.vector(args[0]).present.any(axis=0), dtype=np.bool_))
        if name == "absent_over_time":
            m = self.matrix(args[0])
            lo, hi = window_bounds(FlatSeries.of(m.series), m)
            return self._absent(args[0], np.asarray((hi > lo).any(axis=0), dtype=np.bool_))
        raise unsupported(f"function {name}()")

    def _string(self, node: pp.Expr) -> str:
        value = self.eval(node)
        if not isinstance(value, StringValue):
            raise PromQLError("bad_data", "expected a string argument")
        return value.value

    def _timestamp(self, arg: pp.Expr) -> VectorValue:
        inner = unwrap(arg)
        if isinstance(inner, pp.VectorSelector):
            # On a selector, timestamp() reports when the sample was scraped, not the step time.
            vec, sample_t = self.select_instant(inner)
            values = sample_t / 1000.0
        else:
            vec = self.vector(arg)
            values = np.broadcast_to(self.grid.times / 1000.0, vec.values.shape).copy()
        return merge_rows([drop_name(lab) for lab in vec.labels], values, vec.present)

    def _absent(self, arg: pp.Expr, seen: BoolArray) -> VectorValue:
        labels: tuple[tuple[str, str], ...] = ()
        node = arg.vector_selector if isinstance(arg, pp.MatrixSelector) else arg
        if isinstance(node, pp.VectorSelector):
            labels = fn.absent_labels([(m.name, m.op, m.value) for m in matchers_of(node)])
        missing = ~seen
        return VectorValue((labels,), np.ones((1, self.grid.size)), missing[None, :]).compact()

    # --- operators -------------------------------------------------------------------------------

    def _aggregate(self, node: pp.AggregateExpr) -> Value:
        op = str(node.op)
        without = False
        grouping: list[str] = []
        if node.modifier is not None:
            without = node.modifier.type == pp.AggModifierType.Without
            grouping = list(node.modifier.labels)
        param: FloatArray | str | None = None
        raw = node.param
        if op in ("topk", "bottomk", "quantile", "count_values") and not isinstance(raw, pp.Expr):
            raise PromQLError("bad_data", f"{op}() needs a parameter")
        if op in ("topk", "bottomk", "quantile"):
            assert isinstance(raw, pp.Expr)
            param = self.scalar(raw)
        elif op == "count_values":
            assert isinstance(raw, pp.Expr)
            param = self._string(raw)
        elif op not in ("sum", "avg", "min", "max", "count", "stddev", "stdvar", "group"):
            raise unsupported(f"aggregation {op}")
        return aggregate(op, self.vector(node.expr), without, grouping, param)

    def _binary(self, node: pp.BinaryExpr) -> Value:
        op = str(node.op)
        if op not in ARITHMETIC and op not in COMPARISON and op not in ("and", "or", "unless"):
            raise unsupported(f"binary operator {op}")
        mod = node.modifier
        return_bool = bool(mod is not None and mod.return_bool)
        lhs, rhs = self.eval(node.lhs), self.eval(node.rhs)
        if isinstance(lhs, ScalarValue) and isinstance(rhs, ScalarValue):
            return scalar_scalar(op, lhs, rhs, return_bool)
        if isinstance(lhs, VectorValue) and isinstance(rhs, ScalarValue):
            return vector_scalar(op, lhs, rhs, swap=False, return_bool=return_bool)
        if isinstance(lhs, ScalarValue) and isinstance(rhs, VectorValue):
            return vector_scalar(op, rhs, lhs, swap=True, return_bool=return_bool)
        if isinstance(lhs, VectorValue) and isinstance(rhs, VectorValue):
            return vv_binop(op, lhs, rhs, self._matching(op, mod, return_bool))
        raise PromQLError("bad_data", f"binary operator {op} needs scalar or instant vector operands")

    @staticmethod
    def _matching(op: str, mod: pp.BinModifier | None, return_bool: bool) -> Matching:
        if mod is None:
            card: Card = "many-to-many" if op in ("and", "or", "unless") else "one-to-one"
            return Matching(card, False, (), (), return_bool)
        fill = mod.fill_values
        if fill is not None and (fill.lhs is not None or fill.rhs is not None):
            raise unsupported("fill() in vector matching")
        matching = mod.matching
        on = matching is not None and matching.type == pp.LabelModifierType.Include
        names = tuple(matching.labels) if matching is not None else ()
        card = next(c for k, c in _CARD if mod.card == k)
        if op in ("and", "or", "unless"):
            card = "many-to-many"
        return Matching(card, on, names, tuple(mod.group_labels or ()), return_bool)
