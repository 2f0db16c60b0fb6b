"""Hand-written parser for the TraceQL subset; unsupported syntax fails with Tempo's 400 error text."""

from __future__ import annotations

import re
from typing import cast, get_args

from compass_lab.traceql.ast import (
    AggFunc,
    AggregateFilter,
    Attribute,
    BoolExpr,
    CmpOp,
    Compare,
    Exists,
    FieldExpr,
    Intrinsic,
    MetricFunc,
    MetricsStage,
    Not,
    PipelineStage,
    Query,
    Scope,
    Select,
    SpansetExpr,
    SpansetFilter,
    SpansetOp,
    SpansetOpKind,
    Static,
)
from compass_lab.traceql.errors import TraceQLParseError
from compass_lab.traceql.lexer import Tok, Token, duration_ns, tokenize

_INTRINSICS = frozenset(get_args(Intrinsic))
# Scoped intrinsic spellings (`span:duration`, `trace:rootService`) → the plain intrinsic.
_SCOPED_INTRINSICS = {
    "span:name": "name",
    "span:status": "status",
    "span:statusMessage": "statusMessage",
    "span:kind": "kind",
    "span:duration": "duration",
    "trace:rootName": "rootName",
    "trace:rootService": "rootServiceName",
    "trace:duration": "traceDuration",
}
_CMP = frozenset(get_args(CmpOp))
_STATUS = frozenset({"error", "ok", "unset"})
_KINDS = frozenset({"server", "client", "internal", "producer", "consumer", "unspecified"})
_METRIC_FUNCS = frozenset(get_args(MetricFunc))
_AGG_FUNCS = frozenset({"count", "avg", "max", "min", "sum"})


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = tokenize(text)
        self.pos = 0

    @property
    def tok(self) -> Token:
        return self.toks[self.pos]

    def advance(self) -> Token:
        t = self.tok
        self.pos += 1
        return t

    def is_op(self, *ops: str) -> bool:
        return self.tok.kind == Tok.OP and self.tok.text in ops

    def fail(self, expecting: str = "") -> TraceQLParseError:
        detail = f"unexpected {self.tok.describe()}"
        return TraceQLParseError(self.tok.col, detail + (f", expecting {expecting}" if expecting else ""))

    def expect_op(self, op: str) -> Token:
        if not self.is_op(op):
            raise self.fail(op)
        return self.advance()

    # -- spansets ------------------------------------------------------------------------------------
    def query(self) -> Query:
        spansets = self.spanset_expr()
        stages: list[PipelineStage] = []
        metrics: MetricsStage | None = None
        while self.is_op("|"):
            self.advance()
            if metrics is not None:
                raise self.fail()
            stage = self.pipeline_stage()
            if isinstance(stage, MetricsStage):
                metrics = stage
            else:
                stages.append(stage)
        if self.tok.kind != Tok.EOF:
            raise self.fail()
        return Query(spansets, tuple(stages), metrics)

    def spanset_expr(self) -> SpansetExpr:
        left = self.spanset_and()
        while self.is_op("||"):
            self.advance()
            left = SpansetOp("||", left, self.spanset_and())
        return left

    def spanset_and(self) -> SpansetExpr:
        left = self.spanset_term()
        while self.is_op("&&", ">", ">>"):
            op = cast(SpansetOpKind, self.advance().text)
            left = SpansetOp(op, left, self.spanset_term())
        return left

    def spanset_term(self) -> SpansetExpr:
        if self.is_op("("):
            self.advance()
            inner = self.spanset_expr()
            self.expect_op(")")
            return inner
        self.expect_op("{")
        if self.is_op("}"):
            self.advance()
            return SpansetFilter(None)
        expr = self.field_or()
        self.expect_op("}")
        return SpansetFilter(expr)

    # -- field expressions -----------------------------------------------------------------------------
    def field_or(self) -> FieldExpr:
        left = self.field_and()
        while self.is_op("||"):
            self.advance()
            left = BoolExpr("||", left, self.field_and())
        return left

    def field_and(self) -> FieldExpr:
        left = self.field_unary()
        while self.is_op("&&"):
            self.advance()
            left = BoolExpr("&&", left, self.field_unary())
        return left

    def field_unary(self) -> FieldExpr:
        if self.is_op("!"):
            self.advance()
            return Not(self.field_unary())
        if self.is_op("("):
            self.advance()
            inner = self.field_or()
            self.expect_op(")")
            return inner
        attr = self.attribute()
        if not (self.tok.kind == Tok.OP and self.tok.text in _CMP):
            return Exists(attr)
        op = cast(CmpOp, self.advance().text)
        static = self.static()
        if static.kind == "nil":
            if op == "!=":
                return Exists(attr)
            if op == "=":
                return Not(Exists(attr))
            raise TraceQLParseError(self.toks[self.pos - 1].col, "unexpected nil")
        regex = None
        if op in ("=~", "!~"):
            if static.kind != "string":
                raise TraceQLParseError(
                    self.toks[self.pos - 1].col, f"unexpected {static.kind}, expecting STRING"
                )
            try:
                regex = re.compile(str(static.value))
            except re.error as err:
                raise TraceQLParseError(self.toks[self.pos - 1].col, f"invalid regex: {err}") from None
        return Compare(attr, op, static, regex)

    def attribute(self) -> Attribute:
        t = self.tok
        if t.kind == Tok.ATTR:
            self.advance()
            scope, _, name = t.text.partition(".")
            if scope in ("event", "link", "instrumentation"):
                raise TraceQLParseError(t.col, f"unexpected ATTRIBUTE, scope {scope} is not supported")
            return Attribute("any" if scope == "" else cast(Scope, scope), name)
        if t.kind == Tok.IDENT:
            name = _SCOPED_INTRINSICS.get(t.text, t.text)
            if name in _INTRINSICS:
                self.advance()
                return Attribute("intrinsic", name)
        raise self.fail("attribute")

    def static(self) -> Static:
        t = self.advance()
        if t.kind == Tok.STRING:
            return Static("string", t.text)
        if t.kind == Tok.NUMBER:
            return Static("number", float(t.text))
        if t.kind == Tok.DURATION:
            return Static("duration", float(duration_ns(t.text)))
        if t.kind == Tok.OP and t.text == "-" and self.tok.kind == Tok.NUMBER:
            return Static("number", -float(self.advance().text))
        if t.kind == Tok.IDENT:
            if t.text in _STATUS:
                return Static("status", t.text)
            if t.text in _KINDS:
                return Static("kind", t.text)
            if t.text in ("true", "false"):
                return Static("bool", t.text == "true")
            if t.text == "nil":
                return Static("nil", None)
        self.pos -= 1
        raise self.fail("static value")

    # -- pipeline ----------------------------------------------------------------------------------------
    def pipeline_stage(self) -> PipelineStage | MetricsStage:
        t = self.tok
        if t.kind != Tok.IDENT:
            raise self.fail()
        name = t.text
        self.advance()
        self.expect_op("(")
        if name == "select":
            attrs = [self.attribute()]
            while self.is_op(","):
                self.advance()
                attrs.append(self.attribute())
            self.expect_op(")")
            return Select(tuple(attrs))
        if name in _AGG_FUNCS:
            attr = None if name == "count" else self.attribute()
            self.expect_op(")")
            if not (self.tok.kind == Tok.OP and self.tok.text in _CMP - {"=~", "!~"}):
                raise self.fail("comparison")
            op = cast(CmpOp, self.advance().text)
            static = self.static()
            if static.kind == "duration":
                value = float(cast(float, static.value)) / 1e9
            elif static.kind == "number":
                value = float(cast(float, static.value))
            else:
                raise self.fail("NUMBER or DURATION")
            return AggregateFilter(cast(AggFunc, name), attr, op, value)
        if name in _METRIC_FUNCS:
            return self.metrics_stage(cast(MetricFunc, name))
        self.pos -= 2
        raise self.fail()

    def metrics_stage(self, func: MetricFunc) -> MetricsStage:
        attr: Attribute | None = None
        quantiles: list[float] = []
        if func not in ("rate", "count_over_time"):
            attr = self.attribute()
            if func == "quantile_over_time":
                while self.is_op(","):
                    self.advance()
                    q = self.tok
                    if q.kind != Tok.NUMBER:
                        raise self.fail("NUMBER")
                    self.advance()
                    quantiles.append(float(q.text))
                if not quantiles:
                    raise self.fail(",")
        self.expect_op(")")
        by: list[Attribute] = []
        if self.tok.kind == Tok.IDENT and self.tok.text == "by":
            self.advance()
            self.expect_op("(")
            by.append(self.attribute())
            while self.is_op(","):
                self.advance()
                by.append(self.attribute())
            self.expect_op(")")
        return MetricsStage(func, attr, tuple(quantiles), tuple(by))


def parse(text: str) -> Query:
    """Parse a TraceQL query (search or metrics) of the supported subset."""
    if not text.strip():
        raise TraceQLParseError(1, "unexpected $end")
    return _Parser(text).query()
