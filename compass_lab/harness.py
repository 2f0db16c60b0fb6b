"""Running COMPASS against lab scenarios exactly as against a real Grafana.

The lab serves every scenario under `/s/<id>`; each investigation starts the real `mcp-grafana`
(stdio) pointed there, so the engine only ever sees mcp-grafana's tools. Used by `compass demo`,
`compass lab bench` and the end-to-end tests.
"""

from __future__ import annotations

from collections.abc import Iterable

from compass_lab.model import Scenario
from compass_lab.server import LabRegistry
from compass_lab.server.runner import LabServer, mcp_config
from compass_worker.domain.events import Sink
from compass_worker.domain.models import Incident
from compass_worker.engine.incident import build_incident
from compass_worker.engine.investigation import PriorSource
from compass_worker.reasoners.protocol import Reasoner
from compass_worker.runner import Catalogs, RunResult, investigate
from compass_worker.settings import Settings
from compass_worker.telemetry.config import McpConfig, parse_mcp_config


def lab_registry(scenarios: Iterable[Scenario], default_id: str | None = None) -> LabRegistry:
    from compass_lab.scenarios import build_telemetry

    return LabRegistry(list(scenarios), build_telemetry, default_id)


def lab_server(scenarios: Iterable[Scenario], default_id: str | None = None) -> LabServer:
    return LabServer(lab_registry(scenarios, default_id))


def incident_for(scenario: Scenario) -> Incident:
    """What an on-call engineer would type: the symptom text, at the scenario's time, default window."""
    return build_incident(scenario.symptom, service=None, at=str(scenario.at), window=f"{scenario.window_s}s")


def scenario_mcp_config(lab_url: str, scenario: Scenario) -> McpConfig:
    import json

    return parse_mcp_config(json.dumps(mcp_config(lab_url, scenario.id)), {}, source="lab")


async def investigate_scenario(
    lab_url: str,
    scenario: Scenario,
    settings: Settings,
    sink: Sink,
    *,
    catalogs: Catalogs | None = None,
    memory: PriorSource | None = None,
    incident: Incident | None = None,
    reasoner: Reasoner | None = None,
) -> RunResult:
    return await investigate(
        incident or incident_for(scenario),
        scenario_mcp_config(lab_url, scenario),
        settings,
        sink,
        catalogs=catalogs,
        memory=memory,
        reasoner=reasoner,
    )
