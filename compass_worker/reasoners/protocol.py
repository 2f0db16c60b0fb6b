"""The seam between the engine and any reasoner (an LLM or none).

The engine hands a reasoner a condensed, redaction-ready view of what it observed and asks for
(a) extra hypotheses, (b) extra disproof checks, (c) a human summary — and, before anything is fetched,
(d) what metric names no convention covers probably measure. Whatever comes back is a
*proposal*: the engine validates it (known fault id, known component, allowlisted tool, parsed
query, bounded time range, a listed metric name whose values fit the signal), runs checks itself,
and scores everything from evidence. A reasoner can never set a confidence or a verdict.
"""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from compass_worker.domain.models import Cost, Verdict


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AnomalyView(_Frozen):
    component: str
    signal: str
    peer: str | None = None
    baseline: float
    peak: float
    z: float
    onset: float | None  # unix seconds


class LogView(_Frozen):
    component: str
    template: str
    before: int
    after: int


class TraceView(_Frozen):
    component: str
    kind: str
    detail: str


class HypothesisView(_Frozen):
    id: str
    component: str
    fault: str
    status: str
    score: float


class ReasoningContext(_Frozen):
    """Everything a reasoner may see. Tool output appears here only as condensed data."""

    symptom: str
    symptom_component: str | None
    symptom_onset: float | None
    window_start: float
    window_end: float
    components: dict[str, str]  # name -> kind
    edges: list[tuple[str, str]]
    anomalies: list[AnomalyView]
    logs: list[LogView]
    traces: list[TraceView]
    hypotheses: list[HypothesisView]
    fault_ids: list[str]
    gaps: list[str]
    metrics: list[str] = Field(default_factory=list)  # discovered metric names (capped): never invent one


ProposedBy = Literal["llm", "team"]  # a model, or the team's own pattern catalog


class ProposedHypothesis(_Frozen):
    proposed_by: ProposedBy = "llm"
    component: str
    fault: str  # a FAULTS.md id, or "other"
    description: str = ""
    rationale: str = ""


class ProposedCheck(_Frozen):
    proposed_by: ProposedBy = "llm"
    hypothesis_id: str
    purpose: str
    language: Literal["promql", "logql", "traceql"]
    query: str
    lookback_s: int = Field(default=3600, ge=60, le=86400)


# Units a proposed mapping may state; the engine scales by them and still checks the values it gets.
MappingUnit = Literal[
    "seconds",
    "milliseconds",
    "microseconds",
    "ratio",
    "percent",
    "bytes",
    "count",
    "per_second",
    "per_minute",
    "cores",
    "none",
]


class MetricView(_Frozen):
    """A metric name no known convention covers, with what the datasource says about it (often nothing)."""

    name: str
    type: str = ""
    unit: str = ""
    help: str = ""


class ProposedMapping(_Frozen):
    """ "`metric` measures `signal` in `unit`": a proposal the engine turns into a query, trusts less than
    its own name-token inference, and keeps only when the values it returns are plausible."""

    proposed_by: ProposedBy = "llm"
    metric: str
    signal: str  # one of the canonical signals the engine offered
    unit: MappingUnit = "none"
    rationale: str = ""


class ReasonerReport(_Frozen):
    """What a reasoner spent, and what the thread/terminal should be told about it."""

    cost: Cost = Cost()
    notices: tuple[str, ...] = ()  # e.g. "AI unavailable — presenting the gathered data"


class Reasoner(Protocol):
    async def propose_mappings(
        self, metrics: list[MetricView], signals: list[str]
    ) -> list[ProposedMapping]: ...

    async def propose_hypotheses(self, ctx: ReasoningContext) -> list[ProposedHypothesis]: ...

    async def propose_checks(self, ctx: ReasoningContext) -> list[ProposedCheck]: ...

    async def summarize(self, ctx: ReasoningContext, verdict: Verdict) -> str | None: ...

    def report(self) -> ReasonerReport: ...
