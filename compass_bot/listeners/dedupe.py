"""Events API deliveries are processed once: a global middleware acknowledges and drops an event id it
has seen (Slack's retries, X-Slack-Retry-Num), and a listener that fails forgets the id again, so that
Slack's retry of a delivery we could not process is processed.

The middleware runs after Bolt's own signature check, so forged requests never touch Redis.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from compass_bot.listeners.deps import Deps

Next = Callable[[], Awaitable[BoltResponse | None]]


def _event_id(body: Mapping[str, object]) -> str | None:
    event_id = body.get("event_id") if body.get("type") == "event_callback" else None
    return event_id if isinstance(event_id, str) else None


def dedupe_middleware(
    deps: Deps,
) -> Callable[[AsyncBoltRequest, BoltResponse, Next], Awaitable[BoltResponse | None]]:
    async def dedupe(req: AsyncBoltRequest, resp: BoltResponse, next: Next) -> BoltResponse | None:
        event_id = _event_id(req.body)
        if event_id is not None and not await deps.queue.first_delivery(event_id):
            deps.metrics.duplicates.inc()
            return BoltResponse(status=200, body="")
        return await next()

    return dedupe


@asynccontextmanager
async def forget_on_failure(deps: Deps, body: Mapping[str, object]) -> AsyncIterator[None]:
    try:
        yield
    except BaseException:
        event_id = _event_id(body)
        if event_id is not None:
            await deps.queue.forget_delivery(event_id)
        raise
