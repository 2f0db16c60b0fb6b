"""What the reconciler (and a job that fails before its investigation starts) says in a thread when no
investigation is running to say it:

- "worker lost — retrying (attempt N)" on the status message, at once, not when the retry starts;
- a failure: the status message says it stopped, one reply says why, and a ❌ reaction on the message
  that started the thread — the reply at most once (the message ledger).
"""

from __future__ import annotations

from arq.connections import ArqRedis

from compass_worker.contracts import MessageTag, SlackThread
from compass_worker.service.ledger import MessageLedger
from compass_worker.service.slack import SlackPoster
from compass_worker.service.slack_sink import FAILED_REACTION
from compass_worker.slack.replies import failure_text
from compass_worker.slack.status import status_blocks, status_text
from compass_worker.slack.views import StatusView


class ThreadNotices:
    def __init__(self, poster: SlackPoster, redis: ArqRedis) -> None:
        self._poster = poster
        self._redis = redis

    async def _status_ts(self, thread: SlackThread, known: str | None) -> str | None:
        return await MessageLedger(self._redis, thread.investigation_key).get("status") or known

    async def retrying(self, thread: SlackThread, note: str, status_ts: str | None = None) -> None:
        ts = await self._status_ts(thread, status_ts)
        if ts is not None:
            view = StatusView(phase=note, notes=(note,))
            await self._poster.update(thread.channel, ts, status_text(view), status_blocks(view))

    async def failed(self, thread: SlackThread, reason: str, status_ts: str | None = None) -> None:
        ledger = MessageLedger(self._redis, thread.investigation_key)
        ts = await self._status_ts(thread, status_ts)
        if ts is not None:
            view = StatusView(state="failed", failure=reason)
            await self._poster.update(thread.channel, ts, status_text(view), status_blocks(view))
        if await ledger.get("failure") is None:
            tag = MessageTag(investigation=thread.investigation_key, part="failure")
            posted = await self._poster.post(thread.channel, thread.thread_ts, failure_text(reason), tag=tag)
            if posted is not None:
                await ledger.set("failure", posted)
        await self._poster.react(thread.channel, thread.thread_ts, FAILED_REACTION)
