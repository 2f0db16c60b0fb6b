"""Shared fixtures for the lab server tests: a small hand-built scenario anchored at the current time.

mcp-grafana's tools default to "the last hour", so the fixture's telemetry covers [now - 2h, now].
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import pytest

from compass_lab.model import (
    Component,
    LogLine,
    LogStream,
    Scenario,
    ScenarioKind,
    Series,
    Span,
    Split,
    TelemetrySet,
)

if TYPE_CHECKING:
    from compass_lab.server import LabRegistry

STEP_S = 15.0
ERROR_EVERY_S = 30  # one checkout error log line every 30 s during the last 30 minutes
INFO_EVERY_S = 10


def make_scenario(sid: str, now: float, *, has_logs: bool = True, has_traces: bool = True) -> Scenario:
    return Scenario(
        id=sid,
        split=Split.DEV,
        system="shop",
        seed=1,
        kind=ScenarioKind.FAULT,
        title=f"test scenario {sid}",
        symptom="checkout 5xx above 5%",
        symptom_component="checkout",
        at=now,
        window_s=3600,
        onset=now - 1800,
        truth_component="postgres",
        truth_fault="db_slow_queries",
        components=(
            Component(name="checkout", kind="service", depends_on=("payments", "postgres")),
            Component(name="payments", kind="service"),
            Component(name="postgres", kind="database"),
        ),
        conventions="otel",
        has_logs=has_logs,
        has_traces=has_traces,
    )


def _series(now: float) -> tuple[Series, ...]:
    ts = np.arange(now - 7200, now + 1, STEP_S)
    errors_per_step = np.where(ts >= now - 1800, 3.0, 0.0)
    total = np.cumsum(np.full(ts.size, 15.0))
    out = [
        Series({"__name__": "up", "job": "checkout", "instance": "checkout-1:8080"}, ts, np.ones(ts.size)),
        Series({"__name__": "up", "job": "payments", "instance": "payments-1:8080"}, ts, np.ones(ts.size)),
        Series(
            {"__name__": "http_requests_total", "service_name": "checkout", "code": "500"},
            ts,
            np.cumsum(errors_per_step),
        ),
        Series({"__name__": "http_requests_total", "service_name": "checkout", "code": "200"}, ts, total),
    ]
    # A classic histogram: every request takes 0.2 s before the onset, 2 s after.
    slow = ts >= now - 1800
    for le, share_before, share_after in (
        ("0.5", 1.0, 0.0),
        ("1", 1.0, 0.0),
        ("5", 1.0, 1.0),
        ("+Inf", 1.0, 1.0),
    ):
        per_step = np.where(slow, 15.0 * share_after, 15.0 * share_before)
        out.append(
            Series(
                {"__name__": "http_request_duration_seconds_bucket", "service_name": "checkout", "le": le},
                ts,
                np.cumsum(per_step),
            )
        )
    return tuple(out)


def _logs(now: float) -> tuple[LogStream, ...]:
    end = int(now)
    err_lines = tuple(
        LogLine(
            t * 10**9,
            f'level=error msg="db connection refused" trace_id={t:032x} duration={100 + t % 7}ms',
        )
        for t in range(end - 1800 + ERROR_EVERY_S, end + 1, ERROR_EVERY_S)
    )
    info_lines = tuple(
        LogLine(t * 10**9, f'level=info msg="order placed" order_id={t} duration={20 + t % 5}ms')
        for t in range(end - 7200, end + 1, INFO_EVERY_S)
    )
    pay_lines = tuple(
        LogLine(
            t * 10**9,
            f'{{"level":"warn","msg":"slow upstream","latency_ms":{300 + t % 100},"user":"u{t % 3}"}}',
        )
        for t in range(end - 3600, end + 1, 60)
    )
    return (
        LogStream({"service_name": "checkout", "level": "error"}, err_lines),
        LogStream({"service_name": "checkout", "level": "info"}, info_lines),
        LogStream({"service_name": "payments", "level": "warn"}, pay_lines),
    )


def _spans(now: float) -> tuple[Span, ...]:
    spans: list[Span] = []
    base = int(now - 1200) * 10**9
    for i in range(20):
        tid = f"{i + 1:032x}"
        start = base + i * 60 * 10**9
        failing = i % 4 == 0  # traces 0, 4, 8, 12, 16 fail
        db_ns = 1_500_000_000 if failing else 50_000_000
        spans.append(
            Span(
                tid,
                f"{i + 1:08x}00000001",
                None,
                "checkout",
                "POST /checkout",
                "server",
                start,
                db_ns + 100_000_000,
                "error" if failing else "unset",
                "upstream timeout" if failing else "",
                {"http.route": "/checkout", "http.status_code": 500 if failing else 200},
                {"deployment.environment": "lab"},
            )
        )
        spans.append(
            Span(
                tid,
                f"{i + 1:08x}00000002",
                f"{i + 1:08x}00000001",
                "checkout",
                "SELECT orders",
                "client",
                start + 10_000_000,
                db_ns,
                "error" if failing else "unset",
                "",
                {"db.system": "postgresql"},
            )
        )
        spans.append(
            Span(
                tid,
                f"{i + 1:08x}00000003",
                f"{i + 1:08x}00000001",
                "payments",
                "charge",
                "server",
                start + 20_000_000,
                30_000_000,
                "ok",
                "",
                {"payment.method": "card", "retry": i % 2 == 0},
            )
        )
    return tuple(spans)


def make_telemetry(now: float, *, has_logs: bool = True, has_traces: bool = True) -> TelemetrySet:
    return TelemetrySet(
        series=_series(now),
        log_streams=_logs(now) if has_logs else (),
        spans=_spans(now) if has_traces else (),
        start=now - 7200,
        end=now,
        scrape_interval_s=STEP_S,
    )


@pytest.fixture(scope="session")
def lab_now() -> float:
    return float(int(time.time()))


@pytest.fixture(scope="session")
def lab_telemetry(lab_now: float) -> TelemetrySet:
    return make_telemetry(lab_now)


@pytest.fixture(scope="session")
def lab_scenarios(lab_now: float) -> list[Scenario]:
    return [
        make_scenario("full", lab_now),
        make_scenario("metrics-only", lab_now, has_logs=False, has_traces=False),
    ]


@pytest.fixture(scope="session")
def lab_registry(lab_now: float, lab_scenarios: list[Scenario]) -> LabRegistry:
    # Imported here so that tests not needing the server still collect while its parts are in flux.
    from compass_lab.server import LabRegistry

    def build(s: Scenario) -> TelemetrySet:
        return make_telemetry(lab_now, has_logs=s.has_logs, has_traces=s.has_traces)

    return LabRegistry(lab_scenarios, build, default_id="full")
