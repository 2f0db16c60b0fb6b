"""Log-rule evidence in localisation: a logged change is not when a component broke, and a node's
full disk seen only in its residents' logs."""

import numpy as np

from compass_worker.domain.models import Hypothesis, HypothesisStatus
from compass_worker.engine.faultcatalog import load_faults
from compass_worker.engine.judge import JudgeContext, Scored, judge
from compass_worker.engine.logs import rule_signal
from compass_worker.engine.observations import Observations, SignalSeries, TraceFinding
from compass_worker.engine.postpass import explain_away_generic
from compass_worker.engine.unmeasured import unmeasured_specific
from compass_worker.signals.catalog import load_catalog

T0 = 1_800_000_000.0
N = 120
TS = tuple(T0 + 30 * i for i in range(N))
FAULTS = load_faults()
UNITS = {k: v.unit for k, v in load_catalog().signals.items()}


def series(
    comp: str, signal: str, base: float, after: float, start: int, peer: str | None = None
) -> SignalSeries:
    rng = np.random.default_rng(abs(hash((comp, signal, peer))) % 2**32)
    v = base * (1 + rng.normal(0, 0.02, N))
    v[start:] = after * (1 + rng.normal(0, 0.02, N - start))
    return SignalSeries(
        comp, signal, peer, TS, tuple(float(x) for x in v), f"q_{signal}", None, "test", "ratio", "up"
    )


def log_burst(comp: str, sig: str, start: int) -> SignalSeries:
    v = [0.0] * N
    v[start:] = [40.0] * (N - start)
    return SignalSeries(comp, sig, None, TS, tuple(v), f"q_{sig}", None, "test", "lines/5m", "up")


def run(comp: str, fault: str, obs: Observations, path: frozenset[str]) -> Hypothesis:
    spec = FAULTS.get(fault)
    h = Hypothesis(id=Hypothesis.key(comp, fault), component=comp, fault=fault, prior=spec.prior)
    ctx = JudgeContext("front", TS[84], TS[60], path)
    return judge(h, spec, obs, ctx, UNITS).hypothesis


def test_a_config_reload_logged_before_a_callee_failed_does_not_hide_the_victim() -> None:
    """A benign flag flip logged at 76, the callee failing at 80, the caller's own errors from 84: the
    caller broke after its callee, whatever it logged first."""
    sig = rule_signal("config_change", 0)

    def change(callee_fails: bool) -> Hypothesis:
        obs = Observations()
        obs.kinds.update({"front": "service", "mid": "service"})
        obs.edges[("front", "mid")] = "metrics"
        obs.log_rules_checked.add(sig)
        obs.log_values["front"] = {"front"}
        obs.add(log_burst("front", sig, 76))
        obs.add(series("front", "error_ratio", 0.001, 0.05, 84))
        if callee_fails:
            obs.add(series("mid", "error_ratio", 0.001, 0.08, 80))
            obs.add(series("front", "client_error_ratio", 0.001, 0.08, 81, peer="mid"))
        return run("front", "config_change", obs, frozenset({"front", "mid"}))

    alone, inherited = change(callee_fails=False), change(callee_fails=True)
    assert inherited.score < alone.score - 1.0
    assert any("victim" in e.observation for e in inherited.evidence)


def _node(residents_logging: tuple[str, ...]) -> Observations:
    sig = rule_signal("disk_full", 0)
    obs = Observations()
    obs.kinds.update({"a": "service", "b": "service", "c": "service"})
    obs.hosts["node-1"] = {"a", "b"}
    obs.hosts["node-2"] = {"a", "c"}
    obs.log_rules_checked.add(sig)
    for comp in ("a", "b", "c"):
        obs.log_values[comp] = {comp}
        obs.add(log_burst(comp, sig, 80) if comp in residents_logging else log_burst(comp, sig, N))
    return obs


def test_a_node_without_exporter_is_a_host_and_its_residents_logs_say_its_disk_is_full() -> None:
    path = frozenset({"a", "b", "c"})
    obs = _node(("a", "b"))
    assert obs.kind_of("node-1") == "host"
    node = run("node-1", "disk_full", obs, path)
    one = run("a", "disk_full", obs, path)
    assert node.score > one.score
    assert any("residents of node-1" in e.observation for e in node.evidence)
    # The other node hosts only one of them: it explains neither b's lines nor c's quiet.
    assert run("node-2", "disk_full", obs, path).score < node.score - 2.0


def test_one_residents_lines_alone_do_not_blame_its_node() -> None:
    obs = _node(("a",))
    node = run("node-1", "disk_full", obs, frozenset({"a", "b", "c"}))
    assert not any(e.observation for e in node.evidence if "logs" in e.observation)


def test_a_reload_on_a_clear_victim_is_no_supported_cause() -> None:
    """The callee broke clearly, minutes before the caller: the caller's logged reload keeps a score
    but no key support, so it cannot cap the callee's causes below it. A callee that went bad long
    before (a blip that passed) does not take the support away."""

    def reload(callee_from: int) -> Hypothesis:
        sig = rule_signal("config_change", 0)
        obs = Observations()
        obs.kinds.update({"front": "service", "mid": "service"})
        obs.edges[("front", "mid")] = "metrics"
        obs.log_rules_checked.add(sig)
        obs.log_values["front"] = {"front"}
        obs.add(log_burst("front", sig, 78))
        obs.add(series("front", "error_ratio", 0.001, 0.05, 86))
        obs.add(series("mid", "error_ratio", 0.001, 0.3, callee_from))
        return run("front", "config_change", obs, frozenset({"front", "mid"}))

    assert reload(callee_from=80).status != HypothesisStatus.SUPPORTED
    assert reload(callee_from=60).status == HypothesisStatus.SUPPORTED


def _catch_all_and_pool(obs: Observations, ctx: JudgeContext) -> dict[str, Scored]:
    """'It got slow' and a full pool on `api`, judged and post-passed as the engine does."""
    hs = [
        Hypothesis(id=Hypothesis.key("api", f), component="api", fault=f, prior=FAULTS.get(f).prior)
        for f in ("dependency_latency", "db_connection_pool_exhaustion")
    ]
    scored = explain_away_generic([judge(h, FAULTS.get(h.fault), obs, ctx, UNITS) for h in hs], FAULTS)
    return {s.hypothesis.fault: s for s in unmeasured_specific(scored, obs, FAULTS, ctx)}


def test_a_pools_own_words_decide_where_no_pool_metric_exists() -> None:
    """'It got slow' on a service whose own logs say its pool timed out, with no pool metric at all:
    the pool's signature is key evidence, so the specific cause explains the catch-all away; with the
    pool measured (and normal) the words are not enough and the catch-all stands."""
    sig = rule_signal("db_connection_pool_exhaustion", 0)

    def judged(pool_measured: bool) -> dict[str, Scored]:
        obs = Observations()
        obs.kinds.update({"front": "service", "api": "service"})
        obs.edges[("front", "api")] = "metrics"
        obs.log_rules_checked.add(sig)
        obs.log_values["api"] = {"api"}
        obs.add(log_burst("api", sig, 81))
        obs.add(series("api", "latency", 0.05, 2.0, 80))
        obs.add(series("front", "client_latency", 0.06, 2.1, 80, peer="api"))
        obs.add(series("front", "latency", 0.08, 2.2, 81))
        if pool_measured:
            obs.add(series("api", "pool_utilization", 0.3, 0.31, 80))
        ctx = JudgeContext("front", TS[84], TS[60], frozenset({"front", "api"}))
        return _catch_all_and_pool(obs, ctx)

    unmeasured = judged(pool_measured=False)
    pool = unmeasured["db_connection_pool_exhaustion"].hypothesis
    assert pool.status == HypothesisStatus.SUPPORTED
    assert pool.score > unmeasured["dependency_latency"].hypothesis.score
    measured = judged(pool_measured=True)
    assert measured["db_connection_pool_exhaustion"].hypothesis.status == HypothesisStatus.REFUTED
    assert measured["dependency_latency"].hypothesis.status == HypothesisStatus.SUPPORTED
    assert measured["dependency_latency"].undecided_with is None


def test_without_any_log_to_read_an_unmeasured_pool_leaves_the_catch_all_undecided() -> None:
    """'It got slow' in its own spans, no pool metric, and no log of the service to read: nothing can
    tell a full pool from the catch-all, so the catch-all may lead but not with certainty. Where its
    logs were read and say nothing of a pool, the catch-all stands."""

    def judged(logs_read: bool) -> dict[str, Scored]:
        obs = Observations()
        obs.kinds.update({"front": "service", "api": "service"})
        obs.edges[("front", "api")] = "traces"
        if logs_read:
            obs.log_component_label = "app"
            obs.log_values["api"] = {"api"}
        obs.add(series("api", "latency", 0.05, 2.0, 80))
        obs.add(series("front", "client_latency", 0.06, 2.1, 80, peer="api"))
        obs.add(series("front", "latency", 0.08, 2.2, 81))
        obs.traces.append(TraceFinding("api", "self_time", 40.0, "api's own time per slow trace", "{ }"))
        obs.traces.append(TraceFinding("api", "edge_self_time", 1.0, "front→api: api's own time", "{ }"))
        ctx = JudgeContext("front", TS[84], TS[60], frozenset({"front", "api"}))
        return _catch_all_and_pool(obs, ctx)

    blind = judged(logs_read=False)
    assert blind["dependency_latency"].hypothesis.status == HypothesisStatus.SUPPORTED
    assert blind["db_connection_pool_exhaustion"].hypothesis.status == HypothesisStatus.TESTING
    assert blind["dependency_latency"].undecided_with == Hypothesis.key(
        "api", "db_connection_pool_exhaustion"
    )
    assert judged(logs_read=True)["dependency_latency"].undecided_with is None
