"""Schemathesis against the served OpenAPI spec: generated requests for every operation (bounded), and
every response must be no server error, of a documented status, content type and schema."""

from __future__ import annotations

import asyncio

import httpx
import hypothesis
import schemathesis
from api_testkit import AM_TOKEN, ServerThread, create_token, seed_investigation
from hypothesis import HealthCheck, Phase
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from compass_worker.alerts.classify import classify
from compass_worker.alerts.grouping import DependencyGraph
from compass_worker.alerts.store import AlertIncidentStore, GroupingPolicy
from compass_worker.knowledge import HashingEmbedder, KnowledgeStore

MAX_EXAMPLES = 30  # per operation; the whole run stays well under a minute on two busy cores
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


async def seed_incident(base_url: str, store: KnowledgeStore) -> None:
    """One incident with an alert, so that list responses carry items whose schema gets checked."""
    body = {
        "version": "4",
        "status": "firing",
        "groupKey": "g",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "HighLatency", "service": "checkout", "severity": "critical"},
                "annotations": {"summary": "checkout p99 above 2s"},
                "startsAt": "2026-11-21T09:54:54.391Z",
                "fingerprint": "ff22eb4ea0ff7a6f",
            }
        ],
    }
    async with httpx.AsyncClient(base_url=base_url) as client:
        resp = await client.post(
            "/webhooks/alertmanager", json=body, headers={"Authorization": f"Bearer {AM_TOKEN}"}
        )
    assert resp.status_code == 202
    incidents = AlertIncidentStore(store.pool, HashingEmbedder())
    alert = await incidents.alert(int(await store.pool.fetchval("SELECT id FROM alerts")))
    assert alert is not None
    policy = GroupingPolicy(window_s=900, similarity=0.85, graph=DependencyGraph({}))
    await incidents.assign(
        alert, policy, lambda a: classify(a.name, a.summary, a.labels, a.annotations), lambda _: None
    )


def fuzz(base_url: str, token: str) -> tuple[int, list[str]]:
    """(operations tested, failures) — every failure as one line naming the operation."""
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @hypothesis.settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis.given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(
                base_url=f"{base_url}/api/v1", headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
            )

        try:
            check()
        except Exception as exc:  # a check failed: keep going, report every operation's first failure
            failures.append(
                f"{operation.label}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
            )
    return operations, failures


async def test_generated_requests_get_no_server_error_and_match_the_schema(
    server: ServerThread, db_url: str, store: KnowledgeStore
) -> None:
    token = await create_token(db_url, "admin")
    await seed_investigation(store)
    await seed_incident(server.url, store)
    operations, failures = await asyncio.to_thread(fuzz, server.url, token)
    assert operations >= 10
    assert failures == []
