"""`@compass <symptom>`: claim the thread, post the status message at once, enqueue the investigation.

Nothing here investigates: the handler records (the thread claim), replies and enqueues, well inside
Slack's 3-second ack. A mention in a thread COMPASS already investigates is a follow-up question.
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from compass_bot.classify import MentionKind, classify_mention, strip_mentions
from compass_bot.listeners.dedupe import forget_on_failure
from compass_bot.listeners.deps import Deps
from compass_bot.listeners.events import EventFields, event_fields
from compass_worker.contracts import (
    MAX_TEXT_CHARS,
    AskRequest,
    FollowUpRequest,
    InvestigateRequest,
    JobName,
    MessageTag,
    PostmortemRequest,
    SlackThread,
)
from compass_worker.slack import initial_status
from compass_worker.slack.replies import HELP

log = logging.getLogger(__name__)

NO_POSTMORTEM = (
    "I can write a post-mortem draft in the thread of one of my investigations — mention me there — or "
    "from anywhere with `/compass postmortem <investigation id>`."
)
TOO_LONG = (
    "That message is too long for me to investigate ({n:,} characters; at most {limit:,}). "
    "Describe the symptom in a sentence or two — a link to the dashboard is plenty."
)


async def _post_status(client: AsyncWebClient, thread: SlackThread) -> str | None:
    text, blocks = initial_status()
    try:
        tag = MessageTag(investigation=thread.investigation_key, part="status")
        resp = await client.chat_postMessage(
            channel=thread.channel,
            thread_ts=thread.thread_ts,
            text=text,
            blocks=blocks,
            metadata=tag.metadata(),
        )
    except SlackApiError as exc:  # the worker posts its own status message instead
        log.warning("could not post the status message in %s: %s", thread.investigation_key, exc)
        return None
    ts = resp.get("ts")
    return ts if isinstance(ts, str) else None


async def handle_mention(deps: Deps, client: AsyncWebClient, f: EventFields) -> None:
    text = strip_mentions(f.text)
    thread = SlackThread(channel=f.channel, thread_ts=f.thread_ts or f.ts)
    kind = classify_mention(text) if text else MentionKind.INVESTIGATE
    if kind is MentionKind.HISTORY and len(text) <= MAX_TEXT_CHARS:
        ask = AskRequest(channel=f.channel, user=f.user, text=text, thread_ts=thread.thread_ts)
        if await deps.queue.enqueue(JobName.ASK, ask, f"ask:{f.channel}:{f.ts}"):
            deps.metrics.jobs.labels(JobName.ASK).inc()
        return
    investigated = bool(f.thread_ts) and await deps.queue.is_investigated(thread)
    if kind is MentionKind.POSTMORTEM:
        if not investigated:
            await client.chat_postMessage(channel=f.channel, thread_ts=thread.thread_ts, text=NO_POSTMORTEM)
            return
        draft = PostmortemRequest(channel=f.channel, user=f.user, thread_ts=thread.thread_ts)
        if await deps.queue.enqueue(JobName.POSTMORTEM, draft, f"postmortem:{f.channel}:{f.ts}"):
            deps.metrics.jobs.labels(JobName.POSTMORTEM).inc()
        return
    if investigated:
        if text:
            follow = FollowUpRequest(thread=thread, message_ts=f.ts, text=text, user=f.user)
            if await deps.queue.enqueue(JobName.FOLLOW_UP, follow, f"{thread.investigation_key}:{f.ts}"):
                deps.metrics.jobs.labels(JobName.FOLLOW_UP).inc()
        return
    if not text:
        await client.chat_postMessage(channel=f.channel, thread_ts=thread.thread_ts, text=HELP)
        return
    if len(text) > MAX_TEXT_CHARS:
        refusal = TOO_LONG.format(n=len(text), limit=MAX_TEXT_CHARS)
        await client.chat_postMessage(channel=f.channel, thread_ts=thread.thread_ts, text=refusal)
        return
    req = InvestigateRequest(thread=thread, text=text, user=f.user, at=float(f.ts))
    if not await deps.queue.accept_investigation(req):
        return  # a duplicate delivery of a mention already being investigated
    try:
        req = req.model_copy(update={"status_ts": await _post_status(client, thread)})
        if await deps.queue.submit_investigation(req):
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
