"""LogQL subset over the lab's log streams: parser, evaluator, Loki-style patterns (see README.md)."""

from compass_lab.logql.engine import (
    MetricResult,
    MetricSeries,
    QueryResult,
    StreamResult,
    StreamsResult,
    default_step_ns,
    parse_step_ns,
    query_instant,
    query_range,
)
from compass_lab.logql.errors import LogQLError, LogQLParseError, LogQLQueryError
from compass_lab.logql.index import IndexStats, LogIndex
from compass_lab.logql.parser import parse, parse_selector
from compass_lab.logql.patterns import Pattern, detect_patterns, pattern_of

__all__ = [
    "IndexStats",
    "LogIndex",
    "LogQLError",
    "LogQLParseError",
    "LogQLQueryError",
    "MetricResult",
    "MetricSeries",
    "Pattern",
    "QueryResult",
    "StreamResult",
    "StreamsResult",
    "default_step_ns",
    "detect_patterns",
    "parse",
    "parse_selector",
    "parse_step_ns",
    "pattern_of",
    "query_instant",
    "query_range",
]
