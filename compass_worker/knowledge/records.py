"""Frozen records the store hands out and the small input models it takes (besides the domain models).

Domain models (Incident, Hypothesis, Check, Evidence, Verdict) come from compass_worker.domain and are
persisted as they are; these records add what only the store knows: ids, owners, times, feedback.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from compass_worker.domain import Check, Evidence, Hypothesis, Incident, Verdict
from compass_worker.knowledge.scope import Ownership


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Trigger(StrEnum):
    SLACK_THREAD = "slack_thread"
    ALERT = "alert"
    CLI = "cli"
    API = "api"


class InvestigationStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class FeedbackChannel(StrEnum):
    SLACK = "slack"
    CLI = "cli"
    API = "api"


class Cause(_Record):
    component: str
    fault: str

    def __str__(self) -> str:
        return f"{self.component} {self.fault}"


class InvestigationRecord(_Record):
    id: UUID
    incident_id: UUID
    idempotency_key: str
    trigger: Trigger
    trigger_ref: str | None
    requested_by: str | None
    incident: Incident
    ownership: Ownership
    status: InvestigationStatus
    attempts: int
    started_at: datetime
    finished_at: datetime | None


class StartedInvestigation(_Record):
    """`resumed` is True when the idempotency key was seen before (a retried job): continue, don't restart."""

    record: InvestigationRecord
    resumed: bool


class InvestigationSnapshot(_Record):
    """Everything persisted so far — what a resumed job starts from."""

    record: InvestigationRecord
    hypotheses: tuple[Hypothesis, ...]  # latest state, in proposal order, evidence attached
    checks: tuple[Check, ...]
    observations: tuple[Evidence, ...]  # evidence not tied to a hypothesis
    verdict: Verdict | None


class CorrectionKind(StrEnum):
    CONFIRMED = "confirmed"
    CORRECTED = "corrected"


class CorrectionRecord(_Record):
    id: int
    investigation_id: UUID
    kind: CorrectionKind
    actual: Cause
    wrong: Cause | None
    author: str
    channel: FeedbackChannel
    note: str | None
    created_at: datetime


class ResolutionRecord(_Record):
    id: int
    investigation_id: UUID
    text: str
    author: str
    created_at: datetime


class LlmCall(_Record):
    """One LLM call for the cost ledger. `usd=None` means the price is unknown (never recorded as 0)."""

    investigation_id: UUID | None
    phase: str
    provider: str
    model: str
    tokens_in: int = Field(ge=0)
    tokens_out: int = Field(ge=0)
    tokens_cached: int = Field(default=0, ge=0)
    usd: Decimal | None
    latency_ms: int = Field(ge=0)


class CostBucket(_Record):
    key: str  # a model or a phase
    calls: int
    tokens_in: int
    tokens_out: int
    tokens_cached: int
    usd: Decimal  # sum over calls with a known price
    unpriced_calls: int  # calls whose price was unknown (their cost is not in `usd`)


class CostSummary(_Record):
    since: datetime
    total: CostBucket
    by_model: tuple[CostBucket, ...]
    by_phase: tuple[CostBucket, ...]


class ToolCallStatus(StrEnum):
    OK = "ok"
    NO_DATA = "no_data"
    ERROR = "error"
    TIMEOUT = "timeout"
    DENIED = "denied"  # not on the allowlist; never sent


class ToolCall(_Record):
    investigation_id: UUID | None
    server: str
    tool: str
    arguments: dict[str, JsonValue]
    status: ToolCallStatus
    duration_ms: int = Field(ge=0)
    error: str | None = None


class ToolCallRecord(ToolCall):
    id: int
    created_at: datetime


class SimilarIncident(_Record):
    """A past incident with a known outcome, as close as retrieval found it."""

    signature_id: int
    investigation_id: UUID | None  # None for a promoted (redacted) pattern
    symptom: str
    components: tuple[str, ...]
    ownership: Ownership
    similarity: float  # 0..1, cosine blended with structured-feature overlap
    confirmed: Cause
    wrong: Cause | None  # what COMPASS had said, when it was corrected
    confirmed_by: str
    confirmed_at: datetime
    resolution: str | None


class PriorAdjustment(_Record):
    """Memory's advice for one cause; the engine multiplies that hypothesis' prior by `weight`.

    weight > 1: similar incidents were confirmed to have this cause; weight < 1: this cause was confirmed
    wrong for similar incidents. It is a prior only: evidence still decides, and a refuted cause stays
    refuted whatever its weight. A cause absent from the engine's hypotheses with weight > 1 is a
    candidate to add (origin=memory). `citation` is the sentence to show the engineer.
    """

    cause: Cause
    weight: float = Field(gt=0)
    confirmed: int  # similar incidents where this cause was confirmed
    rejected: int  # similar incidents where this cause was the wrong answer
    similar_incidents: int  # how many similar incidents were consulted in all
    citation: str
    evidence: tuple[int, ...]  # signature ids behind the advice


class HistoryEntry(_Record):
    investigation_id: UUID
    started_at: datetime
    symptom: str
    status: InvestigationStatus
    trigger: Trigger
    verdict: Cause | None
    confirmed: Cause | None
    similarity: float | None = None


class PatternRecord(_Record):
    id: int
    signature_id: int
    promoted_from: int | None
    ownership: Ownership
    cause: Cause
    summary: str
    promoted_by: str
    created_at: datetime
