"""Slack's limits and rate limits, telemetry that is down, and a worker killed mid-investigation."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import httpx
from arq.connections import ArqRedis
from arq.constants import default_queue_name, health_check_key_suffix
from arq.worker import Worker
from service_testkit import CHANNEL, TOKEN, mention, verdicts, worker_config

from compass_lab.harness import scenario_mcp_config
from compass_lab.model import Scenario
from compass_lab.server.runner import LabServer
from compass_testing import FakeSlack, RedisServer
from compass_worker.contracts import SlackThread
from compass_worker.domain.models import Eliminated, Evidence, Incident, RootCause, Verdict
from compass_worker.knowledge import KnowledgeStore
from compass_worker.service.ledger import MessageLedger
from compass_worker.service.settings import WorkerConfig
from compass_worker.service.slack import SlackPoster
from compass_worker.service.slack_sink import SlackSink
from compass_worker.service.worker import build_worker, stop_worker
from compass_worker.telemetry.config import parse_mcp_config


def huge_verdict() -> Verdict:
    long = "x" * 5000
    evidence = tuple(
        Evidence(
            source="prometheus",
            query=f"rate(q{i}[5m]) " + long,
            observation=long,
            link=f"http://g/explore?{i}",
        )
        for i in range(12)
    )
    return Verdict(
        verdict="root_cause",
        incident=Incident(symptom="checkout down", at=1_700_000_000.0),
        root_causes=tuple(
            RootCause(
                component=f"svc-{i}",
                fault="bad_deploy",
                confidence=0.9 - i / 100,
                summary=long,
                evidence=evidence,
            )
            for i in range(20)
        ),
        eliminated=tuple(
            Eliminated(component=f"c{i}", fault="cpu_saturation", reason=long[:300]) for i in range(300)
        ),
        gaps=tuple(f"gap {i} " + long[:200] for i in range(100)),
    )


async def test_a_huge_verdict_is_cut_to_slacks_limits_and_still_posted(
    slack: FakeSlack, redis: ArqRedis
) -> None:
    thread = SlackThread(channel=CHANNEL, thread_ts="1700000000.000001")
    poster = SlackPoster.connect(TOKEN, slack.base_url)
    sink = SlackSink(poster, MessageLedger(redis, thread.investigation_key), thread, interval_s=0)
    await sink.open(None)
    ts = await sink.finish(huge_verdict())
    assert ts is not None
    assert all(c.error is None for c in slack.calls), [(c.method, c.error) for c in slack.calls]
    [verdict] = verdicts(slack.thread(CHANNEL, thread.thread_ts))
    assert len(verdict.blocks) <= 50
    assert "more part(s) not shown here" in str(verdict.blocks[-3])
    assert "http://g/explore?0" in str(verdict.blocks)  # truncated text keeps a link to the evidence
    # Should Slack refuse the blocks anyway, the content goes out as plain text rather than not at all.
    slack.fail("chat.postMessage", "invalid_blocks")
    other = SlackThread(channel=CHANNEL, thread_ts="1700000000.000002")
    sink2 = SlackSink(poster, MessageLedger(redis, other.investigation_key), other, interval_s=0)
    await sink2.open("1700000000.000002")  # adopt an existing message as status; nothing posted
    assert await sink2.finish(huge_verdict()) is not None
    [fallback] = slack.thread(CHANNEL, other.thread_ts)
    assert fallback.text.startswith("Root cause: svc-0 · bad_deploy") and fallback.blocks == []


async def test_rate_limits_are_honoured_and_a_failed_status_post_is_made_good(
    http: httpx.AsyncClient, worker: Worker, slack: FakeSlack, scenario: Scenario
) -> None:
    # The bot's own status post is rate-limited (it does not wait at ack time): the worker posts it.
    slack.rate_limit("chat.postMessage", times=1, retry_after=1)
    slack.rate_limit("chat.update", times=1, retry_after=1)
    ts = await mention(http, scenario)
    await slack.wait_for(lambda: bool(verdicts(slack.thread(CHANNEL, ts))), 60, "a verdict")
    thread = slack.thread(CHANNEL, ts)
    statuses = [m for m in thread if m.text.startswith(("Investigat", "Investigation"))]
    assert len(statuses) == 1 and len(verdicts(thread)) == 1
    updates = slack.calls_to("chat.update")
    limited = [i for i, c in enumerate(updates) if c.status == 429]
    assert len(limited) == 1
    retried = updates[limited[0] + 1]
    assert retried.status == 200 and retried.at - updates[limited[0]].at >= 1.0  # waited Retry-After


async def test_unreachable_telemetry_is_said_honestly(
    config: WorkerConfig, http: httpx.AsyncClient, slack: FakeSlack, scenario: Scenario, store: KnowledgeStore
) -> None:
    dead = parse_mcp_config(
        '{"mcpServers": {"grafana": {"url": "http://127.0.0.1:9/mcp"}}}', {}, source="test"
    )
    w = build_worker(config, mcp=dead, handle_signals=False)
    task = asyncio.create_task(w.async_run())
    try:
        ts = await mention(http, scenario)
        await slack.wait_for(
            lambda: any("couldn't reach any telemetry source" in m.text for m in slack.thread(CHANNEL, ts)),
            60,
        )
    finally:
        await stop_worker(w, task)
    thread = slack.thread(CHANNEL, ts)
    assert thread[0].text.startswith("Investigation stopped: no telemetry reachable")
    assert verdicts(thread) == []
    assert await store.pool.fetchval("SELECT status FROM investigations") == "failed"


async def test_a_worker_killed_mid_investigation_is_retried_and_the_thread_gets_one_verdict(
    http: httpx.AsyncClient,
    slack: FakeSlack,
    scenario: Scenario,
    lab: LabServer,
    redis: ArqRedis,
    redis_server: RedisServer,
    db_url: str,
    mcp_config_file: Path,
    store: KnowledgeStore,
) -> None:
    # At the default job timeout (180 s) ARQ alone would retry after 190 s; the lease (15 s by default,
    # 5 s here) and the reconciler bring it back within seconds.
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": TOKEN,
        "COMPASS_SLACK_API_URL": slack.base_url,
        "REDIS_URL": redis_server.url,
        "DATABASE_URL": db_url,
        "COMPASS_MCP_CONFIG": str(mcp_config_file),
        "COMPASS_EMBEDDER": "hashing",
        "COMPASS_LEASE_S": "5",
        "COMPASS_STATUS_INTERVAL_S": "0.1",
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
    try:
        for _ in range(600):  # the worker reports health as soon as it polls
            if (
                await redis.exists(default_queue_name + health_check_key_suffix)
                or proc.returncode is not None
            ):
                break
            await asyncio.sleep(0.05)
        assert proc.returncode is None, await proc.stderr.read() if proc.stderr else ""
        ts = await mention(http, scenario)
        status_ts = slack.thread(CHANNEL, ts)[0].ts
        # Kill it for real (no clean-up) once it has started reporting progress — mid-investigation.
        await slack.wait_for(lambda: bool(slack.calls_to("chat.update")), 30, "the first progress update")
        proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(proc.wait(), 10)
        assert verdicts(slack.thread(CHANNEL, ts)) == []
    finally:
        if proc.returncode is None:
            proc.kill()
            await asyncio.wait_for(proc.wait(), 10)
    killed = time.monotonic()
    config = worker_config(
        redis_server.url, slack.base_url, db_url, status_interval_s=0.1, lease_s=5.0, reconcile_interval_s=1.0
    )
    w = build_worker(config, mcp=scenario_mcp_config(lab.url, scenario), handle_signals=False)
    task = asyncio.create_task(w.async_run())
    try:
        await slack.wait_for(
            lambda: bool(verdicts(slack.thread(CHANNEL, ts))), 60, "the retried job's verdict"
        )
        recovered_s = time.monotonic() - killed
        await asyncio.sleep(0.5)
    finally:
        await stop_worker(w, task)
    thread = slack.thread(CHANNEL, ts)
    assert len(verdicts(thread)) == 1
    assert [m.ts for m in thread if m.text.startswith(("Investigat", "Investigation"))] == [status_ts]
    assert thread[0].text.startswith("Investigation finished")  # the same status message, updated
    findings = [m.text for m in thread if m.text.startswith(":mag:")]
    assert len(findings) == len(set(findings))
    assert await store.pool.fetchval("SELECT attempts FROM investigations") == 2
    updates = [str(c.args.get("text", "")) for c in slack.calls_to("chat.update")]
    assert any("worker lost — retrying (attempt 2)" in t for t in updates)
    assert recovered_s < 45, recovered_s
    assert await store.pool.fetchval("SELECT count(*) FROM verdicts") == 1
