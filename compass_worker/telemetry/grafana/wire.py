"""mcp-grafana 2.1.1's output shapes (checked against captures of the real binary) → typed results.

Every parser takes the `ToolOutcome` and returns a `Result`: a tool error becomes `Failed` with the
server's own message (e.g. Prometheus' parse error, fed back verbatim); an empty answer becomes
`NoData` with mcp-grafana's hints; output we cannot read becomes `Failed("unexpected output ...")`.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, Field, ValidationError

from compass_worker.telemetry.grafana import otlp
from compass_worker.telemetry.grafana.models import (
    Datasource,
    InstantResult,
    InstantSample,
    LogEntry,
    LogPattern,
    MetricMetadata,
    PromSeries,
    QueryResult,
    Trace,
    TraceSummary,
)
from compass_worker.telemetry.grafana.results import Data, Failed, NoData
from compass_worker.telemetry.toolset import ToolOutcome

M = TypeVar("M", bound=BaseModel)


class _Hints(BaseModel):
    summary: str = ""
    possible_causes: list[str] = Field([], alias="possibleCauses")
    suggested_actions: list[str] = Field([], alias="suggestedActions")

    def no_data(self, default: str) -> NoData:
        return NoData(reason=self.summary or default, hints=(*self.possible_causes, *self.suggested_actions))


class _Datasource(BaseModel):
    uid: str
    name: str
    type: str
    is_default: bool = Field(False, alias="isDefault")


class DatasourcePage(BaseModel):
    datasources: list[_Datasource] | None = None
    has_more: bool = Field(False, alias="hasMore")

    def items(self) -> list[Datasource]:
        return [
            Datasource(uid=d.uid, name=d.name, type=d.type, is_default=d.is_default)
            for d in self.datasources or []
        ]


class _PromMatrixSeries(BaseModel):
    metric: dict[str, str] = {}
    # Values are strings on the wire ("0.5", "NaN", "+Inf"); pydantic-core reads them as floats in Rust,
    # several times faster than float() per point in Python (range queries are ~1 MB per investigation).
    values: list[tuple[float, float]] = []


class _PromMatrix(BaseModel):
    data: list[_PromMatrixSeries] | None = None
    hints: _Hints | None = None
    explore_url: str | None = Field(None, alias="exploreUrl")


class _PromVectorSample(BaseModel):
    metric: dict[str, str] = {}
    value: tuple[float, str]


class _PromVector(BaseModel):
    data: list[_PromVectorSample] | None = None
    hints: _Hints | None = None
    explore_url: str | None = Field(None, alias="exploreUrl")


class _LokiLine(BaseModel):
    timestamp: int
    line: str
    labels: dict[str, str] = {}


class _LokiLogs(BaseModel):
    data: list[_LokiLine] | None = None
    hints: _Hints | None = None


class _LokiPoint(BaseModel):
    timestamp: float  # seconds, as a string on the wire ("1795254957.608")
    value: float


class _LokiSeries(BaseModel):
    labels: dict[str, str] = {}
    values: list[_LokiPoint] = []


class _LokiMatrix(BaseModel):
    data: list[_LokiSeries] | None = None
    hints: _Hints | None = None


class _Pattern(BaseModel):
    pattern: str
    total_count: int = Field(0, alias="totalCount")
    samples: list[tuple[float, int]] = []


class _TraceHit(BaseModel):
    trace_id: str = Field(alias="traceID")
    root_service: str = Field("", alias="rootServiceName")
    root_name: str = Field("", alias="rootTraceName")
    start_ns: int = Field(0, alias="startTimeUnixNano")
    duration_ms: float | None = Field(None, alias="durationMs")


class _TraceSearch(BaseModel):
    traces: list[_TraceHit] | None = None


class _TraceEnvelope(BaseModel):
    trace: otlp.OtlpTrace | None = None


class _Scope(BaseModel):
    name: str
    tags: list[str] | None = None


class _AttributeNames(BaseModel):
    scopes: list[_Scope] | None = None


class _TagValue(BaseModel):
    value: str | int | float | bool


class _AttributeValues(BaseModel):
    tag_values: list[_TagValue] | None = Field(None, alias="tagValues")


class _Strings(BaseModel):
    items: list[str] | None


def parse(outcome: ToolOutcome, model: type[M]) -> M | Failed:
    """The outcome's JSON as ``model``, or why not."""
    if not outcome.ok:
        return Failed(error=outcome.error or f"{outcome.tool} failed")
    try:
        return model.model_validate_json(outcome.text)
    except ValidationError as exc:
        return unexpected(outcome, exc)


def unexpected(outcome: ToolOutcome, exc: Exception) -> Failed:
    first = str(exc).splitlines()
    detail = " ".join(first[:3]) if first else type(exc).__name__
    return Failed(error=f"unexpected output from {outcome.tool}: {detail[:300]}")


def strings(outcome: ToolOutcome, what: str) -> Data[list[str]] | NoData | Failed:
    if not outcome.ok:
        return Failed(error=outcome.error or f"{outcome.tool} failed")
    try:
        items = _Strings.model_validate_json(f'{{"items": {outcome.text or "null"}}}').items
    except ValidationError as exc:
        return unexpected(outcome, exc)
    return Data(value=items) if items else NoData(reason=f"no {what} found")


class _Metadata(BaseModel):
    items: dict[str, list[MetricMetadata]] | None


def metric_metadata(outcome: ToolOutcome) -> Data[dict[str, MetricMetadata]] | NoData | Failed:
    """`{"metric": [{"type": .., "unit": .., "help": ..}]}` → the first entry per metric."""
    if not outcome.ok:
        return Failed(error=outcome.error or f"{outcome.tool} failed")
    try:
        raw = _Metadata.model_validate_json(f'{{"items": {outcome.text or "null"}}}').items or {}
    except ValidationError as exc:
        return unexpected(outcome, exc)
    found = {name: entries[0] for name, entries in raw.items() if entries}
    return Data(value=found) if found else NoData(reason="no metric metadata (the datasource keeps none)")


def prom_matrix(outcome: ToolOutcome) -> Data[QueryResult] | NoData | Failed:
    raw = parse(outcome, _PromMatrix)
    if isinstance(raw, Failed):
        return raw
    if not raw.data:
        return (raw.hints or _Hints()).no_data("the query returned no series")
    # Already validated as the declared types: constructing skips checking every float a second time.
    series = tuple(
        PromSeries.model_construct(
            labels=s.metric,
            timestamps=tuple(p[0] for p in s.values),
            values=tuple(p[1] for p in s.values),
        )
        for s in raw.data
    )
    return Data(value=QueryResult.model_construct(series=series, explore_url=raw.explore_url))


def prom_vector(outcome: ToolOutcome) -> Data[InstantResult] | NoData | Failed:
    raw = parse(outcome, _PromVector)
    if isinstance(raw, Failed):
        return raw
    if not raw.data:
        return (raw.hints or _Hints()).no_data("the query returned no samples")
    samples = tuple(
        InstantSample(labels=s.metric, timestamp=s.value[0], value=float(s.value[1])) for s in raw.data
    )
    return Data(value=InstantResult(samples=samples, explore_url=raw.explore_url))


def loki_logs(outcome: ToolOutcome) -> Data[list[LogEntry]] | NoData | Failed:
    raw = parse(outcome, _LokiLogs)
    if isinstance(raw, Failed):
        return raw
    if not raw.data:
        return (raw.hints or _Hints()).no_data("no log lines matched")
    return Data(value=[LogEntry(timestamp_ns=e.timestamp, line=e.line, labels=e.labels) for e in raw.data])


def loki_matrix(outcome: ToolOutcome) -> Data[QueryResult] | NoData | Failed:
    raw = parse(outcome, _LokiMatrix)
    if isinstance(raw, Failed):
        return raw
    if not raw.data:
        return (raw.hints or _Hints()).no_data("the log metric query returned no series")
    series = tuple(
        PromSeries(
            labels=s.labels,
            timestamps=tuple(p.timestamp for p in s.values),
            values=tuple(p.value for p in s.values),
        )
        for s in raw.data
    )
    return Data(value=QueryResult(series=series))


def loki_patterns(outcome: ToolOutcome) -> Data[list[LogPattern]] | NoData | Failed:
    if not outcome.ok:
        return Failed(error=outcome.error or f"{outcome.tool} failed")
    try:
        wrapped = f'{{"items": {outcome.text or "null"}}}'
        items = _Patterns.model_validate_json(wrapped).items
    except ValidationError as exc:
        return unexpected(outcome, exc)
    if not items:
        return NoData(reason="no log patterns detected for this selector and range")
    return Data(
        value=[
            LogPattern(
                pattern=p.pattern,
                total_count=p.total_count or sum(c for _, c in p.samples),
                samples=tuple(p.samples),
            )
            for p in items
        ]
    )


class _Patterns(BaseModel):
    items: list[_Pattern] | None


def tempo_search(outcome: ToolOutcome, limit: int) -> Data[list[TraceSummary]] | NoData | Failed:
    raw = parse(outcome, _TraceSearch)
    if isinstance(raw, Failed):
        return raw
    if not raw.traces:
        return NoData(reason="no traces matched")
    hits = [
        TraceSummary(
            trace_id=h.trace_id.lower(),
            root_service=h.root_service,
            root_name=h.root_name,
            start_ns=h.start_ns,
            duration_ms=h.duration_ms,
        )
        for h in raw.traces
    ]
    return Data(value=hits[:limit])


def tempo_trace(outcome: ToolOutcome, trace_id: str) -> Data[Trace] | NoData | Failed:
    raw = parse(outcome, _TraceEnvelope)
    if isinstance(raw, Failed):
        return raw
    try:
        spans = otlp.spans(raw.trace) if raw.trace is not None else []
    except ValueError as exc:
        return unexpected(outcome, exc)
    if not spans:
        return NoData(reason=f"trace {trace_id} has no spans")
    return Data(value=Trace(trace_id=spans[0].trace_id, spans=tuple(spans)))


def tempo_attribute_names(outcome: ToolOutcome) -> Data[list[str]] | NoData | Failed:
    raw = parse(outcome, _AttributeNames)
    if isinstance(raw, Failed):
        return raw
    # TraceQL wants scoped names (resource.service.name); intrinsics (duration, status) stay bare.
    names = [
        tag if scope.name == "intrinsic" else f"{scope.name}.{tag}"
        for scope in raw.scopes or []
        for tag in scope.tags or []
    ]
    return Data(value=names) if names else NoData(reason="no trace attributes found")


def tempo_attribute_values(outcome: ToolOutcome) -> Data[list[str]] | NoData | Failed:
    raw = parse(outcome, _AttributeValues)
    if isinstance(raw, Failed):
        return raw
    values = [
        str(v.value).lower() if isinstance(v.value, bool) else str(v.value) for v in raw.tag_values or []
    ]
    return Data(value=values) if values else NoData(reason="no values found for this attribute")
