"""Replies in a thread COMPASS investigated: correction → recorded + "what resolved it?"; the reply after
that → the resolution; a follow-up question → a focused follow-up job; anything else → left alone."""

from __future__ import annotations

import contextlib

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from compass_bot.classify import ReplyKind, classify_reply, strip_mentions
from compass_bot.listeners.dedupe import forget_on_failure
from compass_bot.listeners.deps import Deps
from compass_bot.listeners.events import EventFields, event_fields
from compass_worker.contracts import (
    MAX_TEXT_CHARS,
    FeedbackRequest,
    FollowUpRequest,
    JobName,
    ResolutionRequest,
    SlackThread,
)
from compass_worker.slack.replies import THANKS_CORRECTION, THANKS_RESOLUTION


async def handle_thread_reply(deps: Deps, client: AsyncWebClient, f: EventFields) -> None:
    if f.thread_ts is None or f.thread_ts == f.ts:
        return
    thread = SlackThread(channel=f.channel, thread_ts=f.thread_ts)
    if not await deps.queue.is_investigated(thread):
        return
    text = strip_mentions(f.text)[:MAX_TEXT_CHARS]  # a reply is read up to the limit, not refused
    kind = classify_reply(text)
    key = f"{thread.investigation_key}:{f.ts}"
    if kind is not ReplyKind.QUESTION and text and await deps.queue.take_awaiting_resolution(thread):
        req = ResolutionRequest(thread=thread, text=text, user=f.user)
        if await deps.queue.enqueue(JobName.RESOLUTION, req, key):
            deps.metrics.jobs.labels(JobName.RESOLUTION).inc()
        await client.chat_postMessage(channel=f.channel, thread_ts=f.thread_ts, text=THANKS_RESOLUTION)
    elif kind is ReplyKind.CORRECTION:
        fb = FeedbackRequest(thread=thread, kind="correct", user=f.user, text=text)
        if await deps.queue.enqueue(JobName.FEEDBACK, fb, key):
            deps.metrics.jobs.labels(JobName.FEEDBACK).inc()
        await deps.queue.await_resolution(thread)
        await client.chat_postMessage(channel=f.channel, thread_ts=f.thread_ts, text=THANKS_CORRECTION)
    elif kind is ReplyKind.QUESTION:
        fu = FollowUpRequest(thread=thread, message_ts=f.ts, text=text, user=f.user)
        if await deps.queue.enqueue(JobName.FOLLOW_UP, fu, key):
            deps.metrics.jobs.labels(JobName.FOLLOW_UP).inc()
        with contextlib.suppress(SlackApiError):  # a visible "looking into it" without another message
            await client.reactions_add(channel=f.channel, timestamp=f.ts, name="eyes")


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("message")
    async def on_message(
        event: dict[str, object], body: dict[str, object], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        f = event_fields(event)
        # Edits, joins and other subtypes are not replies; bots (ourselves included) are never read.
        if f is None or f.from_bot or f.subtype is not None or not f.user:
            return
        if context.bot_user_id and f"<@{context.bot_user_id}>" in f.text:
            return  # the app_mention listener handles it
        async with forget_on_failure(deps, body):
            await handle_thread_reply(deps, client, f)
