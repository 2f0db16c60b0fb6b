"""The REST API through its public HTTP interface: tokens and scopes, problem+json errors, incidents with
their alerts (made by the real webhook → worker path), pagination and filters, investigations with their
timeline, feedback that reaches the knowledge store through the worker."""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlsplit

import asyncpg
import httpx
from api_testkit import AM_TOKEN, create_token, seed_investigation
from arq.connections import ArqRedis

from compass_testing import FakeSlack, RedisServer
from compass_worker.alerts.settings import AlertSettings
from compass_worker.knowledge import KnowledgeStore
from compass_worker.knowledge.settings import EmbedderKind, KnowledgeSettings
from compass_worker.service.settings import ServiceSettings, WorkerConfig
from compass_worker.service.worker import build_worker, close_worker
from compass_worker.settings import Settings
from compass_worker.telemetry.config import parse_mcp_config

PROBLEM = "application/problem+json"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def run_worker(redis_server: RedisServer, slack: FakeSlack, db_url: str) -> None:
    """A real ARQ worker in burst mode: it runs what is queued, then returns (no telemetry needed here)."""
    config = WorkerConfig(
        service=ServiceSettings.model_validate(
            {
                "slack_bot_token": "xoxb-test-token",
                "slack_api_url": slack.base_url,
                "redis_url": redis_server.url,
            }
        ),
        engine=Settings(),
        knowledge=KnowledgeSettings(database_url=db_url, embedder=EmbedderKind.HASHING, auto_migrate=False),
        alerts=AlertSettings(),  # no channel: incidents are recorded, not announced
    )
    mcp = parse_mcp_config(
        json.dumps({"mcpServers": {"none": {"url": "http://127.0.0.1:9/mcp"}}}), {}, source="test"
    )
    worker = build_worker(config, mcp=mcp, handle_signals=False, burst=True)
    try:
        await worker.async_run()
    finally:
        await close_worker(worker)


def alert(name: str, service: str, fingerprint: str, severity: str, starts_at: str) -> dict[str, object]:
    labels = {"alertname": name, "service": service, "severity": severity}
    return {
        "version": "4",
        "status": "firing",
        "receiver": "compass",
        "groupKey": f"{{}}:{{alertname={name!r}}}",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {"summary": f"{name} on {service}"},
                "startsAt": starts_at,
                "fingerprint": fingerprint,
            }
        ],
    }


async def test_health_needs_no_token(http: httpx.AsyncClient) -> None:
    resp = await http.get("/api/v1/health")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "database": True, "redis": True, "alerts_in_outbox": 0}


async def test_tokens_scopes_and_problem_errors(
    http: httpx.AsyncClient,
    db_url: str,
    store: KnowledgeStore,
    redis: ArqRedis,
) -> None:
    inv = await seed_investigation(store)
    reader = await create_token(db_url, "read")
    giver = await create_token(db_url, "feedback")
    admin = await create_token(db_url, "admin")

    for headers in ({}, auth("cmp_not-a-token"), auth("garbage"), {"Authorization": "Basic abc"}):
        resp = await http.get("/api/v1/incidents", headers=headers)
        assert resp.status_code == 401 and resp.headers["content-type"] == PROBLEM, (headers, resp.text)
        assert resp.json()["status"] == 401 and resp.json()["title"] == "Unauthorized"

    assert (await http.get("/api/v1/incidents", headers=auth(reader))).status_code == 200
    feedback = {"kind": "confirm"}
    denied = await http.post(f"/api/v1/investigations/{inv}/feedback", json=feedback, headers=auth(reader))
    assert denied.status_code == 403 and "'feedback' scope" in denied.json()["detail"]
    assert (await http.get("/api/v1/incidents", headers=auth(giver))).status_code == 403  # feedback ≠ read

    # Admin makes and revokes tokens; a revoked token stops working at once.
    made = await http.post("/api/v1/tokens", json={"name": "ci", "scopes": ["read"]}, headers=auth(admin))
    assert made.status_code == 201
    new = made.json()
    assert (await http.get("/api/v1/patterns", headers=auth(new["token"]))).status_code == 200
    assert (await http.delete(f"/api/v1/tokens/{new['id']}", headers=auth(admin))).status_code == 204
    assert (await http.get("/api/v1/patterns", headers=auth(new["token"]))).status_code == 401
    assert (await http.delete(f"/api/v1/tokens/{new['id']}", headers=auth(admin))).status_code == 404
    refused = await http.post("/api/v1/tokens", json={"name": "x", "scopes": ["root"]}, headers=auth(admin))
    assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM

    # Bad input is a 4xx problem, never a 5xx.
    for path in (
        "/api/v1/incidents/not-a-uuid",
        "/api/v1/incidents?limit=0",
        "/api/v1/incidents?component=%00x",
    ):
        bad = await http.get(path, headers=auth(reader))
        assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM, path
    missing = await http.get(f"/api/v1/investigations/{uuid.uuid4()}", headers=auth(reader))
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    assert (await http.get("/api/v1/nowhere", headers=auth(reader))).headers["content-type"] == PROBLEM


async def test_incidents_with_alerts_paginated_and_filtered(
    http: httpx.AsyncClient,
    redis_server: RedisServer,
    slack: FakeSlack,
    db_url: str,
) -> None:
    reader = await create_token(db_url, "read")
    bodies = [
        alert("HighLatency", "checkout", "f1", "critical", "2026-11-21T09:00:00Z"),
        alert("DiskFull", "search-db", "f2", "warning", "2026-11-21T10:00:00Z"),
        alert("CertificateExpiring", "edge-gateway", "f3", "info", "2026-11-21T11:00:00Z"),
        alert("HighErrorRate", "checkout", "f4", "critical", "2026-11-21T09:02:00Z"),  # joins checkout's
    ]
    for body in bodies:
        resp = await http.post("/webhooks/alertmanager", json=body, headers=auth(AM_TOKEN))
        assert resp.status_code == 202
    await run_worker(redis_server, slack, db_url)

    page1 = (await http.get("/api/v1/incidents?limit=2", headers=auth(reader))).json()
    assert [i["title"] for i in page1["items"]] == [
        "CertificateExpiring on edge-gateway",
        "DiskFull on search-db",
    ]
    assert page1["next_offset"] == 2
    page2 = (await http.get("/api/v1/incidents?limit=2&offset=2", headers=auth(reader))).json()
    # Titled and classified after its earliest alert, whichever of the two a worker grouped first.
    assert [i["title"] for i in page2["items"]] == ["HighLatency on checkout"]
    assert page2["next_offset"] is None
    checkout = page2["items"][0]
    assert (checkout["severity"], checkout["alert_count"]) == ("critical", 2)
    assert checkout["category"] == "latency"

    by_category = (await http.get("/api/v1/incidents?category=security", headers=auth(reader))).json()
    assert [(i["component"], i["severity"]) for i in by_category["items"]] == [("edge-gateway", "low")]
    by_component = (await http.get("/api/v1/incidents?component=search-db", headers=auth(reader))).json()
    assert [i["category"] for i in by_component["items"]] == ["saturation"]

    detail = (await http.get(f"/api/v1/incidents/{checkout['id']}", headers=auth(reader))).json()
    assert [a["name"] for a in detail["alerts"]] == ["HighLatency", "HighErrorRate"]
    assert detail["alerts"][1]["labels"]["service"] == "checkout"
    # Why each alert is there (whichever a worker met first opened the incident); no investigation has
    # named a cause (this worker does not investigate).
    assert sorted(a["grouped_by"] for a in detail["alerts"]) == ["component", "new"]
    assert detail["cause_component"] is None


async def test_investigation_timeline_and_feedback_through_the_worker(
    http: httpx.AsyncClient,
    redis_server: RedisServer,
    slack: FakeSlack,
    db_url: str,
    store: KnowledgeStore,
) -> None:
    inv = await seed_investigation(store)
    token = await create_token(db_url, "read", "feedback")
    listed = (await http.get("/api/v1/investigations?status=completed", headers=auth(token))).json()
    assert [i["id"] for i in listed["items"]] == [str(inv)]
    assert listed["items"][0]["component"] == "payments-db" and listed["items"][0]["verdict"] == "root_cause"
    detail = (await http.get(f"/api/v1/investigations/{inv}", headers=auth(token))).json()
    assert [e["kind"] for e in detail["timeline"]] == ["started", "verdict", "finished"]
    assert detail["verdict_detail"]["root_causes"][0]["fault"] == "db_slow_queries"

    no_component = await http.post(
        f"/api/v1/investigations/{inv}/feedback", json={"kind": "correct"}, headers=auth(token)
    )
    assert no_component.status_code == 422
    body = {
        "kind": "correct",
        "component": "payments-api",
        "fault": "db_connection_pool_exhaustion",
        "note": "pool",
    }
    resp = await http.post(f"/api/v1/investigations/{inv}/feedback", json=body, headers=auth(token))
    assert resp.status_code == 202 and resp.json() == {"investigation_id": str(inv), "queued": True}
    await run_worker(redis_server, slack, db_url)
    [correction] = await store.feedback.corrections(inv)
    assert (correction.kind, correction.actual.component, correction.author) == (
        "corrected",
        "payments-api",
        "api:tester",
    )
    detail = (await http.get(f"/api/v1/investigations/{inv}", headers=auth(token))).json()
    assert detail["feedback"][0]["channel"] == "api" and detail["timeline"][-1]["kind"] == "feedback"


async def test_a_database_lost_after_start_is_a_503_not_a_500(
    http: httpx.AsyncClient, db_url: str, pg_uri: str
) -> None:
    token = await create_token(db_url, "read")
    assert (await http.get("/api/v1/incidents", headers=auth(token))).status_code == 200  # the pool is open
    admin = await asyncpg.connect(pg_uri)
    try:
        await admin.execute(f"DROP DATABASE {urlsplit(db_url).path.lstrip('/')} WITH (FORCE)")
    finally:
        await admin.close()
    for path in ("/api/v1/incidents", "/api/v1/costs"):
        resp = await http.get(path, headers=auth(token))
        assert resp.status_code == 503 and resp.headers["content-type"] == PROBLEM, resp.text
    health = (await http.get("/api/v1/health")).json()
    assert health["status"] == "degraded" and health["database"] is False
