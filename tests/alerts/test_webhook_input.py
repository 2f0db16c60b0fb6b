"""Every kind of bad input gets a 4xx with its reason and writes nothing; good input is written before the
2xx; when Redis is away accepted alerts wait in the outbox and are enqueued once it returns."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest
from alerts_testkit import (
    AM_TOKEN,
    GRAFANA_SECRET,
    alert_body,
    bot_settings,
    post_alertmanager,
    reference_body,
)
from arq.connections import ArqRedis
from arq.constants import default_queue_name

from compass_bot.app import create_edge
from compass_bot.webhooks.auth import sign
from compass_testing import FakeSlack, RedisServer
from compass_worker.knowledge import KnowledgeStore

PROBLEM = "application/problem+json"


async def _alerts(store: KnowledgeStore) -> int:
    return int(await store.pool.fetchval("SELECT count(*) FROM alerts"))


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing or invalid credentials"),
        ({"Authorization": "Bearer wrong"}, "missing or invalid credentials"),
        ({"Authorization": f"Basic {AM_TOKEN}"}, "missing or invalid credentials"),
        ({"Authorization": "Bearer \u00e9\u00e9".encode("latin-1")}, "missing or invalid credentials"),
    ],
)
async def test_unauthenticated_bodies_are_refused_before_parsing(
    http: httpx.AsyncClient, store: KnowledgeStore, headers: dict[str, str | bytes], reason: str
) -> None:
    resp = await http.post("/webhooks/alertmanager", content=b"null", headers=headers)
    assert resp.status_code == 401 and resp.headers["content-type"] == PROBLEM
    assert reason in resp.json()["detail"]
    assert await _alerts(store) == 0


def _without_alerts() -> object:
    body = reference_body()
    body["alerts"] = []
    return body


def _second_alert_broken() -> object:
    body = reference_body()
    broken = dict(body["alerts"][0], startsAt="yesterday", fingerprint="bbbb")
    body["alerts"].append(broken)
    return body


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"null", "invalid body"),
        (b"{not json", "invalid body"),
        (b"\xff\xfe", "invalid body"),
        ([1, 2], "invalid body"),
        ({**reference_body(), "version": "3"}, "invalid version"),
        (_without_alerts(), "invalid alerts"),
        (_second_alert_broken(), "invalid alerts.1.startsAt"),
        ({**reference_body(), "alerts": [{"status": "exploded"}]}, "invalid alerts.0.status"),
        ({**reference_body(), "alerts": "many"}, "invalid alerts"),
        ({**reference_body(), "truncatedAlerts": -1}, "invalid truncatedAlerts"),
    ],
)
async def test_malformed_bodies_get_422_with_the_reason_and_nothing_is_half_written(
    http: httpx.AsyncClient, store: KnowledgeStore, body: object, reason: str
) -> None:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    resp = await http.post(
        "/webhooks/alertmanager", content=content, headers={"Authorization": f"Bearer {AM_TOKEN}"}
    )
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"] == PROBLEM and resp.json()["detail"].startswith(reason)
    assert await _alerts(store) == 0


async def test_hostile_text_is_cleaned_and_stored(http: httpx.AsyncClient, store: KnowledgeStore) -> None:
    body = alert_body(
        name="Evil\x00Alert",
        service="check\x07out",
        summary="a\x00b" * 100,
        starts_at=1.8e9,
        fingerprint="ab12",
    )
    resp = await post_alertmanager(http, body)
    assert resp.status_code == 202, resp.text
    row = await store.pool.fetchrow("SELECT name, labels->>'service' AS service, summary FROM alerts")
    assert row is not None and row["name"] == "EvilAlert" and row["service"] == "checkout"
    assert "\x00" not in row["summary"]


async def test_oversized_bodies_are_refused(http: httpx.AsyncClient, store: KnowledgeStore) -> None:
    resp = await http.post(
        "/webhooks/alertmanager",
        content=b"x" * (5 * 1024 * 1024),
        headers={"Authorization": f"Bearer {AM_TOKEN}"},
    )
    assert resp.status_code == 413 and await _alerts(store) == 0


async def test_grafana_accepts_an_hmac_signed_body_and_refuses_a_forged_one(
    http: httpx.AsyncClient, store: KnowledgeStore
) -> None:
    body = {
        **reference_body(),
        "version": "1",
        "orgId": 1,
        "title": "[FIRING:1] checkout",
        "state": "alerting",
    }
    raw = json.dumps(body).encode()
    forged = await http.post(
        "/webhooks/grafana", content=raw, headers={"X-Grafana-Alerting-Signature": sign("no", raw)}
    )
    assert forged.status_code == 401 and await _alerts(store) == 0
    ok = await http.post(
        "/webhooks/grafana", content=raw, headers={"X-Grafana-Alerting-Signature": sign(GRAFANA_SECRET, raw)}
    )
    assert ok.status_code == 202 and ok.json()["accepted"] == 1
    assert await store.pool.fetchval("SELECT source FROM alerts") == "grafana"
    # Alertmanager has no HMAC secret configured here, and Grafana's secret does not open it.
    assert (
        await http.post(
            "/webhooks/alertmanager", content=raw, headers={"X-Compass-Signature": sign(GRAFANA_SECRET, raw)}
        )
    ).status_code == 401


async def test_a_source_without_credentials_accepts_nothing(
    redis_server: RedisServer, slack: FakeSlack, db_url: str, redis: ArqRedis
) -> None:
    settings = bot_settings(redis_server.url, slack.base_url, db_url).model_copy(
        update={"alertmanager_token": None}
    )
    edge = create_edge(settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=edge.api), base_url="http://bot"
    ) as client:
        resp = await post_alertmanager(client, reference_body())
    assert resp.status_code == 404 and "not configured" in resp.json()["detail"]
    await edge.queue.redis.aclose()


async def test_redis_away_alerts_wait_in_the_outbox_then_are_enqueued_once(
    redis_server: RedisServer, slack: FakeSlack, db_url: str, redis: ArqRedis, store: KnowledgeStore
) -> None:
    # A bot whose Redis is unreachable (nothing listens on port 9): persisted, acknowledged, not queued.
    down = create_edge(bot_settings("redis://127.0.0.1:9/0", slack.base_url, db_url))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=down.api), base_url="http://bot"
    ) as client:
        resp = await post_alertmanager(client, reference_body())
    assert resp.status_code == 202 and resp.json() == {
        "received": 1,
        "accepted": 1,
        "duplicates": 0,
        "queued": 0,
    }
    assert await store.pool.fetchval("SELECT count(*) FROM alerts WHERE enqueued_at IS NULL") == 1
    assert await redis.zcard(default_queue_name) == 0
    await down.queue.redis.aclose()
    # Redis is back (a bot that reaches it): its drainer sends the waiting alert, exactly once.
    up = create_edge(bot_settings(redis_server.url, slack.base_url, db_url))
    assert up.alerting is not None
    async with up.alerting.running():
        inbox = await up.alerting.inbox()
        for _ in range(100):
            if await inbox.pending() == 0:
                break
            await asyncio.sleep(0.05)
        assert await inbox.pending() == 0
        assert await inbox.drain() == 0  # nothing left to send
    assert await redis.zcard(default_queue_name) == 1
    await up.queue.redis.aclose()


async def test_a_flood_of_refused_requests_logs_one_line_per_second_without_tracebacks(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="compass_bot.webhooks.routes"):
        for _ in range(50):
            assert (await http.post("/webhooks/alertmanager", content=b"x")).status_code == 401
    lines = [r for r in caplog.records if r.name == "compass_bot.webhooks.routes"]
    assert 1 <= len(lines) <= 3  # 50 refusals within a second or two
    assert lines[0].getMessage().startswith("webhook alertmanager refused: 401 ")
    assert all(r.exc_info is None for r in lines)
