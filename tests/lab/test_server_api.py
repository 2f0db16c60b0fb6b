"""The lab's Grafana-compatible HTTP API, called the way mcp-grafana calls it (paths from the capture)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from compass_lab.model import Scenario
from compass_lab.server import LabRegistry, LabServer, LabServerError, mcp_config
from compass_lab.server.runner import bind_socket

LOKI = "/api/datasources/proxy/uid/loki/loki/api/v1"
TEMPO = "/api/datasources/proxy/uid/tempo/api"


@pytest.fixture(scope="module")
def server(lab_registry: LabRegistry) -> Iterator[LabServer]:
    with LabServer(lab_registry) as srv:
        yield srv


@pytest.fixture(scope="module")
def http(server: LabServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


def test_root_serves_default_scenario_and_prefix_serves_others(http: httpx.Client) -> None:
    assert [d["uid"] for d in http.get("/api/datasources").json()] == ["prometheus", "loki", "tempo"]
    assert [d["uid"] for d in http.get("/s/full/api/datasources").json()] == ["prometheus", "loki", "tempo"]
    assert [d["uid"] for d in http.get("/s/metrics-only/api/datasources").json()] == ["prometheus"]
    r = http.get("/s/metrics-only/api/datasources/uid/loki")
    assert (r.status_code, r.json()) == (404, {"message": "Data source not found"})
    r = http.get(f"/s/metrics-only{LOKI}/labels")
    assert r.status_code == 404
    r = http.get("/s/nope/api/datasources")
    assert (r.status_code, r.json()) == (404, {"message": "Scenario not found: nope"})


def test_grafana_endpoints(http: httpx.Client) -> None:
    assert http.get("/api/health").json()["database"] == "ok"
    settings = http.get("/api/frontend/settings").json()
    assert settings["defaultDatasource"] == "Prometheus"
    assert settings["buildInfo"]["version"]
    ds = http.get("/api/datasources/uid/prometheus").json()
    assert ds["jsonData"] == {"httpMethod": "POST"}
    assert ds["isDefault"] is True
    assert http.get("/api/datasources/uid/tempo/health").json()["status"] == "OK"
    assert http.get("/api/user").json()["login"] == "admin"
    r = http.get("/api/unknown/thing")
    assert (r.status_code, r.json()) == (404, {"message": "Not found"})


def test_loki_wire_format(http: httpx.Client, lab_now: float) -> None:
    end = int(lab_now) * 10**9
    r = http.get(
        f"{LOKI}/query_range",
        params={
            "query": '{level="error"}',
            "limit": "2",
            "direction": "forward",
            "start": str(end - 600 * 10**9),
            "end": str(end),
        },
    )
    data = r.json()["data"]
    assert data["resultType"] == "streams"
    (stream,) = data["result"]
    assert stream["stream"] == {"service_name": "checkout", "level": "error"}
    assert [int(ts) for ts, _ in stream["values"]] == [
        end - 600 * 10**9,
        end - 570 * 10**9,
    ]  # start inclusive
    m = http.get(
        f"{LOKI}/query_range",
        params={
            "query": 'count_over_time({level="error"}[5m])',
            "start": str(int(lab_now) - 600),
            "end": str(int(lab_now)),
            "step": "300",
        },
    ).json()["data"]
    assert m["resultType"] == "matrix"
    assert m["result"][0]["values"] == [[lab_now - 600, "10"], [lab_now - 300, "10"], [lab_now, "10"]]
    bad = http.get(f"{LOKI}/query_range", params={"query": "{level=error}"})
    assert bad.status_code == 400
    assert bad.text == "parse error at line 1, col 8: syntax error: unexpected IDENTIFIER, expecting STRING"
    inst = http.get(f"{LOKI}/query", params={"query": '{level="error"}'})
    assert inst.status_code == 400
    assert "not supported as an instant query" in inst.text
    series = http.get(f"{LOKI}/series", params={"match[]": '{service_name="payments"}'}).json()["data"]
    assert series == [{"level": "warn", "service_name": "payments"}]


def test_tempo_wire_format(http: httpx.Client, lab_now: float) -> None:
    res = http.get(
        f"{TEMPO}/search",
        params={
            "q": '{ resource.service.name = "payments" }',
            "limit": "2",
            "spss": "1",
            "start": str(int(lab_now) - 3600),
            "end": str(int(lab_now)),
        },
    ).json()
    assert len(res["traces"]) == 2
    span = res["traces"][0]["spanSets"][0]["spans"][0]
    assert span["name"] == "charge"
    assert span["attributes"] == [{"key": "service.name", "value": {"stringValue": "payments"}}]
    v1 = http.get(f"{TEMPO}/traces/1").json()  # Tempo accepts ids without leading zeros
    assert {s["name"] for r in v1["batches"] for ss in r["scopeSpans"] for s in ss["spans"]} == {
        "POST /checkout",
        "SELECT orders",
        "charge",
    }
    span_ids = [s["spanId"] for r in v1["batches"] for ss in r["scopeSpans"] for s in ss["spans"]]
    assert span_ids[0] == "AAAAAQAAAAE="  # base64 of 0000000100000001
    tags = http.get(f"{TEMPO}/search/tags").json()
    assert "service.name" in tags["tagNames"]
    assert "http.route" in tags["tagNames"]
    values = http.get(f"{TEMPO}/v2/search/tag/span.retry/values").json()["tagValues"]
    assert values == [{"type": "bool", "value": "false"}, {"type": "bool", "value": "true"}]
    bad = http.get(f"{TEMPO}/search", params={"q": "{ .a = }"})
    assert bad.status_code == 400
    assert bad.text.startswith("invalid TraceQL query: parse error at line 1, col 8")


def test_lab_server_lifecycle(lab_scenarios: list[Scenario], lab_registry: LabRegistry) -> None:
    with LabServer(lab_registry) as srv:
        url = srv.url
        assert httpx.get(f"{url}/api/health").status_code == 200
        with pytest.raises(LabServerError, match="cannot listen"):
            bind_socket("127.0.0.1", srv.port)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/api/health", timeout=2)


def test_mcp_config_shape() -> None:
    cfg = mcp_config("http://127.0.0.1:3000/", "shop-1")
    server = cfg["mcpServers"]["grafana"]  # type: ignore[index]
    assert server["env"]["GRAFANA_URL"] == "http://127.0.0.1:3000/s/shop-1"
    assert server["command"].endswith("mcp-grafana")
    assert server["args"] == []
