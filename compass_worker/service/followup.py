"""A follow-up question in an investigated thread, answered with evidence.

The question is resolved against what the investigation already knows (its hypotheses and their stored
evidence) for the component — and fault, if one is named — it asks about. A component the
investigation never tested is investigated now, focused on it, in the incident's time window.
"""

from __future__ import annotations

from compass_worker.domain.events import ListSink
from compass_worker.domain.models import Hypothesis, HypothesisStatus, Incident, Stance
from compass_worker.engine.incident import build_incident
from compass_worker.runner import investigate
from compass_worker.service.context import ServiceContext
from compass_worker.service.corrections import component_from_text, fault_from_text
from compass_worker.slack.from_domain import evidence_line
from compass_worker.slack.replies import FollowUpItem

_ORDER = {
    HypothesisStatus.SUPPORTED: 0,
    HypothesisStatus.TESTING: 1,
    HypothesisStatus.PROPOSED: 2,
    HypothesisStatus.UNTESTABLE: 3,
    HypothesisStatus.REFUTED: 4,
}


def _item(h: Hypothesis) -> FollowUpItem:
    note = h.refuted_because or h.rationale or f"score {h.score:.1f}"
    evidence = sorted(h.evidence, key=lambda e: e.stance != Stance.SUPPORTS)
    return FollowUpItem(
        component=h.component,
        fault=h.fault,
        status=h.status.value,
        note=note,
        evidence=tuple(evidence_line(e) for e in evidence),
    )


def select(
    hypotheses: tuple[Hypothesis, ...] | list[Hypothesis], component: str, fault: str | None
) -> list[FollowUpItem]:
    about = [h for h in hypotheses if h.component == component]
    if fault is not None and any(h.fault == fault for h in about):
        about = [h for h in about if h.fault == fault]
    about.sort(key=lambda h: (_ORDER.get(h.status, 9), -h.score))
    return [_item(h) for h in about[:5]]


async def answer(
    svc: ServiceContext, incident: Incident, hypotheses: tuple[Hypothesis, ...], question: str
) -> tuple[list[FollowUpItem], str | None]:
    """(items, None) or ([], why there is no answer)."""
    known = {h.component for h in hypotheses}
    component = component_from_text(question, known)
    fault = fault_from_text(question)
    if component is not None:
        items = select(hypotheses, component, fault)
        if items:
            return items, None
    if component is None:
        names = ", ".join(sorted(known)[:12]) or "none yet"
        return [], f"I can't tell which component you mean. This investigation looked at: {names}."
    # Named but never tested: a focused investigation of that component, same window.
    focused = build_incident(question, service=component, at=str(incident.at), window=f"{incident.window_s}s")
    sink = ListSink()
    await investigate(focused, svc.mcp, svc.config.engine, sink, catalogs=svc.catalogs, sessions=svc.sessions)
    latest: dict[str, Hypothesis] = {}
    for event in sink.events:
        hyp = getattr(event, "hypothesis", None)
        if isinstance(hyp, Hypothesis):
            latest[hyp.id] = hyp
    items = select(list(latest.values()), component, fault)
    return items, None if items else f"I found no evidence about {component} in this incident's window."
