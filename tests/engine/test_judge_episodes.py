"""Earlier episodes in the same window, and latency that traces place on a callee's edge."""

from dataclasses import replace
from types import SimpleNamespace

import numpy as np

from compass_worker.domain.models import Hypothesis, HypothesisStatus
from compass_worker.engine.faultcatalog import load_faults
from compass_worker.engine.judge import JudgeContext, judge
from compass_worker.engine.observations import Observations, SignalSeries, TraceFinding
from compass_worker.engine.observe import judge_context
from compass_worker.signals.catalog import load_catalog

T0 = 1_800_000_000.0
N = 60
TS = tuple(T0 + 60 * i for i in range(N))
FAULTS = load_faults()
UNITS = {k: v.unit for k, v in load_catalog().signals.items()}
ONSET = TS[50]


def _cpu(comp: str, spans: list[tuple[int, int]]) -> SignalSeries:
    """CPU at 5 % of its limit, at 99 % over each (start, end) sample range."""
    rng = np.random.default_rng(7)
    v = 0.05 * (1 + rng.normal(0, 0.05, N))
    for a, b in spans:
        v[a:b] = 0.99
    return SignalSeries(
        comp, "cpu_utilization", None, TS, tuple(float(x) for x in v), "q", None, "test", "ratio", "up"
    )


def _score(obs: Observations, comp: str, fault: str, path: frozenset[str] = frozenset()) -> float:
    spec = FAULTS.get(fault)
    h = Hypothesis(id=Hypothesis.key(comp, fault), component=comp, fault=fault, prior=spec.prior)
    ctx = JudgeContext("web", ONSET, TS[30], path)
    return judge(h, spec, obs, ctx, UNITS).hypothesis.score


def test_a_departure_over_before_the_symptom_began_weighs_less() -> None:
    """CPU saturated eight minutes before the symptom and back to normal at its onset: an earlier
    episode in the window, not this symptom's cause. Saturated through the onset: full weight."""
    over, ongoing = Observations(), Observations()
    over.add(_cpu("api", [(40, 46)]))
    ongoing.add(_cpu("api", [(49, N)]))
    assert _score(ongoing, "api", "cpu_saturation") - _score(over, "api", "cpu_saturation") >= 2.0


def _edge(comp: str, share: float) -> TraceFinding:
    return TraceFinding(comp, "edge_self_time", share, f"web→{comp}: waits longer", "{ }")


def test_the_callee_whose_own_time_grew_most_is_the_slow_dependency() -> None:
    obs = Observations()
    obs.traces += [_edge("inventory", 1.0), _edge("search", 0.1)]
    assert _score(obs, "inventory", "dependency_latency") > _score(obs, "search", "dependency_latency") + 3.0


def _run(symptom: str, obs: Observations) -> SimpleNamespace:
    src = SimpleNamespace(start=TS[0], end=TS[-1])
    incident = SimpleNamespace(signal=None)
    return SimpleNamespace(src=src, obs=obs, symptom=symptom, onset=ONSET, prior_bonus={}, incident=incident)


def test_an_untraced_symptom_component_has_no_path_and_puts_no_one_off_it() -> None:
    """The symptom's component (a UI in front of a traced gateway) is in no trace: the path is unknown
    (empty), so the slow callee is not penalised for being "off" it. A traced one has its path."""
    obs = Observations()
    obs.edges[("gateway", "inventory")] = "traces"
    obs.traces.append(_edge("inventory", 1.0))
    assert judge_context(_run("web", obs)).path == frozenset()  # type: ignore[arg-type]
    assert judge_context(_run("gateway", obs)).path == {"gateway", "inventory"}  # type: ignore[arg-type]
    unknown = _score(obs, "inventory", "dependency_latency")
    off = _score(obs, "inventory", "dependency_latency", path=frozenset({"web"}))
    assert unknown > off


def _latency_flat(comp: str) -> SignalSeries:
    rng = np.random.default_rng(11)
    v = 0.2 * (1 + rng.normal(0, 0.3, N))  # a noisy 1-minute p95: a doubling would not stand out
    return SignalSeries(comp, "latency", None, TS, tuple(float(x) for x in v), "q", None, "test", "s", "up")


def test_cpu_saturation_is_corroborated_by_its_callers_waiting_on_it_in_traces() -> None:
    """CPU at its limit, its coarse latency series flat: "no impact" — unless the traces show its
    callers waiting on its own time."""
    quiet, traced = Observations(), Observations()
    for obs in (quiet, traced):
        obs.add(_cpu("api", [(49, N)]))
        obs.add(_latency_flat("api"))
    traced.traces.append(_edge("api", 1.0))
    assert _status(quiet, "api", "cpu_saturation") == HypothesisStatus.REFUTED
    assert _status(traced, "api", "cpu_saturation") == HypothesisStatus.SUPPORTED


def _status(obs: Observations, comp: str, fault: str) -> HypothesisStatus:
    spec = FAULTS.get(fault)
    h = Hypothesis(id=Hypothesis.key(comp, fault), component=comp, fault=fault, prior=spec.prior)
    return judge(h, spec, obs, JudgeContext("web", ONSET, TS[30], frozenset()), UNITS).hypothesis.status


def test_a_cpu_back_far_below_its_limit_is_over_though_many_sigmas_above_an_idle_baseline() -> None:
    """An idle service (CPU 5 % ± 0.25 %) saturated eight minutes before the symptom and settled at
    8 %: a dozen of its sigmas, but far from its limit — the episode is over."""
    settled, ongoing = Observations(), Observations()
    cpu = _cpu("api", [(40, 46)])
    settled.add(replace(cpu, values=tuple(0.08 if i >= 46 else v for i, v in enumerate(cpu.values))))
    ongoing.add(_cpu("api", [(49, N)]))
    assert _score(ongoing, "api", "cpu_saturation") - _score(settled, "api", "cpu_saturation") >= 2.0


def _latency_bimodal(comp: str, high_from: int | None) -> SignalSeries:
    """A p95 that flips between two levels in its baseline (a few slow requests a minute or none): its
    robust scale is wide, so a rise to four times its median is no departure in sigmas."""
    v = [0.1 if i % 2 else 0.45 for i in range(N)]
    if high_from is not None:
        v[high_from:] = [0.95] * (N - high_from)
    return SignalSeries(comp, "latency", None, TS, tuple(v), "q", None, "test", "s", "up")


def test_a_latency_that_rose_with_the_cpu_over_a_noisy_baseline_is_no_proof_of_no_impact() -> None:
    """CPU at its limit from the onset, its latency held at 4× its baseline median but within the
    baseline's wide spread in sigmas: that cannot say "no impact". The same series left as it was can."""
    rose, same = Observations(), Observations()
    for obs, high_from in ((rose, 49), (same, None)):
        obs.add(_cpu("api", [(49, N)]))
        obs.add(_latency_bimodal("api", high_from))
    latency = rose.get("api", "latency")
    assert latency is not None
    a = latency.anomaly(None, TS[30])
    assert a is not None and not a.anomalous  # the premise: the rise is no departure in sigmas
    assert _status(rose, "api", "cpu_saturation") == HypothesisStatus.SUPPORTED
    assert _status(same, "api", "cpu_saturation") == HypothesisStatus.REFUTED
