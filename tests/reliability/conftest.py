"""Reliability fixtures: a Redis of the test's own that can be restarted under a running worker, the lab
behind the real mcp-grafana (one scenario), and PostgreSQL / fake Slack from tests/conftest.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from arq.connections import ArqRedis
from reliability_kit import worker_config

from compass_lab.harness import lab_server, scenario_mcp_config
from compass_lab.model import Scenario
from compass_lab.scenarios import DEFAULT_SCENARIO_ID, get_scenario
from compass_lab.server.runner import LabServer
from compass_testing import FakeSlack, RedisProcess, RedisServer, restartable_redis
from compass_worker.service.worker import build_worker, stop_worker


@pytest.fixture
def own_redis() -> Iterator[RedisProcess]:
    with restartable_redis() as server:
        yield server


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    return get_scenario(DEFAULT_SCENARIO_ID)


@pytest.fixture(scope="session")
def lab(scenario: Scenario) -> Iterator[LabServer]:
    with lab_server([scenario], scenario.id) as server:
        yield server


@pytest.fixture
async def running_worker(
    redis_server: RedisServer,
    redis: ArqRedis,
    slack: FakeSlack,
    db_url: str,
    lab: LabServer,
    scenario: Scenario,
) -> AsyncIterator[None]:
    """A worker (lease 8 s, reconciling every 0.3 s) on the shared test Redis, stopped cleanly after."""
    config = worker_config(
        redis_server.url,
        slack.base_url,
        db_url,
        status_interval_s=0.1,
        reconcile_interval_s=0.3,
        queued_grace_s=0.5,
        lease_s=8.0,
    )
    w = build_worker(config, mcp=scenario_mcp_config(lab.url, scenario), handle_signals=False)
    task = asyncio.create_task(w.async_run())
    yield
    await stop_worker(w, task)
