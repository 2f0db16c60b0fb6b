"""Real-data failure classes (nezha-dev, OnlineBoutique): the entry service blamed because the symptom it
reports was counted as its own evidence, and a callee's small slowdown taken as the cause of a caller's
huge one. Hand-built observations through the judge."""

from __future__ import annotations

from test_judge import FAULTS, TS, UNITS, series

from compass_worker.domain.models import Hypothesis, HypothesisStatus, Stance
from compass_worker.engine.context import JudgeContext, Scored
from compass_worker.engine.judge import judge
from compass_worker.engine.observations import Observations


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
