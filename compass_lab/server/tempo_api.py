"""Tempo's HTTP API (the part mcp-grafana uses), served under `/api/datasources/proxy/uid/<uid>`."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from compass_lab.server.context import data_of, datasource_of, params_of
from compass_lab.server.errors import BadRequestError, NotFoundTextError
from compass_lab.server.otlp import any_value, resource_spans
from compass_lab.server.timeparse import now_ns, parse_int, parse_time_ns
from compass_lab.traceql import (
    DEFAULT_LIMIT,
    DEFAULT_SPSS,
    AttrValue,
    TraceIndex,
    TraceQLError,
    query_metrics,
    search,
    tag_names,
    tag_values,
)
from compass_lab.traceql.lexer import duration_ns

HOUR_NS = 3600 * 10**9


def _tempo_errors(
    handler: Callable[[Request, dict[str, str], TraceIndex], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        datasource_of(request, "tempo")
        params = await params_of(request)
        index = data_of(request).traces
        try:
            return await handler(request, params, index)
        except TraceQLError as err:
            raise BadRequestError(str(err)) from None

    return endpoint


def _window(params: dict[str, str]) -> tuple[int, int]:
    end = parse_time_ns(params.get("end"), now_ns(), "end")
    start = parse_time_ns(params.get("start"), end - HOUR_NS, "start")
    if end < start:
        raise BadRequestError("invalid start/end: end must be after start")
    return start, end


def _kv(key: str, value: AttrValue) -> dict[str, object]:
    return {"key": key, "value": any_value(value)}


async def _search(_request: Request, params: dict[str, str], index: TraceIndex) -> Response:
    start, end = _window(params)
    query = params.get("q") or "{ }"
    matches = search(
        index,
        query,
        start,
        end,
        limit=parse_int(params.get("limit"), DEFAULT_LIMIT, "limit"),
        spss=parse_int(params.get("spss"), DEFAULT_SPSS, "spss"),
    )
    traces: list[dict[str, object]] = []
    for m in matches:
        t = m.trace
        item: dict[str, object] = {
            "traceID": t.trace_id,
            "rootServiceName": t.root.service if t.root else "<root span not yet received>",
        }
        if t.root:
            item["rootTraceName"] = t.root.name
        item["startTimeUnixNano"] = str(t.start_ns)
        item["durationMs"] = t.duration_ns // 10**6
        item["spanSets"] = [
            {
                "spans": [
                    {
                        "spanID": sm.span.span_id,
                        "name": sm.span.name,
                        "startTimeUnixNano": str(sm.span.start_ns),
                        "durationNanos": str(sm.span.duration_ns),
                        "attributes": [_kv(k, v) for k, v in sm.attributes],
                    }
                    for sm in m.spans
                ],
                "matched": m.matched,
            }
        ]
        traces.append(item)
    inspected = len(index.overlapping(start, end))
    return JSONResponse(
        {"traces": traces, "metrics": {"inspectedTraces": inspected, "completedJobs": 1, "totalJobs": 1}}
    )


def _trace_spans(request: Request, index: TraceIndex) -> list[dict[str, object]]:
    trace_id = str(request.path_params["trace_id"])
    trace = index.get(trace_id)
    if trace is None:
        raise NotFoundTextError("trace not found")
    return resource_spans(trace.spans)


async def _trace_v2(request: Request, _params: dict[str, str], index: TraceIndex) -> Response:
    return JSONResponse({"trace": {"resourceSpans": _trace_spans(request, index)}})


async def _trace_v1(request: Request, _params: dict[str, str], index: TraceIndex) -> Response:
    return JSONResponse({"batches": _trace_spans(request, index)})


async def _tags_v2(_request: Request, params: dict[str, str], index: TraceIndex) -> Response:
    scopes = tag_names(index, params.get("scope"))
    return JSONResponse(
        {"scopes": [{"name": name, "tags": tags} for name, tags in scopes.items()], "metrics": {}}
    )


async def _tags_v1(_request: Request, params: dict[str, str], index: TraceIndex) -> Response:
    scopes = tag_names(index, params.get("scope"))
    names = sorted({t for name, tags in scopes.items() if name != "intrinsic" for t in tags})
    return JSONResponse({"tagNames": names, "metrics": {}})


def _value_text(v: AttrValue) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


def _value_type(name: str, v: AttrValue) -> str:
    if name.split(":")[-1] in ("status", "kind"):
        return "keyword"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    return "string"


async def _tag_values_v2(request: Request, params: dict[str, str], index: TraceIndex) -> Response:
    name = str(request.path_params["name"])
    values = tag_values(index, name, params.get("q"))
    return JSONResponse(
        {
            "tagValues": [{"type": _value_type(name, v), "value": _value_text(v)} for v in values],
            "metrics": {},
        }
    )


async def _tag_values_v1(request: Request, params: dict[str, str], index: TraceIndex) -> Response:
    name = str(request.path_params["name"])
    # v1 takes bare attribute names; look them up in any scope.
    scoped = name if "." in name[:1] or name.startswith(("resource.", "span.")) else "." + name
    values = tag_values(index, scoped, params.get("q"))
    return JSONResponse({"tagValues": [_value_text(v) for v in values], "metrics": {}})


def _step(params: dict[str, str]) -> int | None:
    raw = params.get("step")
    if not raw:
        return None
    try:
        return int(float(raw) * 1e9)
    except ValueError:
        ns = duration_ns(raw)
        if ns <= 0:
            raise BadRequestError(f"invalid step: {raw}") from None
        return ns


def _series_json(labels: tuple[tuple[str, AttrValue], ...]) -> tuple[list[dict[str, object]], str]:
    prom = ", ".join(f'{k}="{v}"' for k, v in labels)
    return [_kv(k, v) for k, v in labels], "{" + prom + "}"


async def _metrics_range(_request: Request, params: dict[str, str], index: TraceIndex) -> Response:
    start, end = _window(params)
    result = query_metrics(index, params.get("q", ""), start, end, _step(params))
    series = []
    for s in result.series:
        labels, prom = _series_json(s.labels)
        samples = [
            {"timestampMs": str(t // 10**6), "value": v}
            for t, v in zip(result.steps_ns, s.values.tolist(), strict=True)
            if not math.isnan(v)
        ]
        series.append({"labels": labels, "samples": samples, "promLabels": prom})
    return JSONResponse(
        {"series": series, "metrics": {"inspectedTraces": len(index.overlapping(start, end))}}
    )


async def _metrics_instant(_request: Request, params: dict[str, str], index: TraceIndex) -> Response:
    start, end = _window(params)
    result = query_metrics(index, params.get("q", ""), start, end, instant=True)
    series = []
    for s in result.series:
        labels, prom = _series_json(s.labels)
        value = float(s.values[0])
        series.append({"labels": labels, "value": 0.0 if math.isnan(value) else value, "promLabels": prom})
    return JSONResponse(
        {"series": series, "metrics": {"inspectedTraces": len(index.overlapping(start, end))}}
    )


async def _echo(request: Request) -> Response:
    datasource_of(request, "tempo")
    return PlainTextResponse("echo")


def tempo_routes() -> list[Route]:
    return [
        Route("/api/echo", _echo),
        Route("/api/search", _tempo_errors(_search)),
        Route("/api/v2/traces/{trace_id}", _tempo_errors(_trace_v2)),
        Route("/api/traces/{trace_id}", _tempo_errors(_trace_v1)),
        Route("/api/v2/search/tags", _tempo_errors(_tags_v2)),
        Route("/api/v2/search/tag/{name}/values", _tempo_errors(_tag_values_v2)),
        Route("/api/search/tags", _tempo_errors(_tags_v1)),
        Route("/api/search/tag/{name}/values", _tempo_errors(_tag_values_v1)),
        Route("/api/metrics/query_range", _tempo_errors(_metrics_range)),
        Route("/api/metrics/query", _tempo_errors(_metrics_instant)),
    ]
