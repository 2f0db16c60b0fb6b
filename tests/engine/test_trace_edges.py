"""Traces at real resolution: per-edge wait vs the callee's own time, after vs before the onset."""

from __future__ import annotations

from compass_worker.engine.traces import edge_findings, edge_times
from compass_worker.signals.catalog import load_catalog
from compass_worker.telemetry.grafana.models import Trace, TraceSpan

MS = 1_000_000
CATALOG = load_catalog()


def _span(
    sid: str,
    parent: str | None,
    service: str,
    kind: str,
    start_ms: int,
    dur_ms: int,
    attrs: dict[str, str] | None = None,
) -> TraceSpan:
    return TraceSpan(
        trace_id="t" * 32,
        span_id=sid,
        parent_span_id=parent,
        service=service,
        name=f"{service} {kind}",
        kind=kind,
        start_ns=start_ms * MS,
        end_ns=(start_ms + dur_ms) * MS,
        status="unset",
        attributes=attrs or {},
    )


def _checkout_trace(payments_own_ms: int, db_ms: int) -> Trace:
    """checkout → payments (traced) → payments-db (untraced, a client span with db.namespace)."""
    total = payments_own_ms + db_ms
    return Trace(
        trace_id="t" * 32,
        spans=(
            _span("a" * 16, None, "checkout", "server", 0, total + 20),
            _span("b" * 16, "a" * 16, "checkout", "client", 5, total + 10),
            _span("c" * 16, "b" * 16, "payments", "server", 6, total + 8),
            _span("d" * 16, "c" * 16, "payments", "client", 8, db_ms, {"db.namespace": "payments-db"}),
        ),
    )


def test_edge_times_split_wait_into_the_callees_own_time() -> None:
    e = edge_times(_checkout_trace(payments_own_ms=30, db_ms=50), CATALOG)
    wait, own = e[("checkout", "payments")]
    assert abs(wait - 0.088) < 1e-6  # the payments server span
    assert abs(own - 0.038) < 1e-6  # payments' own, without its wait on the database
    db_wait, db_own = e[("payments", "payments-db")]
    assert abs(db_wait - 0.050) < 1e-6 and abs(db_own - 0.050) < 1e-6  # untraced: all its own


def test_slow_database_is_the_callee_payments_only_passes_the_time_through() -> None:
    base = [_checkout_trace(30, 50) for _ in range(3)]
    post = [_checkout_trace(30, 900) for _ in range(2)]
    found = {(f.component, f.kind) for f in edge_findings(post, base, CATALOG, "{ }", None)}
    assert ("payments-db", "edge_self_time") in found
    assert ("payments", "edge_passthrough") in found
    assert ("payments", "edge_self_time") not in found


def test_slow_code_in_payments_is_its_own_time() -> None:
    base = [_checkout_trace(30, 50) for _ in range(3)]
    post = [_checkout_trace(700, 50) for _ in range(2)]
    findings = edge_findings(post, base, CATALOG, "{ }", None)
    assert [(f.component, f.kind) for f in findings] == [("payments", "edge_self_time")]
    assert "of the extra is payments's own time" in findings[0].detail


def test_no_change_no_finding() -> None:
    base = [_checkout_trace(30, 50) for _ in range(3)]
    assert edge_findings(base, base, CATALOG, "{ }", None) == []
