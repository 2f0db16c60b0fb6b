"""The contract between the edge (compass_bot) and the workers: job names, payloads, shared Redis keys.

The bot imports this module and nothing else from compass_worker, so it stays light: pydantic only (no
engine, no MCP, no numpy). A job is enqueued by *name* with one JSON-able payload (`payload.model_dump()`)
and a deterministic ARQ job id, so a retried Slack delivery can never enqueue the same work twice.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Annotated, ClassVar, Final, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


class JobName:
    """ARQ function names (the worker registers exactly these)."""

    INVESTIGATE: Final = "investigate_mention"
    FOLLOW_UP: Final = "answer_follow_up"
    FEEDBACK: Final = "record_feedback"
    RESOLUTION: Final = "record_resolution"
    COST_REPORT: Final = "cost_report"
    PROCESS_ALERT: Final = "process_alert"  # group, classify, route one persisted alert
    REFRESH_ALERT_INCIDENT: Final = "refresh_alert_incident"  # coalesced thread/root updates
    API_FEEDBACK: Final = "record_api_feedback"
    POSTMORTEM: Final = "write_postmortem"
    ASK: Final = "answer_history_question"


# The fault ids of FAULTS.md (the ❌ modal offers them). A test keeps this equal to the worker's catalog.
FAULT_IDS: Final[tuple[str, ...]] = (
    "cpu_saturation",
    "memory_leak",
    "db_connection_pool_exhaustion",
    "db_slow_queries",
    "bad_deploy",
    "config_change",
    "dependency_latency",
    "dependency_outage",
    "network_packet_loss",
    "dns_failure",
    "disk_full",
    "certificate_expiry",
    "rate_limited",
    "traffic_surge",
    "cache_failure",
    "queue_backlog",
)

# Ids the engine added beyond FAULTS.md's table (documented in the fault catalog and the engine README).
# Kept apart so that the lab's scenario plan, which draws one group per FAULTS.md id, stays unchanged.
ADDED_FAULT_IDS: Final[tuple[str, ...]] = ("code_defect",)

# Every fault id a verdict may name: what the ❌ modal offers, what a correction or a question may say.
VERDICT_FAULT_IDS: Final[tuple[str, ...]] = (*FAULT_IDS, *ADDED_FAULT_IDS)

# The incident category a verdict's fault implies (the evidence refines what the alert's words said).
FAULT_CATEGORIES: Final[dict[str, str]] = {
    "cpu_saturation": "saturation",
    "memory_leak": "saturation",
    "db_connection_pool_exhaustion": "saturation",
    "db_slow_queries": "latency",
    "bad_deploy": "errors",
    "config_change": "errors",
    "dependency_latency": "latency",
    "dependency_outage": "availability",
    "network_packet_loss": "latency",
    "dns_failure": "availability",
    "disk_full": "saturation",
    "certificate_expiry": "security",
    "rate_limited": "errors",
    "traffic_surge": "saturation",
    "cache_failure": "availability",
    "queue_backlog": "latency",
    "code_defect": "errors",
}


# What a person can ask in one message. Slack allows 40,000 characters; a symptom is a sentence or two,
# and everything downstream (the engine, PostgreSQL, Block Kit) is bounded by this.
MAX_TEXT_CHARS: Final = 4000
# Slack ids and timestamps, strictly: a thread key is "slack:<channel>:<ts>", so neither may hold a colon.
SLACK_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SLACK_TS = re.compile(r"^[0-9]{1,12}\.[0-9]{1,8}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


def clean_text(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Hostile text made harmless: NUL and control characters removed (PostgreSQL refuses NUL in text;
    terminals and logs misbehave on the rest), normalised (NFC), stripped and clipped to `limit`."""
    return unicodedata.normalize("NFC", _CONTROL.sub("", text)).strip()[:limit]


def _slack_id(value: str) -> str:
    if not SLACK_ID.match(value):
        raise ValueError("not a Slack id")
    return value


def _slack_ts(value: str) -> str:
    if not SLACK_TS.match(value):
        raise ValueError("not a Slack message ts")
    return value


SlackId = Annotated[str, AfterValidator(_slack_id)]
SlackTs = Annotated[str, AfterValidator(_slack_ts)]


def _required_text(value: str) -> str:
    cleaned = clean_text(value)
    if not cleaned:
        raise ValueError("is empty once control characters are removed")
    return cleaned


CleanText = Annotated[str, AfterValidator(clean_text)]
RequiredText = Annotated[str, AfterValidator(_required_text)]

CostPeriod = Literal["today", "7d", "30d"]
FeedbackKind = Literal["confirm", "correct"]


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SlackThread(_Payload):
    """Where a conversation lives: a channel and the ts of the message that started the thread."""

    channel: SlackId
    thread_ts: SlackTs

    @property
    def investigation_key(self) -> str:
        """The idempotency key of the thread's investigation (store and ARQ job id alike)."""
        return f"slack:{self.channel}:{self.thread_ts}"

    @classmethod
    def from_key(cls, key: str) -> SlackThread:
        """The inverse of `investigation_key` (a button carries the key). ValueError on anything else."""
        prefix, _, rest = key.partition(":")
        channel, _, thread_ts = rest.partition(":")
        if prefix != "slack" or not channel or not thread_ts:
            raise ValueError(f"not a Slack investigation key: {key!r}")
        return cls(channel=channel, thread_ts=thread_ts)


class InvestigateRequest(_Payload):
    """`@compass <symptom>`: investigate, streaming into the thread."""

    thread: SlackThread
    text: RequiredText  # the mention with the bot's own <@U…> removed
    user: str
    at: float  # unix seconds of the mention: the incident's "now"
    status_ts: str | None = None  # the status message the bot already posted (None: the worker posts it)
    trigger: Literal["slack_thread", "alert"] = "slack_thread"  # an alert incident's thread: "alert"


class FollowUpRequest(_Payload):
    """A question in an investigated thread ("did the 14:02 deploy touch payments?")."""

    thread: SlackThread
    message_ts: SlackTs
    text: RequiredText
    user: str


class FeedbackRequest(_Payload):
    """✅ / ❌ / a correcting reply. `text` is a free-text correction; component/fault come from the modal."""

    thread: SlackThread
    kind: FeedbackKind
    user: str
    text: CleanText | None = None
    component: CleanText | None = None
    fault: str | None = None


class ResolutionRequest(_Payload):
    """The reply after "What actually resolved it?"."""

    thread: SlackThread
    text: RequiredText
    user: str


class CostRequest(_Payload):
    """`/compass cost [today|7d|30d]`: answered ephemerally to `user` in `channel`."""

    channel: str
    user: str
    period: CostPeriod = "today"


class AlertRef(_Payload):
    """A persisted alert (its row in `alerts`) to process in the status it had when it was accepted."""

    alert_id: int = Field(ge=1)
    status: Literal["firing", "resolved"]

    @property
    def key(self) -> str:
        return f"{self.alert_id}:{self.status}"


class AlertIncidentRef(_Payload):
    """An alert incident whose Slack root message and thread should catch up with its alerts."""

    incident_id: str = Field(min_length=1)


class ApiFeedbackRequest(_Payload):
    """Feedback given through the REST API (`POST /api/v1/investigations/{id}/feedback`)."""

    investigation_id: str = Field(min_length=1)
    kind: FeedbackKind
    user: str = Field(min_length=1)
    component: str | None = None
    fault: str | None = None
    note: str | None = None


class PostmortemRequest(_Payload):
    """A post-mortem draft of the thread's investigation ("@compass write the post-mortem"), or of the one
    `investigation` names (`/compass postmortem <id>`), posted in `channel` (in its thread, if any)."""

    channel: SlackId
    user: str
    thread_ts: SlackTs | None = None
    investigation: CleanText | None = None  # an id or a unique prefix


class AskRequest(_Payload):
    """A question over past incidents ("@compass which incidents involved payments-db this month?")."""

    channel: SlackId
    user: str
    text: RequiredText
    thread_ts: SlackTs | None = None


class MessageTag(_Payload):
    """Which investigation posted a Slack message, and as what ("status", "verdict", "finding:<id>", …),
    carried in the message's metadata so a retry can find a message whose ts was never recorded."""

    EVENT_TYPE: ClassVar[str] = "compass_message"

    investigation: str
    part: str

    def metadata(self) -> dict[str, object]:
        return {"event_type": self.EVENT_TYPE, "event_payload": self.model_dump()}

    @classmethod
    def from_metadata(cls, raw: object) -> MessageTag | None:
        if not isinstance(raw, dict) or raw.get("event_type") != cls.EVENT_TYPE:
            return None
        payload = raw.get("event_payload")
        inv = payload.get("investigation") if isinstance(payload, dict) else None
        part = payload.get("part") if isinstance(payload, dict) else None
        return cls(investigation=inv, part=part) if isinstance(inv, str) and isinstance(part, str) else None


class RedisKeys:
    """Keys both sides read. The bot writes the thread marks and conversation state; the worker its
    message ledger (which Slack messages an investigation already posted, so a retry updates them)."""

    PREFIX: Final = "compass:"

    @staticmethod
    def event(event_id: str) -> str:
        return f"compass:event:{event_id}"

    @staticmethod
    def thread(thread: SlackThread) -> str:
        return f"compass:thread:{thread.channel}:{thread.thread_ts}"

    @staticmethod
    def awaiting_resolution(thread: SlackThread) -> str:
        return f"compass:awaiting:{thread.channel}:{thread.thread_ts}"

    @staticmethod
    def messages(investigation_key: str) -> str:
        return f"compass:messages:{investigation_key}"


ApiScope = Literal["read", "feedback", "admin"]
API_SCOPES: Final[tuple[str, ...]] = ("read", "feedback", "admin")
API_TOKEN_PREFIX: Final = "cmp_"


def api_token_hash(token: str) -> str:
    """What the store keeps of a REST API token (`compass api-token create` writes, the bot looks it up)."""
    return hashlib.sha256(token.encode()).hexdigest()


def job_id(name: str, key: str) -> str:
    """The ARQ job id for a piece of work: one job per (job name, key) while its result is kept."""
    return f"{name}:{key}"
