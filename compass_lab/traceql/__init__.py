"""TraceQL subset over the lab's spans: parser, search, tags and metrics with Tempo's semantics."""

from compass_lab.traceql.errors import TraceQLError, TraceQLParseError, TraceQLQueryError
from compass_lab.traceql.evaluate import AttrValue
from compass_lab.traceql.index import Trace, TraceIndex
from compass_lab.traceql.parser import parse
from compass_lab.traceql.search import (
    DEFAULT_LIMIT,
    DEFAULT_SPSS,
    MetricSeries,
    MetricsResult,
    SpanMatch,
    TraceMatch,
    query_metrics,
    search,
    tag_names,
    tag_values,
)

__all__ = [
    "DEFAULT_LIMIT",
    "DEFAULT_SPSS",
    "AttrValue",
    "MetricSeries",
    "MetricsResult",
    "SpanMatch",
    "Trace",
    "TraceIndex",
    "TraceMatch",
    "TraceQLError",
    "TraceQLParseError",
    "TraceQLQueryError",
    "parse",
    "query_metrics",
    "search",
    "tag_names",
    "tag_values",
]
