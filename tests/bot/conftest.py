"""The edge against real Redis (a private redis-server) and the fake Slack Web API, in-process over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from arq.connections import ArqRedis
from bot_testkit import SECRET, TOKEN

from compass_bot.app import Edge, create_edge
from compass_bot.settings import BotSettings
from compass_testing import FakeSlack, RedisServer


@pytest.fixture
async def edge(redis: ArqRedis, slack: FakeSlack, redis_server: RedisServer) -> AsyncIterator[Edge]:
    settings = BotSettings(
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=slack.base_url,
        redis_url=redis_server.url,
    )
    built = create_edge(settings)
    yield built
    await built.queue.redis.aclose()


@pytest.fixture
async def http(edge: Edge) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=edge.api), base_url="http://bot"
    ) as client:
        yield client
