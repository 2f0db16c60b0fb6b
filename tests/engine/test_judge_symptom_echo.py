"""Real-data failure classes (nezha-dev, OnlineBoutique): the entry service blamed because the symptom it
reports was counted as its own evidence, and a callee's small slowdown taken as the cause of a caller's
huge one. Hand-built observations through the judge."""

from __future__ import annotations

from test_judge import FAULTS, TS, UNITS, _flag, series

from compass_worker.domain.models import Hypothesis, HypothesisStatus, Stance
from compass_worker.engine.context import JudgeContext, Scored
from compass_worker.engine.judge import judge
from compass_worker.engine.logs import mentioned_calls
from compass_worker.engine.observations import Observations, TraceFinding
from compass_worker.engine.postpass import earliest_cause_first, yield_to_causes


def _judge(comp: str, fault: str, obs: Observations, ctx: JudgeContext) -> Scored:
    spec = FAULTS.get(fault)
    h = Hypothesis(id=Hypothesis.key(comp, fault), component=comp, fault=fault, prior=spec.prior)
    return judge(h, spec, obs, ctx, UNITS)


def _entry_failing() -> Observations:
    obs = Observations()
    obs.kinds.update({"front": "service", "ads": "service"})
    obs.edges[("front", "ads")] = "traces"
    obs.add(series("front", "error_ratio", 0.001, 0.5, 90, unit="ratio"))
    return obs


def _ctx(signal: str | None) -> JudgeContext:
    return JudgeContext("front", TS[90], TS[60], frozenset({"front", "ads"}), symptom_signal=signal)


def _weight(s: Scored, text: str) -> float:
    return next(e.weight for e in s.hypothesis.evidence if text in e.observation)


def test_the_reported_errors_count_half_on_the_entry_that_reports_them() -> None:
    obs = _entry_failing()
    reported = _judge("front", "config_change", obs, _ctx("errors"))
    not_reported = _judge("front", "config_change", obs, _ctx("latency"))
    assert _weight(reported, "error_ratio") == _weight(not_reported, "error_ratio") / 2
    assert reported.hypothesis.score < not_reported.hypothesis.score


def test_a_callee_adding_a_sliver_of_the_symptoms_latency_is_not_its_cause() -> None:
    obs = _entry_failing()
    obs.add(series("front", "latency", 1.0, 28.0, 80))  # the entry 27 s slower
    obs.add(series("ads", "latency", 0.02, 0.09, 85))  # its callee 70 ms slower
    slow_callee = _judge("ads", "dependency_latency", obs, _ctx("latency"))
    assert slow_callee.hypothesis.status != HypothesisStatus.SUPPORTED
    assert any(
        e.stance == Stance.REFUTES and "too little to explain" in e.observation
        for e in slow_callee.hypothesis.evidence
    )


def test_a_callee_adding_most_of_the_symptoms_latency_stays_supported() -> None:
    obs = _entry_failing()
    obs.add(series("front", "latency", 0.2, 1.0, 80))
    obs.add(series("ads", "latency", 0.02, 0.7, 80))
    slow_callee = _judge("ads", "dependency_latency", obs, _ctx("latency"))
    assert slow_callee.hypothesis.status == HypothesisStatus.SUPPORTED


# A red-herring rollout below the slow component (statsd-layered, a redrawn dev plan): the traces put
# the extra time in the slow component's own spans, and a change someone made is never an effect.


def _rollout_below() -> Observations:
    obs = Observations()
    obs.kinds.update({"edge": "service", "bundle": "service", "loyalty": "service"})
    obs.edges[("edge", "bundle")] = "traces"
    obs.edges[("bundle", "loyalty")] = "traces"
    obs.add(series("bundle", "latency", 0.9, 2.2, 90))
    obs.add(series("bundle", "config_reloads", 0.0, 1.0, 90, unit="count"))
    obs.add(_flag("loyalty", 80))
    obs.add(series("loyalty", "latency", 0.05, 0.17, 80))
    return obs


def _bundle_ctx() -> JudgeContext:
    return JudgeContext("bundle", TS[90], TS[60], frozenset({"bundle", "loyalty"}), symptom_signal="latency")


def test_a_rollout_below_that_the_slow_traces_never_reach_ranks_below_the_change_where_the_time_went() -> (
    None
):
    obs = _rollout_below()
    before = _judge("loyalty", "bad_deploy", obs, _bundle_ctx()).hypothesis.score
    obs.traces.append(TraceFinding("bundle", "edge_self_time", 1.0, "edge→bundle: bundle's own time", "{ }"))
    after = _judge("loyalty", "bad_deploy", obs, _bundle_ctx())
    assert after.hypothesis.score <= before - 2.5
    assert any("did not slow them" in e.observation for e in after.hypothesis.evidence)
    config = _judge("bundle", "config_change", obs, _bundle_ctx())
    assert not any("looks like a victim" in e.observation for e in config.hypothesis.evidence)
    assert config.hypothesis.score > after.hypothesis.score


def test_a_callee_whose_calls_stayed_normal_did_not_make_the_caller_a_victim() -> None:
    obs = _rollout_below()
    victim = _judge("bundle", "config_change", obs, _bundle_ctx())
    assert any("looks like a victim" in e.observation for e in victim.hypothesis.evidence)
    obs.add(series("bundle", "client_latency", 0.05, 0.05, 0, peer="loyalty"))  # measured, flat
    not_victim = _judge("bundle", "config_change", obs, _bundle_ctx())
    assert not any("looks like a victim" in e.observation for e in not_victim.hypothesis.evidence)


def test_a_change_that_began_after_another_cause_is_not_ranked_down_as_its_effect() -> None:
    later = {"config_change": 0.0, "db_slow_queries": 0.0}
    for fault in later:
        first = Scored(_supported("loyalty", "bad_deploy"), TS[80], True, 1.0)
        second = Scored(_supported("bundle", fault), TS[90], True, 1.0)
        ranked = earliest_cause_first([first, second], _bundle_ctx())
        later[fault] = ranked[1].hypothesis.score
    assert later["config_change"] == 4.0
    assert later["db_slow_queries"] < 4.0


def _supported(comp: str, fault: str) -> Hypothesis:
    return Hypothesis(
        id=Hypothesis.key(comp, fault),
        component=comp,
        fault=fault,
        prior=0.05,
        status=HypothesisStatus.SUPPORTED,
        score=4.0,
    )


def test_slow_traces_on_the_failing_component_itself_do_not_explain_requests_failing_at_usual_speed() -> None:
    obs = _entry_failing()
    obs.add(series("front", "latency", 0.2, 0.2, 0))  # measured, and as fast as ever
    obs.traces.append(TraceFinding("front", "edge_self_time", 1.0, "lb→front: front's own time", "{ }"))
    obs.traces.append(TraceFinding("front", "self_time", 40.0, "front's own time per slow trace", "{ }"))
    slow_self = _judge("front", "dependency_latency", obs, _ctx("errors"))
    assert slow_self.hypothesis.status != HypothesisStatus.SUPPORTED
    assert any("without slowing down" in e.observation for e in slow_self.hypothesis.evidence)


# A database behind opaque TCP (no traces, no client metrics): only the pool's own lines name it.


def _pool_and_db() -> Observations:
    obs = Observations()
    obs.kinds.update({"invoice": "service", "billingdb": "database"})
    obs.add(series("invoice", "error_ratio", 0.005, 0.45, 91, unit="ratio"))
    obs.add(series("invoice", "pool_utilization", 0.17, 1.0, 91, unit="ratio"))
    obs.add(series("invoice", "pool_pending", 0.0, 23.0, 91, unit="count"))
    obs.add(series("billingdb", "db_query_time", 3.0, 113.0, 90))
    return obs


def test_a_database_named_in_the_pools_lines_is_called_and_its_slow_queries_explain_the_full_pool() -> None:
    obs = _pool_and_db()
    mentioned_calls(obs, "invoice", {"billingdb": 100, "statsd": 1})
    assert obs.callees("invoice") == {"billingdb"}  # one line naming a component is no call
    ctx = JudgeContext(
        "invoice", TS[91], TS[60], frozenset({"invoice", "billingdb"}), symptom_signal="errors"
    )
    scored = [
        _judge("invoice", "db_connection_pool_exhaustion", obs, ctx),
        _judge("billingdb", "db_slow_queries", obs, ctx),
    ]
    ranked = yield_to_causes(scored, obs, FAULTS, ctx.symptom_onset)
    top = max(ranked, key=lambda s: s.hypothesis.score)
    assert (top.hypothesis.component, top.hypothesis.fault) == ("billingdb", "db_slow_queries")


def test_a_mentioned_component_already_in_the_graph_keeps_its_edge() -> None:
    obs = _pool_and_db()
    obs.edges[("billingdb", "invoice")] = "traces"
    mentioned_calls(obs, "invoice", {"billingdb": 100})
    assert obs.edges == {("billingdb", "invoice"): "traces"}


def _nodes(rising: int) -> Observations:
    obs = Observations()
    obs.kinds.update({f"node-{i}": "host" for i in range(4)} | {"kyc": "service"})
    obs.hosts["node-0"] = {"kyc"}
    for i in range(4):
        obs.add(series(f"node-{i}", "host_cpu", 0.45, 0.9 if i < rising else 0.45, 88, unit="ratio"))
    obs.add(series("kyc", "latency", 0.09, 0.9, 92))
    return obs


def test_a_node_heating_with_the_whole_fleet_is_not_the_cause_but_one_heating_alone_is() -> None:
    ctx = JudgeContext("kyc", TS[92], TS[60], frozenset({"kyc"}), symptom_signal="latency")
    fleet = _judge("node-0", "cpu_saturation", _nodes(rising=4), ctx)
    assert fleet.hypothesis.status != HypothesisStatus.SUPPORTED
    assert any("fleet-wide" in e.observation for e in fleet.hypothesis.evidence)
    alone = _judge("node-0", "cpu_saturation", _nodes(rising=1), ctx)
    assert alone.hypothesis.status == HypothesisStatus.SUPPORTED
    assert not any("fleet-wide" in e.observation for e in alone.hypothesis.evidence)


def test_long_transactions_with_statements_at_their_usual_speed_are_not_a_slow_database() -> None:
    """Transactions held open by a client (a pool's connections idle in transaction) last long while
    every statement runs as fast as ever: statement time decides, not the transactions' length."""
    obs = _pool_and_db()
    obs.add(series("billingdb", "db_tx_duration", 0.03, 9.3, 90))
    obs.series.pop(("billingdb", "db_query_time", None))
    obs.add(series("billingdb", "db_query_time", 0.004, 0.004, 0))
    ctx = JudgeContext(
        "invoice", TS[91], TS[60], frozenset({"invoice", "billingdb"}), symptom_signal="errors"
    )
    assert _judge("billingdb", "db_slow_queries", obs, ctx).hypothesis.status == HypothesisStatus.REFUTED


def test_lost_packets_read_a_minute_after_a_residents_pool_filled_still_explain_it() -> None:
    obs = Observations()
    obs.kinds.update({"ip-10-0-0-1": "host", "roster": "service"})
    obs.hosts["ip-10-0-0-1"] = {"roster"}
    pool = Scored(_supported("roster", "db_connection_pool_exhaustion"), TS[90], True, 1.0)
    loss = Scored(_supported("ip-10-0-0-1", "network_packet_loss"), TS[92], True, 1.0)
    loss = Scored(loss.hypothesis.model_copy(update={"score": 3.0}), TS[92], True, 1.0)
    ranked = {s.hypothesis.fault: s.hypothesis.score for s in yield_to_causes([pool, loss], obs, FAULTS)}
    assert ranked["db_connection_pool_exhaustion"] < ranked["network_packet_loss"]
    late = Scored(loss.hypothesis, TS[94], True, 1.0)  # two minutes after: another story
    ranked = {s.hypothesis.fault: s.hypothesis.score for s in yield_to_causes([pool, late], obs, FAULTS)}
    assert ranked["db_connection_pool_exhaustion"] > ranked["network_packet_loss"]
