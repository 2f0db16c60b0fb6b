"""Domain → the Slack renderers' view records (compass_worker.slack takes views, not engine models)."""

from __future__ import annotations

from compass_worker.domain.models import Evidence, Verdict
from compass_worker.slack.views import CauseView, EliminatedView, EvidenceLine, VerdictView


def evidence_line(e: Evidence) -> EvidenceLine:
    return EvidenceLine(source=e.source, observation=e.observation, query=e.query, link=e.link)


def verdict_view(key: str, v: Verdict, *, hypotheses_formed: int) -> VerdictView:
    return VerdictView(
        investigation_key=key,
        confident=v.confident,
        causes=tuple(
            CauseView(
                component=rc.component,
                fault=rc.fault,
                confidence=rc.confidence,
                summary=rc.summary,
                evidence=tuple(evidence_line(e) for e in rc.evidence),
            )
            for rc in v.root_causes
        ),
        eliminated=tuple(EliminatedView(e.component, e.fault, e.reason) for e in v.eliminated),
        gaps=v.gaps,
        observations=v.observations,
        notices=v.notices,
        narrative=v.narrative,
        hypotheses_formed=max(hypotheses_formed, len(v.root_causes) + len(v.eliminated)),
        verdict_s=v.timings.verdict_s,
        first_hypothesis_s=v.timings.first_hypothesis_s,
        tool_calls=v.tool_calls,
        llm_calls=v.cost.llm_calls,
        cost_usd=v.cost.usd,
        runbooks=tuple(dict.fromkeys((r.title, r.url) for r in v.runbooks)),
    )
