"""Loki's HTTP API (the part mcp-grafana uses), served under `/api/datasources/proxy/uid/<uid>/loki`."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from compass_lab.logql import (
    LogQLError,
    MetricResult,
    QueryResult,
    StreamsResult,
    default_step_ns,
    detect_patterns,
    parse_selector,
    parse_step_ns,
    query_instant,
    query_range,
)
from compass_lab.logql.ast import Matcher
from compass_lab.logql.engine import Direction
from compass_lab.logql.index import LogIndex
from compass_lab.server.context import data_of, datasource_of, params_of
from compass_lab.server.errors import BadRequestError
from compass_lab.server.numbers import format_sample, seconds
from compass_lab.server.response_cache import ResponseCache
from compass_lab.server.timeparse import now_ns, parse_int, parse_time_ns

HOUR_NS = 3600 * 10**9
LABELS_LOOKBACK_NS = 6 * HOUR_NS  # Loki's default window for labels/series when no start is given


def _window(params: dict[str, str], lookback_ns: int) -> tuple[int, int]:
    end = parse_time_ns(params.get("end"), now_ns(), "end")
    start = parse_time_ns(params.get("start"), end - lookback_ns, "start")
    return start, end


def _direction(params: dict[str, str]) -> Direction:
    value = params.get("direction", "backward").lower()
    if value not in ("forward", "backward"):
        raise BadRequestError(f'invalid parameter "direction": {value!r} is not forward or backward')
    return cast(Direction, value)


def _optional_selector(params: dict[str, str]) -> list[Matcher] | None:
    query = params.get("query") or params.get("match[]")
    return list(parse_selector(query).matchers) if query else None


def _render(result: QueryResult) -> dict[str, object]:
    if isinstance(result, StreamsResult):
        entries = sum(len(s.entries) for s in result.streams)
        return {
            "resultType": "streams",
            "result": [
                {"stream": dict(s.labels), "values": [[str(ts), line] for ts, line in s.entries]}
                for s in result.streams
            ],
            "stats": {
                "summary": {
                    "totalLinesProcessed": result.lines_scanned,
                    "totalBytesProcessed": result.bytes_scanned,
                    "totalEntriesReturned": entries,
                }
            },
        }
    return _render_metric(result)


def _render_metric(result: MetricResult) -> dict[str, object]:
    if result.instant:
        t = seconds(result.steps_ns[0])
        return {
            "resultType": "vector",
            "result": [
                {"metric": dict(s.labels), "value": [t, format_sample(float(s.values[0]))]}
                for s in result.series
            ],
            "stats": {"summary": {}},
        }
    series = []
    for s in result.series:
        values = [
            [seconds(t), format_sample(float(v))]
            for t, v in zip(result.steps_ns, s.values.tolist(), strict=True)
            if not math.isnan(v)
        ]
        series.append({"metric": dict(s.labels), "values": values})
    return {"resultType": "matrix", "result": series, "stats": {"summary": {}}}


def _success(data: object) -> JSONResponse:
    return JSONResponse({"status": "success", "data": data})


def _loki_errors(
    handler: Callable[[Request, dict[str, str], LogIndex], Awaitable[Response]],
    cache: ResponseCache | None = None,
) -> Callable[[Request], Awaitable[Response]]:
    """Check the datasource, gather params, and turn LogQL errors into Loki's plain-text 400s.

    With a `cache`, successful answers to requests with an explicit start and end (nothing defaults to
    "now") are served from it.
    """

    async def endpoint(request: Request) -> Response:
        datasource_of(request, "loki")
        params = await params_of(request)
        index = data_of(request).logs
        try:
            if cache is None or not params.get("start") or not params.get("end"):
                return await handler(request, params, index)
            key = cache.key(handler.__name__, sorted(params.items()))
            body = cache.get(index, key)
            if body is None:
                response = await handler(request, params, index)
                if response.status_code != 200:
                    return response
                body = bytes(response.body)
                cache.put(index, key, body)
            return Response(body, media_type="application/json")
        except LogQLError as err:
            raise BadRequestError(str(err)) from None

    return endpoint


async def _query_range(_request: Request, params: dict[str, str], index: LogIndex) -> Response:
    query = params.get("query", "")
    start, end = _window(params, HOUR_NS)
    step = parse_step_ns(params["step"]) if params.get("step") else None
    result = query_range(
        index,
        query,
        start,
        end,
        limit=parse_int(params.get("limit"), 100, "limit"),
        direction=_direction(params),
        step_ns=step,
    )
    return _success(_render(result))


async def _query(_request: Request, params: dict[str, str], index: LogIndex) -> Response:
    t = parse_time_ns(params.get("time"), now_ns(), "time")
    return _success(_render(query_instant(index, params.get("query", ""), t)))


async def _labels(_request: Request, params: dict[str, str], index: LogIndex) -> Response:
    start, end = _window(params, LABELS_LOOKBACK_NS)
    return _success(index.label_names(start, end, _optional_selector(params)))


async def _label_values(request: Request, params: dict[str, str], index: LogIndex) -> Response:
    start, end = _window(params, LABELS_LOOKBACK_NS)
    name = str(request.path_params["name"])
    return _success(index.label_values(name, start, end, _optional_selector(params)))


async def _series(request: Request, params: dict[str, str], index: LogIndex) -> Response:
    start, end = _window(params, LABELS_LOOKBACK_NS)
    raw = request.query_params.getlist("match[]") or request.query_params.getlist("match")
    if request.method == "POST":
        form = await request.form()
        raw += [v for v in form.getlist("match[]") if isinstance(v, str)]
    if not raw:
        raise BadRequestError("at least one match[] parameter is required")
    selectors = [list(parse_selector(m).matchers) for m in raw]
    return _success(index.series(selectors, start, end))


async def _stats(_request: Request, params: dict[str, str], index: LogIndex) -> Response:
    start, end = _window(params, HOUR_NS)
    matchers = parse_selector(params.get("query", "")).matchers
    s = index.stats(matchers, start, end)
    return JSONResponse({"streams": s.streams, "chunks": s.chunks, "entries": s.entries, "bytes": s.bytes})


async def _patterns(_request: Request, params: dict[str, str], index: LogIndex) -> Response:
    start, end = _window(params, HOUR_NS)
    matchers = parse_selector(params.get("query", "")).matchers
    step = (
        parse_step_ns(params["step"]) if params.get("step") else max(default_step_ns(start, end), 10 * 10**9)
    )
    patterns = detect_patterns(index, matchers, start, end, step)
    return _success([{"pattern": p.pattern, "samples": [[t, c] for t, c in p.samples]} for p in patterns])


def loki_routes(cache: ResponseCache | None = None) -> list[Route]:
    methods = ["GET", "POST"]
    return [
        Route("/loki/api/v1/query_range", _loki_errors(_query_range, cache), methods=methods),
        Route("/loki/api/v1/query", _loki_errors(_query), methods=methods),
        Route("/loki/api/v1/labels", _loki_errors(_labels), methods=methods),
        Route("/loki/api/v1/label", _loki_errors(_labels), methods=methods),
        Route("/loki/api/v1/label/{name}/values", _loki_errors(_label_values), methods=methods),
        Route("/loki/api/v1/series", _loki_errors(_series), methods=methods),
        Route("/loki/api/v1/index/stats", _loki_errors(_stats), methods=methods),
        Route("/loki/api/v1/patterns", _loki_errors(_patterns), methods=methods),
    ]
