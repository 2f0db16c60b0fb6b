"""End-to-end fixtures: one embedded PostgreSQL + pgvector, one private Redis, one lab (serving one
scenario) and the fake Slack Web API per session; a fresh database, an empty Redis and a real ARQ
worker (in-process) per test. The engine reaches the lab through the real mcp-grafana binary."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from arq.connections import ArqRedis
from arq.worker import Worker
from service_testkit import SECRET, TOKEN, worker_config

from compass_bot.app import Edge, create_edge
from compass_bot.settings import BotSettings
from compass_lab.harness import lab_server, scenario_mcp_config
from compass_lab.model import Scenario
from compass_lab.scenarios import DEFAULT_SCENARIO_ID, get_scenario
from compass_lab.server.runner import LabServer, mcp_config
from compass_testing import FakeSlack, RedisServer
from compass_worker.service.settings import WorkerConfig
from compass_worker.service.worker import build_worker, stop_worker

# PostgreSQL, Redis and the fake Slack come from tests/conftest.py.


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    return get_scenario(DEFAULT_SCENARIO_ID)


@pytest.fixture(scope="session")
def lab(scenario: Scenario) -> Iterator[LabServer]:
    with lab_server([scenario], scenario.id) as server:
        yield server


@pytest.fixture(scope="session")
def mcp_config_file(lab: LabServer, scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mcp") / "mcp.json"
    path.write_text(json.dumps(mcp_config(lab.url, scenario.id)))
    return path


# -- the services -------------------------------------------------------------------------------------------
@pytest.fixture
def config(redis_server: RedisServer, slack: FakeSlack, db_url: str, redis: ArqRedis) -> WorkerConfig:
    return worker_config(
        redis_server.url, slack.base_url, db_url, status_interval_s=0.2, admin_users="UADMIN"
    )


@pytest.fixture
async def worker(config: WorkerConfig, lab: LabServer, scenario: Scenario) -> AsyncIterator[Worker]:
    """A real ARQ worker, in this process, polling the test's Redis."""
    w = build_worker(config, mcp=scenario_mcp_config(lab.url, scenario), handle_signals=False)
    task = asyncio.create_task(w.async_run())
    yield w
    await stop_worker(w, task)


@pytest.fixture
async def edge(redis_server: RedisServer, slack: FakeSlack, redis: ArqRedis) -> AsyncIterator[Edge]:
    built = create_edge(
        BotSettings(
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=slack.base_url,
            redis_url=redis_server.url,
        )
    )
    yield built
    await built.queue.redis.aclose()


@pytest.fixture
async def http(edge: Edge) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=edge.api), base_url="http://bot"
    ) as client:
        yield client
