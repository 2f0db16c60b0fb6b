"""Posting to Slack from the worker without ever failing the investigation.

- 429 `ratelimited`: the SDK's retry handler waits the `Retry-After` Slack sent, then retries.
- `invalid_blocks` / `msg_too_long`: the builders already keep within the limits; if Slack still refuses,
  the message is re-sent as plain text (clipped), so the thread always gets the content.
- Anything else is logged and reported as "not posted" (None / False), never raised.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from compass_worker.slack.blocks import Block, fallback_text

log = logging.getLogger(__name__)

_BLOCK_ERRORS = frozenset({"invalid_blocks", "invalid_blocks_format", "msg_too_long", "too_many_blocks"})


def _error(exc: SlackApiError) -> str:
    data = exc.response.data if exc.response is not None else None
    return str(data.get("error", "unknown")) if isinstance(data, dict) else "unknown"


class SlackPoster:
    def __init__(self, client: AsyncWebClient, *, rate_limit_retries: int = 3) -> None:
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=rate_limit_retries))
        self.client = client

    @classmethod
    def connect(cls, token: str, base_url: str) -> SlackPoster:
        return cls(AsyncWebClient(token=token, base_url=base_url, timeout=15))

    async def post(
        self, channel: str, thread_ts: str | None, text: str, blocks: Sequence[Block] | None = None
    ) -> str | None:
        """The new message's ts, or None when Slack would not take it."""
        try:
            resp = await self.client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text=fallback_text(text),
                blocks=list(blocks or []) or None,
            )
        except SlackApiError as exc:
            if blocks and _error(exc) in _BLOCK_ERRORS:
                log.warning("Slack refused the blocks (%s); posting plain text", _error(exc))
                return await self.post(channel, thread_ts, text, None)
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
