"""Posting to Slack from the worker without ever failing the investigation.

- 429 `ratelimited`: the SDK's retry handler waits the `Retry-After` Slack sent, then retries (up to
  `retries` times: a storm of several minutes, not a blip, before a message is given up).
- HTTP 5xx and dropped connections: retried with exponential back-off and jitter (0.5 s … 8 s).
- `invalid_blocks` / `msg_too_long`: the builders already keep within the limits; if Slack still refuses,
  the message is re-sent as plain text (clipped), so the thread always gets the content.
- Anything else is logged and reported as "not posted" (None / False), never raised.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient

from compass_worker.contracts import MessageTag
from compass_worker.slack.blocks import Block, fallback_text

log = logging.getLogger(__name__)

# A thread of more than 1,000 replies is not an incident thread COMPASS will find its messages in.
MAX_REPLY_PAGES = 5
_BLOCK_ERRORS = frozenset({"invalid_blocks", "invalid_blocks_format", "msg_too_long", "too_many_blocks"})


def _error(exc: SlackApiError) -> str:
    data = exc.response.data if exc.response is not None else None
    return str(data.get("error", "unknown")) if isinstance(data, dict) else "unknown"


class CappedBackoff(RetryIntervalCalculator):
    """0.5 s, 1 s, 2 s, 4 s, then 8 s per retry, each +0–0.5 s of jitter."""

    def calculate_sleep_duration(self, current_attempt: int) -> float:
        return min(8.0, 0.5 * 2.0**current_attempt) + random.random() / 2


class SlackPoster:
    def __init__(self, client: AsyncWebClient, *, retries: int = 20) -> None:
        # The SDK counts attempts across all its handlers (a 429 then a 503 is attempt 2 for both), so
        # they share one budget; the back-off is capped so that budget spans minutes, not hours.
        backoff = CappedBackoff()
        client.retry_handlers[:] = [
            AsyncRateLimitErrorRetryHandler(max_retry_count=retries),
            AsyncServerErrorRetryHandler(max_retry_count=retries, interval_calculator=backoff),
            AsyncConnectionErrorRetryHandler(max_retry_count=retries, interval_calculator=backoff),
        ]
        self.client = client

    @classmethod
    def connect(cls, token: str, base_url: str) -> SlackPoster:
        return cls(AsyncWebClient(token=token, base_url=base_url, timeout=15))

    async def post(
        self,
        channel: str,
        thread_ts: str | None,
        text: str,
        blocks: Sequence[Block] | None = None,
        *,
        tag: MessageTag | None = None,
    ) -> str | None:
        """The new message's ts, or None when Slack would not take it. A `tag` travels as the message's
        metadata, so a retry can find the message even if its ts was never saved (`tagged_replies`)."""
        try:
            resp = await self.client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text=fallback_text(text),
                blocks=list(blocks or []) or None,
                metadata=tag.metadata() if tag else None,
            )
        except SlackApiError as exc:
            if blocks and _error(exc) in _BLOCK_ERRORS:
                log.warning("Slack refused the blocks (%s); posting plain text", _error(exc))
                return await self.post(channel, thread_ts, text, None, tag=tag)
            log.warning("chat.postMessage failed in %s: %s", channel, _error(exc))
            return None
        ts = resp.get("ts")
        return ts if isinstance(ts, str) else None

    async def update(self, channel: str, ts: str, text: str, blocks: Sequence[Block] | None = None) -> bool:
        try:
            await self.client.chat_update(
                channel=channel, ts=ts, text=fallback_text(text), blocks=list(blocks or [])
            )
        except SlackApiError as exc:
            if blocks and _error(exc) in _BLOCK_ERRORS:
                return await self.update(channel, ts, text, None)
            log.warning("chat.update failed in %s: %s", channel, _error(exc))
            return False
        return True

    async def tagged_replies(self, channel: str, thread_ts: str, investigation_key: str) -> dict[str, str]:
        """{part: ts} of the messages this investigation already posted in the thread, read back from
        Slack (conversations.replies with metadata) — the truth when the ledger lost a ts."""
        found: dict[str, str] = {}
        cursor: str | None = None
        for _ in range(MAX_REPLY_PAGES):
            try:
                resp = await self.client.conversations_replies(
                    channel=channel, ts=thread_ts, include_all_metadata=True, limit=200, cursor=cursor
                )
            except SlackApiError as exc:
                log.warning("conversations.replies failed in %s: %s", channel, _error(exc))
                break
            for message in resp.get("messages") or []:
                tag = MessageTag.from_metadata(message.get("metadata"))
                if tag is not None and tag.investigation == investigation_key and "ts" in message:
                    found.setdefault(tag.part, str(message["ts"]))
            cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
            if not resp.get("has_more") or not cursor:
                break
        return found

    async def react(self, channel: str, ts: str, name: str) -> bool:
        """Add a reaction; one that is already there counts as added."""
        try:
            await self.client.reactions_add(channel=channel, timestamp=ts, name=name)
        except SlackApiError as exc:
            if _error(exc) == "already_reacted":
                return True
            log.warning("reactions.add failed in %s: %s", channel, _error(exc))
            return False
        return True

    async def ephemeral(
        self, channel: str, user: str, text: str, blocks: Sequence[Block] | None = None
    ) -> bool:
        try:
            await self.client.chat_postEphemeral(
                channel=channel, user=user, text=fallback_text(text), blocks=list(blocks or []) or None
            )
        except SlackApiError as exc:
            if blocks and _error(exc) in _BLOCK_ERRORS:
                return await self.ephemeral(channel, user, text, None)
            log.warning("chat.postEphemeral failed in %s: %s", channel, _error(exc))
            return False
        return True
