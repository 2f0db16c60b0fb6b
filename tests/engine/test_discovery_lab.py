"""Evidence the catalog does not name, end to end: lab → real mcp-grafana → engine → verdict.

The lab's scenarios are re-served under naming conventions the signal catalog does not know (an
in-house latency histogram, Nezha-style pod gauges), and incidents are reported the way alerts word
them. The engine has to discover the signals, say which mappings it inferred, and still judge.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from compass_lab.harness import incident_for, investigate_scenario
from compass_lab.model import Scenario, Series, TelemetrySet
from compass_lab.scenarios import build_telemetry, get_scenario
from compass_lab.server import LabRegistry
from compass_lab.server.runner import LabServer
from compass_worker.domain.events import ListSink
from compass_worker.engine.incident import build_incident
from compass_worker.settings import Settings

# Latency from metrics alone (no traces): the symptom's onset must come from an inferred signal.
NO_TRACES = get_scenario("ridehail-dev-049-db_slow_queries")
BACKLOG = get_scenario("shop-dev-006-queue_backlog")
IN_HOUSE = {
    "http_server_request_duration_seconds_bucket": "ridehail_server_latency_seconds_bucket",
    "http_server_request_duration_seconds_count": "ridehail_server_latency_seconds_count",
    "http_server_request_duration_seconds_sum": "ridehail_server_latency_seconds_sum",
    "http_client_request_duration_seconds_bucket": "ridehail_client_latency_seconds_bucket",
    "http_client_request_duration_seconds_count": "ridehail_client_latency_seconds_count",
    "http_client_request_duration_seconds_sum": "ridehail_client_latency_seconds_sum",
}
# The callee under a label name no catalog entry uses (pre-1.20 OpenTelemetry semantic conventions).
PEER_RENAMED = {"server_address": "net_peer_name"}


def _renamed(t: TelemetrySet) -> TelemetrySet:
    series = []
    for s in t.series:
        name = s.labels.get("__name__", "")
        if name in IN_HOUSE:
            labels = {PEER_RENAMED.get(k, k): v for k, v in s.labels.items()}
            s = Series({**labels, "__name__": IN_HOUSE[name]}, s.timestamps, s.values)
        series.append(s)
    return TelemetrySet(tuple(series), t.log_streams, t.spans, t.start, t.end, t.scrape_interval_s)


def _nezha_style(t: TelemetrySet) -> TelemetrySet:
    """Kafka's lag under an in-house name, as a pod gauge exporter would publish it."""
    series = []
    for s in t.series:
        if s.labels.get("__name__") == "kafka_consumergroup_lag":
            labels = {k: v for k, v in s.labels.items() if k != "__name__"}
            s = Series({**labels, "__name__": "KafkaConsumerLagMessages"}, s.timestamps, np.asarray(s.values))
        series.append(s)
    return TelemetrySet(tuple(series), t.log_streams, t.spans, t.start, t.end, t.scrape_interval_s)


def _build(scenario: Scenario) -> TelemetrySet:
    t = build_telemetry(scenario)
    return _renamed(t) if scenario.id == NO_TRACES.id else _nezha_style(t)


@pytest.fixture(scope="module")
def lab() -> Iterator[LabServer]:
    with LabServer(LabRegistry([NO_TRACES, BACKLOG], _build, NO_TRACES.id)) as server:
        yield server


async def test_an_unknown_latency_histogram_is_discovered_and_the_cause_still_found(lab: LabServer) -> None:
    result = await investigate_scenario(lab.url, NO_TRACES, Settings(), ListSink())
    v = result.verdict
    assert any(s.startswith("ridehail_server_latency_seconds_bucket → latency") for s in v.inferred_signals)
    assert not any("http_server" in s for s in v.inferred_signals)  # only names discovery listed
    # A caller's histogram is an edge only through the label naming its peer, and a histogram's
    # count is its request rate: both need labels the catalog's own entries never ask for.
    assert any(
        s.startswith("ridehail_client_latency_seconds_bucket → client_latency") for s in v.inferred_signals
    )
    assert any(s.startswith("ridehail_server_latency_seconds_count → requests") for s in v.inferred_signals)
    assert v.root_causes
    top = v.root_causes[0]
    assert (top.component, top.fault) == (NO_TRACES.truth_component, NO_TRACES.truth_fault)


async def test_the_alerts_consumer_group_and_topic_lead_to_the_lag(lab: LabServer) -> None:
    # The alert's wording: a consumer group and a topic, and a lag metric the catalog does not know.
    symptom = "consumer group fulfillment lag on topic orders above 2000 (KafkaConsumerLagMessages)"
    incident = build_incident(symptom, service=None, at=str(BACKLOG.at), window=f"{BACKLOG.window_s}s")
    result = await investigate_scenario(lab.url, BACKLOG, Settings(), ListSink(), incident=incident)
    v = result.verdict
    assert any(s.startswith("KafkaConsumerLagMessages → queue_lag") for s in v.inferred_signals)
    assert any("the alert's" in o and "orders" in o for o in v.observations), v.observations
    assert v.root_causes and v.root_causes[0].component == BACKLOG.truth_component
    assert incident_for(BACKLOG).symptom != symptom  # the lab's own wording is not what was tested
