"""What the Slack renderers need to know, as small frozen records (the worker maps its domain onto them).

compass_bot must not import the engine, so the renderers take these views rather than the domain models.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EvidenceLine:
    source: str
    observation: str
    query: str
    link: str | None = None


@dataclass(frozen=True)
class CauseView:
    component: str
    fault: str
    confidence: float
    summary: str
    evidence: tuple[EvidenceLine, ...] = ()


@dataclass(frozen=True)
class EliminatedView:
    component: str
    fault: str
    reason: str


@dataclass(frozen=True)
class VerdictView:
    investigation_key: str
    confident: bool  # a root cause was named
    causes: tuple[CauseView, ...] = ()
    eliminated: tuple[EliminatedView, ...] = ()
    gaps: tuple[str, ...] = ()
    observations: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()
    narrative: str | None = None
    hypotheses_formed: int = 0
    verdict_s: float = 0.0
    first_hypothesis_s: float | None = None
    tool_calls: int = 0
    llm_calls: int = 0
    cost_usd: float | None = 0.0
    runbooks: tuple[tuple[str, str], ...] = ()  # (title, url) of the team's matching runbooks


@dataclass(frozen=True)
class StatusView:
    """The live status message: where the investigation is and how many hypotheses are alive."""

    phase: str = "starting"
    detail: str = ""
    hypotheses: int = 0
    refuted: int = 0
    supported: int = 0
    checks: int = 0
    elapsed_s: float = 0.0
    leading: tuple[str, ...] = ()  # "payments-db · db_slow_queries" of the best alive hypotheses
    notes: tuple[str, ...] = field(default_factory=tuple)  # degraded modes, gaps found so far
    state: str = "running"  # running | done | failed
    failure: str | None = None
