"""Spans → OTLP JSON as Tempo returns traces (base64 ids, string int64s, enum names)."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence

from compass_lab.model import Span

_KIND = {
    "server": "SPAN_KIND_SERVER",
    "client": "SPAN_KIND_CLIENT",
    "internal": "SPAN_KIND_INTERNAL",
    "producer": "SPAN_KIND_PRODUCER",
    "consumer": "SPAN_KIND_CONSUMER",
}
SCOPE_NAME = "compass-lab"


def b64_id(hex_id: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_id)).decode()


def any_value(v: str | int | float | bool) -> dict[str, object]:
    """An OTLP AnyValue; int64s are strings in OTLP JSON."""
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    return {"stringValue": v}


def key_values(attrs: Mapping[str, str | int | float | bool]) -> list[dict[str, object]]:
    return [{"key": k, "value": any_value(v)} for k, v in attrs.items()]


def _status(span: Span) -> dict[str, object]:
    if span.status == "unset":
        return {}
    out: dict[str, object] = {"code": "STATUS_CODE_ERROR" if span.status == "error" else "STATUS_CODE_OK"}
    if span.status_message:
        out["message"] = span.status_message
    return out


def otlp_span(span: Span) -> dict[str, object]:
    out: dict[str, object] = {
        "traceId": b64_id(span.trace_id),
        "spanId": b64_id(span.span_id),
    }
    if span.parent_span_id:
        out["parentSpanId"] = b64_id(span.parent_span_id)
    out.update(
        {
            "name": span.name,
            "kind": _KIND[span.kind],
            "startTimeUnixNano": str(span.start_ns),
            "endTimeUnixNano": str(span.start_ns + span.duration_ns),
            "attributes": key_values(span.attributes),
            "status": _status(span),
        }
    )
    return out


def resource_spans(spans: Sequence[Span]) -> list[dict[str, object]]:
    """Spans grouped by resource (service + resource attributes), one scope each."""
    groups: dict[tuple[str, tuple[tuple[str, str], ...]], list[Span]] = {}
    for s in spans:
        groups.setdefault((s.service, tuple(sorted(s.resource_attributes.items()))), []).append(s)
    out: list[dict[str, object]] = []
    for (service, res_attrs), members in groups.items():
        attrs: dict[str, str | int | float | bool] = {"service.name": service, **dict(res_attrs)}
        out.append(
            {
                "resource": {"attributes": key_values(attrs)},
                "scopeSpans": [{"scope": {"name": SCOPE_NAME}, "spans": [otlp_span(s) for s in members]}],
            }
        )
    return out
