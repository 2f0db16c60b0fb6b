"""Frozen domain models of an investigation: the incident, hypotheses, evidence and the verdict.

These are the engine's vocabulary and the shapes that cross module lines (sinks, the store, the CLI's
JSON). Confidence and status are always computed by code from evidence — a language model may
propose a hypothesis, never set its confidence.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Source = Literal["prometheus", "loki", "tempo", "engine", "memory"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Incident(_Frozen):
    """What the engineer reported, resolved to a time range."""

    symptom: str
    service: str | None = None  # symptom component, when known or parsed from the text
    signal: str | None = None  # errors | latency | saturation | availability | throughput | backlog
    at: float  # unix seconds: the moment of the question (end of the window)
    window_s: int = 3600
    since: float | None = None  # unix seconds, when the text says "since 14:02"

    @property
    def start(self) -> float:
        return self.at - self.window_s


class HypothesisStatus(StrEnum):
    PROPOSED = "proposed"
    TESTING = "testing"
    SUPPORTED = "supported"
    REFUTED = "refuted"
    UNTESTABLE = "untestable"  # the telemetry needed to test it does not exist (a gap)


class HypothesisOrigin(StrEnum):
    CATALOG = "catalog"  # the fault catalog's prior for this kind of component
    OBSERVATION = "observation"  # an anomaly seen during observe
    LEAD = "lead"  # a new lead found while testing (log line, trace)
    MEMORY = "memory"  # a similar past incident
    LLM = "llm"


class Stance(StrEnum):
    SUPPORTS = "supports"
    REFUTES = "refutes"
    NEUTRAL = "neutral"


class Evidence(_Frozen):
    """One observation with the exact query that produced it and a link that reopens it."""

    source: Source
    query: str
    observation: str
    link: str | None = None
    value: float | None = None
    stance: Stance = Stance.NEUTRAL
    weight: float = 0.0  # contribution to the hypothesis score (code-computed)


class Hypothesis(_Frozen):
    id: str  # "<component>/<fault>"
    component: str
    fault: str  # a FAULTS.md id (or "other")
    prior: float = Field(ge=0.0, le=1.0)
    origin: HypothesisOrigin = HypothesisOrigin.CATALOG
    status: HypothesisStatus = HypothesisStatus.PROPOSED
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    score: float = 0.0
    rationale: str = ""
    evidence: tuple[Evidence, ...] = ()
    refuted_because: str | None = None

    @staticmethod
    def key(component: str, fault: str) -> str:
        return f"{component}/{fault}"


class Check(_Frozen):
    """A disproof check chosen for a hypothesis: what would refute it, and how it is queried."""

    hypothesis_id: str
    description: str
    source: Source
    query: str


class AnomalyStep(_Frozen):
    """One signal that moved: on which component, which way, and when (seconds from window start).
    The ordered steps are an incident's fingerprint (memory compares incidents by them)."""

    component: str
    signal: str
    direction: Literal["up", "down"] = "up"
    onset_s: float | None = None


class RootCause(_Frozen):
    component: str
    fault: str
    confidence: float = Field(ge=0.0, le=1.0)
    summary: str
    evidence: tuple[Evidence, ...] = ()


class Eliminated(_Frozen):
    component: str
    fault: str
    reason: str


class RunbookLink(_Frozen):
    """A team runbook that matches a root cause (from the team's catalog, `COMPASS_RUNBOOKS`)."""

    component: str
    fault: str
    title: str
    url: str


class Timings(_Frozen):
    first_hypothesis_s: float | None = None
    verdict_s: float = 0.0


class Cost(_Frozen):
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    usd: float = 0.0  # the priced calls only: an unknown price never hides what is known
    llm_calls: int = 0
    unpriced_calls: int = 0  # calls whose model has no price (their cost is not in `usd`)


class Verdict(_Frozen):
    """The investigation's answer; `compass investigate --json` prints exactly this."""

    verdict: Literal["root_cause", "inconclusive"]
    incident: Incident
    root_causes: tuple[RootCause, ...] = ()
    eliminated: tuple[Eliminated, ...] = ()
    gaps: tuple[str, ...] = ()
    observations: tuple[str, ...] = ()  # what was seen, shown when nothing survived
    narrative: str | None = None  # a reasoner's human summary (never the source of the verdict)
    notices: tuple[str, ...] = ()  # e.g. "AI unavailable — presenting the gathered data"
    memory: tuple[str, ...] = ()  # similar past incidents cited ("seen 3× before: ...")
    anomalies: tuple[AnomalyStep, ...] = ()  # the fingerprint: which signals moved where, in what order
    runbooks: tuple[RunbookLink, ...] = ()  # the team's runbooks matching the root causes
    timings: Timings = Timings()
    tool_calls: int = 0
    cost: Cost = Cost()

    @property
    def confident(self) -> bool:
        return self.verdict == "root_cause" and bool(self.root_causes)
