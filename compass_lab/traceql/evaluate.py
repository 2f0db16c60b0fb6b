"""Span-level evaluation of TraceQL: attribute look-up, conditions, spanset operators, pipeline filters."""

from __future__ import annotations

from collections.abc import Sequence

from compass_lab.model import Span
from compass_lab.traceql.ast import (
    AggregateFilter,
    Attribute,
    BoolExpr,
    Compare,
    Exists,
    FieldExpr,
    Not,
    Query,
    SpansetExpr,
    SpansetFilter,
    Static,
)
from compass_lab.traceql.index import Trace

AttrValue = str | int | float | bool


def attribute_value(span: Span, trace: Trace, attr: Attribute) -> AttrValue | None:
    """The value TraceQL sees for `attr` on `span` (None = the attribute is absent)."""
    if attr.scope == "intrinsic":
        n = attr.name
        if n == "name":
            return span.name
        if n == "status":
            return span.status
        if n == "statusMessage":
            return span.status_message
        if n == "kind":
            return span.kind
        if n == "duration":
            return span.duration_ns
        if n == "rootName":
            return trace.root.name if trace.root else None
        if n == "rootServiceName":
            return trace.root.service if trace.root else None
        return trace.duration_ns  # traceDuration
    if attr.scope in ("span", "any") and attr.name in span.attributes:
        return span.attributes[attr.name]
    if attr.scope in ("resource", "any"):
        if attr.name == "service.name":
            return span.service
        return span.resource_attributes.get(attr.name)
    return None


def _compare(actual: AttrValue, cond: Compare) -> bool:
    st: Static = cond.static
    op = cond.op
    if cond.regex is not None:
        if not isinstance(actual, str):
            return False
        hit = cond.regex.fullmatch(actual) is not None
        return hit if op == "=~" else not hit
    if st.kind in ("number", "duration"):
        if isinstance(actual, bool) or not isinstance(actual, int | float):
            return False
        a = float(actual)
        b = float(st.value)  # type: ignore[arg-type]  # number/duration statics are floats
    elif st.kind == "bool":
        if not isinstance(actual, bool):
            return False
        return (actual == st.value) if op == "=" else (actual != st.value) if op == "!=" else False
    else:  # string, status, kind: compared as text
        if not isinstance(actual, str):
            return False
        if op == "=":
            return actual == st.value
        if op == "!=":
            return actual != st.value
        sa, sb = actual, str(st.value)
        return {">": sa > sb, "<": sa < sb, ">=": sa >= sb, "<=": sa <= sb}.get(op, False)
    return {"=": a == b, "!=": a != b, ">": a > b, "<": a < b, ">=": a >= b, "<=": a <= b}.get(op, False)


def span_matches(expr: FieldExpr | None, span: Span, trace: Trace) -> bool:
    if expr is None:
        return True
    if isinstance(expr, BoolExpr):
        if expr.op == "&&":
            return span_matches(expr.left, span, trace) and span_matches(expr.right, span, trace)
        return span_matches(expr.left, span, trace) or span_matches(expr.right, span, trace)
    if isinstance(expr, Not):
        return not span_matches(expr.inner, span, trace)
    value = attribute_value(span, trace, expr.attr)
    if isinstance(expr, Exists):
        return value is not None and value is not False
    if value is None:
        return False  # Tempo: a condition on a missing attribute never matches, even with !=
    return _compare(value, expr)


def _descendants_of(ancestors: set[str], trace: Trace, direct: bool) -> set[str]:
    parent = {s.span_id: s.parent_span_id for s in trace.spans}
    out: set[str] = set()
    for s in trace.spans:
        p = s.parent_span_id
        while p:
            if p in ancestors:
                out.add(s.span_id)
                break
            if direct:
                break
            p = parent.get(p)
    return out


def matching_spans(expr: SpansetExpr, trace: Trace) -> list[Span]:
    """Spans of `trace` the spanset expression selects (empty = the trace does not match)."""
    if isinstance(expr, SpansetFilter):
        return [s for s in trace.spans if span_matches(expr.expr, s, trace)]
    left = matching_spans(expr.left, trace)
    right = matching_spans(expr.right, trace)
    if expr.op == "&&":
        return _union(left, right) if left and right else []
    if expr.op == "||":
        return _union(left, right)
    keep = _descendants_of({s.span_id for s in left}, trace, direct=expr.op == ">")
    return [s for s in right if s.span_id in keep]


def _union(a: Sequence[Span], b: Sequence[Span]) -> list[Span]:
    seen = {s.span_id for s in a}
    return [*a, *(s for s in b if s.span_id not in seen)]


def _aggregate(f: AggregateFilter, spans: Sequence[Span], trace: Trace) -> float | None:
    if f.func == "count":
        return float(len(spans))
    assert f.attr is not None
    raw = [attribute_value(s, trace, f.attr) for s in spans]
    nums = [float(v) for v in raw if isinstance(v, int | float) and not isinstance(v, bool)]
    if not nums:
        return None
    if f.attr.scope == "intrinsic" and f.attr.name in ("duration", "traceDuration"):
        nums = [n / 1e9 for n in nums]
    if f.func == "avg":
        return sum(nums) / len(nums)
    if f.func == "max":
        return max(nums)
    if f.func == "min":
        return min(nums)
    return sum(nums)


def evaluate_trace(query: Query, trace: Trace) -> list[Span]:
    spans = matching_spans(query.spansets, trace)
    for stage in query.stages:
        if isinstance(stage, AggregateFilter) and spans:
            value = _aggregate(stage, spans, trace)
            v = stage.value
            ok = value is not None and {
                "=": value == v,
                "!=": value != v,
                ">": value > v,
                "<": value < v,
                ">=": value >= v,
                "<=": value <= v,
            }.get(stage.op, False)
            if not ok:
                spans = []
    return spans
