"""The verdict: live hypotheses ranked by one confidence distribution, eliminations, gaps, narrative.

The confidences of all root causes and the "none of these" remainder form one distribution (they sum
to at most 1), and the causes are listed in confidence order. Memory may reorder the candidates, but
whether this is a root cause at all is decided from the evidence alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from compass_worker.domain.models import (
    Cost,
    Eliminated,
    Evidence,
    HypothesisStatus,
    RootCause,
    Timings,
    Verdict,
)
from compass_worker.engine.calibration import Calibration, shown_calibration
from compass_worker.engine.confidence import confidences
from compass_worker.engine.context import Scored
from compass_worker.engine.fingerprint import fingerprint
from compass_worker.engine.fmt import fmt_measured
from compass_worker.engine.health import edge_health, health
from compass_worker.engine.localise import off_path, unplaced
from compass_worker.engine.observe import RED_SIGNALS, SINCE_TOLERANCE_S, judge_context
from compass_worker.engine.state import Kit, Run

CONFIDENT = 0.5  # top confidence needed to call a root cause
UNSUPPORTED_GAP = 0.5  # how far below the weakest supported cause an unsupported one is capped
UNDECIDED_CAP = 0.45  # a leader its look-alike could not be told from: evidence below CONFIDENT
# The most an inconclusive verdict's leader shows. Measured on the dev splits (lab dev, random dev): the
# leaders held back as undecided, unseen-symptom or without key evidence were right 34 times in 37, so
# showing them at UNDECIDED_CAP made them under-confident (ECE); shown at this value they stay below the
# 0.7 line above which a wrong answer counts as confidently wrong — an inconclusive verdict never claims
# that much, and a leader held back with more than this is shown at this.
INCONCLUSIVE_SHOWN = 0.65
MAX_ROOT_CAUSES = 5
MAX_ELIMINATED = 12
MAX_GAPS = 10


def _live(scored: list[Scored]) -> list[Scored]:
    return [
        s
        for s in scored
        if s.tested
        and s.hypothesis.status != HypothesisStatus.REFUTED
        and s.hypothesis.status != HypothesisStatus.UNTESTABLE
        and s.hypothesis.score > 0
    ]


def _capped(scores: list[float], supported: list[bool]) -> list[float]:
    """Without its key evidence a hypothesis cannot outrank one that has it: its score is capped just
    below the weakest supported one (it keeps its share of the distribution, below them)."""
    floor = min((x for x, sup in zip(scores, supported, strict=True) if sup), default=None)
    if floor is None:
        return scores
    return [x if sup else min(x, floor - UNSUPPORTED_GAP) for x, sup in zip(scores, supported, strict=True)]


def _undecided(s: Scored, live: list[Scored]) -> bool:
    return s.undecided_with is not None and any(x.hypothesis.id == s.undecided_with for x in live)


def _floor3(c: float) -> float:
    # Rounded down, so that the shown confidences never add up to more than the distribution did.
    return math.floor(c * 1000.0) / 1000.0


@dataclass(frozen=True)
class Ranking:
    causes: tuple[RootCause, ...]
    # The top cause's confidence from evidence alone (memory's adjustments removed): whether this is
    # a root cause at all is decided on it, so memory may reorder but never makes a verdict confident.
    evidence_confidence: float
    top_supported: bool


def rank(
    scored: list[Scored],
    prior_bonus: dict[str, float] | None = None,
    extra_evidence: dict[str, list[Evidence]] | None = None,
    unseen: int = 0,
    off_path: frozenset[str] = frozenset(),
    unplaced: frozenset[str] = frozenset(),
) -> Ranking:
    """One distribution over the live hypotheses and "none of these": confidences sum to at most 1 and
    the causes are listed in confidence order (memory's adjustments are part of the prior here).
    A cause off the symptom's known dependency path (ids in `off_path`) cannot explain the symptom:
    its support does not count here (it neither caps the causes on the path nor leads confidently).
    A cause on a component the graph does not place at all (`unplaced`) ranks as supported but does
    not lead confidently: nothing says it is on the path."""
    live = _live(scored)
    supported = [
        s.hypothesis.status == HypothesisStatus.SUPPORTED and s.hypothesis.id not in off_path for s in live
    ]
    full = _capped([s.hypothesis.score for s in live], supported)
    prior_bonus, extra_evidence = prior_bonus or {}, extra_evidence or {}
    bonus = [prior_bonus.get(s.hypothesis.id, 0.0) for s in live]
    evidence_only = confidences(
        _capped([s.hypothesis.score - b for s, b in zip(live, bonus, strict=True)], supported), unseen
    )
    confs = confidences(full, unseen)
    order = sorted(range(len(live)), key=lambda i: (-confs[i], not supported[i], -live[i].hypothesis.score))
    if order and _undecided(live[order[0]], live):
        # The leader could not be told from a live look-alike: not a confident answer (the rest of
        # its share goes to "none of these"; it still ranks first).
        first, runner_up = order[0], (confs[order[1]] if len(order) > 1 else 0.0)
        confs[first] = min(confs[first], max(INCONCLUSIVE_SHOWN, runner_up))
        evidence_only[first] = min(evidence_only[first], UNDECIDED_CAP)
    causes = tuple(
        RootCause(
            component=live[i].hypothesis.component,
            fault=live[i].hypothesis.fault,
            confidence=_floor3(confs[i]),
            summary=live[i].hypothesis.rationale,
            evidence=(
                *[e for e in live[i].hypothesis.evidence if e.stance.value == "supports"][:6],
                *extra_evidence.get(live[i].hypothesis.id, [])[:3],
            ),
        )
        for i in order[:MAX_ROOT_CAUSES]
    )
    top = order[0] if order else None
    return Ranking(
        causes,
        evidence_only[top] if top is not None else 0.0,
        supported[top] and live[top].hypothesis.id not in unplaced if top is not None else False,
    )


def _held_back(causes: tuple[RootCause, ...]) -> tuple[RootCause, ...]:
    # An inconclusive leader is capped, still first (the rest of its share goes to "none of these").
    if not causes:
        return causes
    cap = max(INCONCLUSIVE_SHOWN, causes[1].confidence if len(causes) > 1 else 0.0)
    top = causes[0].model_copy(update={"confidence": min(causes[0].confidence, cap)})
    return (top, *causes[1:])


def shown(causes: tuple[RootCause, ...], confident: bool, calibration: Calibration) -> tuple[RootCause, ...]:
    """The confidences as shown: an inconclusive leader capped, then every cause through the dev-fitted
    calibration map (monotone: same order, sum at most 1), then the cap again — the map was fitted on
    capped values, and calibration never lets an inconclusive verdict show a confident leader. Which
    verdict is given was already decided on the raw evidence."""
    if not confident:
        causes = _held_back(causes)
    if not calibration.knots:  # no fitted map: shown as ranked (not floored twice)
        return causes
    mapped = calibration.distribution([rc.confidence for rc in causes])
    causes = tuple(
        rc.model_copy(update={"confidence": _floor3(c)}) for rc, c in zip(causes, mapped, strict=True)
    )
    return causes if confident else _held_back(causes)


SYMPTOM_SEEN = 0.3  # how clearly the symptom's own latency/errors (or its callers' calls) must depart


def symptom_quiet(run: Run, baseline_until: float | None) -> str | None:
    """Why the symptom does not show in the telemetry (None when it does, or no component is named):
    neither its own latency/errors nor its callers' calls to it (nor, for a backlog, the lag of the queues
    it consumes) departed from baseline."""
    comp = run.symptom
    if comp is None:
        return None
    # An episode of its own that began well before the symptom's onset and was over by the end (an
    # earlier incident's errors) does not confirm this one.
    earlier = run.onset - SINCE_TOLERANCE_S if run.onset is not None else None
    seen = health(run.obs, comp, baseline_until, RED_SIGNALS, over_before=earlier)[0]
    for caller in run.obs.callers(comp):
        seen = max(seen, edge_health(run.obs, caller, comp, baseline_until)[0])
    if run.incident.signal == "backlog":
        # A consumer's backlog lives in the queue it consumes (as `observe.symptom_onset` reads it): a
        # consumer-lag alert shows there, not in the consumer's own latency and errors.
        for queue in run.obs.callees(comp):
            seen = max(seen, health(run.obs, queue, baseline_until, frozenset({"queue_lag"}))[0])
    if seen >= SYMPTOM_SEEN:
        return None
    return f"{comp}'s own latency and errors show no clear departure: nothing confirms the symptom"


MIN_HISTORY_S = 600.0  # how much of the symptom's own history before its onset a verdict needs


def short_history(run: Run) -> str | None:
    """Why the symptom's history is too short to judge against (None when it is long enough, or unknown):
    its own latency/errors/requests begin less than `MIN_HISTORY_S` before the onset — telemetry that
    only just started (a new deployment, a recording begun minutes earlier). Every departure is then
    read against a few minutes of warm-up, which cannot tell a change from the usual."""
    comp, onset = run.symptom, run.onset
    if comp is None or onset is None:
        return None
    starts = [
        s.timestamps[0]
        for (c, sig, peer), s in run.obs.series.items()
        if c == comp and peer is None and sig in RED_SIGNALS and s.timestamps
    ]
    if not starts or onset - min(starts) >= MIN_HISTORY_S:
        return None
    minutes = max(0.0, (onset - min(starts)) / 60.0)
    return (
        f"{comp}'s telemetry begins only {minutes:.0f} min before the onset: "
        "too little history to tell a change from the usual"
    )


def unseen_parts(run: Run, scored: list[Scored]) -> list[str]:
    """What the investigation could not look at: modalities with no datasource, and components the
    symptom depends on (or, with no graph, any component) for which no hypothesis could be tested."""
    src = run.src
    missing = [
        name
        for name, ds in (("metrics", src.prometheus), ("logs", src.loki), ("traces", src.tempo))
        if not ds
    ]
    path = judge_context(run).path
    by_comp: dict[str, list[Scored]] = {}
    for s in scored:
        by_comp.setdefault(s.hypothesis.component, []).append(s)
    blind = [
        c
        for c, ss in sorted(by_comp.items())
        if (not path or c in path) and all(s.hypothesis.status == HypothesisStatus.UNTESTABLE for s in ss)
    ]
    return [*missing, *blind]


def eliminated(scored: list[Scored]) -> tuple[Eliminated, ...]:
    # The eliminations worth reading first are those that looked most like the answer.
    refuted = sorted(
        (s.hypothesis for s in scored if s.hypothesis.status == HypothesisStatus.REFUTED),
        key=lambda h: (-h.score, h.id),
    )
    return tuple(
        Eliminated(component=h.component, fault=h.fault, reason=h.refuted_because or "")
        for h in refuted[:MAX_ELIMINATED]
    )


def gaps(run: Run, scored: list[Scored], causes: tuple[RootCause, ...], unseen: list[str]) -> tuple[str, ...]:
    # Missing telemetry matters where the answer is likely: the symptom and the leading candidates.
    out = list(dict.fromkeys(run.obs.gaps))
    if unseen:
        out.append(f"not observable, so confidence is lowered: {', '.join(unseen[:6])}")
    focus = {run.symptom, *(rc.component for rc in causes[:3] if rc.confidence >= 0.2)}
    for s in scored:
        h = s.hypothesis
        untestable_here = h.status == HypothesisStatus.UNTESTABLE and h.component in focus
        if untestable_here and h.rationale not in out and len(out) < MAX_GAPS:
            out.append(h.rationale)
    return tuple(out)


def observations_text(run: Run, units: dict[str, str]) -> list[str]:
    """What moved, each value with its unit (ms, %, MiB; a plain number when the signal has none)."""
    rows = []
    for (c, sig, peer), s in run.obs.series.items():
        a = s.anomaly()
        if a and a.anomalous:
            unit = units.get(sig, "")
            moved = f"{fmt_measured(a.baseline, unit)} → {fmt_measured(a.peak, unit)}"
            rows.append((a.strength(), f"{c}{'→' + peer if peer else ''} {sig}: {moved}"))
    rows.sort(key=lambda r: -r[0])
    graph = run.obs.graph_source()
    where = "none found: no traces and no client/peer labels" if graph == "none" else f"from {graph}"
    return [f"dependency graph {where} ({len(run.obs.edges)} edges)", *(r[1] for r in rows[:8])]


async def verdict(kit: Kit, run: Run, scored: list[Scored]) -> Verdict:
    unseen = unseen_parts(run, scored)
    ctx = judge_context(run)
    elsewhere = frozenset(
        s.hypothesis.id for s in scored if off_path(s.hypothesis.component, s.hypothesis.fault, run.obs, ctx)
    )
    # The graph is known but does not place these components at all (calls it cannot see).
    unplaced_ids = frozenset(
        s.hypothesis.id
        for s in scored
        if ctx.path and unplaced(s.hypothesis.component, run.obs) and s.hypothesis.fault != "dns_failure"
    )
    ranking = rank(scored, run.prior_bonus, run.extra_evidence, len(unseen), elsewhere, unplaced_ids)
    causes = ranking.causes
    quiet = symptom_quiet(run, ctx.baseline_until) or short_history(run)
    # A root cause needs its key evidence, enough of the distribution on evidence alone, and a symptom
    # that shows in the telemetry: with nothing to explain, a cause found is not the answer.
    confident = (
        bool(causes) and ranking.top_supported and ranking.evidence_confidence >= CONFIDENT and not quiet
    )
    causes = shown(causes, confident, shown_calibration())
    v = Verdict(
        verdict="root_cause" if confident else "inconclusive",
        incident=run.incident,
        root_causes=causes,
        eliminated=eliminated(scored),
        gaps=(*gaps(run, scored, causes, unseen), *([quiet] if quiet else [])),
        # What moved (with units), then what the alert text and log templates showed.
        observations=(*observations_text(run, kit.catalog.units()), *run.obs.findings()),
        timings=Timings(first_hypothesis_s=run.first_hypothesis_s, verdict_s=round(run.t(), 3)),
        tool_calls=kit.calls(),
        cost=Cost(),
        notices=tuple(run.notices),
        memory=tuple(run.citations),
        anomalies=fingerprint(run.obs, run.src.start),
        inferred_signals=tuple(dict.fromkeys(run.obs.inferred)),  # which signal mappings were inferred
    )
    return await summarize(kit, run, v)


async def summarize(kit: Kit, run: Run, v: Verdict) -> Verdict:
    """The reasoner's narrative beside the computed verdict (never instead of it)."""
    if kit.reasoner is None:
        return v
    narrative = None
    try:
        narrative = await kit.reasoner.summarize(run.view(kit.faults), v)
    except Exception as exc:  # a reasoner failing must never stop the investigation
        run.notices.append(f"AI unavailable — presenting the gathered data ({type(exc).__name__})")
    rep = kit.reasoner.report()
    notices = tuple(dict.fromkeys([*run.notices, *rep.notices]))
    return v.model_copy(update={"narrative": narrative, "cost": rep.cost, "notices": notices})
