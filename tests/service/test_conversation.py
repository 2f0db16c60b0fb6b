"""Talking to COMPASS in the thread after the verdict: corrections, resolutions, buttons, follow-ups,
`/compass`."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import httpx
from arq.worker import Worker
from service_testkit import CHANNEL, SECRET, investigated, reply, send

from compass_lab.model import Scenario
from compass_testing import FakeSlack, action_request, slash_request, view_submission_request
from compass_worker.contracts import SlackThread
from compass_worker.knowledge import Cause, KnowledgeStore, LlmCall
from compass_worker.knowledge.records import CorrectionKind
from compass_worker.slack.replies import THANKS_CONFIRM, THANKS_CORRECTION, THANKS_RESOLUTION


async def _wait_rows(store: KnowledgeStore, sql: str, n: int, slack: FakeSlack) -> None:
    """The worker records asynchronously: wait (bounded) until `sql` counts `n` rows."""
    for _ in range(500):
        if int(await store.pool.fetchval(sql)) >= n:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"expected {n} rows from {sql!r}; Slack calls: {[c.method for c in slack.calls]}")


async def test_correction_is_recorded_acknowledged_and_the_next_reply_is_the_resolution(
    http: httpx.AsyncClient, worker: Worker, slack: FakeSlack, scenario: Scenario, store: KnowledgeStore
) -> None:
    ts = await investigated(http, slack, scenario)
    inv_id = await store.slack.investigation_for_thread(CHANNEL, ts)
    assert inv_id is not None
    snapshot = await store.investigations.snapshot(inv_id)
    assert snapshot.verdict is not None
    top = snapshot.verdict.root_causes[0]
    other = next(h.component for h in snapshot.hypotheses if h.component != top.component)
    await reply(http, ts, "1773243900.000001", f"no — it was the {other} failover")
    assert slack.thread(CHANNEL, ts)[-1].text == THANKS_CORRECTION
    await reply(http, ts, "1773243900.000002", f"we failed {other} over to the standby region")
    assert slack.thread(CHANNEL, ts)[-1].text == THANKS_RESOLUTION
    await _wait_rows(store, "SELECT count(*) FROM resolutions", 1, slack)
    await _wait_rows(store, "SELECT count(*) FROM corrections", 1, slack)
    [correction] = await store.feedback.corrections(inv_id)
    assert correction.kind is CorrectionKind.CORRECTED and correction.author == "UBOB"
    assert correction.actual == Cause(component=other, fault="dependency_outage")
    assert correction.wrong == Cause(component=top.component, fault=top.fault)
    assert correction.note == f"no — it was the {other} failover"
    text = await store.pool.fetchval("SELECT text FROM resolutions WHERE investigation_id = $1", inv_id)
    assert text == f"we failed {other} over to the standby region"


async def test_buttons_confirm_and_the_wrong_modal_records_a_correction(
    http: httpx.AsyncClient, worker: Worker, slack: FakeSlack, scenario: Scenario, store: KnowledgeStore
) -> None:
    ts = await investigated(http, slack, scenario)
    key = SlackThread(channel=CHANNEL, thread_ts=ts).investigation_key
    assert (
        await send(http, action_request(SECRET, "compass_confirm", key, channel=CHANNEL))
    ).status_code == 200
    assert slack.thread(CHANNEL, ts)[-1].text == THANKS_CONFIRM
    await _wait_rows(store, "SELECT count(*) FROM corrections", 1, slack)
    # ❌ opens the modal; submitting it is a correction, followed by the resolution question.
    assert (
        await send(http, action_request(SECRET, "compass_wrong", key, channel=CHANNEL))
    ).status_code == 200
    [opened] = slack.views
    view = opened["view"]
    assert isinstance(view, dict) and view["callback_id"] == "compass_correction"
    values = {
        "component": "checkout",
        "fault": "db_connection_pool_exhaustion",
        "note": "pool of 10 was full",
    }
    submit = view_submission_request(SECRET, "compass_correction", str(view["private_metadata"]), values)
    assert (await send(http, submit)).status_code == 200
    assert slack.thread(CHANNEL, ts)[-1].text == THANKS_CORRECTION
    await _wait_rows(store, "SELECT count(*) FROM corrections", 2, slack)
    inv_id = await store.slack.investigation_for_thread(CHANNEL, ts)
    assert inv_id is not None
    confirmed, corrected = await store.feedback.corrections(inv_id)
    verdict = await store.investigations.verdict(inv_id)
    assert verdict is not None
    assert confirmed.kind is CorrectionKind.CONFIRMED
    assert confirmed.actual == Cause(
        component=verdict.root_causes[0].component, fault=verdict.root_causes[0].fault
    )
    assert corrected.actual == Cause(component="checkout", fault="db_connection_pool_exhaustion")
    assert corrected.note == "pool of 10 was full"


async def test_follow_up_question_is_answered_with_evidence(
    http: httpx.AsyncClient, worker: Worker, slack: FakeSlack, scenario: Scenario, store: KnowledgeStore
) -> None:
    ts = await investigated(http, slack, scenario)
    inv_id = await store.slack.investigation_for_thread(CHANNEL, ts)
    assert inv_id is not None
    snapshot = await store.investigations.snapshot(inv_id)
    deployed = next(h for h in snapshot.hypotheses if h.fault == "bad_deploy" and h.evidence)
    before = len(slack.thread(CHANNEL, ts))
    question = f"did the deploy touch {deployed.component}?"
    await reply(http, ts, "1773243900.000003", question)
    await slack.wait_for(lambda: len(slack.thread(CHANNEL, ts)) > before, 30, "an answer")
    answer = slack.thread(CHANNEL, ts)[-1]
    body = json.dumps(answer.blocks, ensure_ascii=False)
    assert answer.text.startswith(f"About “{question}”")
    assert f"{deployed.component} · bad_deploy* — {deployed.status.value}" in body
    assert "open in Grafana" in body  # the evidence, with its link
    # A question about nothing this investigation knows gets an honest answer, not a guess.
    await reply(http, ts, "1773243900.000004", "what about the flux capacitor?")
    await slack.wait_for(lambda: "can't tell which component" in slack.thread(CHANNEL, ts)[-1].text, 30)


async def test_slash_compass_cost_status_and_help(
    http: httpx.AsyncClient, worker: Worker, slack: FakeSlack, store: KnowledgeStore
) -> None:
    resp = await send(http, slash_request(SECRET, "cost 7d"))
    assert resp.status_code == 200 and "Working out the costs for 7d" in resp.text
    await slack.wait_for(lambda: len(slack.ephemeral) == 1, 15, "the cost report")
    report = json.dumps(slack.ephemeral[0])
    assert "No LLM is configured" in report and "$0.0000" in report
    await store.costs.record(
        LlmCall(
            investigation_id=None,
            phase="orient",
            provider="anthropic",
            model="claude-test",
            tokens_in=1200,
            tokens_out=300,
            usd=Decimal("0.0123"),
            latency_ms=900,
        )
    )
    await send(http, slash_request(SECRET, "cost", user="UADMIN"))  # an admin sees the organisation
    await slack.wait_for(lambda: len(slack.ephemeral) == 2, 15, "the second cost report")
    report = json.dumps(slack.ephemeral[1])
    assert "claude-test" in report and "$0.0123" in report and "orient" in report
    assert "No LLM is configured" not in report
    await send(http, slash_request(SECRET, "cost", user="UALICE"))  # anyone else: their channel's team
    await slack.wait_for(lambda: len(slack.ephemeral) == 3, 15, "the scoped cost report")
    scoped = json.dumps(slack.ephemeral[2])
    assert "claude-test" not in scoped and "$0.0000" in scoped and f"team {CHANNEL}" in scoped
    # The report is posted before its job is marked done: give the worker a moment to finish it.
    for _ in range(50):
        status = await send(http, slash_request(SECRET, "status"))
        if "queue depth: 0" in status.text:
            break
        await asyncio.sleep(0.1)
    assert "queue depth: 0" in status.text and "workers alive" in status.text
    assert "/compass cost" in (await send(http, slash_request(SECRET, "help"))).text
    assert "Usage" in (await send(http, slash_request(SECRET, "cost yesterday"))).text


async def test_a_correction_outside_the_incident_is_asked_about_not_stored(
    http: httpx.AsyncClient, worker: Worker, slack: FakeSlack, scenario: Scenario, store: KnowledgeStore
) -> None:
    ts = await investigated(http, slack, scenario)
    await reply(http, ts, "1773243900.000001", "no — it was the billing-ledger failover")
    await slack.wait_for(
        lambda: any("haven't recorded it" in m.text for m in slack.thread(CHANNEL, ts)),
        15,
        "the question back",
    )
    [question] = [m.text for m in slack.thread(CHANNEL, ts) if "haven't recorded it" in m.text]
    assert "`billing-ledger`" not in question and "couldn't tell which component" in question
    meta = json.dumps({"channel": CHANNEL, "thread_ts": ts})
    values = {"component": "Not-A-Component", "fault": "dns_failure"}
    await send(http, view_submission_request(SECRET, "compass_correction", meta, values))
    await slack.wait_for(
        lambda: any("`not-a-component` is not one of" in m.text for m in slack.thread(CHANNEL, ts)),
        15,
        "the question back about the modal's component",
    )
    assert await store.pool.fetchval("SELECT count(*) FROM corrections") == 0
