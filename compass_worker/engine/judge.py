"""The judge: scores one hypothesis against the observations, refutes it or not, and says why.

Score (log-odds-like units) = Σ evidence rules of the fault (signal deviation × weight, scaled by how
far an absolute level was reached, discounted when it started after the symptom)
+ log and trace evidence + localisation (on the symptom's dependency path or not, explained away by
a callee that failed first) + the prior. A hypothesis is refuted only by an observation that exists
and contradicts it (FAULTS.md's "what refutes it"), never by missing telemetry: missing telemetry is
a gap. Confidence is computed across hypotheses by `confidences`, against a fixed "none of these"
mass so that weak evidence can never look certain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from compass_worker.domain.models import Evidence, Hypothesis, HypothesisStatus, Stance
from compass_worker.engine.faultcatalog import EvidenceRule, FaultSpec, LogRule
from compass_worker.engine.logs import rule_signal
from compass_worker.engine.observations import Observations, SignalSeries
from compass_worker.engine.onset import Anomaly

LATE_S = 150.0  # a cause may be detected this much after the symptom (scrape + rate-window jitter)
NULL_SCORE = 2.5  # the "none of these / unknown" alternative in the confidence normalisation
SUPPORT_MIN = 0.5  # a contribution above this counts as support
PATH_BONUS = 0.75
OFF_PATH_PENALTY = 1.5
UPSTREAM_PENALTY = 3.0  # a caller of the symptom's component: its anomalies are effects, not causes
LATE_PENALTY = 2.0
VICTIM_PENALTY = 3.0


@dataclass(frozen=True)
class JudgeContext:
    symptom_component: str | None
    symptom_onset: float | None
    baseline_until: float | None
    path: frozenset[str]  # symptom component + everything it depends on (empty: graph unknown)
    prior_bonus: dict[str, float] = field(default_factory=dict)  # hypothesis id -> memory adjustment


@dataclass
class Scored:
    hypothesis: Hypothesis
    key_onset: float | None
    tested: bool
    key_support: float = 0.0


def _fmt(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return "n/a"
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"
    if unit == "bytes":
        return f"{value / 2**20:.0f} MiB"
    return f"{value:.3g}"


def _level_factor(rule: EvidenceRule, a: Anomaly) -> float:
    if rule.level is not None:
        if rule.direction == "up":
            if a.peak >= rule.level:
                return 1.0
            return (
                max(0.0, (a.peak - a.baseline) / (rule.level - a.baseline)) ** 2
                if rule.level > a.baseline
                else 0.0
            )
        if a.peak <= rule.level:
            return 1.0
        return (
            max(0.0, (a.baseline - a.peak) / (a.baseline - rule.level)) ** 2
            if a.baseline > rule.level
            else 0.0
        )
    if rule.level_ratio is not None and rule.direction == "up":
        return min(1.0, max(0.0, (a.ratio - 1.0) / (rule.level_ratio - 1.0)))
    return 1.0


def _level_crossing(s: SignalSeries, rule: EvidenceRule, after: float | None) -> float | None:
    """When the series first reached the rule's absolute level after `after` (None if it never did)."""
    if rule.level is None:
        return None
    for t, v in zip(s.timestamps, s.values, strict=False):
        if (after is not None and t < after) or not math.isfinite(v):
            continue
        if (v >= rule.level) if rule.direction == "up" else (v <= rule.level):
            return t
    return None


def _refuted_by(rule: EvidenceRule, a: Anomaly) -> bool:
    if rule.refute == "flat":
        return a.onset is None and a.z_peak < 2.5
    if rule.refute == "below" and rule.refute_level is not None:
        return a.peak < rule.refute_level if rule.direction == "up" else a.peak > rule.refute_level
    return False


def _series_for(obs: Observations, comp: str, rule: EvidenceRule) -> list[SignalSeries]:
    if rule.scope == "self":
        s = obs.get(comp, rule.signal)
        return [s] if s else []
    if rule.scope == "inbound":
        return obs.inbound(comp, rule.signal)
    return obs.outbound(comp, rule.signal)


def _hurt(
    obs: Observations,
    comp: str,
    signals: tuple[str, ...],
    key_onset: float | None,
    baseline_until: float | None,
    within_s: float | None = None,
) -> bool | None:
    """Did the component (or, for a host, what runs on it) go bad after the cause? None: cannot tell."""
    targets = [comp, *sorted(obs.hosts.get(comp, set()))] if obs.kind_of(comp) == "host" else [comp]
    seen = False
    for target in targets:
        for sig in signals:
            for s in [obs.get(target, sig), *obs.outbound(target, sig)]:
                if s is None:
                    continue
                seen = True
                a = s.anomaly(None, baseline_until)
                if a is None or not a.anomalous or a.strength() < 0.3:
                    continue
                if key_onset is None or a.onset is None:
                    return True
                late_ok = within_s is None or a.onset <= key_onset + within_s
                if a.onset >= key_onset - 120.0 and late_ok:
                    return True
    return False if seen else None


# Host signals that a host's residents cannot cause by their own load (unlike host CPU).
LOWER_LAYER = frozenset({"tcp_retransmit_ratio", "disk_free_ratio"})


def edge_health(
    obs: Observations, caller: str, callee: str, baseline_until: float | None
) -> tuple[float, float | None]:
    """How clearly the caller's calls to the callee went bad (latency, errors), and when."""
    best, onset = 0.0, None
    for sig in ("client_latency", "client_error_ratio"):
        s = obs.series.get((caller, sig, callee))
        a = s.anomaly(None, baseline_until) if s else None
        if a is not None and a.anomalous and a.strength() > best:
            best, onset = a.strength(), a.onset
    return best, onset


def health(
    obs: Observations, comp: str, baseline_until: float | None, only: frozenset[str] | None = None
) -> tuple[float, float | None]:
    """How clearly a component's own signals went bad (0..1) and when (earliest strong onset)."""
    best, onset = 0.0, None
    for (c, sig, peer), s in obs.series.items():
        if c != comp or peer is not None or sig in ("requests", "version_change"):
            continue
        if only is not None and sig not in only:
            continue
        a = s.anomaly(None, baseline_until)
        if a is None or not a.anomalous:
            continue
        st = a.strength()
        if st > best:
            best = st
        if st >= 0.3 and a.onset is not None:
            onset = a.onset if onset is None else min(onset, a.onset)
    return best, onset


def _log_series(obs: Observations, comp: str, fault: str, index: int, rule: LogRule) -> list[SignalSeries]:
    sig = rule_signal(fault, index)
    if rule.anywhere:
        return [s for (_, sg, _), s in obs.series.items() if sg == sig]
    own = obs.get(comp, sig)
    found = [own] if own else []
    if rule.mentions and comp in obs.mentions.get(sig, {}):
        found += [s for (c, sg, _), s in obs.series.items() if sg == sig and c != comp]
    return found


def judge(
    h: Hypothesis, spec: FaultSpec, obs: Observations, ctx: JudgeContext, units: dict[str, str]
) -> Scored:
    comp = h.component
    evidence: list[Evidence] = []
    score = 0.0
    tested = False
    key_support = 0.0
    key_onset: float | None = None
    refute_reason: str | None = None
    decisive_reason: str | None = None
    facts: dict[str, str] = {"component": comp}

    for rule in spec.evidence:
        if rule.signal.startswith("trace_"):
            kind = rule.signal.removeprefix("trace_")
            found = [t for t in obs.traces if t.component == comp and t.kind == kind]
            if not found:
                continue
            tested = True
            f = max(found, key=lambda t: t.value)
            st = f.value if kind == "error_origin" else min(1.0, math.log2(max(f.value, 1.0)) / 3.0)
            contrib = rule.weight * st
            score += contrib
            if abs(contrib) >= 0.2:
                evidence.append(
                    Evidence(
                        source="tempo",
                        query=f.query,
                        observation=f.detail,
                        link=f.link,
                        value=f.value,
                        stance=Stance.SUPPORTS if contrib > 0 else Stance.REFUTES,
                        weight=round(contrib, 3),
                    )
                )
            continue
        candidates = _series_for(obs, comp, rule)
        best: tuple[float, SignalSeries, Anomaly] | None = None
        for s in candidates:
            a = s.anomaly(rule.direction, ctx.baseline_until)
            if a is None:
                continue
            st = a.strength() * _level_factor(rule, a)
            if rule.absolute:
                crossed = _level_crossing(s, rule, ctx.baseline_until)
                if crossed is not None:
                    st = 1.0
                    a = replace(a, onset=a.onset if a.onset is not None and a.onset <= crossed else crossed)
            if best is None or st > best[0]:
                best = (st, s, a)
        if best is None:
            continue
        tested = True
        st, s, a = best
        late = ctx.symptom_onset is not None and a.onset is not None and a.onset > ctx.symptom_onset + LATE_S
        eff = st * (0.25 if late else 1.0)
        contrib = rule.weight * eff
        score += contrib
        unit = units.get(rule.signal, s.unit)
        where = f"{s.component}→{s.peer}" if s.peer else s.component
        facts[f"{rule.signal}_peak"] = _fmt(a.peak, unit)
        if rule.signal == "requests":
            facts["requests_peak_ratio"] = f"{a.ratio:.1f}×"
        if rule.key and eff > key_support:
            key_support = eff
            key_onset = a.onset
        if _refuted_by(rule, a) and rule.decisive and decisive_reason is None:
            decisive_reason = (rule.reason or f"{rule.signal} stayed normal").format(
                peak=a.peak, peak_days=a.peak / 86400.0, component=comp
            )
        if _refuted_by(rule, a) and refute_reason is None:
            refute_reason = (rule.reason or f"{rule.signal} stayed normal").format(
                peak=a.peak, peak_days=a.peak / 86400.0, component=comp
            )
            evidence.append(
                Evidence(
                    source="prometheus",
                    query=s.query,
                    link=s.link,
                    value=a.peak,
                    observation=f"{where}: {units.get(rule.signal, rule.signal)} peak {_fmt(a.peak, unit)}"
                    f" vs baseline {_fmt(a.baseline, unit)} — {refute_reason}",
                    stance=Stance.REFUTES,
                    weight=0.0,
                )
            )
        elif abs(contrib) >= 0.2:
            onset_txt = f", from {hhmm(a.onset)}" if a.onset else ""
            evidence.append(
                Evidence(
                    source="prometheus",
                    query=s.query,
                    link=s.link,
                    value=a.peak,
                    observation=f"{where}: {rule.signal} {_fmt(a.baseline, unit)} → {_fmt(a.peak, unit)}"
                    f" (robust z {a.z_peak:.1f}{onset_txt}{', after the symptom' if late else ''})",
                    stance=Stance.SUPPORTS if contrib > 0 else Stance.REFUTES,
                    weight=round(contrib, 3),
                )
            )

    for index, lrule in enumerate(spec.logs):
        sig = rule_signal(spec.id, index)
        if sig in obs.log_rules_checked and (comp in obs.log_values or lrule.anywhere or lrule.mentions):
            tested = True
        best_log: tuple[float, SignalSeries, Anomaly] | None = None
        for s in _log_series(obs, comp, spec.id, index, lrule):
            a = s.anomaly("up", ctx.baseline_until)
            if a is not None and a.anomalous and (best_log is None or a.strength() > best_log[0]):
                best_log = (a.strength(), s, a)
        if best_log is None:
            continue
        st, s, a = best_log
        contrib = lrule.weight * st
        score += contrib
        if lrule.key and st > key_support:
            key_support, key_onset = st, a.onset
        example = obs.examples.get(sig, "")
        named = f" naming {comp}" if s.component != comp else ""
        evidence.append(
            Evidence(
                source="loki",
                query=s.query,
                link=s.link,
                value=a.peak,
                observation=f"{s.component} logs{named}: {a.peak:.0f} {s.unit} matching "
                f"/{lrule.pattern[:60]}/ from {hhmm(a.onset)} (baseline {a.baseline:.0f})"
                + (f" — e.g. “{example[:160]}”" if example else ""),
                stance=Stance.SUPPORTS,
                weight=round(contrib, 3),
            )
        )

    if spec.corroborate and key_support >= SUPPORT_MIN and refute_reason is None:
        hurt = _hurt(obs, comp, spec.corroborate, key_onset, ctx.baseline_until, spec.corroborate_within_s)
        if hurt is False:
            refute_reason = spec.corroborate_reason.format(component=comp)
            key_support = 0.0
            evidence.append(
                Evidence(
                    source="engine", query="corroboration", stance=Stance.REFUTES, observation=refute_reason
                )
            )

    if not tested:
        return Scored(
            h.model_copy(
                update={
                    "status": HypothesisStatus.UNTESTABLE,
                    "score": 0.0,
                    "rationale": spec.gap.format(component=comp),
                }
            ),
            None,
            False,
        )

    # Localisation: causes sit on the symptom's dependency path and precede it.
    if ctx.path:
        hosted = obs.hosts.get(comp, set())
        on_path = comp in ctx.path or comp == ctx.symptom_component or bool(hosted & ctx.path)
        # DNS serves everyone: it is never "off" a dependency path.
        if on_path:
            score += PATH_BONUS
        elif h.fault != "dns_failure":
            upstream = ctx.symptom_component is not None and ctx.symptom_component in obs.downstream(comp)
            score -= UPSTREAM_PENALTY if upstream else OFF_PATH_PENALTY
    if ctx.symptom_onset is not None and key_onset is not None and key_onset > ctx.symptom_onset + LATE_S:
        score -= LATE_PENALTY
    if spec.explained_by_callees and key_onset is not None:
        # Compare when the trouble showed (the component's own health), not when the cause began:
        # a surge starts with requests, but who broke first is what tells the victim.
        own_onset = health(obs, comp, ctx.baseline_until)[1] or key_onset
        for callee in obs.callees(comp):
            hs, hon = health(obs, callee, ctx.baseline_until)
            # An untraced callee (a third-party API) has no signals of its own: the caller's calls to it
            # going bad first say the same thing.
            es, eon = edge_health(obs, comp, callee, ctx.baseline_until)
            if es > hs and eon is not None:
                hs, hon = es, eon
            if hs >= 0.3 and hon is not None and hon <= own_onset + 30.0:
                score -= VICTIM_PENALTY * hs
                evidence.append(
                    Evidence(
                        source="engine",
                        query="dependency graph",
                        stance=Stance.REFUTES,
                        observation=f"{callee}, which {comp} calls, went bad first "
                        f"({hhmm(hon)}): {comp} looks like a victim",
                        weight=-VICTIM_PENALTY * hs,
                    )
                )
                break
    if key_onset is not None and obs.kind_of(comp) != "host":
        for host, residents in obs.hosts.items():
            if comp not in residents or host == comp:
                continue
            hs, hon = health(obs, host, ctx.baseline_until)
            if not (hs >= 0.5 and hon is not None and hon < key_onset - 15.0):
                # Retransmits or a full disk are a lower layer: even at the same scrape as the
                # component's trouble they are the cause. Host CPU is not: residents' load raises it.
                hs, hon = health(obs, host, ctx.baseline_until, LOWER_LAYER)
                if hon is not None and hon > key_onset + 30.0:
                    hon = None
            if hs >= 0.5 and hon is not None:
                score -= VICTIM_PENALTY * hs
                evidence.append(
                    Evidence(
                        source="engine",
                        query="placement (kube_pod_info)",
                        stance=Stance.REFUTES,
                        observation=f"{comp} runs on {host}, which went bad first ({hhmm(hon)})",
                        weight=-VICTIM_PENALTY * hs,
                    )
                )
                break
    score += math.log(max(h.prior, 1e-3) / 0.06) * 0.5 + ctx.prior_bonus.get(h.id, 0.0)

    if decisive_reason is not None:
        refute_reason, key_support = decisive_reason, 0.0
    if refute_reason is not None and key_support < SUPPORT_MIN:
        return Scored(
            h.model_copy(
                update={
                    "status": HypothesisStatus.REFUTED,
                    "score": score,
                    "evidence": tuple(evidence),
                    "refuted_because": refute_reason,
                }
            ),
            key_onset,
            True,
            key_support,
        )
    status = (
        HypothesisStatus.SUPPORTED if key_support >= SUPPORT_MIN and score > 0 else HypothesisStatus.TESTING
    )
    vc = obs.versions.get(comp)
    facts["version_change"] = f"{', '.join(vc.old)} → {vc.new} at {hhmm(vc.at)}" if vc else "new version"
    rationale = spec.summary.format_map(_Facts(facts))
    return Scored(
        h.model_copy(
            update={"status": status, "score": score, "evidence": tuple(evidence), "rationale": rationale}
        ),
        key_onset,
        True,
        key_support,
    )


class _Facts(dict[str, str]):
    """Summary placeholders with no measured value read as "…" instead of failing."""

    def __missing__(self, key: str) -> str:
        return "…"


def confidences(scores: list[float]) -> list[float]:
    """Softmax over the candidates plus a fixed "none of these" alternative."""
    if not scores:
        return []
    m = max([*scores, NULL_SCORE])
    exps = [math.exp(s - m) for s in scores]
    denom = sum(exps) + math.exp(NULL_SCORE - m)
    return [e / denom for e in exps]


def hhmm(ts: float | None) -> str:
    if ts is None:
        return "?"
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%H:%M")
