"""Slack having a bad minute: 429s are waited out (Retry-After) and 5xx answers retried with back-off,
so the thread still gets every message, once."""

from __future__ import annotations

import json

import asyncpg
import pytest
from reliability_kit import CHANNEL, eventually

from compass_lab.model import Scenario
from compass_testing import FakeSlack
from compass_worker.contracts import InvestigateRequest, SlackThread

pytestmark = pytest.mark.slow


async def test_a_storm_of_429s_and_5xx_delays_the_thread_but_drops_nothing(
    db_url: str, slack: FakeSlack, scenario: Scenario, running_worker: None
) -> None:
    ts = f"{scenario.at:.6f}"
    req = InvestigateRequest(
        thread=SlackThread(channel=CHANNEL, thread_ts=ts), text=scenario.symptom, user="UALICE", at=float(ts)
    )
    slack.server_error("chat.postMessage", times=3)
    slack.rate_limit("chat.postMessage", times=3, retry_after=1)
    slack.server_error("chat.update", times=2, status=500)
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute(
            "INSERT INTO investigation_jobs (key, payload, updated_at)"
            " VALUES ($1, $2::jsonb, now() - interval '1 minute')",
            req.thread.investigation_key,
            json.dumps(req.model_dump(mode="json")),
        )
    finally:
        await conn.close()

    def verdicts() -> int:
        return sum(
            any(isinstance(b, dict) and b.get("type") == "actions" for b in m.blocks)
            for m in slack.thread(CHANNEL, ts)
        )

    await eventually(lambda: verdicts() >= 1, 90, "the verdict despite the storm")
    statuses = [m for m in slack.thread(CHANNEL, ts) if m.text.startswith(("Investigat", "Investigation"))]
    assert verdicts() == 1 and len(statuses) == 1
    posts = slack.calls_to("chat.postMessage")
    assert sorted(c.status for c in posts[:7]) == [200, 429, 429, 429, 503, 503, 503]  # each one retried
    assert statuses[0].text.startswith("Investigation finished")
