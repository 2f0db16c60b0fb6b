"""Signed Slack events through the real Bolt app into real Redis: signatures, dedupe, mentions, replies."""

from __future__ import annotations

import time

import httpx
from arq.connections import ArqRedis
from arq.constants import default_queue_name
from arq.jobs import Job
from bot_testkit import SECRET, send

from compass_bot.app import Edge
from compass_testing import FakeSlack, event_request, mention_event, message_event
from compass_worker.contracts import InvestigateRequest, JobName, SlackThread, job_id
from compass_worker.slack.replies import THANKS_CORRECTION, THANKS_RESOLUTION

CHANNEL = "CINCIDENT"


async def queued(redis: ArqRedis) -> list[str]:
    return sorted(k.decode() for k in await redis.zrange(default_queue_name, 0, -1))


async def mention(
    http: httpx.AsyncClient, ts: str, text: str = "checkout p99 is spiking", **kw: object
) -> httpx.Response:
    return await send(http, event_request(SECRET, mention_event(CHANNEL, ts, text), **kw))  # type: ignore[arg-type]


async def test_forged_and_stale_signatures_are_refused_and_nothing_is_enqueued(
    http: httpx.AsyncClient, redis: ArqRedis, slack: FakeSlack
) -> None:
    body, headers = event_request(SECRET, mention_event(CHANNEL, "1700000000.000100", "db down"))
    forged = dict(headers, **{"X-Slack-Signature": "v0=" + "0" * 64})
    assert (await http.post("/slack/events", content=body, headers=forged)).status_code == 401
    wrong_secret = event_request("not-the-secret", mention_event(CHANNEL, "1700000000.000200", "db down"))
    assert (await send(http, wrong_secret)).status_code == 401
    stale_body, _ = event_request(SECRET, mention_event(CHANNEL, "1700000000.000300", "db down"))
    from compass_testing import sign

    stale = {
        "Content-Type": "application/json",
        **sign(SECRET, stale_body, timestamp=int(time.time()) - 6 * 60),
    }
    assert (await http.post("/slack/events", content=stale_body, headers=stale)).status_code == 401
    tampered = dict(headers)
    assert (await http.post("/slack/events", content=body + b" ", headers=tampered)).status_code == 401
    assert await queued(redis) == []
    assert await redis.keys("compass:*") == []
    assert slack.calls == []


async def test_mention_posts_status_in_thread_and_enqueues_one_job(
    http: httpx.AsyncClient, redis: ArqRedis, slack: FakeSlack
) -> None:
    ts = "1700000000.000100"
    resp = await mention(http, ts, "checkout p99 is spiking since 14:00")
    assert resp.status_code == 200  # how fast (Slack's 3 s) is benchmarks/edge_ack.py's business
    [status] = slack.thread(CHANNEL, ts)
    assert status.text.startswith("Investigating … 0 hypotheses")
    thread = SlackThread(channel=CHANNEL, thread_ts=ts)
    assert await queued(redis) == [job_id(JobName.INVESTIGATE, thread.investigation_key)]
    info = await Job(job_id(JobName.INVESTIGATE, thread.investigation_key), redis).info()
    assert info is not None and info.function == JobName.INVESTIGATE
    req = InvestigateRequest.model_validate(info.args[0])
    assert req.text == "checkout p99 is spiking since 14:00"  # the bot's own mention removed
    assert req.status_ts == status.ts and req.at == float(ts) and req.user == "UALICE"


async def test_retried_and_duplicate_deliveries_start_one_investigation(
    http: httpx.AsyncClient, redis: ArqRedis, slack: FakeSlack, edge: Edge
) -> None:
    ts = "1700000000.000200"
    event = mention_event(CHANNEL, ts, "payments errors")
    first = event_request(SECRET, event, event_id="Ev0001")
    assert (await send(http, first)).status_code == 200
    for retry in (1, 2):  # Slack's retries carry the same event id
        assert (
            await send(http, event_request(SECRET, event, event_id="Ev0001", retry_num=retry))
        ).status_code == 200
    # The same mention delivered again under another event id (Slack does that too) is also one investigation.
    assert (await send(http, event_request(SECRET, event, event_id="Ev0002"))).status_code == 200
    assert len(await queued(redis)) == 1
    assert len(slack.calls_to("chat.postMessage")) == 1
    metrics = (await http.get("/metrics")).text
    assert "compass_slack_duplicate_events_total 2.0" in metrics


async def test_own_and_other_bots_messages_are_ignored(
    http: httpx.AsyncClient, redis: ArqRedis, slack: FakeSlack
) -> None:
    ts = "1700000000.000300"
    await mention(http, ts)
    base = len(slack.calls)
    own = message_event(CHANNEL, "1700000001.000001", "no — it was the db", thread_ts=ts, user="UCOMPASS")
    other = message_event(
        CHANNEL, "1700000002.000001", "wrong: dns", thread_ts=ts, user=None, bot_id="BOTHER"
    )
    for event in (own, other):
        assert (await send(http, event_request(SECRET, event))).status_code == 200
    assert len(await queued(redis)) == 1  # only the investigation
    assert [c.method for c in slack.calls[base:]] in ([], ["auth.test"])


async def test_correction_then_resolution_then_question_then_chatter(
    http: httpx.AsyncClient, redis: ArqRedis, slack: FakeSlack
) -> None:
    ts = "1700000000.000400"
    await mention(http, ts)
    thread = SlackThread(channel=CHANNEL, thread_ts=ts)

    async def reply(text: str, n: int) -> None:
        event = message_event(CHANNEL, f"1700000100.00000{n}", text, thread_ts=ts, user="UBOB")
        assert (await send(http, event_request(SECRET, event))).status_code == 200

    await reply("no — it was the payments-db failover", 1)
    assert slack.thread(CHANNEL, ts)[-1].text == THANKS_CORRECTION
    await reply("we failed over payments-db to the replica", 2)
    assert slack.thread(CHANNEL, ts)[-1].text == THANKS_RESOLUTION
    await reply("did the 14:02 deploy touch payments?", 3)
    await reply("ok thanks all, closing the incident", 4)
    await send(
        http, event_request(SECRET, message_event(CHANNEL, "1700000200.000001", "did it break?"))
    )  # no thread
    names = [k.split(":", 1)[0] for k in await queued(redis)]
    assert sorted(names) == sorted(
        [JobName.INVESTIGATE, JobName.FEEDBACK, JobName.RESOLUTION, JobName.FOLLOW_UP]
    )
    fb = await Job(job_id(JobName.FEEDBACK, f"{thread.investigation_key}:1700000100.000001"), redis).info()
    assert fb is not None and fb.args[0]["kind"] == "correct" and "payments-db failover" in fb.args[0]["text"]
    assert [c.args.get("name") for c in slack.calls_to("reactions.add")] == ["eyes"]


async def test_replies_in_threads_compass_did_not_start_are_left_alone(
    http: httpx.AsyncClient, redis: ArqRedis, slack: FakeSlack
) -> None:
    event = message_event(CHANNEL, "1700000300.000002", "no — that's wrong", thread_ts="1700000300.000001")
    assert (await send(http, event_request(SECRET, event))).status_code == 200
    assert await queued(redis) == []
    assert slack.calls_to("chat.postMessage") == []


async def test_health_ready_and_metrics(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    assert (await http.get("/readyz")).status_code == 200
    text = (await http.get("/metrics")).text
    assert "compass_slack_ack_seconds" in text
