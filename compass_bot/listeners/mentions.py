"""`@compass <symptom>`: claim the thread, post the status message at once, enqueue the investigation.

Nothing here investigates: the handler records (the thread claim), replies and enqueues, well inside
Slack's 3-second ack. A mention in a thread COMPASS already investigates is a follow-up question.
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from compass_bot.classify import strip_mentions
from compass_bot.listeners.dedupe import forget_on_failure
from compass_bot.listeners.deps import Deps
from compass_bot.listeners.events import EventFields, event_fields
from compass_worker.contracts import FollowUpRequest, InvestigateRequest, JobName, SlackThread
from compass_worker.slack import initial_status
from compass_worker.slack.replies import HELP

log = logging.getLogger(__name__)


async def _post_status(client: AsyncWebClient, thread: SlackThread) -> str | None:
    text, blocks = initial_status()
    try:
        resp = await client.chat_postMessage(
            channel=thread.channel, thread_ts=thread.thread_ts, text=text, blocks=blocks
        )
    except SlackApiError as exc:  # the worker posts its own status message instead
        log.warning("could not post the status message in %s: %s", thread.investigation_key, exc)
        return None
    ts = resp.get("ts")
    return ts if isinstance(ts, str) else None


async def handle_mention(deps: Deps, client: AsyncWebClient, f: EventFields) -> None:
    text = strip_mentions(f.text)
    thread = SlackThread(channel=f.channel, thread_ts=f.thread_ts or f.ts)
    if f.thread_ts and await deps.queue.is_investigated(thread):
        if text:
            follow = FollowUpRequest(thread=thread, message_ts=f.ts, text=text, user=f.user)
            if await deps.queue.enqueue(JobName.FOLLOW_UP, follow, f"{thread.investigation_key}:{f.ts}"):
                deps.metrics.jobs.labels(JobName.FOLLOW_UP).inc()
        return
    if not text:
        await client.chat_postMessage(channel=f.channel, thread_ts=thread.thread_ts, text=HELP)
        return
    if not await deps.queue.claim_thread(thread):
        return  # a duplicate delivery of a mention already being investigated
    try:
        status_ts = await _post_status(client, thread)
        req = InvestigateRequest(thread=thread, text=text, user=f.user, at=float(f.ts), status_ts=status_ts)
        if await deps.queue.enqueue(JobName.INVESTIGATE, req, thread.investigation_key):
            deps.metrics.jobs.labels(JobName.INVESTIGATE).inc()
    except BaseException:
        await deps.queue.release_thread(thread)  # let Slack's retry try again
        raise


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("app_mention")
    async def on_mention(event: dict[str, object], body: dict[str, object], client: AsyncWebClient) -> None:
        f = event_fields(event)
        if f is None or f.from_bot:
            return
        async with forget_on_failure(deps, body):
            await handle_mention(deps, client, f)
