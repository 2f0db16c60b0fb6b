"""The real mcp-grafana binary against the lab, over stdio and streamable HTTP: every tool an investigation
uses, with its parsed output checked against the fixture's telemetry (see conftest.py)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, TextContent

from compass_lab.server import LabRegistry, LabServer, grafana_env, mcp_grafana_command
from compass_testing import free_port

pytestmark = pytest.mark.slow

Call = tuple[str, dict[str, object], "asyncio.Future[CallToolResult]"]


@dataclass
class ToolResult:
    is_error: bool
    text: str

    def json(self) -> object:
        return json.loads(self.text)


class McpHarness:
    """Owns one MCP client session in one task (anyio scopes must open and close in the same task);
    tests hand it calls through a queue."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Call | None] = asyncio.Queue()
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def run(self, transport: str, env: dict[str, str]) -> None:
        try:
            async with AsyncExitStack() as stack:
                if transport == "stdio":
                    params = StdioServerParameters(command=mcp_grafana_command(), args=[], env=env)
                    read, write = await stack.enter_async_context(stdio_client(params))
                else:
                    url = await stack.enter_async_context(_http_mcp_grafana(env))
                    read, write = await stack.enter_async_context(streamable_http_client(url))
                session = await stack.enter_async_context(ClientSession(read, write))
                await session.initialize()
                self.ready.set_result(None)
                while (item := await self.queue.get()) is not None:
                    name, args, fut = item
                    try:
                        fut.set_result(await session.call_tool(name, args))
                    except Exception as err:  # handed to the waiting test
                        fut.set_exception(err)
        except Exception as err:
            if not self.ready.done():
                self.ready.set_exception(err)
            raise

    async def call(self, name: str, args: dict[str, object]) -> ToolResult:
        fut: asyncio.Future[CallToolResult] = asyncio.get_running_loop().create_future()
        await self.queue.put((name, args, fut))
        res = await asyncio.wait_for(fut, 30)
        texts = [c.text for c in res.content if isinstance(c, TextContent)]
        assert len(texts) == 1, res.content
        return ToolResult(bool(res.is_error), texts[0])


class _HttpServer:
    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [mcp_grafana_command(), "-t", "streamable-http", "-address", f"127.0.0.1:{self.port}"],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def __aenter__(self) -> str:
        deadline = time.monotonic() + 15
        async with httpx.AsyncClient() as client:
            while True:
                try:
                    if (await client.get(f"http://127.0.0.1:{self.port}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("mcp-grafana streamable-http did not start")
                await asyncio.sleep(0.05)
        return f"http://127.0.0.1:{self.port}/mcp"

    async def __aexit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _http_mcp_grafana(env: dict[str, str]) -> _HttpServer:
    return _HttpServer(env)


@pytest.fixture(scope="module")
def lab(lab_registry: LabRegistry) -> Iterator[LabServer]:
    with LabServer(lab_registry) as server:
        yield server


@pytest.fixture(scope="module", params=["stdio", "streamable-http"])
async def mcp(request: pytest.FixtureRequest, lab: LabServer) -> AsyncIterator[McpHarness]:
    harness = McpHarness()
    task = asyncio.create_task(harness.run(str(request.param), grafana_env(lab.url, "full")))
    await asyncio.wait_for(harness.ready, 30)
    yield harness
    await harness.queue.put(None)
    await asyncio.wait_for(task, 30)


# -- Grafana ---------------------------------------------------------------------------------------------


async def test_list_and_get_datasources(mcp: McpHarness) -> None:
    listed = (await mcp.call("list_datasources", {})).json()
    assert isinstance(listed, dict)
    assert [(d["uid"], d["type"], d["isDefault"]) for d in listed["datasources"]] == [
        ("prometheus", "prometheus", True),
        ("loki", "loki", False),
        ("tempo", "tempo", False),
    ]
    prom_only = (await mcp.call("list_datasources", {"type": "tempo"})).json()
    assert isinstance(prom_only, dict)
    assert [d["uid"] for d in prom_only["datasources"]] == ["tempo"]
    got = (await mcp.call("get_datasource", {"uid": "prometheus"})).json()
    assert isinstance(got, dict)
    assert got["jsonData"] == {"httpMethod": "POST"}
    assert got["type"] == "prometheus"


async def test_unknown_datasource_is_an_error(mcp: McpHarness) -> None:
    res = await mcp.call(
        "query_prometheus", {"datasourceUid": "nope", "expr": "up", "queryType": "instant", "endTime": "now"}
    )
    assert res.is_error
    assert "datasource with UID 'nope' not found" in res.text


async def test_health_and_deeplink(mcp: McpHarness, lab: LabServer) -> None:
    health = (await mcp.call("check_datasources_health", {})).json()
    assert isinstance(health, dict)
    assert (health["healthy"], health["unhealthy"]) == (3, 0)
    link = await mcp.call(
        "generate_deeplink",
        {
            "resourceType": "explore",
            "datasourceUid": "prometheus",
            "queries": [{"refId": "A", "expr": "up"}],
            "timeRange": {"from": "now-1h", "to": "now"},
        },
    )
    assert not link.is_error
    assert link.text.startswith(f"{lab.url}/s/full/explore?panes=")


# -- Prometheus --------------------------------------------------------------------------------------------


async def test_prometheus_metric_and_label_discovery(mcp: McpHarness) -> None:
    names = (
        await mcp.call("list_prometheus_metric_names", {"datasourceUid": "prometheus", "regex": "^http_.*"})
    ).json()
    assert names == ["http_request_duration_seconds_bucket", "http_requests_total"]
    limited = (
        await mcp.call("list_prometheus_metric_names", {"datasourceUid": "prometheus", "limit": 1})
    ).json()
    assert limited == ["http_request_duration_seconds_bucket"]
    labels = (await mcp.call("list_prometheus_label_names", {"datasourceUid": "prometheus"})).json()
    assert isinstance(labels, list)
    assert {"__name__", "job", "service_name", "code", "le"} <= set(labels)
    jobs = (
        await mcp.call("list_prometheus_label_values", {"datasourceUid": "prometheus", "labelName": "job"})
    ).json()
    assert jobs == ["checkout", "payments"]


def _rfc3339(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_query_prometheus_range_instant_and_error(mcp: McpHarness, lab_now: float) -> None:
    # Explicit times: with "now-20m"/"now" the two ends are read microseconds apart, and when that crosses a
    # millisecond boundary Prometheus (and the lab) rightly return one point fewer.
    rng = (
        await mcp.call(
            "query_prometheus",
            {
                "datasourceUid": "prometheus",
                "expr": 'sum(rate(http_requests_total{code="500"}[5m]))',
                "queryType": "range",
                "startTime": _rfc3339(lab_now - 1200),
                "endTime": _rfc3339(lab_now),
                "stepSeconds": 300,
            },
        )
    ).json()
    assert isinstance(rng, dict)
    (series,) = rng["data"]
    assert len(series["values"]) == 5
    assert all(abs(float(v) - 0.2) < 1e-6 for _, v in series["values"])
    inst = (
        await mcp.call(
            "query_prometheus",
            {
                "datasourceUid": "prometheus",
                "expr": 'up{job="payments"}',
                "queryType": "instant",
                "endTime": "now",
            },
        )
    ).json()
    assert isinstance(inst, dict)
    assert [(d["metric"]["instance"], d["value"][1]) for d in inst["data"]] == [("payments-1:8080", "1")]
    bad = await mcp.call(
        "query_prometheus",
        {"datasourceUid": "prometheus", "expr": "sum(up", "queryType": "instant", "endTime": "now"},
    )
    assert bad.is_error
    assert "bad_data" in bad.text
    assert "parse error" in bad.text


async def test_query_prometheus_histogram(mcp: McpHarness) -> None:
    res = (
        await mcp.call(
            "query_prometheus_histogram",
            {
                "datasourceUid": "prometheus",
                "metric": "http_request_duration_seconds",
                "percentile": 95,
                "labels": 'service_name="checkout"',
                "startTime": "now-10m",
            },
        )
    ).json()
    assert isinstance(res, dict)
    (series,) = res["result"]
    # After the onset every request sits in the (1, 5] bucket: p95 interpolates to 4.8 s.
    assert abs(float(series["values"][-1][1]) - 4.8) < 1e-6


# -- Loki ----------------------------------------------------------------------------------------------------


async def test_loki_labels(mcp: McpHarness) -> None:
    assert (await mcp.call("list_loki_label_names", {"datasourceUid": "loki"})).json() == [
        "level",
        "service_name",
    ]
    values = (
        await mcp.call("list_loki_label_values", {"datasourceUid": "loki", "labelName": "service_name"})
    ).json()
    assert values == ["checkout", "payments"]


async def test_loki_log_lines(mcp: McpHarness) -> None:
    res = (
        await mcp.call(
            "query_loki_logs",
            {
                "datasourceUid": "loki",
                "logql": '{service_name="checkout"} |= "refused" | logfmt | duration > 104ms',
                "limit": 3,
            },
        )
    ).json()
    assert isinstance(res, dict)
    rows = res["data"]
    assert len(rows) == 3
    stamps = [int(r["timestamp"]) for r in rows]
    assert stamps == sorted(stamps, reverse=True)  # backward: newest first
    assert all('msg="db connection refused"' in r["line"] and r["labels"]["level"] == "error" for r in rows)
    assert all(int(r["labels"]["duration"].removesuffix("ms")) > 104 for r in rows)


async def test_loki_metric_range_and_instant(mcp: McpHarness) -> None:
    rng = (
        await mcp.call(
            "query_loki_logs",
            {
                "datasourceUid": "loki",
                "logql": 'sum by (level) (count_over_time({service_name="checkout"}[10m]))',
                "queryType": "range",
                "stepSeconds": 600,
                "startRfc3339": "now-20m",
                "endRfc3339": "now",
            },
        )
    ).json()
    assert isinstance(rng, dict)
    by_level = {s["labels"]["level"]: [v["value"] for v in s["values"]] for s in rng["data"]}
    # Every 10 minutes: 20 error lines (one per 30 s), 60 info lines (one per 10 s).
    assert by_level["error"][-2:] == [20, 20]
    assert by_level["info"][-2:] == [60, 60]
    inst = (
        await mcp.call(
            "query_loki_logs",
            {
                "datasourceUid": "loki",
                "logql": 'sum(count_over_time({service_name="checkout", level="error"}[1h]))',
                "queryType": "instant",
            },
        )
    ).json()
    assert isinstance(inst, dict)
    assert [d["value"] for d in inst["data"]] == [60]


async def test_loki_error_is_lokis_text(mcp: McpHarness) -> None:
    res = await mcp.call("query_loki_logs", {"datasourceUid": "loki", "logql": '{service_name="checkout"'})
    assert res.is_error
    assert "parse error at line 1, col 25: syntax error: unexpected $end" in res.text


async def test_loki_patterns_and_stats(mcp: McpHarness) -> None:
    pats = (
        await mcp.call("query_loki_patterns", {"datasourceUid": "loki", "logql": '{service_name="checkout"}'})
    ).json()
    assert isinstance(pats, list)
    counts = {p["pattern"]: p["totalCount"] for p in pats}
    # The newest line of each stream sits at the fixture's "now": it is in mcp-grafana's default window
    # (the last hour up to its own "now", to the second) only once that second has passed.
    assert counts['level=error msg="db connection refused" trace_id=<_> duration=<_>'] in (59, 60)
    assert counts['level=info msg="order placed" order_id=<_> duration=<_>'] in (360, 361)
    stats = (await mcp.call("query_loki_stats", {"datasourceUid": "loki", "logql": '{level="error"}'})).json()
    assert isinstance(stats, dict)
    assert (stats["streams"], stats["entries"]) == (1, 60)


# -- Tempo ---------------------------------------------------------------------------------------------------


async def test_tempo_search_and_trace(mcp: McpHarness) -> None:
    res = (
        await mcp.call(
            "search_tempo_traces", {"datasourceUid": "tempo", "query": "{ status = error && kind = client }"}
        )
    ).json()
    assert isinstance(res, dict)
    traces = res["traces"]
    assert [int(t["traceID"], 16) - 1 for t in traces] == [16, 12, 8, 4, 0]
    assert all(t["rootServiceName"] == "checkout" and t["durationMs"] == 1600 for t in traces)
    assert traces[0]["spanSets"][0]["spans"][0]["name"] == "SELECT orders"
    trace = (
        await mcp.call("get_tempo_trace", {"datasourceUid": "tempo", "trace_id": traces[0]["traceID"]})
    ).json()
    assert isinstance(trace, dict)
    resources = trace["trace"]["resourceSpans"]
    services = {r["resource"]["attributes"][0]["value"]["stringValue"] for r in resources}
    spans = [s for r in resources for ss in r["scopeSpans"] for s in ss["spans"]]
    assert services == {"checkout", "payments"}
    assert len(spans) == 3
    root = next(s for s in spans if "parentSpanId" not in s)
    assert root["status"] == {"code": "STATUS_CODE_ERROR", "message": "upstream timeout"}
    missing = await mcp.call("get_tempo_trace", {"datasourceUid": "tempo", "trace_id": "ff" * 16})
    assert missing.is_error
    assert "404" in missing.text
    bad = await mcp.call("search_tempo_traces", {"datasourceUid": "tempo", "query": "{ status = }"})
    assert bad.is_error
    assert "invalid TraceQL query: parse error at line 1, col 12" in bad.text


async def test_tempo_attributes(mcp: McpHarness) -> None:
    names = (await mcp.call("list_tempo_attribute_names", {"datasourceUid": "tempo", "scope": "span"})).json()
    assert names == {
        "scopes": [
            {
                "name": "span",
                "tags": ["db.system", "http.route", "http.status_code", "payment.method", "retry"],
            }
        ],
        "metrics": {},
    }
    values = (
        await mcp.call(
            "list_tempo_attribute_values", {"datasourceUid": "tempo", "name": "resource.service.name"}
        )
    ).json()
    assert isinstance(values, dict)
    assert [v["value"] for v in values["tagValues"]] == ["checkout", "payments"]


async def test_tempo_metrics(mcp: McpHarness) -> None:
    inst = (
        await mcp.call(
            "query_tempo_metrics",
            {
                "datasourceUid": "tempo",
                "query": "{ status = error } | count_over_time() by (resource.service.name)",
                "type": "instant",
            },
        )
    ).json()
    assert isinstance(inst, dict)
    got = {s["labels"][0]["value"]["stringValue"]: s["value"] for s in inst["series"]}
    assert got == {"checkout": 10.0}  # 5 failing traces x (root + db client span)
    rng = (
        await mcp.call(
            "query_tempo_metrics",
            {"datasourceUid": "tempo", "query": '{ name = "charge" } | rate()'},
        )
    ).json()
    assert isinstance(rng, dict)
    (series,) = rng["series"]
    assert sum(1 for _ in series["samples"]) >= 1
    assert all(s["value"] > 0 for s in series["samples"])
