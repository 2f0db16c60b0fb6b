"""The alert text as evidence: names, labels and thresholds read from what the engineer or an
Alertmanager webhook wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compass_worker.engine.alert_text import alert_facts, from_alertmanager
from compass_worker.errors import ConfigError

REFERENCE = Path("/work/shared/reference")


def test_consumer_group_and_topic_in_prose() -> None:
    f = alert_facts("consumer group billing lag on topic invoices")
    assert f.groups == ("billing",)
    assert f.topics == ("invoices",)
    g = alert_facts("fulfillment consumer lag on orders above 2k since 19:10")
    assert (g.groups, g.topics) == (("fulfillment",), ("orders",))
    assert g.thresholds[0].op == ">" and g.thresholds[0].value == pytest.approx(2000.0)


def test_promql_selector_names_metric_labels_and_threshold() -> None:
    f = alert_facts('kafka_consumergroup_lag{consumergroup="billing", topic="invoices"} > 5000')
    assert f.metrics == ("kafka_consumergroup_lag",)
    assert (f.groups, f.topics) == (("billing",), ("invoices",))
    assert ("topic", "invoices") in f.labels
    assert f.thresholds[0].value == 5000.0


@pytest.mark.parametrize(
    ("text", "op", "value"),
    [
        ("checkout p99 latency above 500ms", ">", 0.5),
        ("edge-gateway 5xx above 5% since 14:02", ">", 0.05),
        ("cache hit ratio below 0.8", "<", 0.8),
        ("PodServerLatencyP95 of frontend over 2 s", ">", 2.0),
    ],
)
def test_thresholds_in_base_units(text: str, op: str, value: float) -> None:
    t = alert_facts(text).thresholds[0]
    assert (t.op, t.value) == (op, pytest.approx(value))


@pytest.mark.parametrize(
    ("text", "quantile"),
    [
        ("frontend p50 latency up to 411ms (normally ~166ms) since 04:28", 50),
        ("checkout P99 above 2s", 99),
        ("api 95th percentile latency is high", 95),
        ("frontend success rate down to 94% since 05:02", None),
        ("payments slow since 14:02", None),
    ],
)
def test_the_latency_percentile_the_text_names(text: str, quantile: int | None) -> None:
    assert alert_facts(text).quantile == quantile


def test_camel_case_metric_names_are_candidates_plain_words_are_not() -> None:
    assert alert_facts("PodServerLatencyP95 of frontend is high").metrics == ("PodServerLatencyP95",)
    assert alert_facts("checkout is slow since 14:02").empty


def test_alertmanager_webhook_becomes_a_symptom_with_its_labels_and_rule() -> None:
    body = (REFERENCE / "alertmanager-0.25-webhook-firing.json").read_text()
    (alert,) = from_alertmanager(body)
    assert alert.service == "checkout"
    assert alert.starts_at == "2026-11-21T09:54:54.391Z"
    f = alert_facts(alert.symptom)
    assert "http_requests_total" in f.metrics  # from the rule's expression in generatorURL
    assert f.components == ("checkout",)
    assert "CheckoutHighErrorRate" not in f.metrics  # a label value, not a metric name
    assert [t.value for t in f.thresholds] == [pytest.approx(0.05)]  # the rule's own threshold


def test_resolved_alerts_are_not_symptoms_and_garbage_is_one_clear_error() -> None:
    assert from_alertmanager((REFERENCE / "alertmanager-0.25-webhook-resolved.json").read_text()) == []
    with pytest.raises(ConfigError, match="not an Alertmanager webhook"):
        from_alertmanager(json.dumps({"hello": 1}))
    with pytest.raises(ConfigError, match="not an Alertmanager webhook"):
        from_alertmanager("{not json")
