"""GrafanaClient against the text the real mcp-grafana 2.1.1 returned (shared/reference captures)."""

from __future__ import annotations

import json
import re

import pytest
from telemetry_testkit import RecordingToolset, capture

from compass_worker.telemetry.grafana import Data, Failed, GrafanaClient, LabelMatcher, NoData

T0 = 1795251417.0  # 2026-11-21T08:56:57Z
T1 = 1795255017.0
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")


async def test_datasources_all_and_by_type() -> None:
    fake = RecordingToolset({"list_datasources": capture("list_datasources.txt")})
    result = await GrafanaClient(fake).datasources()
    assert isinstance(result, Data)
    assert [(d.uid, d.type, d.is_default) for d in result.value] == [
        ("prom", "prometheus", True),
        ("promget", "prometheus", False),
        ("loki", "loki", False),
        ("tempo", "tempo", False),
    ]
    fake = RecordingToolset({"list_datasources": capture("list_datasources_type_prometheus.txt")})
    result = await GrafanaClient(fake).datasources("prometheus")
    assert isinstance(result, Data)
    assert [d.uid for d in result.value] == ["prom", "promget"]
    assert fake.calls[0][1]["type"] == "prometheus"


async def test_datasources_pages_until_has_more_is_false() -> None:
    page1 = json.dumps({"datasources": [{"uid": "a", "name": "A", "type": "loki"}], "hasMore": True})
    page2 = json.dumps({"datasources": [{"uid": "b", "name": "B", "type": "loki"}], "hasMore": False})
    fake = RecordingToolset({"list_datasources": [page1, page2]})
    result = await GrafanaClient(fake).datasources("loki")
    assert isinstance(result, Data)
    assert [d.uid for d in result.value] == ["a", "b"]
    assert [args["offset"] for _, args in fake.calls] == [0, 1]
    empty = await GrafanaClient(
        RecordingToolset({"list_datasources": '{"datasources":[],"hasMore":false}'})
    ).datasources("tempo")
    assert isinstance(empty, NoData)
    assert "tempo" in empty.reason


async def test_query_range_keeps_series_and_explore_url() -> None:
    fake = RecordingToolset({"query_prometheus": capture("realprom_query_prometheus_range.txt")})
    expr = 'sum by (service) (rate(http_requests_total{status="500"}[5m]))'
    result = await GrafanaClient(fake).query_range("prom", expr, T0, T1, 600)
    assert isinstance(result, Data)
    checkout, payments = result.value.series
    assert checkout.labels == {"service": "checkout"}
    assert len(checkout.timestamps) == len(checkout.values) == 7
    assert checkout.timestamps[0] == pytest.approx(1795251319.265)
    assert checkout.values[3] == pytest.approx(5.958947368421053)
    assert payments.labels == {"service": "payments"}
    assert result.value.explore_url is not None
    assert result.value.explore_url.startswith("http://127.0.0.1:13000/explore?")
    name, args = fake.calls[0]
    assert name == "query_prometheus"
    assert args["queryType"] == "range"
    assert args["stepSeconds"] == 600
    assert args["expr"] == expr
    assert args["startTime"] == "2026-11-21T08:56:57Z"
    assert args["endTime"] == "2026-11-21T09:56:57Z"


async def test_query_range_reads_special_values_and_reports_unreadable_ones() -> None:
    def matrix(*values: str) -> str:
        points = [[T0 + 60 * i, v] for i, v in enumerate(values)]
        return json.dumps({"data": [{"metric": {"service": "api"}, "values": points}]})

    fake = RecordingToolset({"query_prometheus": matrix("0.5", "NaN", "+Inf", "-Inf", "1e-3")})
    result = await GrafanaClient(fake).query_range("prom", "x", T0, T1, 60)
    assert isinstance(result, Data)
    (series,) = result.value.series
    assert series.timestamps == (T0, T0 + 60, T0 + 120, T0 + 180, T0 + 240)
    assert series.values[0] == 0.5 and series.values[1] != series.values[1]  # NaN
    assert series.values[2:] == (float("inf"), float("-inf"), 0.001)
    bad = RecordingToolset({"query_prometheus": matrix("0.5", "n/a")})
    failed = await GrafanaClient(bad).query_range("prom", "x", T0, T1, 60)
    assert isinstance(failed, Failed)
    assert failed.error.startswith("unexpected output from query_prometheus")


async def test_query_instant() -> None:
    fake = RecordingToolset({"query_prometheus": capture("realprom_query_prometheus_instant.txt")})
    result = await GrafanaClient(fake).query_instant("prom", "x", T1 + 0.25)
    assert isinstance(result, Data)
    assert [(s.labels["service"], round(s.value, 3)) for s in result.value.samples] == [
        ("checkout", 5.106),
        ("payments", 0.166),
    ]
    assert result.value.explore_url
    args = fake.calls[0][1]
    assert args["queryType"] == "instant"
    assert args["endTime"] == "2026-11-21T09:56:57.250Z"


async def test_empty_query_is_no_data_with_hints() -> None:
    fake = RecordingToolset({"query_prometheus": capture("realprom_query_prometheus_empty.txt")})
    result = await GrafanaClient(fake).query_instant("prom", "nonexistent_metric_xyz", T1)
    assert isinstance(result, NoData)
    assert result.reason == "The Prometheus query returned no data for the specified time range."
    assert any("list_prometheus_metric_names" in h for h in result.hints)
    ranged = await GrafanaClient(fake).query_range("prom", "nonexistent_metric_xyz", T0, T1, 60)
    assert isinstance(ranged, NoData)


async def test_tool_errors_are_failed_with_the_servers_message() -> None:
    message = capture("realprom_query_prometheus_syntax_error.txt")
    fake = RecordingToolset(failing={"query_prometheus": message})
    result = await GrafanaClient(fake).query_instant("prom", "sum(rate(x[5m])", T1)
    assert result == Failed(error=message)
    assert "unclosed left parenthesis" in result.error
    unknown = capture("error_unknown_datasource.txt")
    failed = await GrafanaClient(
        RecordingToolset(failing={"list_loki_label_names": unknown})
    ).loki_label_names("nope")
    assert isinstance(failed, Failed)
    assert "datasource with UID 'nope' not found" in failed.error


@pytest.mark.parametrize(
    "text", ["<html>502 Bad Gateway</html>", '{"data": [{"metric": {}, "values": [["x"]]}]}', "[1, 2]"]
)
async def test_malformed_output_is_failed_not_a_crash(text: str) -> None:
    result = await GrafanaClient(RecordingToolset({"query_prometheus": text})).query_range(
        "prom", "up", T0, T1, 60
    )
    assert isinstance(result, Failed)
    assert result.error.startswith("unexpected output from query_prometheus: ")
    assert "\n" not in result.error


async def test_metric_names_page_through_the_tools_small_default() -> None:
    names = [f"metric_{i:05d}" for i in range(4500)]

    class Paging(RecordingToolset):
        async def call_tool(self, name, arguments):  # type: ignore[no-untyped-def]
            self.calls.append((name, dict(arguments)))
            page, limit = int(arguments["page"]), int(arguments["limit"])  # type: ignore[call-overload]
            assert page * limit <= 10_000
            chunk = names[(page - 1) * limit : page * limit]
            from compass_worker.telemetry.toolset import ToolOutcome

            return ToolOutcome(server="fake", tool=name, ok=True, text=json.dumps(chunk))

    fake = Paging()
    result = await GrafanaClient(fake).metric_names("prom", regex="metric_.*", start=T0, end=T1)
    assert isinstance(result, Data)
    assert result.value == names
    assert [args["page"] for _, args in fake.calls] == [1, 2, 3]
    assert all(args["limit"] > 10 and args["regex"] == "metric_.*" for _, args in fake.calls)
    assert fake.calls[0][1]["startRfc3339"] == "2026-11-21T08:56:57Z"


async def test_metric_names_from_real_capture_and_empty() -> None:
    fake = RecordingToolset(
        {"list_prometheus_metric_names": capture("realprom_list_prometheus_metric_names.txt")}
    )
    result = await GrafanaClient(fake).metric_names("prom")
    assert isinstance(result, Data)
    assert "http_requests_total" in result.value
    assert len(fake.calls) == 1
    empty = await GrafanaClient(RecordingToolset({"list_prometheus_metric_names": "[]"})).metric_names(
        "prom", "^zz"
    )
    assert isinstance(empty, NoData)
    assert "/^zz/" in empty.reason
    null = await GrafanaClient(RecordingToolset({"list_prometheus_metric_names": "null"})).metric_names(
        "prom"
    )
    assert isinstance(null, NoData)


async def test_label_names_and_values_send_matchers_and_a_large_limit() -> None:
    fake = RecordingToolset(
        {
            "list_prometheus_label_names": capture("realprom_list_prometheus_label_names.txt"),
            "list_prometheus_label_values": capture("list_prometheus_label_values.txt"),
        }
    )
    client = GrafanaClient(fake, server="grafana")
    names = await client.label_names("prom", [LabelMatcher(name="job", value="api")], T0, T1)
    assert isinstance(names, Data)
    assert "service" in names.value
    values = await client.label_values(
        "prom", "job", [LabelMatcher(name="service", value="check.*", op="=~")]
    )
    assert isinstance(values, Data)
    assert values.value == ["api", "http_request_duration_seconds_bucket", "up"]
    (n1, a1), (n2, a2) = fake.calls
    assert (n1, n2) == ("grafana/list_prometheus_label_names", "grafana/list_prometheus_label_values")
    assert a1["matches"] == [{"filters": [{"name": "job", "value": "api", "type": "="}]}]
    assert a2["matches"] == [{"filters": [{"name": "service", "value": "check.*", "type": "=~"}]}]
    assert a1["limit"] == a2["limit"] == 10_000
    assert "startRfc3339" not in a2  # no range given: nothing sent, the tool's default applies


async def test_loki_labels_logs_and_metric_range() -> None:
    fake = RecordingToolset(
        {
            "list_loki_label_names": capture("list_loki_label_names.txt"),
            "list_loki_label_values": capture("list_loki_label_values.txt"),
            "query_loki_logs": [
                capture("query_loki_logs_explicit_range.txt"),
                capture("query_loki_logs_metric_range.txt"),
            ],
        }
    )
    client = GrafanaClient(fake)
    assert await client.loki_label_names("loki", T0, T1) == Data(value=["app", "level"])
    assert await client.loki_label_values("loki", "app", T0, T1) == Data(value=["api", "worker"])
    logs = await client.loki_logs("loki", '{app="api"} |= "error"', T0, T1, limit=5)
    assert isinstance(logs, Data)
    first = logs.value[0]
    assert first.timestamp_ns == 1795255016699072768
    assert first.line == 'level=error msg="db connection refused"'
    assert first.labels == {"app": "api", "level": "error"}
    metric = await client.loki_metric_range("loki", 'sum(count_over_time({app="api"}[5m]))', T0, T1, 60)
    assert isinstance(metric, Data)
    (series,) = metric.value.series
    assert series.labels == {"app": "api"}
    assert series.timestamps == (pytest.approx(1795254957.608), pytest.approx(1795255017.608))
    assert series.values == (3.0, 5.0)
    log_args, metric_args = fake.calls[2][1], fake.calls[3][1]
    assert log_args["limit"] == 5
    assert log_args["direction"] == "backward"
    assert RFC3339.match(str(log_args["startRfc3339"]))
    assert RFC3339.match(str(log_args["endRfc3339"]))
    assert metric_args["queryType"] == "range"
    assert metric_args["stepSeconds"] == 60


async def test_loki_empty_logs_and_patterns() -> None:
    empty_logs = '{"data":[],"metadata":{"linesReturned":0}}'
    fake = RecordingToolset(
        {"query_loki_logs": empty_logs, "query_loki_patterns": capture("query_loki_patterns.txt")}
    )
    client = GrafanaClient(fake)
    assert isinstance(await client.loki_logs("loki", '{app="x"}', T0, T1), NoData)
    assert isinstance(await client.loki_patterns("loki", '{app="api"}', T0, T1), NoData)


async def test_loki_patterns_with_counts() -> None:
    # mcp-grafana 2.1.1 sums Loki's samples into totalCount (tools/loki.go `Pattern`).
    text = json.dumps(
        [{"pattern": "level=error msg=<_>", "totalCount": 42}, {"pattern": "GET <_> 200", "totalCount": 7}]
    )
    result = await GrafanaClient(RecordingToolset({"query_loki_patterns": text})).loki_patterns(
        "loki", '{app="api"}', T0, T1
    )
    assert isinstance(result, Data)
    assert [(p.pattern, p.total_count) for p in result.value] == [
        ("level=error msg=<_>", 42),
        ("GET <_> 200", 7),
    ]


async def test_tempo_search_and_limit() -> None:
    fake = RecordingToolset({"search_tempo_traces": capture("search_tempo_traces.txt")})
    result = await GrafanaClient(fake).tempo_search("tempo", "{ status = error }", T0, T1, limit=5)
    assert isinstance(result, Data)
    (hit,) = result.value
    assert (hit.trace_id, hit.root_service, hit.root_name) == (
        "2f3e0cee77ae5dc9c17ade3689eb2e54",
        "api",
        "GET /checkout",
    )
    assert hit.start_ns == 1795255012618830592
    assert hit.duration_ms == 1200
    args = fake.calls[0][1]
    assert args["start"] == "2026-11-21T08:56:57Z"
    assert args["query"] == "{ status = error }"
    none = await GrafanaClient(RecordingToolset({"search_tempo_traces": '{"traces":[]}'})).tempo_search(
        "tempo", "{}", T0, T1
    )
    assert isinstance(none, NoData)


async def test_tempo_trace_decodes_otlp_ids_status_and_attributes() -> None:
    fake = RecordingToolset({"get_tempo_trace": capture("get_tempo_trace.txt")})
    result = await GrafanaClient(fake).tempo_trace("tempo", "2f3e0cee77ae5dc9c17ade3689eb2e54")
    assert isinstance(result, Data)
    root, child = result.value.spans
    assert result.value.trace_id == "2f3e0cee77ae5dc9c17ade3689eb2e54"
    assert (root.trace_id, root.span_id, root.parent_span_id) == (
        "2f3e0cee77ae5dc9c17ade3689eb2e54",
        "0000000000000001",
        None,
    )
    assert (root.service, root.name, root.kind) == ("api", "GET /checkout", "server")
    assert (root.status, root.status_message) == ("error", "upstream timeout")
    assert root.attributes == {"http.status_code": 500}
    assert root.duration_ns == 1_200_000_000
    assert (child.span_id, child.parent_span_id, child.kind, child.status) == (
        "0000000000000002",
        "0000000000000001",
        "client",
        "unset",
    )
    assert child.start_ns == 1795255012725772800


async def test_tempo_trace_bad_ids_are_failed() -> None:
    text = capture("get_tempo_trace.txt").replace("Lz4M7neuXcnBet42iesuVA==", "not base64!")
    result = await GrafanaClient(RecordingToolset({"get_tempo_trace": text})).tempo_trace("tempo", "x")
    assert isinstance(result, Failed)
    assert result.error.startswith("unexpected output from get_tempo_trace")


async def test_tempo_attributes() -> None:
    fake = RecordingToolset(
        {
            "list_tempo_attribute_names": capture("list_tempo_attribute_names.txt"),
            "list_tempo_attribute_values": capture("list_tempo_attribute_values.txt"),
        }
    )
    client = GrafanaClient(fake)
    assert await client.tempo_attribute_names("tempo", None) == Data(
        value=["resource.service.name", "span.http.status_code"]
    )
    assert await client.tempo_attribute_values("tempo", "resource.service.name") == Data(value=["api"])
    assert "scope" not in fake.calls[0][1]


async def test_explore_link_via_generate_deeplink() -> None:
    fake = RecordingToolset({"generate_deeplink": capture("generate_deeplink_explore.txt")})
    url = await GrafanaClient(fake).explore_link("prom", "up", T0, T1)
    assert url is not None
    assert url.startswith("http://127.0.0.1:13000/explore?panes=")
    args = fake.calls[0][1]
    assert args["resourceType"] == "explore"
    assert args["datasourceUid"] == "prom"
    assert args["queries"] == [{"refId": "A", "expr": "up"}]
    assert args["timeRange"] == {"from": "1795251417000", "to": "1795255017000"}
    broken = RecordingToolset(failing={"generate_deeplink": "boom"})
    assert await GrafanaClient(broken).explore_link("prom", "up", T0, T1) is None
