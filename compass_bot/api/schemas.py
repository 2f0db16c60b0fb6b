"""The REST API's bodies: frozen pydantic models, from which the OpenAPI schema is built."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from compass_worker.contracts import FeedbackKind

T = TypeVar("T")

Severity = Literal["critical", "high", "medium", "low"]
Category = Literal["availability", "latency", "errors", "saturation", "data", "security"]
IncidentStatus = Literal["firing", "resolved"]
InvestigationStatus = Literal["running", "completed", "failed", "cancelled"]
# Filter values: printable, bounded (they end up as SQL parameters).
FilterText = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[\w.:/@ -]+$")]
Identifier = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[a-z0-9][a-z0-9_.:/-]*$")]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class Page(_Out, Generic[T]):
    items: list[T]
    limit: int
    offset: int
    next_offset: int | None  # None on the last page


class AlertOut(_Out):
    id: int
    source: Literal["alertmanager", "grafana"]
    fingerprint: str
    name: str
    summary: str
    status: IncidentStatus
    starts_at: datetime
    ends_at: datetime | None
    labels: dict[str, str]
    received_at: datetime
    # Why it joined its incident: new, fingerprint, group_key, component, dependency or similar.
    grouped_by: str | None


class IncidentOut(_Out):
    id: UUID
    title: str
    component: str | None
    severity: Severity
    category: Category  # from the alerts' labels and words
    evidence_category: Category | None  # from the investigation's verdict (its fault), once there is one
    verdict_fault: str | None
    # The root component its investigation (or a correction in its thread) named; later alerts are
    # grouped against it.
    cause_component: str | None
    status: IncidentStatus
    alert_count: int
    channel: str | None
    slack_thread_ts: str | None
    investigation_id: UUID | None
    opened_at: datetime
    last_alert_at: datetime
    resolved_at: datetime | None


class IncidentDetail(IncidentOut):
    alerts: list[AlertOut]


class InvestigationOut(_Out):
    id: UUID
    title: str
    trigger: str
    status: InvestigationStatus
    requested_by: str | None
    started_at: datetime
    finished_at: datetime | None
    verdict: Literal["root_cause", "inconclusive"] | None
    component: str | None
    fault: str | None
    confidence: float | None


class EvidenceOut(_Out):
    hypothesis: str | None
    source: str
    query: str
    observation: str
    link: str | None
    stance: Literal["supports", "refutes", "neutral"]
    at: datetime


class HypothesisOut(_Out):
    key: str
    component: str
    fault: str
    status: str
    confidence: float
    score: float
    refuted_because: str | None


class TimelineEvent(_Out):
    at: datetime
    kind: Literal["started", "hypothesis", "check", "evidence", "verdict", "feedback", "finished"]
    text: str


class FeedbackOut(_Out):
    kind: Literal["confirmed", "corrected"]
    component: str
    fault: str
    author: str
    channel: str
    note: str | None
    at: datetime


class InvestigationDetail(InvestigationOut):
    timeline: list[TimelineEvent]
    hypotheses: list[HypothesisOut]
    evidence: list[EvidenceOut]
    feedback: list[FeedbackOut]
    verdict_detail: dict[str, object] | None  # the verdict as `compass investigate --json` prints it


class FeedbackIn(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: FeedbackKind
    component: Identifier | None = None  # the actual cause, for kind = "correct"
    fault: Identifier | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None


class FeedbackQueued(_Out):
    investigation_id: UUID
    queued: bool


class CostBucketOut(_Out):
    key: str
    calls: int
    tokens_in: int
    tokens_out: int
    usd: float | None  # None: some call had no known price (never shown as $0)


class CostsOut(_Out):
    since: datetime
    calls: int
    tokens_in: int
    tokens_out: int
    usd: float | None
    by_model: list[CostBucketOut]
    by_phase: list[CostBucketOut]
    calls_avoided: int


class PatternOut(_Out):
    id: int
    component: str
    fault: str
    summary: str
    scope: str
    promoted_by: str
    created_at: datetime


class HealthOut(_Out):
    status: Literal["ok", "degraded"]
    database: bool
    redis: bool
    alerts_in_outbox: int | None


class TokenIn(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[\w.@ -]+$")]
    scopes: Annotated[list[Literal["read", "feedback", "admin"]], Field(min_length=1, max_length=3)]


class TokenCreated(_Out):
    id: UUID
    name: str
    scopes: list[str]
    token: str  # shown once; only its hash is stored
