"""Alert fixtures: the bot with webhooks and the REST API on a fresh database, a real in-process ARQ worker,
and one lab scenario behind the real mcp-grafana. PostgreSQL, Redis and the fake Slack: tests/conftest.py."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from alerts_testkit import bot_settings, worker_config
from arq.connections import ArqRedis
from arq.worker import Worker

from compass_bot.app import Edge, create_edge
from compass_lab.harness import lab_server, scenario_mcp_config
from compass_lab.model import Scenario
from compass_lab.scenarios import DEFAULT_SCENARIO_ID, get_scenario
from compass_lab.server.runner import LabServer
from compass_testing import FakeSlack, RedisServer
from compass_worker.service.settings import WorkerConfig
from compass_worker.service.worker import build_worker, close_worker


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    return get_scenario(DEFAULT_SCENARIO_ID)


@pytest.fixture(scope="session")
def lab(scenario: Scenario) -> Iterator[LabServer]:
    with lab_server([scenario], scenario.id) as server:
        yield server


@pytest.fixture
async def edge(
    redis_server: RedisServer, slack: FakeSlack, db_url: str, redis: ArqRedis
) -> AsyncIterator[Edge]:
    built = create_edge(bot_settings(redis_server.url, slack.base_url, db_url))
    assert built.alerting is not None
    async with built.alerting.running():
        yield built
    await built.queue.redis.aclose()


@pytest.fixture
async def http(edge: Edge) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=edge.api), base_url="http://bot"
    ) as client:
        yield client


@pytest.fixture
def config(redis_server: RedisServer, slack: FakeSlack, db_url: str, redis: ArqRedis) -> WorkerConfig:
    return worker_config(redis_server.url, slack.base_url, db_url)


@pytest.fixture
async def worker(config: WorkerConfig, lab: LabServer, scenario: Scenario) -> AsyncIterator[Worker]:
    w = build_worker(config, mcp=scenario_mcp_config(lab.url, scenario), handle_signals=False)
    task = asyncio.create_task(w.async_run())
    yield w
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await close_worker(w)
