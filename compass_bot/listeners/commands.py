"""`/compass cost [today|7d|30d]`, `/compass status`, `/compass help` — answered ephemerally.

`status` and `help` are answered from the ack itself (Redis only). `cost` reads the ledger in
PostgreSQL, so it is a job: the ack says it is coming and the worker posts the ephemeral answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pydantic import ValidationError
from slack_bolt.async_app import AsyncApp

from compass_bot.listeners.deps import Deps
from compass_worker.contracts import AskRequest, CostPeriod, CostRequest, JobName, PostmortemRequest
from compass_worker.slack.replies import HELP

Ack = Callable[..., Awaitable[None]]
PERIODS: dict[str, CostPeriod] = {"today": "today", "7d": "7d", "30d": "30d", "": "today"}


async def status_text(deps: Deps) -> str:
    s = await deps.queue.status()
    if not s.redis_ok and deps.queue.journal is not None:
        return (
            ":warning: Redis (the job queue) is unreachable: new investigations are recorded and start "
            "when it is back."
        )
    if not s.redis_ok:
        return ":warning: Redis (the job queue) is unreachable: investigations cannot start."
    worker = (
        f":white_check_mark: workers alive ({s.worker_health})"
        if s.worker_health
        else ":warning: no worker has reported in the last minute — investigations will wait in the queue"
    )
    return "\n".join(
        [
            "*COMPASS status*",
            f"• running investigations and jobs: {s.running}",
            f"• queue depth: {s.queued}",
            "• Redis: :white_check_mark: reachable",
            f"• {worker}",
        ]
    )


async def _history_command(deps: Deps, sub: str, command: dict[str, object]) -> str:
    """`/compass postmortem <id>` and `/compass ask <question>`: jobs that answer in the channel."""
    rest = str(command.get("text") or "").strip()[len(sub) :].strip()
    channel, user = str(command.get("channel_id", "")), str(command.get("user_id", ""))
    key = str(command.get("trigger_id") or f"{user}:{rest}")
    try:
        if sub == "postmortem":
            if not rest or " " in rest:
                return "Usage: `/compass postmortem <investigation id or unique prefix>`"
            draft = PostmortemRequest(channel=channel, user=user, investigation=rest)
            if await deps.queue.enqueue(JobName.POSTMORTEM, draft, key):
                deps.metrics.jobs.labels(JobName.POSTMORTEM).inc()
            return f"Drafting the post-mortem of `{rest}` …"
        if not rest:
            return "Usage: `/compass ask <question>`, e.g. `/compass ask database outages this week`"
        ask = AskRequest(channel=channel, user=user, text=rest)
    except ValidationError:
        return "I can't read that request (a channel, a user or the text is not what Slack sends)."
    if await deps.queue.enqueue(JobName.ASK, ask, key):
        deps.metrics.jobs.labels(JobName.ASK).inc()
    return "Looking through past investigations …"


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command("/compass")
    async def on_compass(ack: Ack, command: dict[str, object]) -> None:
        words = str(command.get("text") or "").strip().lower().split()
        sub = words[0] if words else "help"
        if sub == "help":
            await ack(text=HELP)
        elif sub == "status":
            await ack(text=await status_text(deps))
        elif sub == "cost":
            period = PERIODS.get(words[1] if len(words) > 1 else "")
            if period is None or len(words) > 2:
                await ack(text="Usage: `/compass cost [today|7d|30d]`")
                return
            req = CostRequest(
                channel=str(command.get("channel_id", "")),
                user=str(command.get("user_id", "")),
                period=period,
            )
            key = str(command.get("trigger_id") or f"{req.user}:{period}")
            if await deps.queue.enqueue(JobName.COST_REPORT, req, key):
                deps.metrics.jobs.labels(JobName.COST_REPORT).inc()
            await ack(text=f"Working out the costs for {period} …")
        elif sub in ("postmortem", "ask"):
            await ack(text=await _history_command(deps, sub, command))
        else:
            await ack(text=f"Unknown command `{sub}`.\n{HELP}")
