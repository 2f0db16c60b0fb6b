"""The team's patterns as a reasoner: they propose hypotheses and checks through the same seam as an LLM,
so the engine validates and runs them the same way (and a model never sees them as instructions).

`CompositeReasoner` lets the team catalog and an LLM reasoner work together: proposals are concatenated
(team first: the team knows its system), the summary and the cost are the LLM's."""

from __future__ import annotations

import fnmatch
import re

from compass_worker.domain.models import Verdict
from compass_worker.reasoners.protocol import (
    MetricView,
    ProposedCheck,
    ProposedHypothesis,
    ProposedMapping,
    Reasoner,
    ReasonerReport,
    ReasoningContext,
)
from compass_worker.runbooks.catalog import Pattern, TeamCatalog


def _suspected(p: Pattern, ctx: ReasoningContext, component: str) -> bool:
    """A pattern applies to a component its glob names, when the symptom says one of its words or the
    component moved (an anomaly) — a team's hunch, tested like any other."""
    text = ctx.symptom.lower()
    said = any(re.search(rf"\b{re.escape(w.lower())}", text) for w in p.when)
    moved = any(a.component == component for a in ctx.anomalies)
    return said or moved or (not p.when and component == ctx.symptom_component)


class TeamCatalogReasoner:
    def __init__(self, catalog: TeamCatalog) -> None:
        self._catalog = catalog

    def _applied(self, ctx: ReasoningContext) -> list[tuple[Pattern, str]]:
        out: list[tuple[Pattern, str]] = []
        for p in self._catalog.patterns:
            for component in ctx.components:
                if fnmatch.fnmatchcase(component, p.component) and _suspected(p, ctx, component):
                    out.append((p, component))
        return out

    async def propose_mappings(self, metrics: list[MetricView], signals: list[str]) -> list[ProposedMapping]:
        return []  # a team names its own metrics in its signal catalog (COMPASS_SIGNAL_CATALOG)

    async def propose_hypotheses(self, ctx: ReasoningContext) -> list[ProposedHypothesis]:
        return [
            ProposedHypothesis(
                proposed_by="team",
                component=c,
                fault=p.fault,
                description=p.name,
                rationale=f"team pattern: {p.name}",
            )
            for p, c in self._applied(ctx)
        ]

    async def propose_checks(self, ctx: ReasoningContext) -> list[ProposedCheck]:
        return [
            ProposedCheck(
                proposed_by="team",
                hypothesis_id=f"{c}/{p.fault}",
                purpose=f"team pattern {p.name!r}: {p.purpose or 'query'}",
                language=p.language,
                query=p.query.replace("{component}", c),
                lookback_s=int(min(86400, max(60, ctx.window_end - ctx.window_start))),
            )
            for p, c in self._applied(ctx)
            if p.query
        ]

    async def summarize(self, ctx: ReasoningContext, verdict: Verdict) -> str | None:
        return None

    def report(self) -> ReasonerReport:
        return ReasonerReport()


class CompositeReasoner:
    def __init__(self, team: Reasoner, llm: Reasoner) -> None:
        self._team = team
        self._llm = llm

    async def propose_mappings(self, metrics: list[MetricView], signals: list[str]) -> list[ProposedMapping]:
        return await self._llm.propose_mappings(metrics, signals)

    async def propose_hypotheses(self, ctx: ReasoningContext) -> list[ProposedHypothesis]:
        return [*await self._team.propose_hypotheses(ctx), *await self._llm.propose_hypotheses(ctx)]

    async def propose_checks(self, ctx: ReasoningContext) -> list[ProposedCheck]:
        return [*await self._team.propose_checks(ctx), *await self._llm.propose_checks(ctx)]

    async def summarize(self, ctx: ReasoningContext, verdict: Verdict) -> str | None:
        return await self._llm.summarize(ctx, verdict)

    def report(self) -> ReasonerReport:
        return self._llm.report()
