"""Fixtures for `compass doctor`: the lab behind the real mcp-grafana, the fake LLM vendor APIs, MCP configs.

Redis, PostgreSQL and the fake Slack come from tests/conftest.py; the fake LLM APIs from compass_testing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]

TOY_SERVER = TESTS / "telemetry" / "fixtures" / "toy_server.py"


@pytest.fixture(scope="session")
def lab_url() -> Iterator[str]:
    from compass_lab.harness import lab_server
    from compass_lab.scenarios import DEFAULT_SCENARIO_ID, all_scenarios

    (scenario,) = [s for s in all_scenarios() if s.id == DEFAULT_SCENARIO_ID]
    with lab_server([scenario], scenario.id) as lab:
        yield lab.url


@pytest.fixture(scope="session")
def grafana_mcp_config(lab_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real mcp-grafana (stdio) in front of the lab, as `compass lab mcp-config` writes it."""
    from compass_lab.server.runner import mcp_config

    path = tmp_path_factory.mktemp("mcp") / "grafana.json"
    path.write_text(json.dumps(mcp_config(lab_url)), encoding="utf-8")
    return path


@pytest.fixture
def toy_mcp_config(tmp_path: Path) -> Path:
    """A real MCP server whose tools (echo, update_dashboard, …) are none of them read-only telemetry."""
    path = tmp_path / "toy.json"
    path.write_text(
        json.dumps({"mcpServers": {"toy": {"command": sys.executable, "args": [str(TOY_SERVER)]}}}),
        encoding="utf-8",
    )
    return path
