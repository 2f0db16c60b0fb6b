"""The worker keeps its mcp-grafana session across investigations (telemetry/shared.py): two
investigations in a row are served by one mcp-grafana process, a killed one is replaced for the next
investigation, and stopping the worker ends it."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from arq.connections import ArqRedis
from reliability_kit import CHANNEL, eventually, worker_config

from compass_lab.harness import scenario_mcp_config
from compass_lab.model import Scenario
from compass_lab.server.runner import LabServer
from compass_testing import FakeSlack, RedisServer
from compass_worker.contracts import InvestigateRequest, JobName, SlackThread, job_id
from compass_worker.service.worker import build_worker, stop_worker

pytestmark = pytest.mark.slow


def _our_mcp_grafana() -> set[int]:
    """Live mcp-grafana processes started by this test process (the in-process worker's sessions)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if comm.startswith("mcp-grafana") and fields[0] != "Z" and int(fields[1]) == os.getpid():
            found.add(int(entry.name))
    return found


async def _investigate(redis: ArqRedis, slack: FakeSlack, scenario: Scenario, n: int, seen: set[int]) -> None:
    ts = f"{scenario.at + n:.6f}"
    thread = SlackThread(channel=CHANNEL, thread_ts=ts)
    req = InvestigateRequest(thread=thread, text=scenario.symptom, user="UALICE", at=scenario.at)
    await redis.enqueue_job(
        JobName.INVESTIGATE,
        req.model_dump(mode="json"),
        _job_id=job_id(JobName.INVESTIGATE, thread.investigation_key),
    )

    def verdict_posted() -> bool:
        seen.update(_our_mcp_grafana())
        return any(
            isinstance(b, dict) and b.get("type") == "actions"
            for m in slack.thread(CHANNEL, ts)
            for b in m.blocks
        )

    await eventually(verdict_posted, 90, f"the verdict of investigation {n}")


async def test_investigations_share_one_mcp_grafana_until_it_dies_and_shutdown_ends_it(
    redis_server: RedisServer,
    redis: ArqRedis,
    slack: FakeSlack,
    db_url: str,
    lab: LabServer,
    scenario: Scenario,
) -> None:
    config = worker_config(redis_server.url, slack.base_url, db_url, status_interval_s=0.1)
    worker = build_worker(config, mcp=scenario_mcp_config(lab.url, scenario), handle_signals=False)
    running = asyncio.create_task(worker.async_run())
    try:
        assert not _our_mcp_grafana()
        first: set[int] = set()
        await _investigate(redis, slack, scenario, 0, first)
        await _investigate(redis, slack, scenario, 1, first)
        assert len(first) == 1 and _our_mcp_grafana() == first  # one process, kept for the next one
        for pid in first:
            os.kill(pid, signal.SIGKILL)
        second: set[int] = set()
        await _investigate(redis, slack, scenario, 2, second)
        assert len(second) == 1 and second.isdisjoint(first)
    finally:
        await stop_worker(worker, running)
    await eventually(lambda: not _our_mcp_grafana(), 15, "mcp-grafana to exit with the worker")
