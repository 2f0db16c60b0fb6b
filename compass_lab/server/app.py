"""The lab's Grafana-compatible HTTP API: `create_app(registry)`.

Every endpoint is served at the root (the registry's default scenario) and under `/s/<scenario_id>` so one
server can serve every scenario; mcp-grafana keeps GRAFANA_URL's path prefix on every call, so
`GRAFANA_URL=http://127.0.0.1:<port>/s/<id>` points it at one scenario.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount

from compass_lab.promql import SeriesStore
from compass_lab.server.context import data_of, datasource_of
from compass_lab.server.errors import LabHTTPError
from compass_lab.server.grafana_api import grafana_routes
from compass_lab.server.loki_api import loki_routes
from compass_lab.server.prometheus_api import prometheus_routes
from compass_lab.server.registry import LabRegistry
from compass_lab.server.response_cache import ResponseCache
from compass_lab.server.tempo_api import tempo_routes


def _series_store(request: Request) -> SeriesStore:
    datasource_of(request, "prometheus")
    return data_of(request).series


def _api_routes(cache: ResponseCache) -> list[BaseRoute]:
    return [
        *grafana_routes(),
        Mount("/api/datasources/uid/{uid}/resources", routes=prometheus_routes(_series_store, cache)),
        Mount(
            "/api/datasources/proxy/uid/{uid}",
            routes=[*prometheus_routes(_series_store, cache), *loki_routes(cache), *tempo_routes()],
        ),
    ]


async def _lab_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LabHTTPError)
    if exc.json_body:
        return JSONResponse({"message": exc.message}, status_code=exc.status_code)
    return PlainTextResponse(exc.message, status_code=exc.status_code)


async def _http_error(_request: Request, exc: Exception) -> Response:
    # Grafana answers unknown API paths with JSON, not Starlette's plain "Not Found".
    assert isinstance(exc, HTTPException)
    message = "Not found" if exc.status_code == 404 else str(exc.detail)
    return JSONResponse({"message": message}, status_code=exc.status_code)


def create_app(registry: LabRegistry, cache: ResponseCache | None = None) -> Starlette:
    """`cache`: for range-query bodies (a fresh 64 MB one by default; `ResponseCache(0)` turns it off)."""
    response_cache = cache if cache is not None else ResponseCache()
    api = _api_routes(response_cache)
    app = Starlette(
        routes=[Mount("/s/{scenario_id}", routes=api), *api],
        exception_handlers={LabHTTPError: _lab_error, HTTPException: _http_error},
    )
    app.state.registry = registry
    app.state.response_cache = response_cache
    return app
