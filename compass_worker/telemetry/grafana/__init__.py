"""Typed adapter for Grafana's mcp-grafana 2.1.1 (see README.md one level up)."""

from compass_worker.telemetry.grafana.client import GrafanaClient
from compass_worker.telemetry.grafana.models import (
    Datasource,
    InstantResult,
    InstantSample,
    LabelMatcher,
    LogEntry,
    LogPattern,
    PromSeries,
    QueryResult,
    Trace,
    TraceSpan,
    TraceSummary,
)
from compass_worker.telemetry.grafana.results import Data, Failed, NoData, Result

__all__ = [
    "Data",
    "Datasource",
    "Failed",
    "GrafanaClient",
    "InstantResult",
    "InstantSample",
    "LabelMatcher",
    "LogEntry",
    "LogPattern",
    "NoData",
    "PromSeries",
    "QueryResult",
    "Result",
    "Trace",
    "TraceSpan",
    "TraceSummary",
]
