"""Nothing the edge acknowledged is lost while Redis is down: with a database, a mention is recorded in
PostgreSQL (its investigation row) and other jobs go to the outbox; when Redis is back, a worker's
reconciler enqueues them and the thread gets its verdict."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest
from reliability_kit import CHANNEL, SECRET, TOKEN, eventually, worker_config

from compass_bot.app import create_edge
from compass_bot.settings import BotSettings
from compass_lab.harness import scenario_mcp_config
from compass_lab.model import Scenario
from compass_lab.server.runner import LabServer
from compass_testing import FakeSlack, RedisProcess, event_request, mention_event, slash_request
from compass_worker.service.worker import build_worker, stop_worker


async def _count(db_url: str, table: str) -> int:
    conn = await asyncpg.connect(db_url)
    try:
        return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
    finally:
        await conn.close()


@pytest.mark.slow
async def test_work_accepted_while_redis_is_down_runs_when_it_is_back(
    own_redis: RedisProcess, slack: FakeSlack, db_url: str, lab: LabServer, scenario: Scenario
) -> None:
    settings = BotSettings(
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=slack.base_url,
        redis_url=own_redis.url,
        database_url=db_url,
    )
    edge = create_edge(settings)
    ts = f"{scenario.at:.6f}"
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=edge.api), base_url="http://b"
        ) as http:
            await asyncio.to_thread(own_redis.stop)
            body, headers = event_request(SECRET, mention_event(CHANNEL, ts, scenario.symptom))
            assert (await http.post("/slack/events", content=body, headers=headers)).status_code == 200
            again = await http.post("/slack/events", content=body, headers=headers)  # Slack's retry
            assert again.status_code == 200
            body, headers = slash_request(SECRET, "cost today", user="UCOST")
            assert (await http.post("/slack/events", content=body, headers=headers)).status_code == 200
            body, headers = slash_request(SECRET, "status")
            status = await http.post("/slack/events", content=body, headers=headers)
            assert "recorded and start when it is back" in status.text
            assert (await http.get("/readyz")).status_code == 503
        assert await _count(db_url, "investigation_jobs") == 1
        assert await _count(db_url, "job_outbox") == 1
        [status_msg] = slack.thread(CHANNEL, ts)  # one status message, even for the retried delivery
        await asyncio.to_thread(own_redis.start)
    finally:
        await edge.queue.redis.aclose()
        if edge.queue.journal is not None:
            await edge.queue.journal.close()
    config = worker_config(
        own_redis.url, slack.base_url, db_url, reconcile_interval_s=0.5, queued_grace_s=0.5
    )
    w = build_worker(config, mcp=scenario_mcp_config(lab.url, scenario), handle_signals=False)
    task = asyncio.create_task(w.async_run())
    try:
        await eventually(
            lambda: any(e.get("user") == "UCOST" for e in slack.ephemeral), 30, "the cost report"
        )
        await eventually(
            lambda: any(
                isinstance(b, dict) and b.get("type") == "actions"
                for m in slack.thread(CHANNEL, ts)
                for b in m.blocks
            ),
            60,
            "the verdict",
        )
    finally:
        await stop_worker(w, task)
    assert await _count(db_url, "job_outbox") == 0
    statuses = [m for m in slack.thread(CHANNEL, ts) if m.text.startswith(("Investigat", "Investigation"))]
    assert [m.ts for m in statuses] == [status_msg.ts]
