"""Signed app_mention → bot → Redis → ARQ worker → engine (lab via mcp-grafana) → the fake Slack thread."""

from __future__ import annotations

import asyncio

import httpx
from arq.worker import Worker
from service_testkit import CHANNEL, SECRET, investigated, mention, send, verdicts

from compass_lab.model import Scenario
from compass_testing import FakeSlack, event_request, mention_event
from compass_worker.knowledge import KnowledgeStore
from compass_worker.slack.blocks import escape


async def test_mention_streams_status_findings_and_one_verdict_into_the_thread(
    http: httpx.AsyncClient, worker: Worker, slack: FakeSlack, scenario: Scenario, store: KnowledgeStore
) -> None:
    ts = await investigated(http, slack, scenario)
    thread = slack.thread(CHANNEL, ts)
    status = thread[0]
    # The bot's status message, kept up to date in place by the worker, ends as a summary.
    assert status.updates >= 2 and status.text.startswith("Investigation finished")
    assert all(c.args.get("ts") == status.ts for c in slack.calls_to("chat.update"))
    inv_id = await store.slack.investigation_for_thread(CHANNEL, ts)
    assert inv_id is not None
    stored = await store.investigations.verdict(inv_id)
    assert stored is not None and stored.confident
    top = stored.root_causes[0]
    findings = [m.text for m in thread if m.text.startswith(":mag:")]
    assert findings and findings[0].startswith(f":mag: Leading hypothesis: *{top.component} · {top.fault}*")
    [verdict] = verdicts(thread)
    assert verdict is thread[-1]
    body = "\n".join(str(b) for b in verdict.blocks)
    assert verdict.text == f"Root cause: {top.component} · {top.fault} ({top.confidence:.0%})"
    assert body.count("open in Grafana") >= 3 and "/explore?" in body  # every evidence line links
    assert stored.eliminated and f"Eliminated ({len(stored.eliminated)})" in body
    assert escape(stored.eliminated[0].reason) in body  # eliminated, and why
    assert all(escape(gap) in body for gap in stored.gaps)  # gaps are said, not hidden
    assert {"compass_confirm", "compass_wrong"} <= {
        e["action_id"] for b in verdict.blocks if b.get("type") == "actions" for e in b["elements"]
    }
    assert await store.slack.status_message(CHANNEL, ts) == status.ts


async def test_retried_delivery_during_the_investigation_starts_nothing_new(
    http: httpx.AsyncClient, worker: Worker, slack: FakeSlack, scenario: Scenario, store: KnowledgeStore
) -> None:
    ts = await mention(http, scenario, event_id="EvRETRY1")
    event = mention_event(CHANNEL, ts, scenario.symptom)
    await asyncio.sleep(0.3)  # the worker is investigating now
    for n in (1, 2):
        retry = event_request(SECRET, event, event_id="EvRETRY1", retry_num=n)
        assert (await send(http, retry)).status_code == 200
    await slack.wait_for(lambda: bool(verdicts(slack.thread(CHANNEL, ts))), 60, "a verdict")
    await asyncio.sleep(0.5)  # give a (wrong) second job time to show itself
    assert len(verdicts(slack.thread(CHANNEL, ts))) == 1
    assert await store.pool.fetchval("SELECT count(*) FROM investigations") == 1
    assert await store.pool.fetchval("SELECT attempts FROM investigations") == 1
