"""TraceQL syntax tree for the supported subset."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Scope = Literal["resource", "span", "any", "intrinsic"]
Intrinsic = Literal[
    "name", "status", "statusMessage", "kind", "duration", "rootName", "rootServiceName", "traceDuration"
]
CmpOp = Literal["=", "!=", "=~", "!~", ">", "<", ">=", "<="]
StaticKind = Literal["string", "number", "duration", "status", "kind", "bool", "nil"]


@dataclass(frozen=True)
class Attribute:
    scope: Scope
    name: str  # attribute key ("service.name") or intrinsic name ("duration")

    @property
    def display(self) -> str:
        """The key Tempo shows on spans in search results: the bare attribute / intrinsic name."""
        return self.name

    @property
    def text(self) -> str:
        """The attribute as written in TraceQL (Tempo's series label key for `by (...)`)."""
        if self.scope == "intrinsic":
            return self.name
        return ("" if self.scope == "any" else self.scope) + "." + self.name


@dataclass(frozen=True)
class Static:
    kind: StaticKind
    value: str | float | bool | None


@dataclass(frozen=True)
class Compare:
    attr: Attribute
    op: CmpOp
    static: Static
    regex: re.Pattern[str] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Exists:
    """A bare boolean attribute (`{ span.cache_hit }`) or `attr != nil`."""

    attr: Attribute


@dataclass(frozen=True)
class BoolExpr:
    op: Literal["&&", "||"]
    left: FieldExpr
    right: FieldExpr


@dataclass(frozen=True)
class Not:
    inner: FieldExpr


FieldExpr = Compare | Exists | BoolExpr | Not


@dataclass(frozen=True)
class SpansetFilter:
    expr: FieldExpr | None  # None = `{ }`, every span


SpansetOpKind = Literal["&&", "||", ">", ">>"]


@dataclass(frozen=True)
class SpansetOp:
    op: SpansetOpKind
    left: SpansetExpr
    right: SpansetExpr


SpansetExpr = SpansetFilter | SpansetOp


@dataclass(frozen=True)
class Select:
    attrs: tuple[Attribute, ...]


AggFunc = Literal["count", "avg", "max", "min", "sum"]


@dataclass(frozen=True)
class AggregateFilter:
    """`| count() > 2`, `| avg(duration) > 1s`: keep spansets whose aggregate passes."""

    func: AggFunc
    attr: Attribute | None
    op: CmpOp
    value: float  # seconds for durations


PipelineStage = Select | AggregateFilter

MetricFunc = Literal[
    "rate",
    "count_over_time",
    "quantile_over_time",
    "avg_over_time",
    "max_over_time",
    "min_over_time",
    "sum_over_time",
]


@dataclass(frozen=True)
class MetricsStage:
    func: MetricFunc
    attr: Attribute | None
    quantiles: tuple[float, ...]
    by: tuple[Attribute, ...]


@dataclass(frozen=True)
class Query:
    spansets: SpansetExpr
    stages: tuple[PipelineStage, ...] = ()
    metrics: MetricsStage | None = None

    def referenced(self) -> tuple[Attribute, ...]:
        """Attributes the query looks at, in order: Tempo returns them on matched spans."""
        out: list[Attribute] = []

        def walk_field(e: FieldExpr | None) -> None:
            if isinstance(e, Compare | Exists):
                if e.attr not in out:
                    out.append(e.attr)
            elif isinstance(e, BoolExpr):
                walk_field(e.left)
                walk_field(e.right)
            elif isinstance(e, Not):
                walk_field(e.inner)

        def walk(s: SpansetExpr) -> None:
            if isinstance(s, SpansetFilter):
                walk_field(s.expr)
            else:
                walk(s.left)
                walk(s.right)

        walk(self.spansets)
        for st in self.stages:
            if isinstance(st, Select):
                out.extend(a for a in st.attrs if a not in out)
        return tuple(out)
