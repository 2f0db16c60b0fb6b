"""REST API fixtures: the bot (webhooks + API) on a fresh database, reached in-process (httpx ASGI) or, for
Schemathesis, as a real uvicorn server on loopback; tokens made by the real `compass api-token create`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from api_testkit import ServerThread, settings
from arq.connections import ArqRedis

from compass_bot.app import Edge, create_edge
from compass_testing import FakeSlack, RedisServer


@pytest.fixture
async def edge(
    redis_server: RedisServer, slack: FakeSlack, db_url: str, redis: ArqRedis
) -> AsyncIterator[Edge]:
    built = create_edge(settings(redis_server.url, slack.base_url, db_url))
    yield built
    assert built.alerting is not None
    await built.alerting.pool.close()
    await built.queue.redis.aclose()


@pytest.fixture
async def http(edge: Edge) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=edge.api), base_url="http://bot"
    ) as client:
        yield client


@pytest.fixture
def server(
    redis_server: RedisServer, slack: FakeSlack, db_url: str, redis: ArqRedis
) -> Iterator[ServerThread]:
    with ServerThread(settings(redis_server.url, slack.base_url, db_url)) as running:
        yield running
