"""A catch-all cannot lead with certainty while a specific cause's signature shows on the same
component but the metric that would confirm or refute it does not exist.

"It got slow" (`generic`: dependency_latency, dependency_outage) collects every sign of slowness,
so it scores high whatever the reason. When the component's own logs burst with a specific fault's
lines (a pool's "timeout acquiring connection", "no space left on device") and that fault's key
metric is not measured at all (a convention with no pool maximum, no volume stats), the data cannot
say whether the specific cause is the reason; nor can it when no log of the component can be read at
all (no log datasource, or none for it) and the specific cause's metrics are missing too: the pair is
undecided, as look-alikes without their
separating observation are (`verdict.UNDECIDED_CAP`): the leader keeps its rank, not its certainty.
"""

from __future__ import annotations

from dataclasses import replace

from compass_worker.domain.models import HypothesisStatus
from compass_worker.engine.context import JudgeContext, Scored
from compass_worker.engine.faultcatalog import FaultCatalog, FaultSpec
from compass_worker.engine.logs import rule_signal
from compass_worker.engine.observations import Observations
from compass_worker.engine.rules import SUPPORT_MIN


def _own_signature(spec: FaultSpec, comp: str, obs: Observations, ctx: JudgeContext) -> bool:
    """The component's own logs burst with one of the fault's non-key line patterns."""
    for index, rule in enumerate(spec.logs):
        if rule.key:
            continue  # a key pattern makes the fault supported on its own: nothing is missing
        s = obs.get(comp, rule_signal(spec.id, index))
        a = s.anomaly("up", ctx.baseline_until) if s else None
        if a is not None and a.anomalous and a.strength() >= SUPPORT_MIN:
            return True
    return False


def _key_unmeasured(spec: FaultSpec, comp: str, obs: Observations) -> bool:
    """Every key signal of the fault is measured on the component itself, and none has a series."""
    keys = [r for r in spec.evidence if r.key and not r.signal.startswith("trace_")]
    return bool(keys) and all(r.scope == "self" and obs.get(comp, r.signal) is None for r in keys)


def _logs_unseen(spec: FaultSpec, comp: str, obs: Observations) -> bool:
    """The fault's line patterns are its other test, and no log of the component could be read."""
    return bool(spec.logs) and (obs.log_component_label is None or comp not in obs.log_values)


def unmeasured_specific(
    scored: list[Scored], obs: Observations, faults: FaultCatalog, ctx: JudgeContext
) -> list[Scored]:
    live = {
        s.hypothesis.id: s
        for s in scored
        if s.hypothesis.status in (HypothesisStatus.SUPPORTED, HypothesisStatus.TESTING)
        and s.hypothesis.score > 0
    }
    out = []
    for s in scored:
        h = s.hypothesis
        if (
            h.status == HypothesisStatus.SUPPORTED
            and faults.get(h.fault).generic
            and s.undecided_with is None
        ):
            for other in live.values():
                o = other.hypothesis
                spec = faults.get(o.fault)
                if (
                    o.component == h.component
                    and o.status == HypothesisStatus.TESTING
                    and not spec.generic
                    and _key_unmeasured(spec, o.component, obs)
                    and (_own_signature(spec, o.component, obs, ctx) or _logs_unseen(spec, o.component, obs))
                ):
                    s = replace(s, undecided_with=o.id)
                    break
        out.append(s)
    return out
