"""A held-out randomised scenario in a convention the catalog does not know, served by the lab and read
through the real mcp-grafana (stdio), as an investigation would read it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.types import TextContent

from compass_lab.model import Scenario, ScenarioKind, Split, TelemetrySet
from compass_lab.randomised import build_telemetry, scenarios
from compass_lab.server import LabRegistry, LabServer, grafana_env, mcp_grafana_command

pytestmark = pytest.mark.slow


def _rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(result: object) -> str:
    content = getattr(result, "content", [])
    texts = [c.text for c in content if isinstance(c, TextContent)]
    assert len(texts) == 1, content
    return texts[0]


def _served_workloads(tel: TelemetrySet, at: float) -> set[str]:
    """Workloads whose server-side Istio request counter has two samples in the 5 minutes before `at`."""
    out = set()
    for s in tel.series:
        labels = dict(s.labels)
        if labels["__name__"] != "istio_requests_total" or labels.get("reporter") != "destination":
            continue
        window = (s.timestamps > at - 300) & (s.timestamps <= at)
        if np.isfinite(s.values[window]).sum() >= 2:
            out.add(labels.get("destination_workload", ""))
    return out


def _envoy_scenario() -> tuple[Scenario, TelemetrySet]:
    """A held-out envoy-mesh fault whose sidecars report their workloads in the last 5 minutes (a
    scenario whose mesh exporter or labels were degraded has nothing to compare the answer with)."""
    for s in scenarios():
        if not (s.split == Split.HELDOUT and s.conventions == "envoy-mesh" and s.kind == ScenarioKind.FAULT):
            continue
        tel = build_telemetry(s)
        if s.has_logs and _served_workloads(tel, s.at) & {
            c.name for c in s.components if c.kind == "service"
        }:
            return s, tel
    raise AssertionError("no held-out envoy-mesh scenario reports its workloads")


async def test_envoy_scenario_through_mcp_grafana() -> None:
    scenario, tel = _envoy_scenario()
    registry = LabRegistry([scenario], build_telemetry)
    with LabServer(registry) as lab:
        params = StdioServerParameters(
            command=mcp_grafana_command(), args=[], env=grafana_env(lab.url, scenario.id)
        )
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            listed = await session.call_tool(
                "list_prometheus_metric_names", {"datasourceUid": "prometheus", "regex": "^istio_.*"}
            )
            names = json.loads(_text(listed))
            istio = {x.labels["__name__"] for x in tel.series if x.labels["__name__"].startswith("istio_")}
            assert names == sorted(istio)
            assert "istio_requests_total" in names
            got = json.loads(
                _text(
                    await session.call_tool(
                        "query_prometheus",
                        {
                            "datasourceUid": "prometheus",
                            "expr": "sum by (destination_workload) "
                            '(rate(istio_requests_total{reporter="destination"}[5m]))',
                            "queryType": "instant",
                            "endTime": _rfc3339(scenario.at),
                        },
                    )
                )
            )
            assert isinstance(got, dict)
            returned = {r["metric"].get("destination_workload", "") for r in got["data"]}
            assert returned == _served_workloads(tel, scenario.at)
            assert returned & {c.name for c in scenario.components if c.kind == "service"}
            window = {"startRfc3339": _rfc3339(scenario.at - 3600), "endRfc3339": _rfc3339(scenario.at)}
            loki = await session.call_tool("list_loki_label_names", {"datasourceUid": "loki", **window})
            labels = json.loads(_text(loki))
            assert "workload" in labels and "service_name" not in labels  # the family's own log label
