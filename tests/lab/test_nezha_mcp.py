"""A converted Nezha scenario served by the lab and read through the real mcp-grafana binary (stdio), the way
the engine reads it; plus the real archive, when it is present, converted and served end to end."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import nezha_fixture as fx
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.types import TextContent

from compass_lab.model import Scenario
from compass_lab.nezha import NezhaDataset, NezhaSettings
from compass_lab.server import LabRegistry, LabServer, grafana_env, mcp_grafana_command

pytestmark = pytest.mark.slow

OB_CPU = "nezha-ob-2022-08-22-0353-cpu_contention-cartservice"


def _rfc3339(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> NezhaDataset:
    root = tmp_path_factory.mktemp("nezha-mcp")
    archive = fx.build_archive(root / "nezha-dev.tar.xz")
    return NezhaDataset(NezhaSettings(archive=archive, cache_dir=root / "cache", trace_sample=1.0))


@pytest.fixture(scope="module")
def lab(dataset: NezhaDataset) -> Iterator[LabServer]:
    with LabServer(LabRegistry(dataset.scenarios(), dataset.build_telemetry)) as server:
        yield server


async def _calls(url: str, scenario_id: str, calls: list[tuple[str, dict[str, object]]]) -> list[object]:
    params = StdioServerParameters(command=mcp_grafana_command(), args=[], env=grafana_env(url, scenario_id))
    out: list[object] = []
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        for name, args in calls:
            res = await session.call_tool(name, args)
            texts = [c.text for c in res.content if isinstance(c, TextContent)]
            assert not res.is_error, texts
            out.append(json.loads(texts[0]))
    return out


async def test_metrics_traces_and_logs_through_mcp_grafana(lab: LabServer, dataset: NezhaDataset) -> None:
    s: Scenario = next(x for x in dataset.scenarios() if x.id == OB_CPU)
    assert s.onset is not None
    start, end = _rfc3339(s.at - 1800), _rfc3339(s.at)
    cart = fx.OB.callee_pod
    names, cpu, traces, logs = await _calls(
        lab.url,
        s.id,
        [
            ("list_prometheus_metric_names", {"datasourceUid": "prometheus", "regex": "^CpuUsage.*"}),
            (
                "query_prometheus",
                {
                    "datasourceUid": "prometheus",
                    "expr": f'CpuUsageRate_percent{{pod="{cart}"}}',
                    "queryType": "range",
                    "startTime": start,
                    "endTime": end,
                    "stepSeconds": 60,
                },
            ),
            (
                "search_tempo_traces",
                {
                    "datasourceUid": "tempo",
                    "query": '{ resource.service.name = "cartservice" && kind = server }',
                    "start": start,
                    "end": end,
                },
            ),
            (
                "query_loki_logs",
                {
                    "datasourceUid": "loki",
                    "logql": '{service_name="cartservice", namespace="hipster"} |= "served cart"',
                    "startRfc3339": start,
                    "endRfc3339": end,
                    "limit": 100,
                },
            ),
        ],
    )
    assert names == ["CpuUsageRate_percent", "CpuUsage_m"]
    assert isinstance(cpu, dict)
    (series,) = cpu["data"]
    assert series["metric"] == {"__name__": "CpuUsageRate_percent", "namespace": "hipster", "pod": cart}
    by_t = {float(t): float(v) for t, v in series["values"]}
    assert max(v for t, v in by_t.items() if t >= s.onset) == 90.0
    assert set(v for t, v in by_t.items() if t < s.onset) == {10.0}
    assert isinstance(traces, dict)
    assert len(traces["traces"]) == 12
    assert {t["rootServiceName"] for t in traces["traces"]} == {"frontend"}
    assert isinstance(logs, dict)
    assert len(logs["data"]) == 12
    assert all(r["labels"]["pod"] == cart for r in logs["data"])


@pytest.mark.skipif(not NezhaSettings().archive_path().is_file(), reason="the Nezha archive is not present")
async def test_real_archive_end_to_end() -> None:
    # The default cache (as `compass lab --dataset nezha-dev` uses it): ~55 s when cold, a few seconds after.
    t0 = time.monotonic()
    ds = NezhaDataset(NezhaSettings())
    scenarios = ds.scenarios()
    faults = [s for s in scenarios if s.truth_fault is not None]
    assert len([s for s in faults if s.system == "online-boutique"]) == 24
    assert len([s for s in faults if s.system == "train-ticket"]) == 17
    assert len(scenarios) > len(faults)  # controls
    s = next(x for x in faults if x.id == "nezha-tt-2023-01-30-1151-network_delay-ts-contacts-service")
    wanted = ("CpuUsageRate_percent", "LatencyP99_s", "PodServerLatencyP99_s")
    with LabServer(LabRegistry([s], ds.build_telemetry)) as lab:
        names, traces = await _calls(
            lab.url,
            s.id,
            [
                (
                    "list_prometheus_metric_names",
                    {"datasourceUid": "prometheus", "regex": f"^({'|'.join(wanted)})$"},
                ),
                (
                    "search_tempo_traces",
                    {
                        "datasourceUid": "tempo",
                        "query": '{ resource.service.name = "ts-contacts-service" }',
                        "start": _rfc3339(s.at - 600),
                        "end": _rfc3339(s.at),
                    },
                ),
            ],
        )
    assert names == list(wanted)
    assert isinstance(traces, dict) and traces["traces"]
    assert time.monotonic() - t0 < 110
