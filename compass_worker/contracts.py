"""The contract between the edge (compass_bot) and the workers: job names, payloads, shared Redis keys.

The bot imports this module and nothing else from compass_worker, so it stays light: pydantic only (no
engine, no MCP, no numpy). A job is enqueued by *name* with one JSON-able payload (`payload.model_dump()`)
and a deterministic ARQ job id, so a retried Slack delivery can never enqueue the same work twice.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field


class JobName:
    """ARQ function names (the worker registers exactly these)."""

    INVESTIGATE: Final = "investigate_mention"
    FOLLOW_UP: Final = "answer_follow_up"
    FEEDBACK: Final = "record_feedback"
    RESOLUTION: Final = "record_resolution"
    COST_REPORT: Final = "cost_report"


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

CostPeriod = Literal["today", "7d", "30d"]
FeedbackKind = Literal["confirm", "correct"]


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SlackThread(_Payload):
    """Where a conversation lives: a channel and the ts of the message that started the thread."""

    channel: str = Field(min_length=1)
    thread_ts: str = Field(min_length=1)

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
    text: str = Field(min_length=1)  # the mention with the bot's own <@U…> removed
    user: str
    at: float  # unix seconds of the mention: the incident's "now"
    status_ts: str | None = None  # the status message the bot already posted (None: the worker posts it)


class FollowUpRequest(_Payload):
    """A question in an investigated thread ("did the 14:02 deploy touch payments?")."""

    thread: SlackThread
    message_ts: str
    text: str = Field(min_length=1)
    user: str


class FeedbackRequest(_Payload):
    """✅ / ❌ / a correcting reply. `text` is a free-text correction; component/fault come from the modal."""

    thread: SlackThread
    kind: FeedbackKind
    user: str
    text: str | None = None
    component: str | None = None
    fault: str | None = None


class ResolutionRequest(_Payload):
    """The reply after "What actually resolved it?"."""

    thread: SlackThread
    text: str = Field(min_length=1)
    user: str


class CostRequest(_Payload):
    """`/compass cost [today|7d|30d]`: answered ephemerally to `user` in `channel`."""

    channel: str
    user: str
    period: CostPeriod = "today"


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


def job_id(name: str, key: str) -> str:
    """The ARQ job id for a piece of work: one job per (job name, key) while its result is kept."""
    return f"{name}:{key}"
