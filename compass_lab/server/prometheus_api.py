"""Prometheus' HTTP API (the subset mcp-grafana uses), served from a `SeriesStore`.

Routes are relative (`/api/v1/...`); the Grafana app mounts them under the datasource resource and
proxy prefixes. Parameters come from the query string and, for POST, the form body (mcp-grafana
POSTs `application/x-www-form-urlencoded`), merged like Go's `r.Form` (body first). Status codes and
error texts follow Prometheus 2.42 (captured from the real server by the parity harness).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from compass_lab.promql import MAX_POINTS, PromQLError, SeriesStore, query_instant, query_range
from compass_lab.server.response_cache import ResponseCache

BUILD_INFO = {
    "version": "2.42.0",
    "revision": "225c61122d88b01d1f0eaaee0e05b6f3e0567ac0",
    "branch": "HEAD",
    "buildUser": "root@compass-lab",
    "buildDate": "20230131-13:18:19",
    "goVersion": "go1.19.5",
}
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_DURATION = re.compile(r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?")
_DURATION_UNITS = (365 * 86400.0, 7 * 86400.0, 86400.0, 3600.0, 60.0, 1.0, 0.001)
_STATUS = {"bad_data": 400, "execution": 422}


class ApiError(Exception):
    """An API-level error: Prometheus' errorType plus the complete message."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


Params = list[tuple[str, str]]


async def _params(request: Request) -> Params:
    pairs: Params = []
    if request.method == "POST" and request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        pairs.extend(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))
    pairs.extend(parse_qsl(request.url.query, keep_blank_values=True))
    return pairs


def _get(params: Params, name: str) -> str:
    return next((v for k, v in params if k == name), "")


def _all(params: Params, name: str) -> list[str]:
    return [v for k, v in params if k == name]


def parse_time(text: str) -> float:
    """Prometheus' parseTime: unix seconds (rounded to ms) or RFC 3339."""
    try:
        value = float(text)
        if math.isfinite(value):
            return round(value * 1000.0) / 1000.0
    except ValueError:
        pass
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        if stamp.tzinfo is not None and "T" in text.upper():
            return stamp.timestamp()
    except ValueError:
        pass
    raise ValueError(f'cannot parse "{text}" to a valid timestamp')


def parse_duration(text: str) -> float:
    """Prometheus' parseDuration: float seconds or a Prometheus duration such as `1m30s`."""
    try:
        value = float(text)
        if math.isfinite(value):
            return value
    except ValueError:
        pass
    m = _DURATION.fullmatch(text)
    if text and m is not None and any(m.groups()):
        return sum(float(g) * unit for g, unit in zip(m.groups(), _DURATION_UNITS, strict=True) if g)
    raise ValueError(f'cannot parse "{text}" to a valid duration')


def _time_param(params: Params, name: str, default: float | None) -> float | None:
    text = _get(params, name)
    if text == "":
        return default
    try:
        return parse_time(text)
    except ValueError as exc:
        raise ApiError("bad_data", f'invalid parameter "{name}": {exc}') from exc


def _success(data: object) -> JSONResponse:
    return JSONResponse({"status": "success", "data": data})


def _error(error_type: str, message: str) -> JSONResponse:
    body = {"status": "error", "errorType": error_type, "error": message}
    return JSONResponse(body, status_code=_STATUS.get(error_type, 500))


Handler = Callable[[Request, SeriesStore, Params], object]


def prometheus_routes(
    get_store: Callable[[Request], SeriesStore], cache: ResponseCache | None = None
) -> list[Route]:
    """Starlette routes for /api/v1/{query,query_range,labels,label/{name}/values,series,...}.

    With a `cache`, successful range queries (fully determined by their parameters) are answered from it.
    """

    def endpoint(handler: Handler, cached: bool = False) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            try:
                params = await _params(request)
                store = get_store(request)
                if not cached or cache is None:
                    return _success(handler(request, store, params))
                key = cache.key(handler.__name__, params)
                body = cache.get(store, key)
                if body is None:
                    body = bytes(_success(handler(request, store, params)).body)
                    cache.put(store, key, body)
                return Response(body, media_type="application/json")
            except ApiError as exc:
                return _error(exc.error_type, exc.message)
            except PromQLError as exc:
                return _error(exc.error_type, exc.message)

        return run

    methods = ["GET", "POST"]
    return [
        Route("/api/v1/query", endpoint(_query), methods=methods),
        Route("/api/v1/query_range", endpoint(_query_range, cached=True), methods=methods),
        Route("/api/v1/labels", endpoint(_labels), methods=methods),
        Route("/api/v1/label/{name}/values", endpoint(_label_values), methods=["GET"]),
        Route("/api/v1/series", endpoint(_series), methods=methods),
        Route("/api/v1/metadata", endpoint(lambda r, s, p: {}), methods=["GET"]),
        Route("/api/v1/status/buildinfo", endpoint(lambda r, s, p: BUILD_INFO), methods=["GET"]),
    ]


def _query(request: Request, store: SeriesStore, params: Params) -> object:
    at = _time_param(params, "time", time.time())
    assert at is not None
    try:
        return query_instant(store, _get(params, "query"), at)
    except PromQLError as exc:
        if exc.error_type == "bad_data":  # instant queries report parse errors as a bad parameter
            raise ApiError("bad_data", f'invalid parameter "query": {exc.message}') from exc
        raise


def _query_range(request: Request, store: SeriesStore, params: Params) -> object:
    start = _time_param(params, "start", None)
    if start is None:
        raise ApiError("bad_data", 'invalid parameter "start": cannot parse "" to a valid timestamp')
    end = _time_param(params, "end", None)
    if end is None:
        raise ApiError("bad_data", 'invalid parameter "end": cannot parse "" to a valid timestamp')
    if end < start:
        raise ApiError("bad_data", 'invalid parameter "end": end timestamp must not be before start time')
    try:
        step = parse_duration(_get(params, "step"))
    except ValueError as exc:
        raise ApiError("bad_data", f'invalid parameter "step": {exc}') from exc
    if step <= 0:
        raise ApiError(
            "bad_data",
            'invalid parameter "step": zero or negative query resolution step widths are not accepted. '
            "Try a positive integer",
        )
    if (end - start) / step > MAX_POINTS:
        raise ApiError(
            "bad_data",
            "exceeded maximum resolution of 11,000 points per timeseries. "
            "Try decreasing the query resolution (?step=XX)",
        )
    return query_range(store, _get(params, "query"), start, end, step)


def _window(params: Params) -> tuple[float | None, float | None]:
    return _time_param(params, "start", None), _time_param(params, "end", None)


def _labels(request: Request, store: SeriesStore, params: Params) -> object:
    start, end = _window(params)
    return store.label_names(_all(params, "match[]") or None, start, end)


def _label_values(request: Request, store: SeriesStore, params: Params) -> object:
    name = str(request.path_params["name"])
    if not _LABEL_NAME.fullmatch(name):
        raise ApiError("bad_data", f'invalid label name: "{name}"')
    start, end = _window(params)
    # `limit` is accepted and ignored, as Prometheus 2.42 does: mcp-grafana filters and pages the
    # full list itself, so truncating here would hide matches.
    return store.label_values(name, _all(params, "match[]") or None, start, end)


def _series(request: Request, store: SeriesStore, params: Params) -> object:
    match = _all(params, "match[]")
    if not match:
        raise ApiError("bad_data", "no match[] parameter provided")
    start, end = _window(params)
    return store.series(match, start, end)
