"""Typed events the engine emits while it works, and the sink protocol that receives them.

The engine knows nothing about terminals or Slack: a sink renders these (the CLI's live view, the
Slack thread, JSON). Events are frozen and discriminated by `type` so they serialise losslessly.
"""

from __future__ import annotations

from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from compass_worker.domain.models import Evidence, Hypothesis, Verdict


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    t: float  # seconds since the investigation started


class PhaseStarted(_Event):
    type: Literal["phase"] = "phase"
    phase: Literal["observe", "orient", "decide", "act", "judge", "summarize"]
    detail: str = ""


class Observed(_Event):
    type: Literal["observed"] = "observed"
    text: str


class HypothesisProposed(_Event):
    type: Literal["hypothesis_proposed"] = "hypothesis_proposed"
    hypothesis: Hypothesis


class CheckStarted(_Event):
    type: Literal["check_started"] = "check_started"
    hypothesis_id: str
    description: str
    query: str


class EvidenceFound(_Event):
    type: Literal["evidence"] = "evidence"
    hypothesis_id: str
    evidence: Evidence


class HypothesisRefuted(_Event):
    type: Literal["hypothesis_refuted"] = "hypothesis_refuted"
    hypothesis: Hypothesis
    reason: str


class HypothesisSupported(_Event):
    type: Literal["hypothesis_supported"] = "hypothesis_supported"
    hypothesis: Hypothesis


class GapFound(_Event):
    type: Literal["gap"] = "gap"
    text: str


class VerdictReached(_Event):
    type: Literal["verdict"] = "verdict"
    verdict: Verdict


Event = Annotated[
    PhaseStarted
    | Observed
    | HypothesisProposed
    | CheckStarted
    | EvidenceFound
    | HypothesisRefuted
    | HypothesisSupported
    | GapFound
    | VerdictReached,
    Field(discriminator="type"),
]


class Sink(Protocol):
    """Receives the engine's events in order. Must not raise; must return quickly."""

    async def emit(self, event: Event) -> None: ...


class NullSink:
    async def emit(self, event: Event) -> None:
        return None


class ListSink:
    """Collects events (tests, JSON output, the store)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def emit(self, event: Event) -> None:
        self.events.append(event)


class FanoutSink:
    def __init__(self, *sinks: Sink) -> None:
        self._sinks = sinks

    async def emit(self, event: Event) -> None:
        for sink in self._sinks:
            await sink.emit(event)
