"""Trace search, tag discovery and TraceQL metrics over a `TraceIndex`, with Tempo's defaults."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from compass_lab.model import FloatArray, Span
from compass_lab.traceql.ast import Attribute, MetricsStage
from compass_lab.traceql.errors import TraceQLQueryError
from compass_lab.traceql.evaluate import AttrValue, attribute_value, evaluate_trace, matching_spans
from compass_lab.traceql.index import Trace, TraceIndex
from compass_lab.traceql.parser import parse

DEFAULT_LIMIT = 20  # Tempo's defaults for /api/search
DEFAULT_SPSS = 3
INTRINSIC_TAGS = (
    "duration",
    "kind",
    "name",
    "rootName",
    "rootServiceName",
    "status",
    "statusMessage",
    "traceDuration",
)


@dataclass(frozen=True)
class SpanMatch:
    span: Span
    attributes: tuple[tuple[str, AttrValue], ...]  # the attributes the query looked at


@dataclass(frozen=True)
class TraceMatch:
    trace: Trace
    spans: tuple[SpanMatch, ...]  # at most spss
    matched: int


def search(
    index: TraceIndex,
    query: str,
    start_ns: int,
    end_ns: int,
    *,
    limit: int = DEFAULT_LIMIT,
    spss: int = DEFAULT_SPSS,
) -> list[TraceMatch]:
    """Traces overlapping [start, end] that match `query`, most recent first (as Tempo orders them)."""
    q = parse(query)
    if q.metrics is not None:
        raise TraceQLQueryError("invalid TraceQL query: metrics queries are not supported by the search API")
    referenced = q.referenced()
    out: list[TraceMatch] = []
    for trace in sorted(index.overlapping(start_ns, end_ns), key=lambda t: -t.start_ns):
        spans = evaluate_trace(q, trace)
        if not spans:
            continue
        shown = tuple(
            SpanMatch(
                s,
                tuple((a.display, v) for a in referenced if (v := attribute_value(s, trace, a)) is not None),
            )
            for s in spans[:spss]
        )
        out.append(TraceMatch(trace, shown, len(spans)))
        if len(out) >= limit:
            break
    return out


# -- tags ----------------------------------------------------------------------------------------------

TagScope = Literal["resource", "span", "intrinsic"]


def tag_names(index: TraceIndex, scope: str | None = None) -> dict[TagScope, list[str]]:
    if scope not in (None, "", "all", "none", "resource", "span", "intrinsic"):
        raise TraceQLQueryError(f"invalid scope: {scope}")
    resource: set[str] = set()
    span_keys: set[str] = set()
    for trace in index.traces:
        for s in trace.spans:
            resource.add("service.name")
            resource.update(s.resource_attributes)
            span_keys.update(s.attributes)
    scopes: dict[TagScope, list[str]] = {
        "resource": sorted(resource),
        "span": sorted(span_keys),
        "intrinsic": list(INTRINSIC_TAGS),
    }
    for only in scopes:
        if scope == only:
            return {only: scopes[only]}
    return scopes


def parse_tag(name: str) -> Attribute:
    """A tag name as the tag-values API takes it (`resource.service.name`, `.route`, `status`)."""
    refs = parse("{ " + name + " != nil }").referenced()
    if len(refs) != 1:
        raise TraceQLQueryError(f"invalid tag name: {name}")
    return refs[0]


def tag_values(index: TraceIndex, name: str, filter_query: str | None = None) -> list[AttrValue]:
    attr = parse_tag(name)
    flt = parse(filter_query) if filter_query and filter_query.strip() not in ("", "{}", "{ }") else None
    values: set[AttrValue] = set()
    for trace in index.traces:
        spans = matching_spans(flt.spansets, trace) if flt else trace.spans
        for s in spans:
            v = attribute_value(s, trace, attr)
            if v is not None and not (
                attr.scope == "intrinsic" and attr.name in ("duration", "traceDuration")
            ):
                values.add(v)
    return sorted(values, key=lambda v: (type(v).__name__, str(v)))


# -- metrics -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricSeries:
    labels: tuple[tuple[str, AttrValue], ...]
    values: FloatArray  # per step; NaN = no sample


@dataclass(frozen=True)
class MetricsResult:
    steps_ns: tuple[int, ...]  # interval starts
    series: tuple[MetricSeries, ...]


def default_step_ns(start_ns: int, end_ns: int) -> int:
    """Tempo-like default: about 100 points per series, at least one second."""
    return max(math.ceil((end_ns - start_ns) / 100 / 1e9), 1) * 10**9


def _series_key(stage: MetricsStage, span: Span, trace: Trace) -> tuple[tuple[str, AttrValue], ...] | None:
    if not stage.by:
        return (("__name__", stage.func),)
    key: list[tuple[str, AttrValue]] = []
    for a in stage.by:
        v = attribute_value(span, trace, a)
        if v is None:
            return None
        key.append((a.text, v))
    return tuple(key)


def _sample(stage: MetricsStage, span: Span, trace: Trace) -> float | None:
    if stage.attr is None:
        return 1.0
    v = attribute_value(span, trace, stage.attr)
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    if stage.attr.scope == "intrinsic" and stage.attr.name in ("duration", "traceDuration"):
        return float(v) / 1e9  # Tempo reports durations in seconds
    return float(v)


def query_metrics(
    index: TraceIndex,
    query: str,
    start_ns: int,
    end_ns: int,
    step_ns: int | None = None,
    *,
    instant: bool = False,
) -> MetricsResult:
    """A TraceQL metrics query: `{...} | rate()|count_over_time()|…_over_time(attr) [by (…)]`."""
    q = parse(query)
    stage = q.metrics
    if stage is None:
        raise TraceQLQueryError(
            "invalid TraceQL query: a metrics query needs a metrics function, e.g. | rate()"
        )
    if end_ns <= start_ns:
        raise TraceQLQueryError("invalid start/end: end must be after start")
    step = end_ns - start_ns if instant else (step_ns or default_step_ns(start_ns, end_ns))
    first = start_ns if instant else start_ns // step * step
    n_steps = max(math.ceil((end_ns - first) / step), 1)
    groups: dict[tuple[tuple[str, AttrValue], ...], list[list[float]]] = {}
    for trace in index.overlapping(start_ns, end_ns):
        for span in evaluate_trace(q, trace):
            if not start_ns <= span.start_ns < end_ns:
                continue
            key = _series_key(stage, span, trace)
            value = _sample(stage, span, trace)
            if key is None or value is None:
                continue
            buckets = groups.setdefault(key, [[] for _ in range(n_steps)])
            buckets[min((span.start_ns - first) // step, n_steps - 1)].append(value)
    steps = tuple(first + i * step for i in range(n_steps))
    series: list[MetricSeries] = []
    for key, buckets in sorted(groups.items(), key=lambda kv: str(kv[0])):
        for q_value, values in _reduce(stage, buckets, step / 1e9):
            labels = (*key, ("p", q_value)) if q_value is not None else key
            series.append(MetricSeries(labels, values))
    return MetricsResult(steps, tuple(series))


def _quantile(values: FloatArray, q: float) -> float:
    return float(np.quantile(values, q))


def _reduce(
    stage: MetricsStage, buckets: list[list[float]], step_s: float
) -> Iterable[tuple[float | None, FloatArray]]:
    def per_bucket(fn: Callable[[FloatArray], float]) -> FloatArray:
        values = [fn(np.asarray(b, dtype=np.float64)) if b else math.nan for b in buckets]
        return np.asarray(values, dtype=np.float64)

    if stage.func == "rate":
        yield None, per_bucket(lambda b: b.size / step_s)
    elif stage.func == "count_over_time":
        yield None, per_bucket(lambda b: float(b.size))
    elif stage.func == "quantile_over_time":
        for qv in stage.quantiles:
            yield qv, per_bucket(functools.partial(_quantile, q=qv))
    elif stage.func == "avg_over_time":
        yield None, per_bucket(lambda b: float(b.mean()))
    elif stage.func == "max_over_time":
        yield None, per_bucket(lambda b: float(b.max()))
    elif stage.func == "min_over_time":
        yield None, per_bucket(lambda b: float(b.min()))
    else:  # sum_over_time
        yield None, per_bucket(lambda b: float(b.sum()))
