"""Typed telemetry as COMPASS uses it, independent of how mcp-grafana spells it on the wire."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

AttributeValue = str | int | float | bool


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Datasource(_Frozen):
    uid: str
    name: str
    type: str
    is_default: bool = False


class LabelMatcher(_Frozen):
    """One Prometheus label matcher (``name op "value"``)."""

    name: str
    value: str
    op: Literal["=", "!=", "=~", "!~"] = "="


class PromSeries(_Frozen):
    labels: dict[str, str]
    timestamps: tuple[float, ...]
    """Unix seconds."""
    values: tuple[float, ...]


class QueryResult(_Frozen):
    series: tuple[PromSeries, ...]
    explore_url: str | None = None
    """Grafana Explore link for the same query — what a person clicks to check the evidence."""


class InstantSample(_Frozen):
    labels: dict[str, str]
    timestamp: float
    value: float


class InstantResult(_Frozen):
    samples: tuple[InstantSample, ...]
    explore_url: str | None = None


class LogEntry(_Frozen):
    timestamp_ns: int
    line: str
    labels: dict[str, str]


class LogPattern(_Frozen):
    pattern: str
    total_count: int
    samples: tuple[tuple[float, int], ...] = ()
    """(unix seconds, count) pairs, when the server gives them."""


class MetricMetadata(_Frozen):
    """One metric's TYPE / UNIT / HELP as Prometheus' `/api/v1/metadata` reports it."""

    type: str = ""
    unit: str = ""
    help: str = ""


class TraceSummary(_Frozen):
    trace_id: str
    root_service: str
    root_name: str
    start_ns: int
    duration_ms: float | None = None


SpanStatus = Literal["error", "ok", "unset"]


class TraceSpan(_Frozen):
    trace_id: str
    """Lower-case hex."""
    span_id: str
    parent_span_id: str | None
    service: str
    name: str
    kind: str
    """``server``, ``client``, ``internal``, ``producer``, ``consumer`` or ``unspecified``."""
    start_ns: int
    end_ns: int
    status: SpanStatus
    status_message: str = ""
    attributes: dict[str, AttributeValue] = {}

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns


class Trace(_Frozen):
    trace_id: str
    spans: tuple[TraceSpan, ...]
