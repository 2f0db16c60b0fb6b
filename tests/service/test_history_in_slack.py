"""Past investigations from Slack: a post-mortem draft in the thread, questions over past incidents,
and the slash commands for both — through the real bot, worker, Redis, PostgreSQL and the fake Slack."""

from __future__ import annotations

import json

import httpx
from arq.worker import Worker
from service_testkit import CHANNEL, SECRET, investigated, send

from compass_lab.model import Scenario
from compass_testing import FakeSlack, event_request, mention_event, slash_request
from compass_worker.knowledge import KnowledgeStore


def _body(slack: FakeSlack, channel: str, thread_ts: str) -> str:
    return json.dumps([m.blocks for m in slack.thread(channel, thread_ts)], ensure_ascii=False)


async def test_a_postmortem_draft_is_written_in_the_investigations_thread(
    http: httpx.AsyncClient, worker: Worker, slack: FakeSlack, scenario: Scenario, store: KnowledgeStore
) -> None:
    ts = await investigated(http, slack, scenario)
    before = len(slack.thread(CHANNEL, ts))
    event = mention_event(CHANNEL, "1773243900.000010", "<@UCOMPASS> write the post-mortem", thread_ts=ts)
    assert (await send(http, event_request(SECRET, event))).status_code == 200
    await slack.wait_for(lambda: len(slack.thread(CHANNEL, ts)) > before, 30, "the draft")
    draft = slack.thread(CHANNEL, ts)[-1]
    assert draft.text == f"Post-mortem (draft): {scenario.symptom}"
    body = json.dumps(draft.blocks, ensure_ascii=False)
    assert f"*{scenario.truth_component}*" in body and "Timeline" in body and "Action items" in body
    assert "explore?" in body  # evidence links survive as Slack links


async def test_questions_over_past_incidents_and_the_slash_commands(
    http: httpx.AsyncClient, worker: Worker, slack: FakeSlack, scenario: Scenario, store: KnowledgeStore
) -> None:
    ts = await investigated(http, slack, scenario)
    question = f"<@UCOMPASS> which incidents involved {scenario.truth_component} this month?"
    ask_ts = "1773243900.000020"
    assert (
        await send(http, event_request(SECRET, mention_event(CHANNEL, ask_ts, question)))
    ).status_code == 200
    await slack.wait_for(lambda: bool(slack.thread(CHANNEL, ask_ts)), 30, "the answer")
    answer = slack.thread(CHANNEL, ask_ts)[-1]
    assert answer.text.startswith(f"1 investigation(s) match: {scenario.truth_component}, this month")
    assert f"slack.com/archives/{CHANNEL}/p{ts.replace('.', '')}" in _body(slack, CHANNEL, ask_ts)
    # Not a new investigation: no status message, no verdict in that thread.
    assert len(slack.thread(CHANNEL, ask_ts)) == 1

    inv = await store.slack.investigation_for_thread(CHANNEL, ts)
    assert inv is not None
    resp = await send(http, slash_request(SECRET, f"postmortem {str(inv)[:8]}"))
    assert "Drafting the post-mortem" in resp.text
    await slack.wait_for(
        lambda: any(
            m.text.startswith("Post-mortem (draft)") and m.thread_ts is None for m in slack.messages.values()
        ),
        30,
        "the draft in the channel",
    )
    assert "Usage" in (await send(http, slash_request(SECRET, "postmortem"))).text
    await send(http, slash_request(SECRET, "postmortem ffff0000"))
    await slack.wait_for(
        lambda: any("can't draft that post-mortem" in m.text for m in slack.messages.values()),
        30,
        "a refusal",
    )
    # Somebody in another channel (another team) does not see this team's investigations.
    await send(http, slash_request(SECRET, f"ask {scenario.truth_component} incidents", channel="COTHER"))
    await slack.wait_for(lambda: any(m.channel == "COTHER" for m in slack.messages.values()), 30, "an answer")
    other = next(m for m in slack.messages.values() if m.channel == "COTHER")
    assert other.text.startswith("0 investigation(s) match")
