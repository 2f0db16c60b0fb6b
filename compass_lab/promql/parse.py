"""Parsing via `promql-parser`, with errors shaped like Prometheus' (`1:10: parse error: ...`)."""

from __future__ import annotations

from datetime import datetime, timedelta

import promql_parser as pp

from compass_lab.promql.errors import PromQLError
from compass_lab.promql.labels import METRIC_NAME, LabelMatcher, MatchOpName

# promql-parser's enums are Rust enums: compare by equality (they have no `.name`).
_OPS: list[tuple[pp.MatchOp, MatchOpName]] = [
    (pp.MatchOp.Equal, "="),
    (pp.MatchOp.NotEqual, "!="),
    (pp.MatchOp.Re, "=~"),
    (pp.MatchOp.NotRe, "!~"),
]


def _op(op: pp.MatchOp) -> MatchOpName:
    for k, v in _OPS:
        if op == k:
            return v
    raise PromQLError("bad_data", f"unknown label matcher operator {op!r}")


# promql-parser's messages carry no position. Prometheus reports lexer errors that hit the end of
# the input at len(query)+1; for the rest we only know the line, so we point at column 1.
_AT_END = ("unclosed left", "unexpected end of input", "invalid promql query")


def parse(expr: str) -> pp.Expr:
    if not expr.strip():
        raise PromQLError("bad_data", "1:1: parse error: no expression found in input")
    try:
        return pp.parse(expr)
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        col = len(expr) + 1 if any(msg.startswith(p) for p in _AT_END) else 1
        if msg == "invalid promql query":
            msg = "unexpected end of input" if col > 1 else msg
        raise PromQLError("bad_data", f"1:{col}: parse error: {msg}") from exc


def matchers_of(vs: pp.VectorSelector) -> list[LabelMatcher]:
    if vs.matchers.or_matchers:
        raise PromQLError("bad_data", "'or' inside a label selector is not supported by Prometheus 2.42")
    out = [LabelMatcher.of(m.name, _op(m.op), m.value) for m in vs.matchers.matchers]
    if vs.name is not None:
        out.append(LabelMatcher.of(METRIC_NAME, "=", vs.name))
    return out


def parse_selector(text: str) -> list[LabelMatcher]:
    """A `match[]` parameter: a bare series selector, as Prometheus' ParseMetricSelector accepts."""
    node = parse(text)
    if not isinstance(node, pp.VectorSelector) or node.offset is not None or node.at is not None:
        raise PromQLError("bad_data", f"1:1: parse error: expected a series selector, got {text!r}")
    return matchers_of(node)


def duration_ms(d: timedelta | None) -> int:
    if d is None:
        return 0
    return (d.days * 86_400_000) + (d.seconds * 1000) + (d.microseconds // 1000)


def datetime_ms(d: datetime) -> int:
    return round(d.timestamp() * 1000.0)
