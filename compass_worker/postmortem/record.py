"""What a post-mortem is written from: the investigation's record, gathered from the store once.

Evidence gets stable ids (E1, E2, …) in the order the verdict presents it, so that prose and the
evidence table cite the same thing. Times on the timeline are incident time (the anomalies' onsets and
the engineer's "since") followed by investigation time (verdict, corrections, resolution).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from compass_worker.domain import Evidence, Verdict
from compass_worker.knowledge.errors import NotFound
from compass_worker.knowledge.records import (
    CorrectionKind,
    CorrectionRecord,
    InvestigationRecord,
    ResolutionRecord,
)
from compass_worker.knowledge.store import KnowledgeStore
from compass_worker.postmortem.actions import action_items


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CitedEvidence(_Frozen):
    id: str  # "E1"
    component: str
    fault: str
    source: str
    query: str
    observation: str
    link: str | None
    stance: str


class TimelineEntry(_Frozen):
    at: datetime | None
    kind: Literal["alert", "onset", "anomaly", "investigation", "verdict", "correction", "resolution"]
    text: str
    evidence: tuple[str, ...] = ()


class CauseLine(_Frozen):
    component: str
    fault: str
    confidence: float | None  # None when a person stated it
    basis: str  # "COMPASS verdict", "confirmed by @alice", "corrected by @bob"
    evidence: tuple[str, ...]


class PostmortemRecord(_Frozen):
    investigation_id: UUID
    title: str
    status: str
    trigger: str
    trigger_ref: str | None
    requested_by: str | None
    started_at: datetime
    finished_at: datetime | None
    window: tuple[datetime, datetime]
    symptom_service: str | None
    symptom_signal: str | None
    verdict: str | None  # "root_cause" | "inconclusive" | None (no verdict recorded)
    cause: CauseLine | None
    contributing: tuple[CauseLine, ...]
    eliminated: tuple[str, ...]
    gaps: tuple[str, ...]
    affected: tuple[str, ...]  # components with anomalies, in onset order
    timeline: tuple[TimelineEntry, ...]
    evidence: tuple[CitedEvidence, ...]
    resolutions: tuple[str, ...]
    actions: tuple[str, ...]


Cites = dict[tuple[str, str], tuple[str, ...]]  # (component, fault) -> evidence ids


def _ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _cite(verdict: Verdict) -> tuple[list[CitedEvidence], dict[tuple[str, str], tuple[str, ...]]]:
    """Number the verdict's evidence once; the same query+observation keeps one id."""
    seen: dict[tuple[str, str], str] = {}
    cited: list[CitedEvidence] = []
    by_cause: dict[tuple[str, str], tuple[str, ...]] = {}
    for rc in verdict.root_causes:
        ids: list[str] = []
        for e in rc.evidence:
            key = (e.query, e.observation)
            if key not in seen:
                seen[key] = f"E{len(seen) + 1}"
                cited.append(_cited(seen[key], rc.component, rc.fault, e))
            ids.append(seen[key])
        by_cause[(rc.component, rc.fault)] = tuple(dict.fromkeys(ids))
    return cited, by_cause


def _cited(eid: str, component: str, fault: str, e: Evidence) -> CitedEvidence:
    return CitedEvidence(
        id=eid,
        component=component,
        fault=fault,
        source=e.source,
        query=e.query,
        observation=e.observation,
        link=e.link,
        stance=e.stance.value,
    )


def _cause(
    verdict: Verdict | None,
    corrections: list[CorrectionRecord],
    cites: dict[tuple[str, str], tuple[str, ...]],
) -> CauseLine | None:
    """A person's word beats the verdict: the latest correction or confirmation names the cause."""
    if corrections:
        last = corrections[-1]
        verb = "confirmed" if last.kind == CorrectionKind.CONFIRMED else "corrected"
        key = (last.actual.component, last.actual.fault)
        return CauseLine(
            component=last.actual.component,
            fault=last.actual.fault,
            confidence=None,
            basis=f"{verb} by @{last.author}",
            evidence=cites.get(key, ()),
        )
    if verdict is None or not verdict.confident:
        return None
    top = verdict.root_causes[0]
    return CauseLine(
        component=top.component,
        fault=top.fault,
        confidence=top.confidence,
        basis="COMPASS verdict",
        evidence=cites.get((top.component, top.fault), ()),
    )


def _timeline(
    record: InvestigationRecord,
    verdict: Verdict | None,
    corrections: list[CorrectionRecord],
    resolutions: list[ResolutionRecord],
    cause: CauseLine | None,
) -> list[TimelineEntry]:
    incident = record.incident
    entries: list[TimelineEntry] = []
    if record.trigger.value == "alert" and record.trigger_ref:
        entries.append(TimelineEntry(at=record.started_at, kind="alert", text=f"alert {record.trigger_ref}"))
    if incident.since is not None:
        entries.append(TimelineEntry(at=_ts(incident.since), kind="onset", text="symptom onset reported"))
    if verdict is not None:
        for step in verdict.anomalies:
            if step.onset_s is None:
                continue
            moved = "rose" if step.direction == "up" else "fell"
            entries.append(
                TimelineEntry(
                    at=_ts(incident.start + step.onset_s),
                    kind="anomaly",
                    text=f"{step.component}: {step.signal} {moved}",
                )
            )
    entries.sort(key=lambda e: e.at or record.started_at)
    entries.append(
        TimelineEntry(
            at=record.started_at, kind="investigation", text=f"investigation started: {incident.symptom}"
        )
    )
    if verdict is not None:
        if verdict.confident:
            top = verdict.root_causes[0]
            text = f"verdict: {top.component} {top.fault} ({top.confidence:.0%})"
        else:
            text = "verdict: inconclusive"
        if verdict.eliminated:
            text += f"; {len(verdict.eliminated)} hypotheses eliminated"
        entries.append(TimelineEntry(at=record.finished_at, kind="verdict", text=text))
    for c in corrections:
        said = "confirmed" if c.kind == CorrectionKind.CONFIRMED else "corrected to"
        entries.append(
            TimelineEntry(at=c.created_at, kind="correction", text=f"@{c.author} {said} {c.actual}")
        )
    for r in resolutions:
        entries.append(TimelineEntry(at=r.created_at, kind="resolution", text=f"@{r.author}: {r.text}"))
    if cause is not None and cause.evidence:
        # The cause's first evidence belongs next to the first anomaly of its component.
        for i, e in enumerate(entries):
            if e.kind == "anomaly" and e.text.startswith(f"{cause.component}:"):
                entries[i] = e.model_copy(update={"evidence": cause.evidence[:3]})
                break
    return entries


async def load_record(store: KnowledgeStore, investigation_id: UUID) -> PostmortemRecord:
    """Everything the draft needs, read once. NotFound when the id is unknown."""
    record = await store.investigations.get(investigation_id)
    verdict = await store.investigations.verdict(investigation_id)
    corrections = await store.feedback.corrections(investigation_id)
    resolutions = await store.feedback.resolutions(investigation_id)
    cited, cites = _cite(verdict) if verdict is not None else ([], {})
    cause = _cause(verdict, corrections, cites)
    contributing = tuple(
        CauseLine(
            component=rc.component,
            fault=rc.fault,
            confidence=rc.confidence,
            basis="also supported by evidence",
            evidence=cites.get((rc.component, rc.fault), ()),
        )
        for rc in (verdict.root_causes if verdict is not None else ())
        if cause is None or (rc.component, rc.fault) != (cause.component, cause.fault)
    )
    incident = record.incident
    affected = tuple(dict.fromkeys(s.component for s in verdict.anomalies)) if verdict else ()
    gaps = verdict.gaps if verdict is not None else ()
    return PostmortemRecord(
        investigation_id=record.id,
        title=incident.symptom,
        status=record.status.value,
        trigger=record.trigger.value,
        trigger_ref=record.trigger_ref,
        requested_by=record.requested_by,
        started_at=record.started_at,
        finished_at=record.finished_at,
        window=(_ts(incident.start), _ts(incident.at)),
        symptom_service=incident.service,
        symptom_signal=incident.signal,
        verdict=verdict.verdict if verdict is not None else None,
        cause=cause,
        contributing=contributing,
        eliminated=tuple(
            f"{e.component} {e.fault}: {e.reason}" for e in (verdict.eliminated if verdict else ())
        ),
        gaps=gaps,
        affected=affected,
        timeline=tuple(_timeline(record, verdict, corrections, resolutions, cause)),
        evidence=tuple(cited),
        resolutions=tuple(r.text for r in resolutions),
        actions=action_items(cause.fault if cause else None, cause.component if cause else None, gaps),
    )


__all__ = ["CauseLine", "CitedEvidence", "NotFound", "PostmortemRecord", "TimelineEntry", "load_record"]
