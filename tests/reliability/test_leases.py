"""Nothing accepted is lost: investigation rows in PostgreSQL with a lease. A dead worker's investigation
(its lease expired) resumes on another worker, whose status message first says
"worker lost — retrying (attempt 2)"; an investigation Redis forgot is enqueued again; outbox jobs reach
Redis; after the last attempt the thread gets one clear failure and a ❌."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest
from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix
from reliability_kit import CHANNEL, eventually

from compass_lab.model import Scenario
from compass_testing import FakeSlack
from compass_worker.contracts import CostRequest, InvestigateRequest, JobName, SlackThread, job_id
from compass_worker.slack import initial_status

pytestmark = pytest.mark.slow


def _verdicts(slack: FakeSlack, ts: str) -> list[str]:
    return [
        m.ts
        for m in slack.thread(CHANNEL, ts)
        if any(isinstance(b, dict) and b.get("type") == "actions" for b in m.blocks)
    ]


async def _status_message(slack: FakeSlack, ts: str) -> str:
    """The status message the edge posts before it enqueues (through the real Web API fake)."""
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token=slack.token, base_url=slack.base_url)
    text, blocks = initial_status()
    resp = await client.chat_postMessage(channel=CHANNEL, thread_ts=ts, text=text, blocks=blocks)
    return str(resp["ts"])


async def _row(db_url: str, sql: str, *args: object) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.close()


async def _state(db_url: str, key: str) -> tuple[str, int] | None:
    conn = await asyncpg.connect(db_url)
    try:
        row = await conn.fetchrow("SELECT state, attempt FROM investigation_jobs WHERE key = $1", key)
    finally:
        await conn.close()
    return None if row is None else (str(row["state"]), int(row["attempt"]))


async def _settled_state(db_url: str, key: str) -> tuple[str, int] | None:
    """The row once it is over: the verdict reaches Slack a moment before the worker finishes the row."""

    async def over() -> bool:
        state = await _state(db_url, key)
        return state is not None and state[0] in ("done", "failed")

    await eventually(over, 10, f"the row of {key} to finish")
    return await _state(db_url, key)


def _request(scenario: Scenario, ts: str, status_ts: str | None) -> InvestigateRequest:
    thread = SlackThread(channel=CHANNEL, thread_ts=ts)
    return InvestigateRequest(
        thread=thread, text=scenario.symptom, user="UALICE", at=float(ts), status_ts=status_ts
    )


async def test_a_dead_workers_investigation_resumes_and_says_so(
    db_url: str, slack: FakeSlack, scenario: Scenario, running_worker: None
) -> None:
    ts = f"{scenario.at:.6f}"
    status_ts = await _status_message(slack, ts)
    req = _request(scenario, ts, status_ts)
    # What a SIGKILLed worker leaves behind: a running row whose lease ran out, and nothing in Redis.
    await _row(
        db_url,
        "INSERT INTO investigation_jobs (key, payload, state, attempt, lease_owner, lease_until)"
        " VALUES ($1, $2::jsonb, 'running', 1, 'dead-host:1:abc', now() - interval '1 second')",
        req.thread.investigation_key,
        json.dumps(req.model_dump(mode="json")),
    )
    seen: list[str] = []

    async def said_retrying() -> bool:
        seen.extend(c.args.get("text", "") for c in slack.calls_to("chat.update"))  # type: ignore[misc]
        return any("worker lost — retrying (attempt 2)" in str(t) for t in seen)

    await eventually(said_retrying, 20, "the status message saying the worker was lost")
    await eventually(lambda: bool(_verdicts(slack, ts)), 60, "the resumed investigation's verdict")
    await asyncio.sleep(1.0)  # a duplicate would show up here
    assert len(_verdicts(slack, ts)) == 1
    statuses = [m for m in slack.thread(CHANNEL, ts) if m.text.startswith(("Investigat", "Investigation"))]
    assert [m.ts for m in statuses] == [status_ts]  # the same status message, updated in place
    assert await _settled_state(db_url, req.thread.investigation_key) == ("done", 2)


async def test_an_investigation_redis_forgot_is_enqueued_again(
    db_url: str, slack: FakeSlack, scenario: Scenario, running_worker: None
) -> None:
    ts = f"{scenario.at:.6f}"
    req = _request(scenario, ts, await _status_message(slack, ts))
    # Accepted and recorded by the edge, but Redis restarted (no AOF) before a worker took it.
    await _row(
        db_url,
        "INSERT INTO investigation_jobs (key, payload, updated_at)"
        " VALUES ($1, $2::jsonb, now() - interval '1 minute')",
        req.thread.investigation_key,
        json.dumps(req.model_dump(mode="json")),
    )
    await eventually(lambda: bool(_verdicts(slack, ts)), 60, "a verdict")
    assert await _settled_state(db_url, req.thread.investigation_key) == ("done", 1)


async def test_outbox_jobs_reach_redis_and_are_run(
    db_url: str, slack: FakeSlack, running_worker: None
) -> None:
    req = CostRequest(channel=CHANNEL, user="UOUTBOX", period="today")
    await _row(
        db_url,
        "INSERT INTO job_outbox (arq_job_id, job_name, payload) VALUES ($1, $2, $3::jsonb)",
        job_id(JobName.COST_REPORT, "trig.1"),
        JobName.COST_REPORT,
        json.dumps(req.model_dump(mode="json")),
    )
    await eventually(lambda: any(e.get("user") == "UOUTBOX" for e in slack.ephemeral), 20, "the cost report")


async def test_after_the_last_attempt_the_thread_gets_one_failure_and_a_cross(
    db_url: str, slack: FakeSlack, scenario: Scenario, running_worker: None
) -> None:
    ts = f"{scenario.at:.6f}"
    status_ts = await _status_message(slack, ts)
    req = _request(scenario, ts, status_ts)
    await _row(
        db_url,
        "INSERT INTO investigation_jobs (key, payload, state, attempt, lease_owner, lease_until)"
        " VALUES ($1, $2::jsonb, 'running', 3, 'dead-host:1:abc', now() - interval '1 second')",
        req.thread.investigation_key,
        json.dumps(req.model_dump(mode="json")),
    )
    await eventually(lambda: (CHANNEL, ts, "x") in slack.reactions, 20, "a ❌ on the thread")
    await asyncio.sleep(1.0)  # the reconciler runs again: nothing more is said
    failures = [m for m in slack.thread(CHANNEL, ts) if "couldn't investigate" in m.text]
    assert len(failures) == 1 and "lost 3 times" in failures[0].text
    status = slack.messages[(CHANNEL, status_ts)]
    assert status.text.startswith("Investigation stopped")
    assert await _state(db_url, req.thread.investigation_key) == ("failed", 3)
    assert _verdicts(slack, ts) == []


async def test_a_job_whose_worker_died_before_taking_the_lease_is_enqueued_again(
    db_url: str, slack: FakeSlack, redis: ArqRedis, scenario: Scenario, running_worker: None
) -> None:
    ts = f"{scenario.at:.6f}"
    req = _request(scenario, ts, await _status_message(slack, ts))
    key = req.thread.investigation_key
    # A worker lost at attempt 1 was replaced by a retry job, which a second worker picked (ARQ marks it
    # in progress, for job timeout + 10 s) and died before its lease: the row is queued, its job "running".
    held = job_id(JobName.INVESTIGATE, f"{key}#2")
    await redis.enqueue_job(JobName.INVESTIGATE, req.model_dump(mode="json"), _job_id=held)
    await redis.set(in_progress_key_prefix + held, b"1", px=600_000)
    await _row(
        db_url,
        "INSERT INTO investigation_jobs (key, payload, state, attempt, arq_job_id, updated_at)"
        " VALUES ($1, $2::jsonb, 'queued', 1, $3, now() - interval '6 seconds')",
        key,
        json.dumps(req.model_dump(mode="json")),
        held,
    )
    await eventually(
        lambda: bool(_verdicts(slack, ts)), 60, "the verdict, long before ARQ's in-progress mark expires"
    )
    assert await _settled_state(db_url, key) == ("done", 2)
    assert len(_verdicts(slack, ts)) == 1


async def test_two_jobs_of_one_investigation_on_one_worker_run_it_once(
    db_url: str, slack: FakeSlack, redis: ArqRedis, scenario: Scenario, running_worker: None
) -> None:
    ts = f"{scenario.at:.6f}"
    req = _request(scenario, ts, await _status_message(slack, ts))
    key = req.thread.investigation_key
    # The edge's job and a reconciler's re-enqueue of it, picked by the same worker in one poll: the lease
    # would let the second in beside the first (it is the same owner), so the worker itself refuses it.
    for jid in (job_id(JobName.INVESTIGATE, key), job_id(JobName.INVESTIGATE, f"{key}#2.dup")):
        await redis.enqueue_job(JobName.INVESTIGATE, req.model_dump(mode="json"), _job_id=jid)
    await eventually(lambda: bool(_verdicts(slack, ts)), 60, "a verdict")
    # One attempt: the second job never took the lease.
    assert await _settled_state(db_url, key) == ("done", 1)
    assert len(_verdicts(slack, ts)) == 1
