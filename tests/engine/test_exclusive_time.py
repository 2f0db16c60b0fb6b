"""A component's exclusive time in one trace: interval unions, concurrent spans counted once."""

from __future__ import annotations

from compass_worker.engine.exclusive import exclusive_times, measure
from compass_worker.telemetry.grafana.models import Trace, TraceSpan

MS = 1_000_000


def _span(sid: str, parent: str | None, service: str, kind: str, start_ms: int, dur_ms: int) -> TraceSpan:
    return TraceSpan(
        trace_id="t" * 32,
        span_id=sid,
        parent_span_id=parent,
        service=service,
        name=f"{service} {kind} {sid}",
        kind=kind,
        start_ns=start_ms * MS,
        end_ns=(start_ms + dur_ms) * MS,
        status="unset",
    )


def _no_peer(_: TraceSpan) -> str | None:
    return None


def _async_gateway(callee_server_ms: int, transit_ms: int) -> Trace:
    """A reactive gateway: its handler span runs beside its client span for the whole call (siblings
    under the root, the handler with no children), as the gateway's tracing records it."""
    call = callee_server_ms + transit_ms
    return Trace(
        trace_id="t" * 32,
        spans=(
            _span("root", None, "gateway", "server", 0, call + 2),
            _span("handler", "root", "gateway", "internal", 1, call + 1),
            _span("client", "root", "gateway", "client", 1, call),
            _span("travel", "client", "travel", "server", 1 + transit_ms // 2, callee_server_ms),
        ),
    )


def test_measure_is_the_union_length() -> None:
    assert measure([(0, 10), (5, 20), (30, 35), (40, 40)]) == 25


def test_a_handler_span_beside_the_call_is_not_the_gateways_own_time() -> None:
    t = exclusive_times(_async_gateway(callee_server_ms=100, transit_ms=4000), _no_peer)
    # Summing spans' duration-minus-children gave the handler's ~4.1 s to the gateway.
    assert t["gateway"] < 0.01
    # The delayed link (transit outside travel's server span) counts with travel.
    assert abs(t["travel"] - 4.1) < 0.01


def test_a_caller_that_keeps_transit_owns_it() -> None:
    t = exclusive_times(_async_gateway(callee_server_ms=100, transit_ms=4000), _no_peer, {"gateway"})
    assert abs(t["gateway"] - 4.002) < 0.01
    assert abs(t["travel"] - 0.1) < 0.01


def test_sequential_code_and_an_untraced_peer() -> None:
    trace = Trace(
        trace_id="t" * 32,
        spans=(
            _span("a", None, "payments", "server", 0, 100),
            _span("b", "a", "payments", "internal", 10, 20),  # own code, inside the request
            _span("c", "a", "payments", "client", 40, 50),  # the untraced database
        ),
    )
    t = exclusive_times(trace, lambda s: "payments-db" if s.span_id == "c" else None)
    assert abs(t["payments"] - 0.050) < 1e-9
    assert abs(t["payments-db"] - 0.050) < 1e-9
