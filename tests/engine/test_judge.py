"""The judge on hand-built observations: evidence decides, refutations need contrary data, victims lose."""

import numpy as np

from compass_worker.domain.models import Hypothesis, HypothesisStatus
from compass_worker.engine.faultcatalog import load_faults
from compass_worker.engine.judge import JudgeContext, confidences, judge
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


def scenario() -> Observations:
    obs = Observations()
    obs.kinds.update({"payments-db": "database", "payments": "service", "checkout": "service"})
    obs.edges.update({("checkout", "payments"): "traces", ("payments", "payments-db"): "traces"})
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
