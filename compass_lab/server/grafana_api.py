"""Grafana's own endpoints mcp-grafana calls: health, frontend settings, user, datasources."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from compass_lab.server.context import datasource_of, datasources_of

GRAFANA_VERSION = "11.6.0"


async def health(_request: Request) -> JSONResponse:
    return JSONResponse({"commit": "compass-lab", "database": "ok", "version": GRAFANA_VERSION})


async def frontend_settings(request: Request) -> JSONResponse:
    sources = datasources_of(request)
    return JSONResponse(
        {
            "appSubUrl": "",
            "defaultDatasource": next(d.name for d in sources if d.is_default),
            "datasources": {
                d.name: {"id": d.id, "uid": d.uid, "type": d.type, "name": d.name, "isDefault": d.is_default}
                for d in sources
            },
            "buildInfo": {"version": GRAFANA_VERSION, "commit": "compass-lab", "edition": "Open Source"},
            "featureToggles": {},
            "anonymousEnabled": True,
        }
    )


async def user(_request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "id": 1,
            "uid": "lab-admin",
            "email": "admin@localhost",
            "name": "Lab",
            "login": "admin",
            "orgId": 1,
            "isGrafanaAdmin": False,
            "isDisabled": False,
            "theme": "",
            "teams": [],
            "authLabels": [],
        }
    )


async def list_datasources(request: Request) -> JSONResponse:
    return JSONResponse([d.summary() for d in datasources_of(request)])


async def get_datasource(request: Request) -> JSONResponse:
    return JSONResponse(datasource_of(request).detail())


async def get_datasource_by_name(request: Request) -> JSONResponse:
    name = str(request.path_params["name"])
    for d in datasources_of(request):
        if d.name == name:
            return JSONResponse(d.detail())
    return JSONResponse({"message": "Data source not found"}, status_code=404)


async def datasource_health(request: Request) -> JSONResponse:
    ds = datasource_of(request)
    return JSONResponse({"status": "OK", "message": ds.health_message})


def grafana_routes() -> list[Route]:
    return [
        Route("/api/health", health),
        Route("/api/frontend/settings", frontend_settings),
        Route("/api/user", user),
        Route("/api/datasources", list_datasources),
        Route("/api/datasources/uid/{uid}", get_datasource),
        Route("/api/datasources/name/{name}", get_datasource_by_name),
        Route("/api/datasources/uid/{uid}/health", datasource_health),
    ]
