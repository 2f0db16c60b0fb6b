"""Decode an OTLP/JSON trace (what Tempo returns through mcp-grafana) into `TraceSpan`s.

Tempo encodes ids as protobuf-JSON bytes, i.e. base64 (``Lz4M7neuXcnBet42iesuVA==``); we always
hand out lower-case hex, the form people and TraceQL use. Some producers already send hex — a
32/16-character hex string cannot be a valid base64 trace/span id, so both are accepted.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

from pydantic import BaseModel, ConfigDict, Field

from compass_worker.telemetry.grafana.models import AttributeValue, SpanStatus, TraceSpan
from compass_worker.telemetry.toolset import JsonData

_HEX = re.compile(r"^(?:[0-9a-fA-F]{16}|[0-9a-fA-F]{32})$")
_KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
_STATUS: dict[str | int, SpanStatus] = {
    "STATUS_CODE_ERROR": "error",
    2: "error",
    "STATUS_CODE_OK": "ok",
    1: "ok",
}


class _Value(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    string_value: str | None = Field(None, alias="stringValue")
    int_value: int | str | None = Field(None, alias="intValue")
    double_value: float | None = Field(None, alias="doubleValue")
    bool_value: bool | None = Field(None, alias="boolValue")


class _KeyValue(BaseModel):
    key: str
    value: dict[str, JsonData] = {}


class _Status(BaseModel):
    code: str | int | None = None
    message: str = ""


class _Span(BaseModel):
    trace_id: str = Field(alias="traceId")
    span_id: str = Field(alias="spanId")
    parent_span_id: str | None = Field(None, alias="parentSpanId")
    name: str = ""
    kind: str | int = 0
    start: int | str = Field(alias="startTimeUnixNano")
    end: int | str = Field(alias="endTimeUnixNano")
    attributes: list[_KeyValue] = []
    status: _Status = _Status()


class _ScopeSpans(BaseModel):
    spans: list[_Span] = []


class _Resource(BaseModel):
    attributes: list[_KeyValue] = []


class _ResourceSpans(BaseModel):
    resource: _Resource = _Resource()
    scope_spans: list[_ScopeSpans] = Field([], alias="scopeSpans")
    # OTLP before 1.0 (and Tempo's v1 API) called them instrumentationLibrarySpans.
    library_spans: list[_ScopeSpans] = Field([], alias="instrumentationLibrarySpans")


class OtlpTrace(BaseModel):
    """``{"resourceSpans": [...]}``; Tempo's v1 API says ``batches``."""

    resource_spans: list[_ResourceSpans] = Field([], alias="resourceSpans")
    batches: list[_ResourceSpans] = []


def to_hex(raw: str) -> str:
    """An OTLP id (base64 or hex) as lower-case hex; raises ValueError if it is neither."""
    if _HEX.match(raw):
        return raw.lower()
    try:
        return base64.b64decode(raw, validate=True).hex()
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not a base64 or hex id: {raw!r}") from exc


def attribute_value(value: dict[str, JsonData]) -> AttributeValue:
    """One OTLP AnyValue as a scalar; arrays, maps and bytes become their JSON text."""
    v = _Value.model_validate(value)
    if v.string_value is not None:
        return v.string_value
    if v.int_value is not None:
        return int(v.int_value)  # int64 travels as a string in OTLP/JSON
    if v.double_value is not None:
        return v.double_value
    if v.bool_value is not None:
        return v.bool_value
    return json.dumps(value, sort_keys=True)


def spans(trace: OtlpTrace) -> list[TraceSpan]:
    out: list[TraceSpan] = []
    for rs in trace.resource_spans + trace.batches:
        resource = {kv.key: attribute_value(kv.value) for kv in rs.resource.attributes}
        service = str(resource.get("service.name", "unknown"))
        for scope in rs.scope_spans + rs.library_spans:
            out.extend(_span(s, service) for s in scope.spans)
    return out


def _span(s: _Span, service: str) -> TraceSpan:
    parent = to_hex(s.parent_span_id) if s.parent_span_id else None
    return TraceSpan(
        trace_id=to_hex(s.trace_id),
        span_id=to_hex(s.span_id),
        parent_span_id=parent if parent and parent.strip("0") else None,
        service=service,
        name=s.name,
        kind=_kind(s.kind),
        start_ns=int(s.start),
        end_ns=int(s.end),
        status=_STATUS.get(s.status.code, "unset") if s.status.code is not None else "unset",
        status_message=s.status.message,
        attributes={kv.key: attribute_value(kv.value) for kv in s.attributes},
    )


def _kind(kind: str | int) -> str:
    if isinstance(kind, int):
        return _KINDS.get(kind, "unspecified")
    return kind.removeprefix("SPAN_KIND_").lower() or "unspecified"
