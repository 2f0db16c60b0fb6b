"""A real Alertmanager webhook body → the bot (persist, enqueue) → the worker (group, classify, route) →
a root message in the routed channel, an investigation streaming into its thread, a verdict. Then the same
alert again (absorbed), a related alert (attaches), and the resolve (the thread is told)."""

from __future__ import annotations

import asyncio

import httpx
from alerts_testkit import CHANNEL, SIGNING_SECRET, alert_body, post_alertmanager, roots, verdicts
from arq.worker import Worker

from compass_bot.api.auth import create_token
from compass_bot.app import Edge
from compass_lab.model import Scenario
from compass_testing import FakeSlack, event_request, message_event
from compass_worker.contracts import FAULT_CATEGORIES
from compass_worker.knowledge import KnowledgeStore


async def test_alert_to_incident_investigation_verdict_then_duplicate_related_and_resolve(
    http: httpx.AsyncClient,
    edge: Edge,
    worker: Worker,
    slack: FakeSlack,
    scenario: Scenario,
    store: KnowledgeStore,
) -> None:
    first = alert_body(
        name="HighRequestLatency",
        service=scenario.symptom_component,
        summary=scenario.symptom,
        starts_at=scenario.at,
        fingerprint="aaaa000000000001",
    )
    resp = await post_alertmanager(http, first)
    assert resp.status_code == 202, resp.text
    assert resp.json() == {"received": 1, "accepted": 1, "duplicates": 0, "queued": 1}

    # One root message in the routed channel, then the investigation's thread under it, ending in a verdict.
    await slack.wait_for(lambda: len(roots(slack)) == 1, 30, "the incident's root message")
    [root] = roots(slack)
    assert root.text.startswith(
        ":red_circle: *CRITICAL* · latency · firing on *" + scenario.symptom_component
    )
    await slack.wait_for(
        lambda: bool(verdicts(slack.thread(CHANNEL, root.ts))), 90, "a verdict in the thread"
    )
    thread = slack.thread(CHANNEL, root.ts)
    assert thread[0].text.startswith("Investigation finished")  # the status message, updated in place
    [verdict] = verdicts(thread)
    inv_id = await store.slack.investigation_for_thread(CHANNEL, root.ts)
    assert inv_id is not None
    stored = await store.investigations.verdict(inv_id)
    assert stored is not None and verdict.text.startswith("Root cause:" if stored.confident else "")
    assert await store.pool.fetchval("SELECT trigger FROM investigations WHERE id = $1", inv_id) == "alert"

    # The REST API shows the incident with its investigation; the verdict's fault gives its evidence category.
    assert edge.alerting is not None
    _, token = await create_token(await edge.alerting.pool.get(), "flow", ["read"], "test")
    [listed] = (await http.get("/api/v1/incidents", headers={"Authorization": f"Bearer {token}"})).json()[
        "items"
    ]
    assert listed["investigation_id"] == str(inv_id) and listed["slack_thread_ts"] == root.ts
    fault = stored.root_causes[0].fault  # the showcase scenario has a root cause
    assert (listed["verdict_fault"], listed["evidence_category"]) == (fault, FAULT_CATEGORIES[fault])
    # The verdict named the incident's cause: later alerts are grouped against it.
    cause = await store.pool.fetchval("SELECT cause_component FROM alert_incidents")
    assert cause == (stored.root_causes[0].component if stored.confident else None)

    # The alert's thread is a thread like a mention's: a reply there is a correction, recorded by the worker.
    snapshot = await store.investigations.snapshot(inv_id)
    other = next(h.component for h in snapshot.hypotheses if h.component != stored.root_causes[0].component)
    reply = message_event(
        CHANNEL, "1900000000.000001", f"no — it was the {other} failover", thread_ts=root.ts
    )
    resp = await http.post(
        "/slack/events", content=(req := event_request(SIGNING_SECRET, reply))[0], headers=req[1]
    )
    assert resp.status_code == 200
    cause_of = "SELECT cause_component FROM alert_incidents"
    for _ in range(300):  # the worker records the correction, then pins the incident to it
        if await store.feedback.corrections(inv_id) and await store.pool.fetchval(cause_of) == other:
            break
        await asyncio.sleep(0.05)
    [correction] = await store.feedback.corrections(inv_id)
    assert correction.actual.component == other and correction.wrong is not None
    assert await store.pool.fetchval(cause_of) == other  # the engineer's word replaces the verdict's

    # The same alert again (Alertmanager's repeat_interval): absorbed, nothing new anywhere.
    again = await post_alertmanager(http, first)
    assert again.status_code == 202 and again.json()["duplicates"] == 1 and again.json()["accepted"] == 0
    assert await store.pool.fetchval("SELECT count(*) FROM alerts") == 1

    # A related alert (same component, another rule) joins the running incident: no new root, no new
    # investigation; the thread says so and the root message counts it.
    related = alert_body(
        name="HighErrorRate",
        service=scenario.symptom_component,
        summary=f"{scenario.symptom_component} 5xx ratio above 5%",
        starts_at=scenario.at + 60,
        fingerprint="aaaa000000000002",
        severity="warning",
    )
    assert (await post_alertmanager(http, related)).status_code == 202
    await slack.wait_for(
        lambda: any(
            m.text.startswith(":link: 1 related alert joined") for m in slack.thread(CHANNEL, root.ts)
        ),
        15,
        "the related alert in the thread",
    )
    assert len(roots(slack)) == 1
    assert "2 alerts" in roots(slack)[0].text
    assert await store.pool.fetchval("SELECT count(*) FROM alert_incidents") == 1
    assert await store.pool.fetchval("SELECT count(*) FROM investigations") == 1
    assert await store.pool.fetchval(
        "SELECT grouped_by FROM alerts WHERE fingerprint = 'aaaa000000000002'"
    ) == ("component")

    # Both resolve: the incident resolves and its thread is told, once.
    for body, fp in ((first, "aaaa000000000001"), (related, "aaaa000000000002")):
        resolved = alert_body(
            name=body["commonLabels"]["alertname"],
            service=scenario.symptom_component,
            summary=body["commonAnnotations"]["summary"],
            starts_at=scenario.at if fp.endswith("1") else scenario.at + 60,
            fingerprint=fp,
            status="resolved",
        )
        resp = await post_alertmanager(http, resolved)
        assert resp.status_code == 202 and resp.json()["accepted"] == 1
    await slack.wait_for(
        lambda: any(":white_check_mark: All 2 alert(s)" in m.text for m in slack.thread(CHANNEL, root.ts)),
        15,
        "the resolution in the thread",
    )
    await asyncio.sleep(2.5)  # a second (wrong) resolution message would show by now
    assert sum(":white_check_mark: All" in m.text for m in slack.thread(CHANNEL, root.ts)) == 1
    assert "· resolved" in roots(slack)[0].text
    assert await store.pool.fetchval("SELECT status FROM alert_incidents") == "resolved"
