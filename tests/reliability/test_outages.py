"""The worker rides out Redis outages: a real private redis-server is restarted under a running worker,
which logs one line, keeps polling with back-off and processes the next job. It never exits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from pathlib import Path

import pytest
from arq.connections import ArqRedis
from reliability_kit import CHANNEL, eventually, worker_config

from compass_lab.harness import scenario_mcp_config
from compass_lab.model import Scenario
from compass_lab.server.runner import LabServer
from compass_testing import FakeSlack, RedisProcess
from compass_worker.contracts import CostRequest, JobName, job_id
from compass_worker.service.worker import serve_forever


async def _enqueue_cost(url: str, user: str) -> None:
    redis = ArqRedis.from_url(url)
    try:
        req = CostRequest(channel=CHANNEL, user=user, period="today")
        await redis.enqueue_job(JobName.COST_REPORT, req.model_dump(mode="json"), _job_id=job_id("c", user))
    finally:
        await redis.aclose()


@pytest.mark.slow
async def test_worker_survives_a_redis_restart_and_processes_the_next_job(
    own_redis: RedisProcess,
    slack: FakeSlack,
    db_url: str,
    lab: LabServer,
    scenario: Scenario,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="compass_worker.service")
    config = worker_config(own_redis.url, slack.base_url, db_url)
    running = asyncio.create_task(serve_forever(config, mcp=scenario_mcp_config(lab.url, scenario)))
    try:
        await _enqueue_cost(own_redis.url, "UBEFORE")
        await eventually(lambda: _ephemerals(slack, "UBEFORE"), 30, "the first cost report")
        await asyncio.to_thread(own_redis.restart, 1.5)  # Redis gone for 1.5 s, back empty (no AOF here)
        await _enqueue_cost(own_redis.url, "UAFTER")
        await eventually(lambda: _ephemerals(slack, "UAFTER"), 30, "a cost report after the restart")
        assert not running.done(), "the worker exited"
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    lines = [r.getMessage() for r in caplog.records if r.name == "compass_worker.service"]
    assert any("REDIS_URL=redis://127.0.0.1" in line and "unreachable" in line for line in lines), lines
    assert all(r.exc_info is None for r in caplog.records)


async def _ephemerals(slack: FakeSlack, user: str) -> bool:
    return any(c.method == "chat.postEphemeral" and c.args.get("user") == user for c in slack.calls)


@pytest.mark.slow
async def test_compass_worker_with_redis_down_says_so_once_and_keeps_trying(
    tmp_path: Path, db_url: str
) -> None:
    mcp = tmp_path / "mcp.json"
    mcp.write_text('{"mcpServers": {"grafana": {"url": "http://127.0.0.1:9/mcp"}}}')
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "REDIS_URL": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "DATABASE_URL": db_url,
        "COMPASS_MCP_CONFIG": str(mcp),
        "COMPASS_EMBEDDER": "hashing",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "compass_cli.main",
        "worker",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    try:
        # Start-up imports take seconds on a busy machine; then the first failure is logged at once.
        first = await asyncio.wait_for(proc.stderr.readline(), 90)
        await asyncio.sleep(6.0)  # several back-off rounds: nothing more is said
        assert proc.returncode is None, "the worker exited"
    finally:
        proc.terminate()
        _, rest = await asyncio.wait_for(proc.communicate(), 20)
    err = first + rest
    lines = [line for line in err.decode().splitlines() if line.strip()]
    mentions = [line for line in lines if "REDIS_URL=redis://127.0.0.1:1/0" in line]
    assert len(mentions) == 1 and "unreachable" in mentions[0], lines
    assert not any("Traceback" in line for line in lines), lines
