"""Reliability fixtures: a Redis of the test's own that can be restarted under a running worker, the lab
behind the real mcp-grafana (one scenario), and PostgreSQL / fake Slack from tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from compass_lab.harness import lab_server
from compass_lab.model import Scenario
from compass_lab.scenarios import DEFAULT_SCENARIO_ID, get_scenario
from compass_lab.server.runner import LabServer
from compass_testing import RedisProcess, restartable_redis


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
