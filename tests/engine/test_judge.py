"""The judge on hand-built observations: evidence decides, refutations need contrary data, victims lose."""

import numpy as np

from compass_worker.domain.models import Hypothesis, HypothesisStatus
from compass_worker.engine.faultcatalog import load_faults
from compass_worker.engine.investigation import earliest_cause_first, yield_to_causes
from compass_worker.engine.judge import JudgeContext, Scored, confidences, judge
from compass_worker.engine.observations import Observations, SignalSeries
from compass_worker.signals.catalog import load_catalog

T0 = 1_800_000_000.0
N = 120
TS = tuple(T0 + 30 * i for i in range(N))
FAULTS = load_faults()
UNITS = {k: v.unit for k, v in load_catalog().signals.items()}


def series(
    comp: str,
    signal: str,
    base: float,
    after: float,
    start: int,
    *,
    peer: str | None = None,
    unit: str = "s",
    bad: str = "up",
    noise: float = 0.02,
) -> SignalSeries:
    rng = np.random.default_rng(abs(hash((comp, signal))) % 2**32)
    v = base * (1 + rng.normal(0, noise, N))
    v[start:] = after * (1 + rng.normal(0, noise, N - start))
    return SignalSeries(
        comp, signal, peer, TS, tuple(float(x) for x in v), f"q_{signal}", None, "test", unit, bad
    )  # type: ignore[arg-type]


def three_tier() -> Observations:
    """checkout → payments → payments-db, seen in traces; no series yet."""
    obs = Observations()
    obs.kinds.update({"payments-db": "database", "payments": "service", "checkout": "service"})
    obs.edges.update({("checkout", "payments"): "traces", ("payments", "payments-db"): "traces"})
    return obs


def scenario() -> Observations:
    obs = three_tier()
    obs.add(series("payments-db", "db_tx_duration", 0.05, 2.0, 80))
    obs.add(series("payments", "client_latency", 0.01, 1.5, 81, peer="payments-db"))
    obs.add(series("payments", "latency", 0.05, 1.6, 82))
    obs.add(series("checkout", "latency", 0.08, 1.8, 84))
    obs.add(series("payments", "cpu_utilization", 0.3, 0.32, 82, unit="ratio"))
    obs.add(series("payments", "pool_utilization", 0.4, 1.0, 83, unit="ratio"))
    return obs


def ctx() -> JudgeContext:
    return JudgeContext("checkout", TS[84], TS[60], frozenset({"checkout", "payments", "payments-db"}))


def run(comp: str, fault: str, obs: Observations) -> Hypothesis:
    spec = FAULTS.get(fault)
    h = Hypothesis(id=Hypothesis.key(comp, fault), component=comp, fault=fault, prior=spec.prior)
    return judge(h, spec, obs, ctx(), UNITS).hypothesis


def test_cause_outscores_victims_and_refuted_causes_say_why() -> None:
    obs = scenario()
    db = run("payments-db", "db_slow_queries", obs)
    pool = run("payments", "db_connection_pool_exhaustion", obs)
    lat = run("payments", "dependency_latency", obs)
    cpu = run("payments", "cpu_saturation", obs)
    assert db.status == HypothesisStatus.SUPPORTED
    assert db.score > pool.score and db.score > lat.score
    assert cpu.status == HypothesisStatus.REFUTED and "limit" in (cpu.refuted_because or "")
    assert any("victim" in e.observation for e in lat.evidence)
    assert all(e.query for e in db.evidence)


def test_missing_telemetry_is_untestable_not_refuted() -> None:
    h = run("payments", "memory_leak", scenario())
    assert h.status == HypothesisStatus.UNTESTABLE
    assert "memory" in h.rationale


def test_confidence_needs_margin_over_the_null_alternative() -> None:
    strong = confidences([7.0, 2.0])
    weak = confidences([2.0, 1.5])
    assert strong[0] > 0.9
    assert weak[0] < 0.5
    assert confidences([]) == []


def _flag(comp: str, at: int) -> SignalSeries:
    v = [0.0] * N
    v[at:] = [1.0] * (N - at)
    return SignalSeries(comp, "version_change", None, TS, tuple(v), "q_version", None, "test", "flag", "up")


def test_a_harmless_deploy_is_refuted_by_corroboration() -> None:
    obs = Observations()
    obs.kinds["cart"] = "service"
    obs.add(_flag("cart", 70))
    obs.add(series("cart", "latency", 0.05, 0.05, 70))
    obs.add(series("cart", "error_ratio", 0.001, 0.001, 70, unit="ratio"))
    h = run("cart", "bad_deploy", obs)
    assert h.status == HypothesisStatus.REFUTED
    assert "stayed normal" in (h.refuted_because or "")


def test_a_deploy_that_hurts_is_supported() -> None:
    obs = Observations()
    obs.kinds["cart"] = "service"
    obs.add(_flag("cart", 80))
    obs.add(series("cart", "error_ratio", 0.001, 0.2, 81, unit="ratio"))
    h = run("cart", "bad_deploy", obs)
    assert h.status == HypothesisStatus.SUPPORTED


def test_a_rollout_whose_errors_a_callee_showed_first_scores_as_a_victim() -> None:
    """A harmless rollout near a failing dependency: the caller's errors began after its callee's."""

    def deploy(callee_fails: bool) -> Hypothesis:
        obs = Observations()
        obs.kinds.update({"cart": "service", "pricing": "service"})
        obs.edges[("cart", "pricing")] = "metrics"
        obs.add(_flag("cart", 76))
        obs.add(series("cart", "error_ratio", 0.001, 0.05, 84, unit="ratio"))
        if callee_fails:
            obs.add(series("pricing", "error_ratio", 0.001, 0.08, 80, unit="ratio"))
            obs.add(series("cart", "client_error_ratio", 0.001, 0.08, 81, peer="pricing", unit="ratio"))
        return run("cart", "bad_deploy", obs)

    alone, inherited = deploy(callee_fails=False), deploy(callee_fails=True)
    assert inherited.score < alone.score - 1.0
    assert any("victim" in e.observation for e in inherited.evidence)


def test_a_component_the_graph_does_not_place_is_not_scored_off_the_path() -> None:
    """The graph is known around the symptom but shows no call to a database at all (calls behind
    opaque TCP): its full disk is not "off the path". The same database called from elsewhere is."""

    def disk_full(called_from_elsewhere: bool) -> Hypothesis:
        obs = scenario()
        obs.kinds.update({"orders-db": "database", "search": "service"})
        if called_from_elsewhere:
            obs.edges[("search", "orders-db")] = "traces"
        obs.add(series("orders-db", "disk_free_ratio", 0.4, 0.0, 82, unit="ratio", bad="down"))
        return run("orders-db", "disk_full", obs)

    unplaced, elsewhere = disk_full(False), disk_full(True)
    assert unplaced.status == HypothesisStatus.SUPPORTED
    assert unplaced.score > elsewhere.score


def test_a_hosts_cpu_moving_with_its_residents_load_makes_no_victims() -> None:
    """Host CPU from 32 % to 36 % is many of a quiet baseline's sigmas and no trouble: what runs
    there is not its victim. At its limit, it is."""

    def db_disk(host_cpu_after: float) -> Hypothesis:
        obs = Observations()
        obs.kinds.update({"orders-db": "database", "node-1": "host"})
        obs.hosts["node-1"] = {"orders-db"}
        obs.add(series("node-1", "host_cpu", 0.32, host_cpu_after, 74, unit="ratio", noise=0.005))
        obs.add(series("orders-db", "disk_free_ratio", 0.4, 0.0, 82, unit="ratio", bad="down"))
        return run("orders-db", "disk_full", obs)

    quiet, busy = db_disk(0.36), db_disk(0.98)
    assert not any("went bad first" in e.observation for e in quiet.evidence)
    assert any("went bad first" in e.observation for e in busy.evidence)


def test_a_probe_that_says_up_decisively_refutes_an_outage() -> None:
    obs = Observations()
    obs.kinds["psp-api"] = "external"
    obs.add(series("psp-api", "available", 1.0, 1.0, 80, unit="ratio", bad="down", noise=0.0))
    obs.add(series("payments", "client_error_ratio", 0.0, 0.8, 81, peer="psp-api", unit="ratio"))
    h = run("psp-api", "dependency_outage", obs)
    assert h.status == HypothesisStatus.REFUTED and "stayed up" in (h.refuted_because or "")


def _scored(obs: Observations, *pairs: tuple[str, str]) -> list[Scored]:
    out = []
    for comp, fault in pairs:
        spec = FAULTS.get(fault)
        h = Hypothesis(id=Hypothesis.key(comp, fault), component=comp, fault=fault, prior=spec.prior)
        out.append(judge(h, spec, obs, ctx(), UNITS))
    return out


def test_a_slow_database_yields_to_a_failed_sibling_cache() -> None:
    obs = Observations()
    obs.kinds.update({"catalog-db": "database", "catalog-cache": "cache", "catalog": "service"})
    obs.edges.update({("catalog", "catalog-db"): "metrics", ("catalog", "catalog-cache"): "metrics"})
    obs.add(series("catalog-cache", "cache_hit_ratio", 0.92, 0.1, 80, unit="ratio", bad="down"))
    obs.add(series("catalog-db", "db_query_time", 0.01, 0.5, 80))
    obs.add(series("catalog-db", "db_slow_queries", 0.0, 5.0, 80, unit="per s"))
    scored = yield_to_causes(
        _scored(obs, ("catalog-db", "db_slow_queries"), ("catalog-cache", "cache_failure")), obs, FAULTS
    )
    by_id = {s.hypothesis.id: s.hypothesis for s in scored}
    assert by_id["catalog-cache/cache_failure"].score > by_id["catalog-db/db_slow_queries"].score
    assert any("explains it" in e.observation for e in by_id["catalog-db/db_slow_queries"].evidence)


def test_lost_packets_on_a_host_outrank_what_runs_there() -> None:
    obs = Observations()
    obs.kinds.update({"node-a": "host", "payments": "service"})
    obs.hosts["node-a"] = {"payments"}
    obs.add(series("node-a", "tcp_retransmit_ratio", 0.001, 0.04, 80, unit="ratio"))
    obs.add(series("payments", "pool_utilization", 0.2, 1.0, 80, unit="ratio"))
    obs.add(series("payments", "pool_pending", 0.0, 14.0, 80, unit="requests"))
    obs.add(series("payments", "latency", 0.05, 1.5, 80))
    scored = yield_to_causes(
        _scored(obs, ("payments", "db_connection_pool_exhaustion"), ("node-a", "network_packet_loss")),
        obs,
        FAULTS,
    )
    best = max(scored, key=lambda s: s.hypothesis.score).hypothesis
    assert best.id == "node-a/network_packet_loss"


def test_the_earliest_supported_cause_on_the_path_wins() -> None:
    obs = scenario()
    obs.add(series("payments", "pool_utilization", 0.4, 1.0, 95, unit="ratio"))  # much later than the DB
    scored = earliest_cause_first(
        _scored(obs, ("payments-db", "db_slow_queries"), ("payments", "db_connection_pool_exhaustion")), ctx()
    )
    by_id = {s.hypothesis.id: s.hypothesis.score for s in scored}
    assert by_id["payments-db/db_slow_queries"] > by_id["payments/db_connection_pool_exhaustion"]


def test_a_drift_that_began_long_before_the_symptom_does_not_push_its_cause_down() -> None:
    """payments-db's latency drifted up 16 minutes before the symptom (a slow burn that started
    nothing); payments' CPU hit its limit a minute before the symptom: that is its cause, not a later
    effect of the drift."""
    obs = three_tier()
    obs.add(series("payments-db", "latency", 0.2, 0.45, 52))
    obs.add(series("payments", "cpu_utilization", 0.05, 0.99, 82, unit="ratio"))
    obs.add(series("payments", "latency", 0.05, 1.6, 82))
    pairs = (("payments-db", "dependency_latency"), ("payments", "cpu_saturation"))
    before = {s.hypothesis.id: s for s in _scored(obs, *pairs)}
    after = {s.hypothesis.id: s for s in earliest_cause_first(list(before.values()), ctx())}
    assert before["payments-db/dependency_latency"].hypothesis.status == HypothesisStatus.SUPPORTED
    cpu = "payments/cpu_saturation"
    assert after[cpu].hypothesis.score == before[cpu].hypothesis.score


def test_measured_values_carry_their_units() -> None:
    from compass_worker.engine.fmt import fmt_measured

    assert fmt_measured(0.0442, "s") == "44 ms" and fmt_measured(2.28, "s") == "2280 ms"
    assert fmt_measured(0.051, "ratio") == "5.1%"
    assert fmt_measured(3.5, "req/s") == "3.5 req/s" and fmt_measured(0.9, "cores") == "0.9 cores"
    assert fmt_measured(126, "count") == "126" and fmt_measured(float("nan"), "req/s") == "n/a"


def _slow_outlier_scenario(cpu: bool, fx_busier: bool = False) -> list[Scored]:
    """checkout calls payments (its CPU at its limit from the symptom's onset, its latency following,
    when `cpu`) and fx, whose own latency never moved but whose time grew in the slowest traces."""
    from compass_worker.engine.observations import TraceFinding
    from compass_worker.engine.postpass import outliers_yield_to_measured

    obs = Observations()
    obs.kinds.update({"payments": "service", "checkout": "service", "fx": "service"})
    obs.edges.update({("checkout", "payments"): "traces", ("checkout", "fx"): "traces"})
    obs.add(series("fx", "latency", 0.01, 0.01, 84))
    if fx_busier:  # fx's CPU rose well before the symptom, far from any limit; its latency never moved
        obs.add(series("fx", "cpu_utilization", 0.01, 0.12, 64, unit="ratio"))
    obs.traces.append(TraceFinding("fx", "edge_self_time", 1.0, "checkout→fx: checkout waits longer", "{ }"))
    obs.traces.append(TraceFinding("fx", "self_time", 40.0, "fx's own time per slow trace", "{ }"))
    if cpu:
        obs.add(series("payments", "cpu_utilization", 0.05, 0.99, 84, unit="ratio"))
        obs.add(series("payments", "latency", 0.05, 0.4, 84))
    c = JudgeContext("checkout", TS[84], TS[60], frozenset({"checkout", "payments", "fx"}))
    scored = []
    for comp, fault in (("fx", "dependency_latency"), ("payments", "cpu_saturation")):
        spec = FAULTS.get(fault)
        h = Hypothesis(id=Hypothesis.key(comp, fault), component=comp, fault=fault, prior=spec.prior)
        scored.append(judge(h, spec, obs, c, UNITS))
    return outliers_yield_to_measured(scored, obs, FAULTS, c)


def test_time_seen_only_in_slow_traces_yields_to_a_measured_specific_cause() -> None:
    """A callee whose own metrics stayed normal, slow only in the slowest traces, ranks below a CPU at
    its limit the metrics measured at the symptom's onset; with no such cause beside it, it keeps its
    rank (a delayed link shows only in traces)."""
    by_id = {s.hypothesis.id: s.hypothesis for s in _slow_outlier_scenario(cpu=True)}
    assert by_id["payments/cpu_saturation"].score > by_id["fx/dependency_latency"].score
    alone = {s.hypothesis.id: s.hypothesis for s in _slow_outlier_scenario(cpu=False)}
    assert alone["fx/dependency_latency"].status == HypothesisStatus.SUPPORTED
    assert not any("slow traces" in e.observation for e in alone["fx/dependency_latency"].evidence)


def test_a_busier_cpu_does_not_keep_a_trace_only_slowdown_above_a_measured_cause() -> None:
    """Its own metrics "stayed normal" is about the catch-all's own latency and errors: fx's CPU moving
    from 1 % to 12 % minutes earlier (its latency flat) does not make its slow traces a measured change."""
    by_id = {s.hypothesis.id: s.hypothesis for s in _slow_outlier_scenario(cpu=True, fx_busier=True)}
    assert by_id["payments/cpu_saturation"].score > by_id["fx/dependency_latency"].score


def _failing_checkout(checkout_latency_after: float) -> Observations:
    obs = three_tier()
    obs.add(series("checkout", "error_ratio", 0.001, 0.1, 84, unit="ratio"))
    obs.add(series("checkout", "latency", 0.08, checkout_latency_after, 84))
    obs.add(series("payments", "latency", 0.05, 0.5, 83))
    return obs


def test_slowness_does_not_explain_failing_requests_that_stayed_fast() -> None:
    """checkout fails requests at its usual speed; payments got slower at the same time. A slow
    payments would fail checkout's requests only by timing them out, which would slow checkout too."""
    spec = FAULTS.get("dependency_latency")
    h = Hypothesis(
        id=Hypothesis.key("payments", spec.id), component="payments", fault=spec.id, prior=spec.prior
    )
    base = ctx()
    errors = JudgeContext(
        base.symptom_component, base.symptom_onset, base.baseline_until, base.path, symptom_signal="errors"
    )
    as_latency = judge(h, spec, _failing_checkout(0.08), base, UNITS)
    as_errors = judge(h, spec, _failing_checkout(0.08), errors, UNITS)
    assert as_latency.hypothesis.status == HypothesisStatus.SUPPORTED
    assert as_errors.key_support == 0.0 and as_errors.hypothesis.status != HypothesisStatus.SUPPORTED
    assert as_errors.hypothesis.score < as_latency.hypothesis.score
    assert any("without slowing down" in e.observation for e in as_errors.hypothesis.evidence)
    # the symptom slowing too (timeouts) keeps the slowness as a cause
    assert (
        judge(h, spec, _failing_checkout(0.9), errors, UNITS).hypothesis.status == HypothesisStatus.SUPPORTED
    )


def test_any_cause_supported_only_by_slowness_does_not_explain_fast_failures() -> None:
    """Not just the catch-all: a rollout whose only sign is payments' latency explains checkout's
    failing-but-fast requests no better; with errors of its own it would keep its support."""
    spec = FAULTS.get("config_change")
    h = Hypothesis(
        id=Hypothesis.key("payments", spec.id), component="payments", fault=spec.id, prior=spec.prior
    )
    base = ctx()
    errors = JudgeContext(
        base.symptom_component, base.symptom_onset, base.baseline_until, base.path, symptom_signal="errors"
    )
    as_latency = judge(h, spec, _failing_checkout(0.08), base, UNITS).hypothesis
    as_errors = judge(h, spec, _failing_checkout(0.08), errors, UNITS).hypothesis
    assert as_errors.score < as_latency.score - 2.0
    obs = _failing_checkout(0.08)
    obs.add(series("payments", "error_ratio", 0.001, 0.2, 83, unit="ratio"))
    with_errors = judge(h, spec, obs, errors, UNITS).hypothesis
    assert not any("without slowing down" in e.observation for e in with_errors.evidence)


def test_a_host_saturated_by_a_residents_own_cpu_is_not_that_residents_cause() -> None:
    """A database grinding through slow queries pins its CPU and, with it, its host's: the host's
    saturation is that load, not a lower layer the database is a victim of. A host saturated while its
    residents' CPU stays put (a noisy process outside the pods) still is the cause."""

    def best(db_cpu_after: float) -> str:
        obs = Observations()
        obs.kinds.update({"orders-db": "database", "node-1": "host"})
        obs.hosts["node-1"] = {"orders-db"}
        obs.add(series("node-1", "host_cpu", 0.7, 0.99, 80, unit="ratio", noise=0.005))
        obs.add(series("orders-db", "cpu_utilization", 0.5, db_cpu_after, 80, unit="ratio", noise=0.01))
        obs.add(series("orders-db", "db_query_time", 0.004, 0.17, 80))
        obs.add(series("orders-db", "db_slow_queries", 0.0, 5.0, 80, unit="per s"))
        scored = yield_to_causes(
            _scored(obs, ("orders-db", "db_slow_queries"), ("node-1", "cpu_saturation")), obs, FAULTS
        )
        return max(scored, key=lambda s: s.hypothesis.score).hypothesis.id

    assert best(1.0) == "orders-db/db_slow_queries"
    assert best(0.5) == "node-1/cpu_saturation"


def test_a_slowdown_seen_only_in_traces_yields_to_a_callee_that_throttled_it() -> None:
    """A caller backing off from a throttling callee spends the time in its own spans: with no start of
    its own to compare, the callee's supported fault that began by the symptom explains it."""
    obs = Observations()
    obs.kinds.update({"wallet": "service", "ledger": "service"})
    obs.edges[("wallet", "ledger")] = "traces"

    def scored(comp: str, fault: str, score: float, onset: float | None) -> Scored:
        h = Hypothesis(
            id=Hypothesis.key(comp, fault),
            component=comp,
            fault=fault,
            prior=FAULTS.get(fault).prior,
            score=score,
            status=HypothesisStatus.SUPPORTED,
        )
        return Scored(h, onset, True, 1.0)

    pair = [scored("wallet", "dependency_latency", 8.7, None), scored("ledger", "rate_limited", 7.7, TS[80])]
    after = {s.hypothesis.id: s.hypothesis.score for s in yield_to_causes(pair, obs, FAULTS, TS[84])}
    assert after["ledger/rate_limited"] > after["wallet/dependency_latency"]
    unknown = {s.hypothesis.id: s.hypothesis.score for s in yield_to_causes(pair, obs, FAULTS)}
    assert unknown["wallet/dependency_latency"] == 8.7  # no symptom onset: nothing to compare with
    late = [pair[0], scored("ledger", "rate_limited", 7.7, TS[100])]
    kept = {s.hypothesis.id: s.hypothesis.score for s in yield_to_causes(late, obs, FAULTS, TS[84])}
    assert kept["wallet/dependency_latency"] == 8.7  # a callee fault after the symptom explains nothing


def _edge_scored(findings: list[tuple[str, float]]) -> Scored:
    """fx judged as a catch-all slowdown from trace edge findings alone (kind, value)."""
    from compass_worker.engine.observations import TraceFinding

    obs = Observations()
    obs.kinds.update({"checkout": "service", "cart": "service", "fx": "service", "rates": "service"})
    obs.edges.update({("checkout", "fx"): "traces", ("cart", "fx"): "traces", ("fx", "rates"): "traces"})
    for kind, value in findings:
        obs.traces.append(TraceFinding("fx", kind, value, f"…→fx: {kind}", "{ }"))
    spec = FAULTS.get("dependency_latency")
    h = Hypothesis(id=Hypothesis.key("fx", spec.id), component="fx", fault=spec.id, prior=spec.prior)
    c = JudgeContext("checkout", TS[84], TS[60], frozenset({"checkout", "fx", "rates"}))
    return judge(h, spec, obs, c, UNITS)


def test_time_beyond_a_component_on_one_edge_does_not_refute_its_own_time_on_another() -> None:
    """A delayed network at fx delays its calls out too (that transit goes with its callees): one
    caller's wait then lies "beyond" fx while another caller sees fx's own time grow. The own-time edge
    stands; a component seen only passing time on is still refuted by it."""
    mixed = _edge_scored([("edge_self_time", 0.64), ("edge_passthrough", 2.4)]).hypothesis
    own_only = _edge_scored([("edge_self_time", 0.64)]).hypothesis
    passing = _edge_scored([("edge_passthrough", 2.4)]).hypothesis
    assert mixed.score == own_only.score
    assert not any(e.weight < 0 for e in mixed.evidence if e.source == "tempo")
    assert any(e.weight < 0 for e in passing.evidence if e.source == "tempo")
