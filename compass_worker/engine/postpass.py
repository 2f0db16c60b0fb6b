"""Post-passes over all judged hypotheses: relations between causes that one hypothesis cannot see.

- a catch-all ("it got slow") yields to a specific supported fault on the same component;
- causes precede their effects: a later supported cause on the path loses to an earlier one;
- effects rank just below their cause (a host's lower-layer fault, the catalog's `yields_to` rules);
- of two look-alikes, the one the catalog's separating observation contradicts yields to the other;
- a catch-all seen only in a few slow traces yields to a specific cause the metrics measured.
"""

from __future__ import annotations

from dataclasses import replace

from compass_worker.domain.models import Evidence, HypothesisStatus, Stance
from compass_worker.engine.context import JudgeContext, Scored
from compass_worker.engine.faultcatalog import FaultCatalog, Separator, YieldRule
from compass_worker.engine.health import health
from compass_worker.engine.localise import SLOW_SIGNALS, unplaced
from compass_worker.engine.observations import Observations
from compass_worker.engine.rules import ERROR_SIGNALS, SUPPORT_MIN

GENERIC_PENALTY = 4.0
LOWER_RATE_LAG_S = 60.0  # how late a rate-read lower-layer fault may date itself behind its resident's harm
LATER_GRACE_S = 60.0  # onsets this close are simultaneous at a 30 s step
LATER_PENALTY_PER_MIN = 0.75
LATER_PENALTY_MAX = 3.0
# A change someone made (a rollout, a configuration reload) is never another fault's consequence: it is
# not ranked down for beginning after one.
CHANGES = frozenset({"bad_deploy", "config_change"})
EARLIER_THAN_SYMPTOM_S = 300.0  # a cause that began this long before the symptom did not start it
YIELD_MARGIN = 2.0


def explain_away_generic(scored: list[Scored], faults: FaultCatalog) -> list[Scored]:
    """A catch-all ("it got slow") yields to a specific supported fault on the same component.

    The catch-all collects every sign of slowness (its latency, its callers' waits, its spans' own
    time) while a specific cause has only its own signals, so a penalty alone left "it got slow"
    above "its pool was full" or "its config changed at the onset". When the specific cause has its
    key evidence, the catch-all ranks below it: both explain the same slowness, only one says why."""
    best_specific: dict[str, Scored] = {}
    for s in scored:
        h = s.hypothesis
        if h.status == HypothesisStatus.SUPPORTED and not faults.get(h.fault).generic:
            best = best_specific.get(h.component)
            if best is None or (s.key_support, h.score) > (best.key_support, best.hypothesis.score):
                best_specific[h.component] = s
    out = []
    for s in scored:
        h = s.hypothesis
        cause = best_specific.get(h.component)
        if faults.get(h.fault).generic and cause is not None and cause.key_support > 0:
            penalty = GENERIC_PENALTY * cause.key_support
            h = h.model_copy(update={"score": h.score - penalty})
            s = Scored(h, s.key_onset, s.tested, s.key_support)
            if cause.key_support >= SUPPORT_MIN and h.score > cause.hypothesis.score - YIELD_MARGIN:
                why = f"{cause.hypothesis.fault} on {h.component} says why it got slow"
                ev = Evidence(source="engine", query="specific cause", stance=Stance.REFUTES, observation=why)
                h = h.model_copy(
                    update={"score": cause.hypothesis.score - YIELD_MARGIN, "evidence": (*h.evidence, ev)}
                )
                s = Scored(h, s.key_onset, s.tested, s.key_support)
        out.append(s)
    return out


def _rank_below(s: Scored, cause: Scored, why: str) -> Scored:
    h = s.hypothesis
    if h.score < cause.hypothesis.score:
        return s
    ev = Evidence(
        source="engine", query="dependency graph / placement", stance=Stance.REFUTES, observation=why
    )
    h = h.model_copy(update={"score": cause.hypothesis.score - YIELD_MARGIN, "evidence": (*h.evidence, ev)})
    return Scored(h, s.key_onset, s.tested, s.key_support)


def _load_rose(obs: Observations, components: set[str]) -> bool:
    for c in components:
        s = obs.get(c, "requests")
        a = s.anomaly("up") if s else None
        if a is not None and a.anomalous and a.ratio >= 1.3:
            return True
    return False


# A resident whose CPU went to this share of its limit, within this long of the host's saturation, is
# load that moved the host (a database grinding through slow queries), not a victim of it.
PINNED = 0.9
PINNED_WITHIN_S = 60.0


def _resident_pinned(obs: Observations, components: set[str], at: float) -> bool:
    """A resident's own CPU rose to its limit as the host saturated: the host's CPU is its load. A
    noisy neighbour outside the pods starves the residents; it does not pin one of them."""
    for c in components:
        s = obs.get(c, "cpu_utilization")
        a = s.anomaly("up") if s else None
        if a is None or not a.anomalous or a.onset is None or a.peak < PINNED:
            continue
        if abs(a.onset - at) <= PINNED_WITHIN_S and a.baseline < PINNED:
            return True
    return False


def _host_layer_cause(s: Scored, cause: Scored, obs: Observations) -> bool:
    """The cause is a lower-layer fault of a host that `s` runs on or talks to, and came first."""
    h, c = s.hypothesis, cause.hypothesis
    onset, cause_onset = s.key_onset, cause.key_onset
    if onset is None or cause_onset is None:
        return False
    residents = obs.hosts.get(c.component, set()) if obs.kind_of(c.component) == "host" else set()
    # Lost packets on a host hurt what runs there and whoever talks to it.
    touched = h.component in residents or bool(obs.callees(h.component) & residents)
    if not touched or obs.kind_of(h.component) == "host":
        return False
    # Retransmits and disk use are read as rates over a window: they date a fault up to that window
    # (a minute) after a gauge on a resident (its pool, full since) shows the harm.
    lower = c.fault in ("network_packet_loss", "disk_full") and cause_onset <= onset + LOWER_RATE_LAG_S
    # Host CPU is a lower layer only when its residents' load did not rise (a noisy neighbour);
    # otherwise it is only first when strictly earlier.
    cpu = c.fault == "cpu_saturation" and (
        cause_onset < onset - 15.0 or (cause_onset <= onset + 30.0 and not _load_rose(obs, residents))
    )
    if cpu and _resident_pinned(obs, residents, cause_onset):
        cpu = False
    return lower or cpu


def _related(rule: YieldRule, effect: str, cause: str, obs: Observations) -> bool:
    if rule.relation == "caller":
        return cause in obs.callers(effect)
    if rule.relation == "callee":
        return cause in obs.callees(effect)
    if rule.relation == "caller_downstream":
        return any(
            cause in obs.downstream(x) and x not in obs.downstream(effect) for x in obs.callers(effect)
        )
    return any(effect in obs.callees(x) for x in obs.callers(cause))


def _yield_rules(
    s: Scored,
    cause: Scored,
    obs: Observations,
    faults: FaultCatalog,
    onset: float | None,
    relations: frozenset[str] | None = None,
) -> Scored:
    """The catalog's `yields_to` rules: a slow DB to a failed sibling cache, a backlog to its consumer."""
    h, c = s.hypothesis, cause.hypothesis
    cause_onset = cause.key_onset
    if onset is None or cause_onset is None:
        return s
    for rule in faults.get(h.fault).yields_to:
        if relations is not None and rule.relation not in relations:
            continue
        generic_cause = rule.fault == "*" and faults.get(c.fault).generic and not rule.include_generic
        if rule.fault not in ("*", c.fault) or generic_cause:
            continue
        if rule.kinds and obs.kind_of(c.component) not in rule.kinds:
            continue
        related = _related(rule, h.component, c.component, obs)
        if related and c.component != h.component and cause_onset <= onset + 60.0:
            s = _rank_below(s, cause, f"{c.component}'s {c.fault} explains it ({rule.relation})")
    return s


_CALLEE = frozenset({"callee"})


def yield_to_causes(
    scored: list[Scored], obs: Observations, faults: FaultCatalog, symptom_onset: float | None = None
) -> list[Scored]:
    """Effects rank just below their cause when the cause is supported next to them:
    - anything on a component yields to a lower-layer fault of its host (lost packets, a full disk;
      host CPU only when strictly earlier, since residents' load raises it);
    - catalog `yields_to` rules (a slow database to a failed sibling cache, a backlog to its consumer).
    An effect whose start is unknown (seen only in a few slow traces) still yields to a supported
    fault of a component it calls that began by the symptom: a callee throttling it or failing under it
    explains the time its traces spend (retries, back-off), and its own start cannot say otherwise.
    """
    supported = [
        s
        for s in scored
        if s.hypothesis.status == HypothesisStatus.SUPPORTED
        and s.key_support >= 0.5
        and s.key_onset is not None
    ]
    out: list[Scored] = []
    for s in scored:
        h = s.hypothesis
        if h.status == HypothesisStatus.REFUTED:
            out.append(s)
            continue
        if s.key_onset is None:
            for cause in supported:
                if cause.hypothesis.id != h.id:
                    s = _yield_rules(s, cause, obs, faults, symptom_onset, _CALLEE)
            out.append(s)
            continue
        for cause in supported:
            c = cause.hypothesis
            if c.id == h.id or cause.key_onset is None:
                continue
            if _host_layer_cause(s, cause, obs):
                s = _rank_below(s, cause, f"{h.component} runs on {c.component}, where {c.fault} began first")
                continue
            s = _yield_rules(s, cause, obs, faults, s.key_onset)
        out.append(s)
    return out


def earliest_cause_first(scored: list[Scored], ctx: JudgeContext) -> list[Scored]:
    """Causes precede their effects: among supported causes on the symptom's path, one that began
    well after another is more likely a consequence of it (a DB slowed by a failed cache)."""
    supported = [
        s
        for s in scored
        if s.hypothesis.status == HypothesisStatus.SUPPORTED
        and s.key_onset is not None
        and (not ctx.path or s.hypothesis.component in ctx.path)
    ]
    # A cause that began long before the symptom did not start it (the symptom would have begun with
    # it): a drift minutes earlier elsewhere on the path sets no "first" for the symptom's own cause.
    recent = [
        s.key_onset
        for s in supported
        if s.key_onset is not None
        and (ctx.symptom_onset is None or s.key_onset >= ctx.symptom_onset - EARLIER_THAN_SYMPTOM_S)
    ]
    if len(supported) < 2 or not recent:
        return scored
    first = min(recent)
    out = []
    for s in scored:
        h = s.hypothesis
        if (
            s in supported
            and s.key_onset is not None
            and s.key_onset > first + LATER_GRACE_S
            and h.fault not in CHANGES
        ):
            minutes = (s.key_onset - first) / 60.0
            penalty = min(LATER_PENALTY_MAX, LATER_PENALTY_PER_MIN * minutes)
            h = h.model_copy(update={"score": h.score - penalty})
            s = Scored(h, s.key_onset, s.tested, s.key_support)
        out.append(s)
    return out


AFTER_SYMPTOM_S = 60.0  # began this long after the symptom (two scrapes): it did not start it


def placed_before_unplaced(scored: list[Scored], obs: Observations, ctx: JudgeContext) -> list[Scored]:
    """A cause the graph cannot place (a database no call shows) that began after the symptom did, while
    a supported cause on the symptom's path began before it, is the other anomaly of the window: it
    ranks below the one the path and the clock both point to (a concurrent slow database elsewhere
    is not why a service that broke minutes earlier is slow)."""
    if not ctx.path or ctx.symptom_onset is None:
        return scored
    before = [
        s
        for s in scored
        if s.hypothesis.status == HypothesisStatus.SUPPORTED
        and s.key_onset is not None
        and s.key_onset <= ctx.symptom_onset + LATER_GRACE_S / 2
        and (s.hypothesis.component in ctx.path or s.hypothesis.component == ctx.symptom_component)
    ]
    if not before:
        return scored
    placed = max(before, key=lambda s: s.hypothesis.score)
    out = []
    for s in scored:
        h = s.hypothesis
        late = s.key_onset is not None and s.key_onset > ctx.symptom_onset + AFTER_SYMPTOM_S
        if (
            late
            and h.status == HypothesisStatus.SUPPORTED
            and h.fault != "dns_failure"
            and unplaced(h.component, obs)
        ):
            s = _rank_below(
                s,
                placed,
                f"{h.component} is on no known call path and began after the symptom; "
                f"{placed.hypothesis.component} on the path began before it",
            )
        out.append(s)
    return out


def _separator_verdict(sep: Separator, comp: str, obs: Observations, ctx: JudgeContext) -> str | None:
    """ "seen", "normal", or None when none of the separating signals exists on the component."""
    present = False
    for sig in sep.signals:
        s = obs.get(comp, sig)
        a = s.anomaly(sep.direction, ctx.baseline_until) if s else None
        if a is None:
            continue
        present = True
        departed = a.anomalous and a.strength() >= 0.3
        if departed and sep.level_ratio is not None:
            departed = a.ratio >= sep.level_ratio
        if departed:
            return "seen"
    return "normal" if present else None


def _pair_related(sep: Separator, a: str, b: str, obs: Observations) -> bool:
    if sep.a_kind is not None and obs.kind_of(a) != sep.a_kind:
        return False
    if sep.b_kind is not None and obs.kind_of(b) != sep.b_kind:
        return False
    if sep.relation == "same":
        return a == b
    if sep.relation == "callee":
        return b in obs.callees(a)
    # a's component runs on b's host, or one of its callers does (the slow calls cross that host)
    residents = obs.hosts.get(b, set())
    return a in residents or bool(obs.callers(a) & residents)


def _alive(s: Scored) -> bool:
    h = s.hypothesis
    return h.status in (HypothesisStatus.SUPPORTED, HypothesisStatus.TESTING) and h.score > 0


def separate_lookalikes(
    scored: list[Scored], obs: Observations, faults: FaultCatalog, ctx: JudgeContext
) -> list[Scored]:
    """For each look-alike pair both alive, the catalog's separating observation decides which one it
    is: the contradicted one loses its key support and ranks below the other (it stays listed)."""
    by_id = {s.hypothesis.id: s for s in scored}
    # Each separator pairs only two faults' hypotheses: indexing them by fault (in `scored` order, so the
    # pairs come out as a scan of every pair would give them) avoids testing all n² pairs per separator.
    by_fault: dict[str, list[Scored]] = {}
    for s in scored:
        by_fault.setdefault(s.hypothesis.fault, []).append(s)
    for sep in faults.separators:
        pairs = [
            (x, y)
            for x in by_fault.get(sep.a, ())
            for y in by_fault.get(sep.b, ())
            if x.hypothesis.id != y.hypothesis.id
            and _pair_related(sep, x.hypothesis.component, y.hypothesis.component, obs)
        ]
        for x, y in pairs:
            x, y = by_id[x.hypothesis.id], by_id[y.hypothesis.id]
            if not (_alive(x) and _alive(y)):
                continue
            if HypothesisStatus.SUPPORTED not in (x.hypothesis.status, y.hypothesis.status):
                continue
            read_on = x if sep.at == "a" else y
            found = _separator_verdict(sep, read_on.hypothesis.component, obs, ctx)
            if found is None:
                # Nothing tells the two apart: whichever leads, it leads without certainty.
                for one, other in ((x, y), (y, x)):
                    by_id[one.hypothesis.id] = replace(one, undecided_with=other.hypothesis.id)
                continue
            winner_is_a = (sep.seen if found == "seen" else sep.normal) == "a"
            winner, loser = (x, y) if winner_is_a else (y, x)
            if winner.hypothesis.status != HypothesisStatus.SUPPORTED:
                # The observation points at a fault whose own key evidence is missing (memory grew
                # under a saturated CPU, but no restart, no OOM): it cannot take a supported cause's
                # place, nor can the contradicted cause lead with certainty — undecided.
                for one, other in ((x, y), (y, x)):
                    by_id[one.hypothesis.id] = replace(one, undecided_with=other.hypothesis.id)
                continue
            why = (
                f"{', '.join(sep.signals)} on {read_on.hypothesis.component} "
                f"{'departed' if found == 'seen' else 'stayed normal'}: "
                f"{winner.hypothesis.fault} on {winner.hypothesis.component}, not {loser.hypothesis.fault} "
                f"({sep.observation})"
            )
            by_id[loser.hypothesis.id] = _yield_to(loser, winner, why)
    return [by_id[s.hypothesis.id] for s in scored]


def _yield_to(loser: Scored, winner: Scored, why: str) -> Scored:
    h = loser.hypothesis
    ev = Evidence(source="engine", query="look-alike separator", stance=Stance.REFUTES, observation=why)
    status = HypothesisStatus.TESTING if h.status == HypothesisStatus.SUPPORTED else h.status
    score = min(h.score, winner.hypothesis.score - YIELD_MARGIN)
    h = h.model_copy(update={"score": score, "status": status, "evidence": (*h.evidence, ev)})
    return Scored(h, loser.key_onset, loser.tested, 0.0)


_OWN_SLOWNESS = SLOW_SIGNALS | ERROR_SIGNALS
MEASURED_NEAR_SYMPTOM_S = 300.0  # a measured cause this close to the symptom's onset began it


def _seen_only_in_traces(s: Scored, obs: Observations, ctx: JudgeContext) -> bool:
    """Its key evidence is time in a few slow traces (no onset of its own) and its own latency and
    errors — it has such series — stayed normal. Only those: a catch-all says "it got slow", which its
    latency would show; its CPU or memory moving (a busier minute, an earlier blip) says nothing of it."""
    comp = s.hypothesis.component
    if s.key_onset is not None or not any(
        f.component == comp and f.kind in ("self_time", "edge_self_time") for f in obs.traces
    ):
        return False
    has_own = any(obs.get(comp, sig) is not None for sig in ("latency", "error_ratio"))
    return has_own and health(obs, comp, ctx.baseline_until, _OWN_SLOWNESS)[0] == 0.0


def outliers_yield_to_measured(
    scored: list[Scored], obs: Observations, faults: FaultCatalog, ctx: JudgeContext
) -> list[Scored]:
    """A catch-all seen only in a few slow traces ranks below a specific cause on the symptom's path
    that the metrics measured at the symptom's onset: on a busy edge the slowest traces hold slow
    outliers of a healthy callee, while a CPU at its limit with its latency following is a change. (A
    delayed link shows only in traces; with no measured specific cause beside it, it keeps its rank.)"""
    measured = [
        s
        for s in scored
        if s.hypothesis.status == HypothesisStatus.SUPPORTED
        and not faults.get(s.hypothesis.fault).generic
        and s.key_support >= 0.5
        and s.key_onset is not None
        and (not ctx.path or s.hypothesis.component in ctx.path)
        and (ctx.symptom_onset is None or abs(s.key_onset - ctx.symptom_onset) <= MEASURED_NEAR_SYMPTOM_S)
    ]
    if not measured:
        return scored
    cause = max(measured, key=lambda s: s.hypothesis.score)
    c = cause.hypothesis
    out = []
    for s in scored:
        h = s.hypothesis
        if (
            h.status == HypothesisStatus.SUPPORTED
            and faults.get(h.fault).generic
            and h.component != c.component
            and _seen_only_in_traces(s, obs, ctx)
        ):
            why = (
                f"{h.component}'s own metrics stayed normal (its time grew only in a few slow traces), "
                f"while {c.component}'s {c.fault} was measured at the symptom's onset"
            )
            s = _rank_below(s, cause, why)
        out.append(s)
    return out
