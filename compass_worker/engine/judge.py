"""The judge: scores one hypothesis against the observations, refutes it or not, and says why.

Score (log-odds-like units) = Σ evidence rules of the fault (signal deviation × weight, scaled by how
far an absolute level was reached, discounted when it started after the symptom; `rules.py`)
+ log and trace evidence + localisation (on the symptom's dependency path or not, explained away by
a callee that failed first; `localise.py`) + the prior. A hypothesis is refuted only by an observation
that exists and contradicts it (FAULTS.md's "what refutes it"), never by missing telemetry: missing
telemetry is a gap. Confidence is computed across hypotheses by `confidence.confidences`, against a
fixed "none of these" mass so that weak evidence can never look certain.
"""

from __future__ import annotations

import math

from compass_worker.domain.models import Hypothesis, HypothesisStatus
from compass_worker.engine.confidence import NULL_SCORE, confidences
from compass_worker.engine.context import JudgeContext, Scored
from compass_worker.engine.faultcatalog import FaultSpec
from compass_worker.engine.fmt import hhmm
from compass_worker.engine.health import edge_health, health
from compass_worker.engine.localise import (
    accounts_for_the_slowdown,
    explains_the_symptom,
    fleet_wide,
    on_path,
    time_went_elsewhere,
    victim_of_callee,
    victim_of_host,
)
from compass_worker.engine.observations import Observations
from compass_worker.engine.rules import (
    SUPPORT_MIN,
    Tally,
    corroborate,
    log_rule,
    metric_rule,
    own_evidence_on_symptom,
    trace_rule,
)

# Importers elsewhere read these from here: the judge's vocabulary in one place.
__all__ = [
    "NULL_SCORE",
    "SUPPORT_MIN",
    "JudgeContext",
    "Scored",
    "confidences",
    "edge_health",
    "health",
    "hhmm",
    "judge",
]


class _Facts(dict[str, str]):
    """Summary placeholders with no measured value read as "…" instead of failing."""

    def __missing__(self, key: str) -> str:
        return "…"


def judge(
    h: Hypothesis, spec: FaultSpec, obs: Observations, ctx: JudgeContext, units: dict[str, str]
) -> Scored:
    t = Tally(component=h.component, facts={"component": h.component})
    for rule in spec.evidence:
        if rule.signal.startswith("trace_"):
            trace_rule(t, rule, obs, ctx)
        else:
            metric_rule(t, rule, obs, ctx, units)
    for index, lrule in enumerate(spec.logs):
        log_rule(t, spec, index, lrule, obs, ctx)
    corroborate(t, spec, obs, ctx)
    own_evidence_on_symptom(t, spec, ctx)

    if not t.tested:
        untestable = {
            "status": HypothesisStatus.UNTESTABLE,
            "score": 0.0,
            "rationale": spec.gap.format(component=h.component),
        }
        return Scored(h.model_copy(update=untestable), None, False)

    on_path(t, h, obs, ctx)
    victim_of_callee(t, spec, obs, ctx)
    victim_of_host(t, obs, ctx)
    fleet_wide(t, h, obs, ctx)
    time_went_elsewhere(t, obs, ctx)
    explains_the_symptom(t, spec, obs, ctx)
    accounts_for_the_slowdown(t, spec, obs, ctx)
    t.score += math.log(max(h.prior, 1e-3) / 0.06) * 0.5 + ctx.prior_bonus.get(h.id, 0.0)
    return _conclude(t, h, spec, obs)


def _conclude(t: Tally, h: Hypothesis, spec: FaultSpec, obs: Observations) -> Scored:
    """Refuted (contrary data and too little key support), supported, or still open."""
    if t.decisive_reason is not None:
        t.refute_reason, t.key_support = t.decisive_reason, 0.0
    if t.refute_reason is not None and t.key_support < SUPPORT_MIN:
        refuted = {
            "status": HypothesisStatus.REFUTED,
            "score": t.score,
            "evidence": tuple(t.evidence),
            "refuted_because": t.refute_reason,
        }
        return Scored(h.model_copy(update=refuted), t.key_onset, True, t.key_support)
    supported = t.key_support >= SUPPORT_MIN and t.score > 0
    status = HypothesisStatus.SUPPORTED if supported else HypothesisStatus.TESTING
    vc = obs.versions.get(h.component)
    t.facts["version_change"] = f"{', '.join(vc.old)} → {vc.new} at {hhmm(vc.at)}" if vc else "new version"
    rationale = spec.summary.format_map(_Facts(t.facts))
    update = {"status": status, "score": t.score, "evidence": tuple(t.evidence), "rationale": rationale}
    return Scored(h.model_copy(update=update), t.key_onset, True, t.key_support)
