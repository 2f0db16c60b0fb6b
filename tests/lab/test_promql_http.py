"""Prometheus HTTP API routes over a SeriesStore, via starlette's TestClient (GET and POST form)."""

from __future__ import annotations

import numpy as np
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount
from starlette.testclient import TestClient

from compass_lab.model import Series
from compass_lab.promql import SeriesStore
from compass_lab.server.prometheus_api import prometheus_routes

T0 = 1_700_000_000.0
PREFIX = "/api/datasources/uid/prom/resources"


@pytest.fixture
def client() -> TestClient:
    t = T0 + np.arange(0, 600, 15.0)
    store = SeriesStore(
        [
            Series({"__name__": "req_total", "svc": "a"}, t, np.arange(t.size) * 10.0),
            Series({"__name__": "req_total", "svc": "b"}, t, np.arange(t.size) * 20.0),
            Series({"__name__": "up", "job": "api"}, t, np.ones(t.size)),
        ]
    )

    def get_store(request: Request) -> SeriesStore:
        return store

    app = Starlette(routes=[Mount(PREFIX, routes=prometheus_routes(get_store))])
    return TestClient(app)


def test_query_range_post_form_like_mcp_grafana(client: TestClient) -> None:
    form = {
        "query": "sum by (svc) (rate(req_total[1m]))",
        "start": str(T0 + 120),
        "end": str(T0 + 300),
        "step": "60",
    }
    resp = client.post(f"{PREFIX}/api/v1/query_range", data=form)
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "success"
    assert body["data"]["resultType"] == "matrix"
    series = {r["metric"]["svc"]: r["values"] for r in body["data"]["result"]}
    assert series["a"][0] == [T0 + 120, "0.6666666666666666"]
    assert len(series["b"]) == 4


def test_query_get_and_rfc3339_time(client: TestClient) -> None:
    resp = client.get(f"{PREFIX}/api/v1/query", params={"query": "up", "time": "2023-11-14T22:21:40Z"})
    assert resp.status_code == 200
    assert resp.json()["data"] == {
        "resultType": "vector",
        "result": [{"metric": {"__name__": "up", "job": "api"}, "value": [T0 + 500, "1"]}],
    }


@pytest.mark.parametrize(
    ("path", "params", "status", "error_type", "message"),
    [
        (
            "query",
            {"query": "sum(rate(x[5m])", "time": str(T0)},
            400,
            "bad_data",
            'invalid parameter "query": 1:16: parse error: unclosed left parenthesis',
        ),
        (
            "query_range",
            {"query": "sum(rate(x[5m])", "start": str(T0), "end": str(T0), "step": "15"},
            400,
            "bad_data",
            "1:16: parse error: unclosed left parenthesis",
        ),
        (
            "query_range",
            {"query": "up", "start": "abc", "end": "1", "step": "1"},
            400,
            "bad_data",
            'invalid parameter "start": cannot parse "abc" to a valid timestamp',
        ),
        (
            "query_range",
            {"query": "up", "start": "10", "end": "1", "step": "1"},
            400,
            "bad_data",
            'invalid parameter "end": end timestamp must not be before start time',
        ),
        (
            "query_range",
            {"query": "up", "start": "1", "end": "10", "step": "0"},
            400,
            "bad_data",
            'invalid parameter "step": zero or negative query resolution step widths are not accepted. '
            "Try a positive integer",
        ),
        (
            "query_range",
            {"query": "up", "start": "1", "end": "100000", "step": "1"},
            400,
            "bad_data",
            "exceeded maximum resolution of 11,000 points per timeseries. "
            "Try decreasing the query resolution (?step=XX)",
        ),
        (
            "query",
            {"query": "up + on () req_total", "time": str(T0 + 100)},
            422,
            "execution",
            "found duplicate series for the match group {} on the right hand-side",
        ),
        ("series", {}, 400, "bad_data", "no match[] parameter provided"),
        ("label/1bad/values", {}, 400, "bad_data", 'invalid label name: "1bad"'),
    ],
)
def test_errors_like_prometheus(
    client: TestClient, path: str, params: dict[str, str], status: int, error_type: str, message: str
) -> None:
    resp = client.get(f"{PREFIX}/api/v1/{path}", params=params)
    assert resp.status_code == status
    body = resp.json()
    assert body["status"] == "error"
    assert body["errorType"] == error_type
    assert body["error"].startswith(message)


def test_label_and_series_endpoints(client: TestClient) -> None:
    names = client.get(f"{PREFIX}/api/v1/label/__name__/values", params={"limit": "10"}).json()
    assert names == {"status": "success", "data": ["req_total", "up"]}
    values = client.get(f"{PREFIX}/api/v1/label/svc/values", params={"match[]": 'req_total{svc!="b"}'}).json()
    assert values["data"] == ["a"]
    labels = client.post(f"{PREFIX}/api/v1/labels", data={"match[]": "up"}).json()
    assert labels["data"] == ["__name__", "job"]
    window = {"match[]": "up", "start": str(T0 + 10_000), "end": str(T0 + 20_000)}
    assert client.get(f"{PREFIX}/api/v1/series", params=window).json()["data"] == []
    series = client.get(f"{PREFIX}/api/v1/series", params={"match[]": "up"}).json()
    assert series["data"] == [{"__name__": "up", "job": "api"}]
    assert client.get(f"{PREFIX}/api/v1/metadata").json() == {"status": "success", "data": {}}
    assert client.get(f"{PREFIX}/api/v1/status/buildinfo").json()["data"]["version"] == "2.42.0"
