"""What a proposed mapping becomes: the query follows the metric's type, never the proposal's say-so."""

from __future__ import annotations

import pytest

from compass_worker.signals import discovery, proposals
from compass_worker.signals.catalog import load_catalog
from compass_worker.signals.discovery import MetricMeta


@pytest.mark.parametrize(
    ("metric", "signal", "unit", "meta", "form", "scale"),
    [
        ("zq_seconds_bucket", "latency", "seconds", MetricMeta(), "histogram", 1.0),
        ("zq_time", "latency", "milliseconds", MetricMeta("gauge"), "gauge", 1e-3),
        ("zq_served", "requests", "count", MetricMeta("counter"), "rate", 1.0),
        ("zq_hits", "requests", "per_minute", MetricMeta("gauge"), "gauge", 1 / 60),
        ("zq_bad_share", "error_ratio", "percent", MetricMeta("gauge"), "gauge", 0.01),
        ("zq_cpu_secs", "cpu_usage", "seconds", MetricMeta("counter"), "rate", 1.0),
        ("zq_reboots", "restarts", "count", MetricMeta("counter"), "increase", 1.0),
    ],
)
def test_the_form_follows_the_type(
    metric: str, signal: str, unit: str, meta: MetricMeta, form: str, scale: float
) -> None:
    m = proposals.from_proposal(metric, signal, unit, meta)
    assert m is not None
    assert (m.signal, m.form, m.scale) == (signal, form, pytest.approx(scale))
    assert (
        m.confidence
        == proposals.PROPOSED_CONFIDENCE
        < min(
            x.confidence
            for x in discovery.infer_all(load_catalog(), ["orders_latency_ms", "orders_requests_total"])
        )
    )


@pytest.mark.parametrize(
    ("metric", "signal", "unit", "meta"),
    [
        ("zq_seconds_total", "latency", "seconds", MetricMeta("counter")),  # summed time: no latency
        ("zq_seconds_bucket", "cpu_utilization", "ratio", MetricMeta()),  # a histogram is no CPU
        ("node_zq_busy", "cpu_utilization", "ratio", MetricMeta("gauge")),  # a host's: host conventions
        ("zq_failures_total", "error_ratio", "ratio", MetricMeta("counter")),  # a count is no ratio
        ("zq_heap", "memory_bytes", "seconds", MetricMeta("gauge")),
        ("zq_pool", "pool_utilization", "ratio", MetricMeta("gauge")),  # not offered: needs its max
    ],
)
def test_a_proposal_its_type_cannot_carry_is_refused(
    metric: str, signal: str, unit: str, meta: MetricMeta
) -> None:
    assert proposals.from_proposal(metric, signal, unit, meta) is None


def test_only_names_nothing_else_maps_are_offered() -> None:
    cat = load_catalog()
    names = [
        "http_server_request_duration_seconds_bucket",  # the catalog's
        "orders_latency_ms",  # name tokens map it
        "zq_seconds_bucket",
        "zq_seconds_sum",
        "zq_seconds_count",
        "zq_build_info",
        "jvm_gc_pause_seconds_max",  # runtime internals
    ]
    mapped = [m.metric for m in discovery.infer_all(cat, names)]
    assert proposals.unmapped(cat, names, mapped) == ["zq_seconds_bucket"]


def test_a_claimed_ratio_is_checked_not_rescaled() -> None:
    m = proposals.from_proposal("zq_inflight", "error_ratio", "ratio", MetricMeta("gauge"))
    assert m is not None
    assert discovery.plausible(m, [3.0, 7.0, 10.0]).rejected
    assert discovery.plausible(m, [0.01, 0.2]).rejected is None
    silent = discovery.infer("zq_error_rate_pct", MetricMeta("gauge"))  # no claim: 0-100 is a percentage
    assert silent is not None and discovery.plausible(silent, [3.0, 7.0]).rejected is None
