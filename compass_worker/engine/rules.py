"""A fault's evidence rules against the observations: metric, trace and log rules, and corroboration.

Each rule adds `weight × strength` to a running `Tally`; a metric rule whose signal exists and stayed
normal may refute (FAULTS.md's "what refutes it"), and a key rule sets the cause's onset and support.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from compass_worker.domain.models import Evidence, Stance
from compass_worker.engine.context import JudgeContext
from compass_worker.engine.faultcatalog import EvidenceRule, FaultSpec, LogRule
from compass_worker.engine.fmt import fmt_value, hhmm
from compass_worker.engine.health import health, hurt
from compass_worker.engine.logs import rule_signal
from compass_worker.engine.observations import Observations, SignalSeries
from compass_worker.engine.onset import ONSET_Z, Anomaly

LATE_S = 150.0  # a cause may be detected this much after the symptom (scrape + rate-window jitter)
SUPPORT_MIN = 0.5  # a contribution above this counts as support
# On the symptom's own component, the signal the engineer reported (failing requests: its error ratio)
# is the symptom echoed, not evidence of one cause there over another on its path: it counts half.
ECHO = 0.5
ECHOES: dict[str, frozenset[str]] = {"errors": frozenset({"error_ratio"}), "latency": frozenset({"latency"})}


@dataclass
class Tally:
    """What the rules found for one hypothesis so far."""

    component: str
    evidence: list[Evidence] = field(default_factory=list)
    score: float = 0.0
    tested: bool = False
    key_support: float = 0.0
    key_onset: float | None = None
    # When the key signal reached its rule's level (a CPU at its limit), if later than its onset: a
    # cause that builds up hurts from there, so its effect is looked for from there.
    key_level_at: float | None = None
    refute_reason: str | None = None
    decisive_reason: str | None = None
    facts: dict[str, str] = field(default_factory=dict)
    supported_by: set[str] = field(default_factory=set)  # signals that clearly supported the fault

    def refute(self, query: str, observation: str, penalty: float = 0.0, *, drop_key: bool = False) -> None:
        """An engine check that speaks against the hypothesis: its score loses `penalty`, its key support
        too when the check says the key evidence does not explain the symptom, and the reason is kept."""
        self.score -= penalty
        if drop_key:
            self.key_support = 0.0
        self.evidence.append(
            Evidence(
                source="engine", query=query, stance=Stance.REFUTES, observation=observation, weight=-penalty
            )
        )


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
    """When the series first reached the rule's absolute level after `after` and held it (the next
    sample too, unless it is the last): a lone blip to the level is no onset (None if never)."""
    if rule.level is None:
        return None
    level = rule.level
    pts = [
        (t, (v >= level) if rule.direction == "up" else (v <= level))
        for t, v in zip(s.timestamps, s.values, strict=False)
        if (after is None or t >= after) and math.isfinite(v)
    ]
    for i, (t, reached) in enumerate(pts):
        if reached and (i + 1 == len(pts) or pts[i + 1][1]):
            return t
    return None


def _normal_side(rule: EvidenceRule, baseline: float) -> bool:
    """The baseline was short of the rule's level: reaching it is news (a CPU always at its limit, a
    disk always full is how that system runs, judged by its departure like any signal)."""
    if rule.level is None:
        return False
    return baseline < rule.level if rule.direction == "up" else baseline > rule.level


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


ERROR_SIGNALS = frozenset({"error_ratio", "log_errors"})
SHARE_FINDINGS = frozenset({"error_origin", "edge_self_time"})  # values already in 0..1 (not ratios)


def _own_time_grew_on_an_edge(obs: Observations, comp: str) -> bool:
    """One caller saw the component's own time (or its link's) grow clearly: on another caller's edge
    the extra wait lying beyond it (in its callees' spans, or on its links to them) does not say the
    time is elsewhere. A delayed network at the component delays its calls out too, and that transit
    is credited to its callees; a pure pass-through shows no own-time edge at all."""
    return any(
        f.component == comp and f.kind == "edge_self_time" and f.value >= SUPPORT_MIN for f in obs.traces
    )


def trace_rule(t: Tally, rule: EvidenceRule, obs: Observations, ctx: JudgeContext) -> None:
    """Trace findings (error origin, self-time growth) on the component itself. Traces carry no onset
    of their own: a key trace finding starts when the component's own errors did (else the symptom)."""
    kind = rule.signal.removeprefix("trace_")
    found = [f for f in obs.traces if f.component == t.component and f.kind == kind]
    if not found or (kind == "edge_passthrough" and _own_time_grew_on_an_edge(obs, t.component)):
        return
    t.tested = True
    f = max(found, key=lambda x: x.value)
    st = f.value if kind in SHARE_FINDINGS else min(1.0, math.log2(max(f.value, 1.0)) / 3.0)
    contrib = rule.weight * st
    t.score += contrib
    if contrib > 0 and st >= SUPPORT_MIN:
        t.supported_by.add(rule.signal)
    if rule.key and st > t.key_support:
        t.key_support = st
        if kind == "edge_self_time":
            # Unknown: a few slow traces measure where the time goes, not when it began (and a delayed
            # link need not move the callee's own latency series at all). No "later than" verdicts.
            t.key_onset = None
        else:
            t.key_onset = health(obs, t.component, ctx.baseline_until, ERROR_SIGNALS)[1] or ctx.symptom_onset
    if abs(contrib) >= 0.2:
        t.evidence.append(
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


def _strongest(
    candidates: list[SignalSeries], rule: EvidenceRule, ctx: JudgeContext
) -> tuple[float, SignalSeries, Anomaly] | None:
    best: tuple[float, SignalSeries, Anomaly] | None = None
    for s in candidates:
        a = s.anomaly(rule.direction, ctx.baseline_until)
        if a is None:
            continue
        st = a.strength() * _level_factor(rule, a)
        if rule.absolute and _normal_side(rule, a.baseline):
            crossed = _level_crossing(s, rule, ctx.baseline_until)
            if crossed is not None:
                st = 1.0
                a = replace(a, onset=a.onset if a.onset is not None and a.onset <= crossed else crossed)
        if best is None or st > best[0]:
            best = (st, s, a)
    return best


RECOVERED_POINTS = 2  # samples from the symptom's onset on needed to say a departure was already over


def over_before_symptom(s: SignalSeries, a: Anomaly, rule: EvidenceRule, ctx: JudgeContext) -> bool:
    """A departure that began before the symptom and was back to normal when the symptom began (and
    stayed so) did not cause it: an earlier, separate episode seen in the same window. For an
    absolute level (a CPU at its limit, a certificate past expiry) back to normal means no longer at
    the level, and no longer departed either."""
    if ctx.symptom_onset is None or a.onset is None or a.onset >= ctx.symptom_onset:
        return False
    if not (a.anomalous or rule.absolute) or a.scale <= 0:
        return False
    since = [
        v
        for t, v in zip(s.timestamps, s.values, strict=False)
        if t >= ctx.symptom_onset - 60.0 and math.isfinite(v)
    ]
    if len(since) < RECOVERED_POINTS:
        return False
    up = rule.direction != "down"
    if rule.absolute and rule.level is not None:
        level = rule.level
        if any((v >= level) if up else (v <= level) for v in since):
            return False
        # Back under the level where it cannot refute either (a CPU back at 3 % of its limit): over,
        # however many of a near-idle baseline's sigmas 3 % still is.
        low = rule.refute_level
        if low is not None and all((v < low) if up else (v > low) for v in since):
            return True
    sign = 1.0 if up else -1.0
    return max(sign * (v - a.baseline) / a.scale for v in since) < ONSET_Z


def metric_rule(
    t: Tally, rule: EvidenceRule, obs: Observations, ctx: JudgeContext, units: dict[str, str]
) -> None:
    """The strongest departure of the rule's signal; a normal one may refute the hypothesis."""
    comp = t.component
    best = _strongest(_series_for(obs, comp, rule), rule, ctx)
    if best is None:
        return
    t.tested = True
    st, s, a = best
    late = ctx.symptom_onset is not None and a.onset is not None and a.onset > ctx.symptom_onset + LATE_S
    key = rule.key or (bool(rule.key_after) and followed_by(obs, comp, rule.key_after, a.onset, ctx))
    over = key and not late and over_before_symptom(s, a, rule, ctx)
    eff = st * (0.25 if late or over else 1.0)
    contrib = rule.weight * eff
    if (
        contrib > 0
        and comp == ctx.symptom_component
        and rule.signal in ECHOES.get(ctx.symptom_signal or "", ())
    ):
        contrib *= ECHO
    t.score += contrib
    unit = units.get(rule.signal, s.unit)
    where = f"{s.component}→{s.peer}" if s.peer else s.component
    t.facts[f"{rule.signal}_peak"] = fmt_value(a.peak, unit)
    if rule.signal == "requests":
        t.facts["requests_peak_ratio"] = f"{a.ratio:.1f}×"
    if key and eff > t.key_support:
        t.key_support = eff
        t.key_onset = a.onset
        t.key_level_at = _reached(s, rule, a.onset)
    if contrib > 0 and eff >= SUPPORT_MIN:
        t.supported_by.add(rule.signal)
    refuted = _refuted_by(rule, a)
    reason = (
        (rule.reason or f"{rule.signal} stayed normal").format(
            peak=a.peak, peak_days=a.peak / 86400.0, component=comp
        )
        if refuted
        else ""
    )
    if refuted and rule.decisive and t.decisive_reason is None:
        t.decisive_reason = reason
    if refuted and t.refute_reason is None:
        t.refute_reason = reason
        t.evidence.append(
            Evidence(
                source="prometheus",
                query=s.query,
                link=s.link,
                value=a.peak,
                observation=f"{where}: {units.get(rule.signal, rule.signal)} peak {fmt_value(a.peak, unit)}"
                f" vs baseline {fmt_value(a.baseline, unit)} — {reason}",
                stance=Stance.REFUTES,
                weight=0.0,
            )
        )
    elif abs(contrib) >= 0.2:
        onset_txt = f", from {hhmm(a.onset)}" if a.onset else ""
        after = ", after the symptom" if late else ", over before the symptom began" if over else ""
        t.evidence.append(
            Evidence(
                source="prometheus",
                query=s.query,
                link=s.link,
                value=a.peak,
                observation=f"{where}: {rule.signal} {fmt_value(a.baseline, unit)} → "
                f"{fmt_value(a.peak, unit)} (robust z {a.z_peak:.1f}{onset_txt}{after})",
                stance=Stance.SUPPORTS if contrib > 0 else Stance.REFUTES,
                weight=round(contrib, 3),
            )
        )


def _reached(s: SignalSeries, rule: EvidenceRule, onset: float | None) -> float | None:
    """The first sample at or after `onset` where an up-rule's signal reached its level."""
    if rule.level is None or rule.direction != "up" or onset is None:
        return None
    return next(
        (ts for ts, v in zip(s.timestamps, s.values, strict=True) if ts >= onset and v >= rule.level), None
    )


FOLLOW_GRACE_S = 60.0  # scrape and rate-window slack: "after" allows the follower to look a minute early


def followed_by(
    obs: Observations, comp: str, after: tuple[str, ...], onset: float | None, ctx: JudgeContext
) -> bool:
    """One of `after` ("signal:up|down") departed on `comp` at or after `onset`."""
    for item in after:
        sig, _, direction = item.partition(":")
        s = obs.get(comp, sig)
        a = s.anomaly("down" if direction == "down" else "up", ctx.baseline_until) if s else None
        if a is None or not a.anomalous:
            continue
        if onset is None or a.onset is None or a.onset >= onset - FOLLOW_GRACE_S:
            return True
    return False


RESIDENT_BONUS = 0.5  # per further resident of one host logging the host's fault (up to MAX_EXTRA)
MAX_EXTRA_RESIDENTS = 4


def residents_logging(
    obs: Observations, host: str, sig: str, baseline_until: float | None
) -> list[SignalSeries]:
    """The residents of `host` whose lines of a host fault (`sig`) burst — only when at least two do and
    every component logging them runs there: the node they share explains them all, and one pod's
    lines alone could be its own volume."""
    bursts = [
        s
        for (c, sg, p), s in obs.series.items()
        if sg == sig and p is None and (a := s.anomaly("up", baseline_until)) is not None and a.anomalous
    ]
    here = obs.hosts.get(host, set())
    if len(bursts) < 2 or any(s.component not in here for s in bursts):
        return []
    return bursts


def _log_series(obs: Observations, comp: str, fault: str, index: int, rule: LogRule) -> list[SignalSeries]:
    sig = rule_signal(fault, index)
    if rule.anywhere:
        return [s for (_, sg, _), s in obs.series.items() if sg == sig]
    own = obs.get(comp, sig)
    found = [own] if own else []
    if rule.mentions and comp in obs.mentions.get(sig, {}):
        found += [s for (c, sg, _), s in obs.series.items() if sg == sig and c != comp]
    return found


def log_rule(
    t: Tally, spec: FaultSpec, index: int, lrule: LogRule, obs: Observations, ctx: JudgeContext
) -> None:
    """A burst of matching log lines (the component's own, or others' lines naming it)."""
    comp = t.component
    sig = rule_signal(spec.id, index)
    on_host = lrule.residents and comp in obs.hosts and obs.kind_of(comp) == "host"
    if sig in obs.log_rules_checked and (
        comp in obs.log_values or lrule.anywhere or lrule.mentions or on_host
    ):
        t.tested = True
    found = _log_series(obs, comp, spec.id, index, lrule)
    extra = 0.0
    if on_host and not found:
        found = residents_logging(obs, comp, sig, ctx.baseline_until)
        # Each further resident logging it is one more witness of the node they share.
        extra = RESIDENT_BONUS * min(max(len(found) - 1, 0), MAX_EXTRA_RESIDENTS)
    best_log: tuple[float, SignalSeries, Anomaly] | None = None
    for s in found:
        a = s.anomaly("up", ctx.baseline_until)
        if a is not None and a.anomalous and (best_log is None or a.strength() > best_log[0]):
            best_log = (a.strength(), s, a)
    if best_log is None:
        return
    st, s, a = best_log
    contrib = lrule.weight * st + extra
    t.score += contrib
    if lrule.key and st > t.key_support:
        t.key_support, t.key_onset = st, a.onset
    example = obs.examples.get(sig, "")
    named = f" naming {comp}" if s.component != comp else ""
    if extra:
        named = f" (and {len(found) - 1} more residents of {comp})"
    t.evidence.append(
        Evidence(
            source="loki",
            query=s.query,
            link=s.link,
            value=a.peak,
            observation=f"{s.component} logs{named}: {a.peak:.0f} {s.unit} matching "
            f"/{lrule.pattern[:60]}/ from {hhmm(a.onset)} (baseline {a.baseline:.0f})"
            + (f" — e.g. “{example[:160]}”" if example else ""),
            stance=Stance.SUPPORTS if contrib > 0 else Stance.REFUTES,
            weight=round(contrib, 3),
        )
    )


def own_time_grew(obs: Observations, comp: str) -> bool:
    """The traces say the component's own time grew: its callers wait on it longer (the largest such
    growth, or most of it) or its spans' own time per slow trace rose."""
    for f in obs.traces:
        if f.component != comp:
            continue
        if (f.kind == "edge_self_time" and f.value >= SUPPORT_MIN) or f.kind == "self_time":
            return True
    return False


def passed_through(obs: Observations, comp: str) -> bool:
    """The traces say the component's trouble is not its own: its callers' extra wait lies beyond it
    (an `edge_passthrough`, no own-time growth anywhere) and the failing traces' errors originate in
    another component, never in it."""
    mine = [f for f in obs.traces if f.component == comp]
    if not any(f.kind == "edge_passthrough" for f in mine) or own_time_grew(obs, comp):
        return False
    if any(f.kind == "error_origin" for f in mine):
        return False
    return any(f.kind == "error_origin" and f.value >= SUPPORT_MIN for f in obs.traces if f.component != comp)


def corroborate(t: Tally, spec: FaultSpec, obs: Observations, ctx: JudgeContext) -> None:
    """A cause must hurt: a change that left its component healthy was harmless."""
    if not (spec.corroborate and t.key_support >= SUPPORT_MIN and t.refute_reason is None):
        return
    harmed = hurt(
        obs,
        t.component,
        spec.corroborate,
        t.key_onset,
        ctx.baseline_until,
        spec.corroborate_within_s,
        t.key_level_at,
    )
    if harmed is False and own_time_grew(obs, t.component):
        harmed = True  # its latency series may be too coarse or noisy to show it; its spans do
    reason = spec.corroborate_reason.format(component=t.component)
    if harmed and passed_through(obs, t.component):
        harmed = False
        reason = (
            f"{t.component} changed, but the traces put its extra time and its errors beyond it: "
            "what hurt it lies in what it calls"
        )
    if harmed is False:
        t.refute_reason = reason
        t.key_support = 0.0
        t.evidence.append(
            Evidence(
                source="engine", query="corroboration", stance=Stance.REFUTES, observation=t.refute_reason
            )
        )


def own_evidence_on_symptom(t: Tally, spec: FaultSpec, ctx: JudgeContext) -> None:
    """On the symptom's own component, the symptom is not evidence of its cause: without one of the
    fault's `on_symptom_needs` signals the fault keeps its score but loses its key support."""
    if not spec.on_symptom_needs or t.component != ctx.symptom_component or t.key_support < SUPPORT_MIN:
        return
    if t.supported_by & set(spec.on_symptom_needs):
        return
    t.key_support = 0.0
    needs = ", ".join(spec.on_symptom_needs)
    t.evidence.append(
        Evidence(
            source="engine",
            query="symptom component",
            stance=Stance.REFUTES,
            observation=f"{t.component} is where the symptom is: its own slowness is the symptom, "
            f"not a cause ({needs} would show it)",
        )
    )
