"""The verdict: live hypotheses ranked and given confidences, eliminations, gaps, and the narrative.

Memory may reorder the candidates, but confidence — and so whether this is a root cause at all — is
computed from the evidence alone.
"""

from __future__ import annotations

from compass_worker.domain.models import Cost, Eliminated, HypothesisStatus, RootCause, Timings, Verdict
from compass_worker.engine.confidence import confidences
from compass_worker.engine.context import Scored
from compass_worker.engine.fingerprint import fingerprint
from compass_worker.engine.state import Kit, Run

CONFIDENT = 0.5  # top confidence needed to call a root cause
MAX_ROOT_CAUSES = 5
MAX_ELIMINATED = 12
MAX_GAPS = 10


def root_causes(run: Run, scored: list[Scored]) -> tuple[RootCause, ...]:
    live = [
        s
        for s in scored
        if s.tested
        and s.hypothesis.status != HypothesisStatus.REFUTED
        and s.hypothesis.status != HypothesisStatus.UNTESTABLE
        and s.hypothesis.score > 0
    ]
    # Hypotheses with their key evidence present rank first and share the confidence (with the
    # "none of these" alternative); the rest follow with their share of the whole field.
    live.sort(key=lambda s: (s.hypothesis.status != HypothesisStatus.SUPPORTED, -s.hypothesis.score))
    evidence = [s.hypothesis.score - run.prior_bonus.get(s.hypothesis.id, 0.0) for s in live]
    n_supported = sum(1 for s in live if s.hypothesis.status == HypothesisStatus.SUPPORTED)
    whole = confidences(evidence)
    confs = confidences(evidence[:n_supported]) + whole[n_supported:]
    return tuple(
        RootCause(
            component=s.hypothesis.component,
            fault=s.hypothesis.fault,
            confidence=round(c, 3),
            summary=s.hypothesis.rationale,
            evidence=(
                *[e for e in s.hypothesis.evidence if e.stance.value == "supports"][:6],
                *run.extra_evidence.get(s.hypothesis.id, [])[:3],
            ),
        )
        for s, c in list(zip(live, confs, strict=True))[:MAX_ROOT_CAUSES]
    )


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


def gaps(run: Run, scored: list[Scored], causes: tuple[RootCause, ...]) -> tuple[str, ...]:
    # Missing telemetry matters where the answer is likely: the symptom and the leading candidates.
    out = list(dict.fromkeys(run.obs.gaps))
    focus = {run.symptom, *(rc.component for rc in causes[:3] if rc.confidence >= 0.2)}
    for s in scored:
        h = s.hypothesis
        untestable_here = h.status == HypothesisStatus.UNTESTABLE and h.component in focus
        if untestable_here and h.rationale not in out and len(out) < MAX_GAPS:
            out.append(h.rationale)
    return tuple(out)


def observations_text(run: Run) -> list[str]:
    rows = []
    for (c, sig, peer), s in run.obs.series.items():
        a = s.anomaly()
        if a and a.anomalous:
            rows.append(
                (a.strength(), f"{c}{'→' + peer if peer else ''} {sig}: {a.baseline:.3g} → {a.peak:.3g}")
            )
    rows.sort(key=lambda r: -r[0])
    graph = run.obs.graph_source()
    where = "none found: no traces and no client/peer labels" if graph == "none" else f"from {graph}"
    return [f"dependency graph {where} ({len(run.obs.edges)} edges)", *(r[1] for r in rows[:8])]


async def verdict(kit: Kit, run: Run, scored: list[Scored]) -> Verdict:
    causes = root_causes(run, scored)
    confident = bool(causes) and causes[0].confidence >= CONFIDENT
    v = Verdict(
        verdict="root_cause" if confident else "inconclusive",
        incident=run.incident,
        root_causes=causes,
        eliminated=eliminated(scored),
        gaps=gaps(run, scored, causes),
        observations=tuple(observations_text(run)),
        timings=Timings(first_hypothesis_s=run.first_hypothesis_s, verdict_s=round(run.t(), 3)),
        tool_calls=kit.calls(),
        cost=Cost(),
        notices=tuple(run.notices),
        memory=tuple(run.citations),
        anomalies=fingerprint(run.obs, run.src.start),
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
