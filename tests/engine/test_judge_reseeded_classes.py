"""Failure classes a redrawn dev plan (COMPASS_RANDOM_DEV_SEED) showed, on hand-built observations:
a leak seen only as memory at its limit and then down, a concurrent anomaly on a component no call
places, a host CPU spike that had passed, error-line noise dating trouble."""

from __future__ import annotations

import numpy as np
from test_judge import FAULTS, TS, UNITS, N, series

from compass_worker.domain.models import Hypothesis, HypothesisStatus
from compass_worker.engine.context import JudgeContext, Scored
from compass_worker.engine.health import health
from compass_worker.engine.judge import judge
from compass_worker.engine.observations import Observations, SignalSeries
from compass_worker.engine.postpass import placed_before_unplaced, separate_lookalikes


def _judge(comp: str, fault: str, obs: Observations, ctx: JudgeContext) -> Scored:
    spec = FAULTS.get(fault)
    h = Hypothesis(id=Hypothesis.key(comp, fault), component=comp, fault=fault, prior=spec.prior)
    return judge(h, spec, obs, ctx, UNITS)


def _step(
    comp: str, signal: str, before: float, after: float, at: int, unit: str, bad: str = "up"
) -> SignalSeries:
    v = [before] * at + [after] * (N - at)
    return SignalSeries(comp, signal, None, TS, tuple(v), f"q_{signal}", None, "test", unit, bad)  # type: ignore[arg-type]


def _leak(restart_after_memory: bool) -> Observations:
    obs = Observations()
    obs.kinds.update({"front": "service", "invoice": "service"})
    obs.edges[("front", "invoice")] = "metrics"
    ramp = np.concatenate([np.full(70, 0.35), np.linspace(0.35, 1.0, 20), np.full(N - 90, 1.0)])
    ramp = ramp * (1 + np.random.default_rng(3).normal(0, 0.01, N))
    memory_at = 70 if restart_after_memory else 95
    if not restart_after_memory:
        ramp = np.concatenate([np.full(95, 0.35), np.full(N - 95, 1.0)])
    obs.add(
        SignalSeries(
            "invoice",
            "memory_utilization",
            None,
            TS,
            tuple(float(x) for x in ramp),
            "q_mem",
            None,
            "test",
            "ratio",
            "up",
        )
    )  # type: ignore[arg-type]
    obs.add(_step("invoice", "restarts", 0.0, 1.0, 88, "count"))
    obs.add(_step("invoice", "available", 1.0, 0.0, 88, "ratio", bad="down"))
    obs.add(series("front", "error_ratio", 0.005, 0.1, 89, unit="ratio"))
    obs.add(series("front", "client_error_ratio", 0.005, 0.4, 89, peer="invoice", unit="ratio"))
    assert memory_at
    return obs


def test_memory_at_its_limit_and_then_down_is_the_leak_not_an_outage() -> None:
    obs = _leak(restart_after_memory=True)
    ctx = JudgeContext("front", TS[89], TS[60], frozenset({"front", "invoice"}))
    leak, outage = (
        _judge("invoice", "memory_leak", obs, ctx),
        _judge("invoice", "dependency_outage", obs, ctx),
    )
    assert leak.hypothesis.status == HypothesisStatus.SUPPORTED  # one restart alone would not be key
    ranked = separate_lookalikes([leak, outage], obs, FAULTS, ctx)
    top = max(ranked, key=lambda s: s.hypothesis.score)
    assert top.hypothesis.fault == "memory_leak"


def test_memory_that_rose_only_after_the_restart_is_no_key_evidence() -> None:
    obs = _leak(restart_after_memory=False)
    ctx = JudgeContext("front", TS[89], TS[60], frozenset({"front", "invoice"}))
    leak = _judge("invoice", "memory_leak", obs, ctx)
    assert leak.hypothesis.status != HypothesisStatus.SUPPORTED


def _concurrent(db_at: int) -> tuple[list[Scored], Observations, JudgeContext]:
    """gateway → fare (a config change at 80, slow from 81); grades-db, placed by no call, slows at db_at."""
    obs = Observations()
    obs.kinds.update({"gateway": "service", "fare": "service", "grades-db": "database"})
    obs.edges[("gateway", "fare")] = "metrics"
    obs.add(_step("fare", "config_reloads", 0.0, 6.0, 80, "count"))
    obs.add(series("fare", "latency", 0.07, 2.2, 81))
    obs.add(series("gateway", "client_latency", 0.1, 2.3, 82, peer="fare"))
    obs.add(series("gateway", "latency", 0.2, 2.4, 83))
    obs.add(series("grades-db", "db_tx_duration", 0.03, 10.0, db_at))
    obs.add(series("grades-db", "db_query_time", 0.004, 0.15, db_at))
    ctx = JudgeContext("gateway", TS[83], TS[60], frozenset({"gateway", "fare"}))
    scored = [_judge("fare", "config_change", obs, ctx), _judge("grades-db", "db_slow_queries", obs, ctx)]
    return scored, obs, ctx


def _leader(scored: list[Scored]) -> str:
    return max(scored, key=lambda s: s.hypothesis.score).hypothesis.component


def test_an_unplaced_anomaly_that_began_after_the_symptom_ranks_below_the_cause_on_the_path() -> None:
    scored, obs, ctx = _concurrent(db_at=88)  # 2.5 min after the symptom
    assert _leader(scored) == "grades-db"  # its evidence alone is stronger
    assert _leader(placed_before_unplaced(scored, obs, ctx)) == "fare"


def test_an_unplaced_anomaly_that_began_first_keeps_its_rank() -> None:
    scored, obs, ctx = _concurrent(db_at=79)  # before the symptom: it may well be on the path
    assert _leader(placed_before_unplaced(scored, obs, ctx)) == "grades-db"


def test_a_host_cpu_spike_that_passed_does_not_make_its_residents_victims() -> None:
    def scoring(spike_lasts: int) -> Hypothesis:
        obs = Observations()
        obs.kinds.update({"fraud": "service", "scoring": "service", "node-1": "host"})
        obs.edges[("fraud", "scoring")] = "traces"
        obs.hosts["node-1"] = {"scoring"}
        cpu = [0.7] * N
        cpu[64 : 64 + spike_lasts] = [0.92] * spike_lasts
        obs.add(
            SignalSeries("node-1", "host_cpu", None, TS, tuple(cpu), "q_cpu", None, "test", "ratio", "up")
        )  # type: ignore[arg-type]
        obs.add(series("scoring", "latency", 0.1, 3.0, 80))
        obs.add(series("fraud", "client_latency", 0.2, 3.1, 81, peer="scoring"))
        obs.add(series("fraud", "latency", 0.9, 3.5, 82))
        ctx = JudgeContext("fraud", TS[82], TS[60], frozenset({"fraud", "scoring"}))
        return _judge("scoring", "dependency_latency", obs, ctx).hypothesis

    passed, lasting = scoring(spike_lasts=4), scoring(spike_lasts=N - 64)
    assert not any("went bad first" in e.observation for e in passed.evidence)
    assert any("went bad first" in e.observation for e in lasting.evidence)


def test_error_line_noise_does_not_date_trouble_a_metric_dates() -> None:
    obs = Observations()
    obs.kinds["review"] = "service"
    noisy = [1.0] * 78 + [4.0, 6.0] + [40.0] * (N - 80)  # a few early lines, then the flood
    obs.add(
        SignalSeries(
            "review", "log_errors", None, TS, tuple(noisy), "q_logs", None, "loki", "lines/min", "up"
        )
    )  # type: ignore[arg-type]
    obs.add(series("review", "error_ratio", 0.003, 0.19, 84, unit="ratio"))
    _, trouble = health(obs, "review", TS[60], trouble_only=True)
    _, any_signal = health(obs, "review", TS[60])
    assert trouble is not None and any_signal is not None
    assert trouble >= TS[83] > any_signal


def test_the_limit_is_where_the_calls_end() -> None:
    """edge → kyc, both throttled by their callers' own 429 counts: the callee enforces the limit, the
    caller passes it on."""
    from compass_worker.engine.postpass import yield_to_causes

    obs = Observations()
    obs.kinds.update({"front": "service", "edge": "service", "kyc": "service"})
    obs.edges.update({("front", "edge"): "metrics", ("edge", "kyc"): "metrics"})
    obs.add(series("edge", "client_throttled", 0.0, 20.0, 80, peer="kyc", unit="req/s", noise=0.0))
    obs.add(series("front", "client_throttled", 0.0, 12.0, 81, peer="edge", unit="req/s", noise=0.0))
    obs.add(series("front", "error_ratio", 0.01, 0.28, 81, unit="ratio"))
    ctx = JudgeContext("front", TS[82], TS[60], frozenset({"front", "edge", "kyc"}))
    scored = [_judge("kyc", "rate_limited", obs, ctx), _judge("edge", "rate_limited", obs, ctx)]
    assert all(s.hypothesis.status == HypothesisStatus.SUPPORTED for s in scored)
    ranked = yield_to_causes(scored, obs, FAULTS, ctx.symptom_onset)
    top = max(ranked, key=lambda s: s.hypothesis.score).hypothesis
    assert (top.component, top.fault) == ("kyc", "rate_limited")


def test_a_cpu_that_ramps_to_its_limit_hurts_from_when_it_got_there() -> None:
    """A hot loop fading in over 8 min: CPU departs at 70, reaches its limit at 86; latency and errors
    follow at 92 — 11 min after the first departure, 3 min after the limit."""
    obs = Observations()
    obs.kinds["document"] = "service"
    cpu = np.concatenate([np.full(70, 0.17), np.linspace(0.17, 0.98, 17), np.full(N - 87, 0.98)])
    obs.add(
        SignalSeries(
            "document",
            "cpu_utilization",
            None,
            TS,
            tuple(float(x) for x in cpu),
            "q_cpu",
            None,
            "test",
            "ratio",
            "up",
        )
    )  # type: ignore[arg-type]
    obs.add(series("document", "latency", 0.024, 0.086, 92))
    obs.add(series("document", "error_ratio", 0.001, 0.11, 92, unit="ratio"))
    ctx = JudgeContext("document", TS[93], TS[60], frozenset({"document"}))
    h = _judge("document", "cpu_saturation", obs, ctx).hypothesis
    assert h.status == HypothesisStatus.SUPPORTED, h.refuted_because


def test_waiters_on_a_pool_are_its_exhaustion_whatever_its_utilisation_reads() -> None:
    """A pool full on some pods only: utilisation (max over pools, averaged) reads 60 %, yet requests
    queue for a connection — which happens only when none is free."""
    obs = Observations()
    obs.kinds.update({"wallet": "service", "fare": "service"})
    obs.edges[("wallet", "fare")] = "traces"
    obs.add(series("fare", "pool_utilization", 0.2, 0.6, 80, unit="ratio"))
    obs.add(_step("fare", "pool_pending", 0.0, 66.0, 80, "count"))
    obs.add(series("fare", "latency", 0.7, 3.9, 80))
    obs.add(series("wallet", "client_latency", 0.46, 3.8, 81, peer="fare"))
    ctx = JudgeContext("wallet", TS[82], TS[60], frozenset({"wallet", "fare"}))
    pool = _judge("fare", "db_connection_pool_exhaustion", obs, ctx).hypothesis
    assert pool.status == HypothesisStatus.SUPPORTED


def test_a_store_seen_only_through_its_volume_is_what_its_callers_call_it() -> None:
    obs = Observations()
    obs.kinds.update({"fraud": "service", "ticketdb": "volume", "data-pvc": "volume"})
    obs.peer_kinds["ticketdb"] = "database"
    assert obs.kind_of("ticketdb") == "database"
    assert obs.kind_of("data-pvc") == "volume"  # nothing calls it
