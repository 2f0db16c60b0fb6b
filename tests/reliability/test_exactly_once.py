"""Exactly-once posting: every message COMPASS posts carries its part in Slack message metadata, so a
retry that lost the message's ts (the worker died between chat.postMessage and recording it, or Redis
restarted) finds it with conversations.replies and updates it instead of posting it again."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest
from arq.connections import ArqRedis
from reliability_kit import CHANNEL, eventually

from compass_lab.model import Scenario
from compass_testing import FakeSlack
from compass_worker.contracts import InvestigateRequest, RedisKeys, SlackThread

pytestmark = pytest.mark.slow


def _verdicts(slack: FakeSlack, ts: str) -> list[str]:
    return [
        m.ts
        for m in slack.thread(CHANNEL, ts)
        if any(isinstance(b, dict) and b.get("type") == "actions" for b in m.blocks)
    ]


async def _sql(db_url: str, sql: str, *args: object) -> object:
    conn = await asyncpg.connect(db_url)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


async def test_a_retry_that_lost_the_ledger_updates_the_posted_messages_instead_of_reposting(
    db_url: str, redis: ArqRedis, slack: FakeSlack, scenario: Scenario, running_worker: None
) -> None:
    ts = f"{scenario.at:.6f}"
    thread = SlackThread(channel=CHANNEL, thread_ts=ts)
    req = InvestigateRequest(thread=thread, text=scenario.symptom, user="UALICE", at=float(ts))
    key = thread.investigation_key
    await _sql(
        db_url,
        "INSERT INTO investigation_jobs (key, payload, updated_at)"
        " VALUES ($1, $2::jsonb, now() - interval '1 minute')",
        key,
        json.dumps(req.model_dump(mode="json")),
    )
    await eventually(lambda: bool(_verdicts(slack, ts)), 60, "the first verdict")
    await eventually(
        lambda: _sql(db_url, "SELECT state = 'done' FROM investigation_jobs WHERE key = $1", key), 10, "done"
    )
    [verdict_ts] = _verdicts(slack, ts)
    posted = len(slack.calls_to("chat.postMessage"))
    # The double-post window: the messages are in Slack, but their ts are nowhere in Redis, and the
    # investigation is handed to another worker as if the first had died before recording them.
    await redis.delete(RedisKeys.messages(key))
    await _sql(
        db_url,
        "UPDATE investigation_jobs SET state = 'running', lease_owner = 'dead:1:x',"
        " lease_until = now() - interval '1 second' WHERE key = $1",
        key,
    )
    await eventually(
        lambda: _sql(
            db_url, "SELECT attempt = 2 AND state = 'done' FROM investigation_jobs WHERE key = $1", key
        ),
        60,
        "the second attempt to finish",
    )
    await asyncio.sleep(0.5)
    assert _verdicts(slack, ts) == [verdict_ts]
    assert len(slack.calls_to("chat.postMessage")) == posted  # nothing posted again
    assert slack.messages[(CHANNEL, verdict_ts)].updates >= 1  # the same verdict, updated in place
    replies = slack.calls_to("conversations.replies")
    assert replies and all(str(c.args.get("include_all_metadata")).lower() in {"1", "true"} for c in replies)


async def test_the_edges_status_message_is_adopted_even_when_its_ts_never_reached_the_worker(
    db_url: str, slack: FakeSlack, scenario: Scenario, running_worker: None
) -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    from compass_worker.contracts import MessageTag
    from compass_worker.slack import initial_status

    ts = f"{scenario.at:.6f}"
    thread = SlackThread(channel=CHANNEL, thread_ts=ts)
    # The edge posted its tagged status message, then died before recording its ts in the payload.
    text, blocks = initial_status()
    tag = MessageTag(investigation=thread.investigation_key, part="status")
    client = AsyncWebClient(token=slack.token, base_url=slack.base_url)
    posted = await client.chat_postMessage(
        channel=CHANNEL, thread_ts=ts, text=text, blocks=blocks, metadata=tag.metadata()
    )
    req = InvestigateRequest(thread=thread, text=scenario.symptom, user="UALICE", at=float(ts))
    await _sql(
        db_url,
        "INSERT INTO investigation_jobs (key, payload, updated_at)"
        " VALUES ($1, $2::jsonb, now() - interval '1 minute')",
        thread.investigation_key,
        json.dumps(req.model_dump(mode="json")),
    )
    await eventually(lambda: bool(_verdicts(slack, ts)), 60, "the verdict")
    statuses = [m for m in slack.thread(CHANNEL, ts) if m.text.startswith(("Investigat", "Investigation"))]
    assert [m.ts for m in statuses] == [posted["ts"]]
    assert statuses[0].text.startswith("Investigation finished")
