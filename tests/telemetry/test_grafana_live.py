"""GrafanaClient end-to-end: the real mcp-grafana binary (stdio and streamable HTTP) in front of the lab's
Grafana-compatible server, on a small hand-built telemetry set."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator

import numpy as np
import pytest
from telemetry_testkit import http_process

from compass_testing import free_port
from compass_worker.telemetry.allowlist import AllowlistToolset
from compass_worker.telemetry.config import parse_mcp_config
from compass_worker.telemetry.grafana import Data, Failed, GrafanaClient, LabelMatcher, NoData
from compass_worker.telemetry.session import open_toolsets

lab = pytest.importorskip("compass_lab.server", reason="the lab server (compass_lab/server) is not available")
model = pytest.importorskip("compass_lab.model")

pytestmark = pytest.mark.slow

NOW = float(int(time.time()))
START = NOW - 3600
TRACE_ID = f"{7:032x}"


def _telemetry() -> object:
    ts = np.arange(NOW - 7200, NOW + 1, 15.0)
    errors = np.cumsum(np.where(ts >= NOW - 1800, 3.0, 0.0))
    series = (
        model.Series(
            {"__name__": "http_requests_total", "service_name": "checkout", "code": "500"}, ts, errors
        ),
        model.Series(
            {"__name__": "up", "job": "checkout", "instance": "checkout-1:8080"}, ts, np.ones(ts.size)
        ),
    )
    lines = tuple(
        model.LogLine(t * 10**9, f'level=error msg="db connection refused" trace_id={TRACE_ID}')
        for t in range(int(NOW) - 1800, int(NOW) + 1, 30)
    )
    logs = (model.LogStream({"service_name": "checkout", "level": "error"}, lines),)
    start_ns = int(NOW - 600) * 10**9
    spans = (
        model.Span(TRACE_ID, "00000000000000a1", None, "checkout", "POST /checkout", "server", start_ns,
                   1_600_000_000, "error", "upstream timeout", {"http.status_code": 500}),
        model.Span(TRACE_ID, "00000000000000a2", "00000000000000a1", "checkout", "SELECT orders", "client",
                   start_ns + 10_000_000, 1_500_000_000, "error", "", {"db.system": "postgresql"}),
    )  # fmt: skip
    return model.TelemetrySet(series=series, log_streams=logs, spans=spans, start=NOW - 7200, end=NOW)


def _scenario() -> object:
    return model.Scenario(
        id="telemetry-live",
        split=model.Split.DEV,
        system="shop",
        seed=1,
        kind=model.ScenarioKind.FAULT,
        title="telemetry adapter test",
        symptom="checkout 5xx",
        symptom_component="checkout",
        at=NOW,
        window_s=3600,
        onset=NOW - 1800,
        truth_component="postgres",
        truth_fault="db_slow_queries",
        components=(model.Component(name="checkout", kind="service"),),
        conventions="otel",
        has_logs=True,
        has_traces=True,
    )


@pytest.fixture(scope="module")
def lab_url() -> Iterator[str]:
    registry = lab.LabRegistry([_scenario()], lambda _s: _telemetry())
    with lab.LabServer(registry) as server:
        yield server.url


@pytest.fixture(params=["stdio", "http"])
def grafana_server(request: pytest.FixtureRequest, lab_url: str) -> Iterator[dict[str, object]]:
    env = lab.grafana_env(lab_url)
    command = lab.mcp_grafana_command()
    if request.param == "stdio":
        yield {"command": command, "args": [], "env": env}
        return
    port = free_port()
    args = [command, "-t", "streamable-http", "-address", f"127.0.0.1:{port}"]
    with http_process(args, port, env={**os.environ, **env}) as url:
        yield {"url": url}


async def test_grafana_client_end_to_end(grafana_server: dict[str, object], lab_url: str) -> None:
    config = parse_mcp_config(json.dumps({"mcpServers": {"grafana": grafana_server}}), {})
    async with open_toolsets(config, call_timeout_s=30, start_timeout_s=30) as pool:
        assert pool.unavailable == {}
        client = GrafanaClient(AllowlistToolset(pool), server="grafana")

        sources = await client.datasources()
        assert isinstance(sources, Data)
        by_type = {d.type: d.uid for d in sources.value}
        assert set(by_type) == {"prometheus", "loki", "tempo"}
        prom, loki, tempo = by_type["prometheus"], by_type["loki"], by_type["tempo"]

        names = await client.metric_names(prom, start=START, end=NOW)
        assert isinstance(names, Data)
        assert {"http_requests_total", "up"} <= set(names.value)
        values = await client.label_values(
            prom, "service_name", [LabelMatcher(name="code", value="500")], START, NOW
        )
        assert values == Data(value=["checkout"])

        rate = await client.query_range(
            prom, 'sum(rate(http_requests_total{code="500"}[5m]))', START, NOW, 60
        )
        assert isinstance(rate, Data)
        (series,) = rate.value.series
        assert max(series.values) == pytest.approx(0.2, rel=0.05)  # 3 errors per 15 s
        assert rate.value.explore_url is not None
        instant = await client.query_instant(prom, 'up{job="checkout"}', NOW)
        assert isinstance(instant, Data)
        assert instant.value.samples[0].value == 1.0
        assert isinstance(await client.query_instant(prom, "no_such_metric_xyz", NOW), NoData)
        broken = await client.query_instant(prom, "sum(rate(x[5m])", NOW)
        assert isinstance(broken, Failed)
        assert "parse error" in broken.error
        assert isinstance(await client.query_instant("no-such-uid", "up", NOW), Failed)

        logs = await client.loki_logs(loki, '{service_name="checkout"} |= "refused"', START, NOW, limit=5)
        assert isinstance(logs, Data)
        assert len(logs.value) == 5
        assert logs.value[0].labels["service_name"] == "checkout"
        assert "db connection refused" in logs.value[0].line
        assert isinstance(
            await client.loki_logs(loki, '{service_name="checkout"} |= "nothing-like-this"', START, NOW),
            NoData,
        )
        counts = await client.loki_metric_range(
            loki, 'sum(count_over_time({service_name="checkout"}[5m]))', START, NOW, 60
        )
        assert isinstance(counts, Data)
        assert max(counts.value.series[0].values) == pytest.approx(10, abs=1)  # one line per 30 s
        patterns = await client.loki_patterns(loki, '{service_name="checkout"}', START, NOW)
        assert not isinstance(patterns, Failed), patterns

        hits = await client.tempo_search(tempo, "{ status = error }", START, NOW, limit=10)
        assert isinstance(hits, Data)
        assert [h.trace_id for h in hits.value] == [TRACE_ID]
        trace = await client.tempo_trace(tempo, TRACE_ID)
        assert isinstance(trace, Data)
        spans = {s.span_id: s for s in trace.value.spans}
        assert spans["00000000000000a2"].parent_span_id == "00000000000000a1"
        assert spans["00000000000000a1"].status == "error"
        assert spans["00000000000000a1"].attributes["http.status_code"] == 500
        names_t = await client.tempo_attribute_names(tempo, "resource")
        assert isinstance(names_t, Data)
        assert "resource.service.name" in names_t.value
        assert await client.tempo_attribute_values(tempo, "resource.service.name") == Data(value=["checkout"])

        link = await client.explore_link(loki, '{service_name="checkout"}', START, NOW, "loki")
        assert link is not None
        assert link.startswith(f"{lab_url}/explore?")
        assert pool.calls == 17
