"""The edge against real Redis (a private redis-server) and the fake Slack Web API, in-process over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from arq.connections import ArqRedis
from bot_testkit import SECRET, TOKEN

from compass_bot.app import Edge, create_edge
from compass_bot.settings import BotSettings
from compass_bot.testing import FakeSlack, RedisServer, redis_for_tests


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    with redis_for_tests() as server:
        yield server


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[ArqRedis]:
    client = ArqRedis.from_url(redis_server.url)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
async def fake_slack_server() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack(TOKEN)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def slack(fake_slack_server: FakeSlack) -> FakeSlack:
    fake_slack_server.reset()
    return fake_slack_server


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
