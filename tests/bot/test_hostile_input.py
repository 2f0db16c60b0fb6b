"""Validation before parsing: malformed, unsigned and hostile requests get a 4xx and one log line each
(rate-limited, never a traceback); signed bodies with fields of the wrong type never get a 5xx."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from arq.connections import ArqRedis
from arq.constants import default_queue_name
from arq.jobs import Job
from bot_testkit import SECRET, TOKEN, send

from compass_bot.app import create_edge
from compass_bot.guard import MAX_BODY_BYTES
from compass_bot.settings import BotSettings
from compass_testing import FakeSlack, action_request, event_request, mention_event, sign, slash_request
from compass_worker.contracts import InvestigateRequest, JobName, SlackThread, job_id

CHANNEL = "CINCIDENT"


def _signed(body: bytes, content_type: str = "application/json") -> dict[str, str]:
    return {"Content-Type": content_type, **sign(SECRET, body)}


def _no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert [r for r in caplog.records if r.exc_info] == []
    assert all("Traceback" not in r.getMessage() for r in caplog.records)


async def test_malformed_headers_and_unsigned_bodies_are_4xx_without_tracebacks(
    http: httpx.AsyncClient, redis: ArqRedis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    now = str(int(time.time()))
    cases: list[tuple[bytes, dict[str, str], int]] = [
        (b"null", {"Content-Type": "application/json"}, 401),  # unsigned
        (b"null", {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=" + "0" * 64}, 400),
        (b"{}", {"X-Slack-Request-Timestamp": "1e9", "X-Slack-Signature": "v0=" + "0" * 64}, 400),
        (b"{}", {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": "sha1=xyz"}, 401),
        (b"\xff\xfe", {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": "v0=" + "a" * 64}, 401),
    ]
    for body, headers, status in cases:
        resp = await http.post("/slack/events", content=body, headers=headers)
        assert resp.status_code == status, (body, headers, resp.text)
    # Signed, but not something Slack ever sends: still a 4xx, and Bolt never parses it.
    for body, ctype in [
        (b"null", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"{not json", "application/json"),
        (b"\xff\xfe\x00", "application/json"),
        (b"payload=%7Bnope", "application/x-www-form-urlencoded"),
        (b"payload=%5B%5D", "application/x-www-form-urlencoded"),
        (b"a=1&b=2", "application/x-www-form-urlencoded"),
    ]:
        resp = await http.post("/slack/events", content=body, headers=_signed(body, ctype))
        assert resp.status_code == 400, (body, resp.text)
    assert await redis.zcard(default_queue_name) == 0
    _no_tracebacks(caplog)


async def test_signed_fields_of_the_wrong_type_never_get_a_5xx(
    http: httpx.AsyncClient, redis: ArqRedis, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    odd_events: list[dict[str, object]] = [
        mention_event(CHANNEL, "abc", "db down"),  # ts: "abc"
        {**mention_event(CHANNEL, "1700000000.000100", "db down"), "text": 42},
        {**mention_event(CHANNEL, "1700000000.000100", "db down"), "channel": ["C1"]},
        {**mention_event("C1:evil", "1700000000.000100", "db down")},
        {**mention_event(CHANNEL, "1700000000.000100", "db down"), "thread_ts": {"x": 1}},
        {"type": "app_mention"},
    ]
    for event in odd_events:
        resp = await send(http, event_request(SECRET, event))  # type: ignore[arg-type]
        assert resp.status_code < 500, (event, resp.status_code)
    body = json.dumps({"type": "event_callback", "event_id": "Ev1", "event": "not an object"}).encode()
    assert (await http.post("/slack/events", content=body, headers=_signed(body))).status_code < 500
    for value in ["not-a-thread-key", "slack:C1", "slack:C1:abc", "", "slack:C:1:1700000000.1"]:
        resp = await send(http, action_request(SECRET, "compass_confirm", value, channel="C1"))
        assert 400 <= resp.status_code < 500, value
    assert await redis.zcard(default_queue_name) == 0
    _no_tracebacks(caplog)


async def test_hostile_text_is_cleaned_or_refused_with_a_message(
    http: httpx.AsyncClient, redis: ArqRedis, slack: FakeSlack
) -> None:
    ts = "1700000000.000100"
    resp = await send(http, event_request(SECRET, mention_event(CHANNEL, ts, "db\x00 is \x1b[31mdown\u2028")))
    assert resp.status_code == 200
    thread = SlackThread(channel=CHANNEL, thread_ts=ts)
    info = await Job(job_id(JobName.INVESTIGATE, thread.investigation_key), redis).info()
    assert info is not None
    assert InvestigateRequest.model_validate(info.args[0]).text == "db is [31mdown"
    # Too long to read: one answer in the thread saying so, nothing enqueued.
    long_ts = "1700000000.000200"
    resp = await send(http, event_request(SECRET, mention_event(CHANNEL, long_ts, "x" * 20_000)))
    assert resp.status_code == 200
    [refusal] = slack.thread(CHANNEL, long_ts)
    assert "too long" in refusal.text and "20,000" in refusal.text
    assert await redis.zcard(default_queue_name) == 1
    # A megabyte is refused before it is even hashed.
    huge = b"{" + b" " * MAX_BODY_BYTES + b"}"
    assert (await http.post("/slack/events", content=huge, headers=_signed(huge))).status_code == 413


async def test_a_chunked_body_is_cut_off_at_the_cap_not_read_whole(http: httpx.AsyncClient) -> None:
    sent = 0
    chunk = b" " * 65536

    async def endless() -> AsyncIterator[bytes]:  # no Content-Length: sent chunked, 64 MiB at most
        nonlocal sent
        for _ in range(1024):
            sent += 1
            yield chunk

    resp = await http.post("/slack/events", content=endless(), headers={"Content-Type": "application/json"})
    assert resp.status_code == 413
    assert sent <= MAX_BODY_BYTES // len(chunk) + 2  # stopped right after the first MiB
    # A chunked body under the cap is read whole and checked as usual (unsigned: 401).
    small = [b'{"type": ', b'"event_callback"}']

    async def short() -> AsyncIterator[bytes]:
        for part in small:
            yield part

    assert (await http.post("/slack/events", content=short())).status_code == 401


async def test_rejections_are_logged_one_line_each_and_rate_limited(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="compass_bot")
    for _ in range(200):
        assert (await http.post("/slack/events", content=b"null")).status_code == 401
    lines = [r.getMessage() for r in caplog.records if r.name == "compass_bot"]
    assert 1 <= len(lines) <= 10
    assert all("\n" not in line and line.startswith("rejected Slack request") for line in lines)
    metrics = (await http.get("/metrics")).text
    assert 'compass_slack_rejected_total{status="401"} 200.0' in metrics


async def test_readyz_and_status_degrade_when_redis_is_down(slack: FakeSlack) -> None:
    settings = BotSettings(
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=slack.base_url,
        redis_url="redis://127.0.0.1:1/0",  # nothing listens on port 1
    )
    edge = create_edge(settings)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=edge.api), base_url="http://b"
        ) as http:
            ready = await http.get("/readyz")
            assert ready.status_code == 503 and "redis" in ready.text
            status = await send(http, slash_request(SECRET, "status"))
            assert status.status_code == 200 and "Redis (the job queue) is unreachable" in status.text
    finally:
        await edge.queue.redis.aclose()
