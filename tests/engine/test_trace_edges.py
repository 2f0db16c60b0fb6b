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


def _checkout_trace(payments_own_ms: int, db_ms: int, transit_ms: int = 1) -> Trace:
    """checkout → payments (traced) → payments-db (untraced, a client span with db.namespace)."""
    total = payments_own_ms + db_ms
    return Trace(
        trace_id="t" * 32,
        spans=(
            _span("a" * 16, None, "checkout", "server", 0, total + 10 + 2 * transit_ms + 10),
            _span("b" * 16, "a" * 16, "checkout", "client", 5, total + 8 + 2 * transit_ms),
            _span("c" * 16, "b" * 16, "payments", "server", 5 + transit_ms, total + 8),
            _span("d" * 16, "c" * 16, "payments", "client", 8, db_ms, {"db.namespace": "payments-db"}),
        ),
    )


def test_edge_times_split_wait_into_the_callees_own_time() -> None:
    e = edge_times(_checkout_trace(payments_own_ms=30, db_ms=50), CATALOG)
    wait, own = e[("checkout", "payments")]
    assert abs(wait - 0.090) < 1e-6  # checkout's client span: all the time checkout waited
    # payments' own 38 ms (without its wait on the database) + 2 ms in transit on the link to it
    assert abs(own - 0.040) < 1e-6
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


def test_a_delayed_link_counts_against_the_callee_not_the_caller() -> None:
    """A network delay at payments: checkout's client span grows, payments' server span does not."""
    base = [_checkout_trace(30, 50) for _ in range(3)]
    post = [_checkout_trace(30, 50, transit_ms=400) for _ in range(2)]
    findings = edge_findings(post, base, CATALOG, "{ }", None)
    assert [(f.component, f.kind) for f in findings] == [("payments", "edge_self_time")]
    assert "own time or its link's" in findings[0].detail


def _gateway_trace(caller: str, callee_ms: int, transit_ms: int = 1) -> Trace:
    """gateway → `caller` → inventory: the same callee reached through different callers."""
    return Trace(
        trace_id="t" * 32,
        spans=(
            _span("a" * 16, None, "gateway", "server", 0, callee_ms + 2 * transit_ms + 40),
            _span("b" * 16, "a" * 16, "gateway", "client", 2, callee_ms + 2 * transit_ms + 30),
            _span("c" * 16, "b" * 16, caller, "server", 3, callee_ms + 2 * transit_ms + 25),
            _span("d" * 16, "c" * 16, caller, "client", 5, callee_ms + 2 * transit_ms),
            _span("e" * 16, "d" * 16, "inventory", "server", 5 + transit_ms, callee_ms),
        ),
    )


def test_an_edge_the_baseline_never_took_is_compared_with_the_callees_other_calls() -> None:
    """Many endpoints: the slow traces reach inventory through `orders`, the baseline ones through
    `search`. The callee's calls from any caller are its baseline."""
    base = [_gateway_trace("search", 20) for _ in range(3)]
    post = [_gateway_trace("orders", 20, transit_ms=600) for _ in range(2)]
    findings = edge_findings(post, base, CATALOG, "{ }", None)
    assert ("inventory", "edge_self_time") in {(f.component, f.kind) for f in findings}
    # and with nothing to compare it with at all, no finding
    other = [_checkout_trace(30, 50) for _ in range(3)]
    assert not [f for f in edge_findings(post, other, CATALOG, "{ }", None) if f.component == "inventory"]


def _fan_out_trace(cart_ms: int, ads_ms: int) -> Trace:
    """frontend calls cart, then ads, one after the other."""
    return Trace(
        trace_id="t" * 32,
        spans=(
            _span("a" * 16, None, "frontend", "server", 0, cart_ms + ads_ms + 20),
            _span("b" * 16, "a" * 16, "frontend", "client", 2, cart_ms + 2),
            _span("c" * 16, "b" * 16, "cart", "server", 3, cart_ms),
            _span("d" * 16, "a" * 16, "frontend", "client", cart_ms + 6, ads_ms + 2),
            _span("e" * 16, "d" * 16, "ads", "server", cart_ms + 7, ads_ms),
        ),
    )


def test_edge_findings_are_shares_of_the_largest_extra_own_time() -> None:
    """Two callees slowed: the one whose own time grew most is 1.0, the other its share of that."""
    base = [_fan_out_trace(20, 20) for _ in range(3)]
    post = [_fan_out_trace(1020, 120) for _ in range(2)]
    found = edge_findings(post, base, CATALOG, "{ }", None)
    by = {f.component: f.value for f in found if f.kind == "edge_self_time"}
    assert by["cart"] == 1.0
    assert 0.05 < by["ads"] < 0.2  # 100 ms of extra own time against cart's 1000 ms


def test_a_callee_always_slow_in_the_baseline_tail_is_no_news() -> None:
    """The slowest traces after the onset vs the slowest before: a callee whose own time was just as
    large in the baseline's tail (chronic outliers) is not where the new latency lives."""
    base = [_fan_out_trace(20, 20) for _ in range(3)]
    tail = [_fan_out_trace(20, 900) for _ in range(2)]
    post = [_fan_out_trace(20, 950) for _ in range(2)]
    assert {f.component for f in edge_findings(post, base, CATALOG, "{ }", None)} == {"ads"}
    assert edge_findings(post, base, CATALOG, "{ }", None, tail=tail) == []


def _starved_caller_trace(transit_ms: int) -> Trace:
    """gateway → checkout → (cart, ads): checkout's client spans to both callees stretch by
    `transit_ms` while both callees still serve in 5 ms (a CPU-starved or network-delayed checkout)."""
    t = transit_ms
    return Trace(
        trace_id="t" * 32,
        spans=(
            _span("a" * 16, None, "gateway", "server", 0, 2 * t + 40),
            _span("b" * 16, "a" * 16, "gateway", "client", 1, 2 * t + 38),
            _span("c" * 16, "b" * 16, "checkout", "server", 2, 2 * t + 36),
            _span("d" * 16, "c" * 16, "checkout", "client", 3, t + 7),
            _span("e" * 16, "d" * 16, "cart", "server", 4 + t, 5),
            _span("f" * 16, "c" * 16, "checkout", "client", t + 12, t + 7),
            _span("g" * 16, "f" * 16, "ads", "server", 2 * t + 13, 5),
        ),
    )


def test_transit_to_every_callee_at_once_is_the_callers_own_time() -> None:
    """Links to one callee slowing is that callee's network; links to all of a caller's callees slowing
    at once have one end in common: the caller (its CPU or its network), not each callee."""
    base = [_starved_caller_trace(1) for _ in range(3)]
    post = [_starved_caller_trace(300) for _ in range(2)]
    found = {(f.component, f.kind) for f in edge_findings(post, base, CATALOG, "{ }", None)}
    assert ("checkout", "edge_self_time") in found
    assert not {("cart", "edge_self_time"), ("ads", "edge_self_time")} & found


def _frontend_trace(delayed: dict[str, int]) -> Trace:
    """frontend calls five services in turn; `delayed` adds transit on the links to some of them."""
    spans = [_span("r" * 16, None, "frontend", "server", 0, 2000)]
    t = 1
    for i, callee in enumerate(("cart", "ads", "shipping", "currency", "catalog")):
        extra = delayed.get(callee, 0)
        client, server = f"c{i}".ljust(16, "0"), f"s{i}".ljust(16, "0")
        spans.append(_span(client, "r" * 16, "frontend", "client", t, extra + 7))
        spans.append(_span(server, client, callee, "server", t + extra + 1, 5))
        t += extra + 9
    return Trace(trace_id="t" * 32, spans=tuple(spans))


def test_two_slow_links_of_many_stay_with_their_callees() -> None:
    """Links to two of five callees slowed: no common end, each callee keeps its own transit."""
    base = [_frontend_trace({}) for _ in range(3)]
    post = [_frontend_trace({"shipping": 400, "ads": 300}) for _ in range(2)]
    found = {(f.component, f.kind) for f in edge_findings(post, base, CATALOG, "{ }", None)}
    assert {("shipping", "edge_self_time"), ("ads", "edge_self_time")} <= found


def test_one_delayed_callee_and_a_jitter_on_the_other_is_no_common_end() -> None:
    """A caller with two callees: the link to one slowed by 400 ms, the other by 60 ms (noise). The
    delayed callee keeps its evidence."""
    base = [_starved_caller_trace(1) for _ in range(3)]
    post = [_uneven(400, 60) for _ in range(2)]
    found = {(f.component, f.kind) for f in edge_findings(post, base, CATALOG, "{ }", None)}
    assert ("cart", "edge_self_time") in found


def _uneven(cart_ms: int, ads_ms: int) -> Trace:
    return Trace(
        trace_id="t" * 32,
        spans=(
            _span("a" * 16, None, "gateway", "server", 0, cart_ms + ads_ms + 40),
            _span("b" * 16, "a" * 16, "gateway", "client", 1, cart_ms + ads_ms + 38),
            _span("c" * 16, "b" * 16, "checkout", "server", 2, cart_ms + ads_ms + 36),
            _span("d" * 16, "c" * 16, "checkout", "client", 3, cart_ms + 7),
            _span("e" * 16, "d" * 16, "cart", "server", 4 + cart_ms, 5),
            _span("f" * 16, "c" * 16, "checkout", "client", cart_ms + 12, ads_ms + 7),
            _span("g" * 16, "f" * 16, "ads", "server", cart_ms + ads_ms + 13, 5),
        ),
    )


def test_own_time_that_replaced_a_slow_tail_further_down_is_the_callees() -> None:
    """The baseline's tail (an earlier incident) had payments wait 900 ms on its database; after the
    onset payments itself takes 1000 ms. The caller's wait barely grew, but payments' own time went
    from ~40 ms to ~1000 ms: the time now lives in payments."""
    base = [_checkout_trace(30, 50) for _ in range(3)]
    tail = [_checkout_trace(30, 900) for _ in range(2)]
    post = [_checkout_trace(1000, 50) for _ in range(2)]
    found = {(f.component, f.kind) for f in edge_findings(post, base, CATALOG, "{ }", None, tail=tail)}
    assert ("payments", "edge_self_time") in found
    # and a callee whose own time did not grow stays without a finding against that tail
    same = [_checkout_trace(30, 950) for _ in range(2)]
    assert edge_findings(same, base, CATALOG, "{ }", None, tail=tail) == []
