"""A storm of unrelated incidents never floods the channel: root messages beyond the per-channel rate wait in
the queue (deferred to the next minute), none is dropped."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from alerts_testkit import alert_body, post_alertmanager, roots, worker_config
from arq.connections import ArqRedis
from arq.constants import default_queue_name
from arq.worker import Worker

from compass_testing import FakeSlack, RedisServer
from compass_worker.contracts import JobName
from compass_worker.knowledge import KnowledgeStore
from compass_worker.service.worker import build_worker, close_worker
from compass_worker.telemetry.config import parse_mcp_config


@pytest.fixture
async def limited_worker(
    redis_server: RedisServer, slack: FakeSlack, db_url: str, redis: ArqRedis
) -> AsyncIterator[Worker]:
    config = worker_config(redis_server.url, slack.base_url, db_url, investigate=False, channel_rate=1)
    mcp = parse_mcp_config(
        json.dumps({"mcpServers": {"none": {"url": "http://127.0.0.1:9/mcp"}}}), {}, source="t"
    )
    w = build_worker(config, mcp=mcp, handle_signals=False)
    task = asyncio.create_task(w.async_run())
    yield w
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await close_worker(w)


async def test_root_messages_beyond_the_channel_rate_are_deferred_not_dropped(
    http: httpx.AsyncClient, limited_worker: Worker, slack: FakeSlack, redis: ArqRedis, store: KnowledgeStore
) -> None:
    if time.time() % 60 > 45:  # the limit is per wall-clock minute: start well inside one
        await asyncio.sleep(61 - time.time() % 60)
    services = ("checkout", "search", "billing")  # unrelated: three incidents
    for n, service in enumerate(services):
        body = alert_body(
            name="HighErrorRate",
            service=service,
            summary=f"{service} 5xx",
            starts_at=1.8e9 + n,
            fingerprint=f"f{n}",
        )
        assert (await post_alertmanager(http, body)).status_code == 202
    await slack.wait_for(lambda: len(roots(slack)) == 1, 15, "the first root message")
    for _ in range(100):  # the other two jobs ran, met the limit and were deferred
        if await store.pool.fetchval("SELECT count(*) FROM alert_incidents") == 3:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)
    assert len(roots(slack)) == 1  # the channel got one new-incident message this minute
    assert await store.pool.fetchval("SELECT count(*) FROM alert_incidents") == 3  # all recorded
    assert await store.pool.fetchval("SELECT count(*) FROM alerts WHERE processed_status IS NULL") == 2
    waiting = await redis.zrange(default_queue_name, 0, -1, withscores=True)
    deferred = [
        job
        for job, score in waiting
        if job.decode().startswith(JobName.PROCESS_ALERT) and score > time.time() * 1000
    ]
    assert len(deferred) == 2  # still queued, for the next minute's window
