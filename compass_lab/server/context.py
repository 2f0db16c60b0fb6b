"""Resolving a request to its scenario (root = default, `/s/<id>/...` = that scenario) and datasource."""

from __future__ import annotations

from starlette.requests import Request

from compass_lab.server.datasources import Datasource, DatasourceType, datasources_for
from compass_lab.server.errors import GrafanaNotFoundError
from compass_lab.server.registry import LabData, LabRegistry, UnknownScenarioError


def registry_of(request: Request) -> LabRegistry:
    registry: LabRegistry = request.app.state.registry
    return registry


def scenario_id_of(request: Request) -> str | None:
    sid = request.path_params.get("scenario_id")
    return str(sid) if sid is not None else None


def datasources_of(request: Request) -> list[Datasource]:
    try:
        scenario = registry_of(request).scenario(scenario_id_of(request))
    except UnknownScenarioError as err:
        raise GrafanaNotFoundError(f"Scenario not found: {err.scenario_id}") from None
    return datasources_for(scenario)


def datasource_of(request: Request, expected: DatasourceType | None = None) -> Datasource:
    """The datasource named by the `uid` path parameter; 404 like Grafana when unknown or of another type."""
    uid = str(request.path_params.get("uid", ""))
    for ds in datasources_of(request):
        if ds.uid == uid and (expected is None or ds.type == expected):
            return ds
    raise GrafanaNotFoundError("Data source not found")


def data_of(request: Request) -> LabData:
    try:
        return registry_of(request).data(scenario_id_of(request))
    except UnknownScenarioError as err:
        raise GrafanaNotFoundError(f"Scenario not found: {err.scenario_id}") from None


async def params_of(request: Request) -> dict[str, str]:
    """Query-string and form parameters merged (Loki and Tempo accept both GET and POST)."""
    params = dict(request.query_params)
    if request.method == "POST":
        form = await request.form()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params
