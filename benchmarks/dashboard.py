"""Benchmark: dashboard page render times with 10,000 investigations in the store (goal: each < 200 ms).

Not a test: it prints figures. Loads N synthetic investigations (incidents, verdicts, Slack threads, a cost
ledger of 2 calls per investigation, confirmed signatures) into a throw-away PostgreSQL + pgvector, then
renders each page through the real ASGI app (login, session cookie, templates, SVG) with httpx — the
whole server-side time of a request, network excluded. The Health page is left out: it times the checked
services (Redis, MCP servers, Slack, LLM), not the dashboard.

    .venv/bin/python benchmarks/dashboard.py [--n 10000] [--runs 30]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
import numpy as np
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compass_bot.settings import BotSettings
from compass_bot.ui import mount_ui
from compass_bot.ui.settings import UiSettings
from compass_bot.ui.store import LazyStore
from compass_testing import postgres_for_tests
from compass_worker.domain import Check, Evidence, Hypothesis, Incident, Verdict
from compass_worker.domain.models import Eliminated, RootCause
from compass_worker.knowledge import HashingEmbedder, KnowledgeStore, migrate
from compass_worker.knowledge.database import create_pool
from compass_worker.knowledge.settings import DEFAULT_MIGRATIONS_DIR

TOKEN = "bench-token-0123456789abcdef"
SERVICES = ["checkout", "payments", "payments-db", "cart", "edge-gateway", "search", "catalog", "fulfillment"]
FAULTS = ["db_slow_queries", "bad_deploy", "cpu_saturation", "memory_leak", "dependency_latency", "disk_full"]
MODELS = ["claude-haiku-4-5", "claude-sonnet-4-5", "gpt-4.1-mini", "llama3.1:8b"]
PHASES = ["orient", "decide", "summarize"]


def verdict_for(incident: Incident, component: str, fault: str) -> Verdict:
    evidence = tuple(
        Evidence(
            source="prometheus",
            query=f'histogram_quantile(0.95, rate(http_server_duration_bucket{{service="{component}"}}[2m]))',
            observation=f"{component}: p95 {100 + i * 50} ms → {900 + i * 80} ms",
            link=f"https://grafana.example.com/explore?q={i}",
            value=900.0 + i * 80,
        )
        for i in range(4)
    )
    return Verdict(
        verdict="root_cause",
        incident=incident,
        root_causes=(
            RootCause(component=component, fault=fault, confidence=0.9, summary="…", evidence=evidence),
        ),
        eliminated=tuple(
            Eliminated(component=s, fault="bad_deploy", reason="no rollout") for s in SERVICES[:5]
        ),
        gaps=("no node exporter for payments-db",),
    )


async def load(conn: asyncpg.Connection, n: int) -> None:
    rng = random.Random(7)
    now = datetime.now(UTC)
    await conn.execute("INSERT INTO teams (id, name) VALUES ('payments', 'payments')")
    incidents, investigations, verdicts, threads, calls, avoided = [], [], [], [], [], []
    for i in range(n):
        service, fault = rng.choice(SERVICES), rng.choice(FAULTS)
        started = now - timedelta(minutes=rng.randrange(90 * 24 * 60))
        incident = Incident(
            symptom=f"{service} p99 latency above 2s #{i}", service=service, at=started.timestamp()
        )
        inc_id, inv_id = uuid.uuid4(), uuid.uuid4()
        status = rng.choices(["completed", "failed", "running"], weights=[90, 7, 3])[0]
        incidents.append((inc_id, incident.symptom, service, "latency", started, "team", None, "payments"))
        investigations.append(
            (
                inv_id,
                inc_id,
                f"bench:{i}",
                "slack_thread",
                None,
                "bench",
                incident.model_dump_json(),
                status,
                1,
                started,
                started + timedelta(seconds=40) if status != "running" else None,
            )
        )
        if status == "completed":
            v = verdict_for(incident, service, fault)
            verdicts.append((inv_id, "root_cause", service, fault, 0.9, v.model_dump_json(), started))
        if rng.random() < 0.3:
            threads.append(
                (f"C{rng.randrange(20):04d}", f"{started.timestamp():.0f}.{i:06d}", inv_id, None, started)
            )
        for _ in range(2):
            at = now - timedelta(minutes=rng.randrange(30 * 24 * 60))
            usd = Decimal(rng.randrange(1, 5000)) / 100000
            calls.append((inv_id, rng.choice(PHASES), "x", rng.choice(MODELS), 1500, 300, 0, usd, 900, at))
        if rng.random() < 0.5:
            avoided.append((inv_id, rng.choice(PHASES), "engine confident", started))
    await conn.copy_records_to_table(
        "incidents",
        records=incidents,
        columns=["id", "title", "service", "signal", "opened_at", "scope", "owner", "team_id"],
    )
    await conn.copy_records_to_table(
        "investigations",
        records=investigations,
        columns=[
            "id",
            "incident_id",
            "idempotency_key",
            "trigger",
            "trigger_ref",
            "requested_by",
            "incident_json",
            "status",
            "attempts",
            "started_at",
            "finished_at",
        ],
    )
    await conn.copy_records_to_table(
        "verdicts",
        records=verdicts,
        columns=[
            "investigation_id",
            "verdict",
            "component",
            "fault",
            "confidence",
            "verdict_json",
            "created_at",
        ],
    )
    await conn.copy_records_to_table(
        "slack_threads",
        records=threads,
        columns=["channel_id", "thread_ts", "investigation_id", "status_message_ts", "created_at"],
    )
    await conn.copy_records_to_table(
        "llm_calls",
        records=calls,
        columns=[
            "investigation_id",
            "phase",
            "provider",
            "model",
            "tokens_in",
            "tokens_out",
            "tokens_cached",
            "usd",
            "latency_ms",
            "created_at",
        ],
    )
    await conn.copy_records_to_table(
        "llm_calls_avoided", records=avoided, columns=["investigation_id", "phase", "reason", "created_at"]
    )
    # 500 confirmed causes for the Memory page (it lists the newest 200).
    vectors = np.random.default_rng(7).normal(size=(500, 384)).astype(np.float32)
    await conn.executemany(
        "INSERT INTO incident_signatures (investigation_id, scope, team_id, symptom, embedding,"
        " embedding_model, confirmed_component, confirmed_fault, confirmed_by, confirmed_at)"
        " SELECT id, 'team', 'payments', $2, $3, 'bench', $4, $5, 'alice', now() FROM investigations"
        " WHERE idempotency_key = $1",
        [
            (f"bench:{i}", f"symptom {i}", vectors[i], rng.choice(SERVICES), rng.choice(FAULTS))
            for i in range(500)
        ],
    )
    await conn.execute("ANALYZE")


async def detailed(store: KnowledgeStore) -> uuid.UUID:
    """One investigation with a full timeline: 12 hypotheses, checks and 4 evidence items each."""
    row = await store.pool.fetchrow(
        "SELECT id FROM investigations WHERE status = 'completed' ORDER BY started_at DESC LIMIT 1"
    )
    assert row is not None
    iid: uuid.UUID = row["id"]
    for h in range(12):
        hyp = Hypothesis(
            id=f"{SERVICES[h % 8]}/{FAULTS[h % 6]}",
            component=SERVICES[h % 8],
            fault=FAULTS[h % 6],
            prior=0.1,
            origin="catalog",
            status="refuted" if h else "supported",
            confidence=0.1,
        )
        await store.investigations.save_hypothesis(iid, hyp)
        for k in range(4):
            query = f"rate(x{{service='{hyp.component}'}}[{k + 1}m])"
            await store.investigations.add_check(
                iid, Check(hypothesis_id=hyp.id, description="d", source="prometheus", query=query)
            )
            ev = Evidence(
                source="prometheus", query=query, observation="o", link="https://g.example/x", value=k * 1.5
            )
            await store.investigations.add_evidence(iid, ev, hyp.id)
    return iid


async def timed(client: httpx.AsyncClient, path: str, runs: int) -> list[float]:
    for _ in range(2):  # warm the template cache and the pool
        (await client.get(path)).raise_for_status()
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        response = await client.get(path)
        out.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}")
    return out


async def main(n: int, runs: int) -> None:
    with postgres_for_tests() as uri:
        conn = await asyncpg.connect(uri)
        try:
            await migrate(conn, DEFAULT_MIGRATIONS_DIR)
            from pgvector.asyncpg import register_vector

            await register_vector(conn)
            started = time.perf_counter()
            await load(conn, n)
            print(f"loaded {n:,} investigations in {time.perf_counter() - started:.1f}s")
        finally:
            await conn.close()
        pool = await create_pool(uri)
        try:
            store = KnowledgeStore(pool, HashingEmbedder())
            iid = await detailed(store)
            api = FastAPI()
            bot = BotSettings(slack_bot_token="xoxb-bench", slack_signing_secret="bench")  # type: ignore[call-arg]
            mount_ui(api, bot, UiSettings(tokens=f"bench:admin:{TOKEN}"), LazyStore(store=store))  # type: ignore[arg-type]
            transport = httpx.ASGITransport(app=api)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                login = await client.post("/ui/login", data={"token": TOKEN, "next": "/ui/investigations"})
                assert login.status_code == 303, login.text
                pages = {
                    "investigations (newest 50)": "/ui/investigations",
                    "investigations, page 100": "/ui/investigations?page=100",
                    "investigations, filtered + search": "/ui/investigations?status=completed"
                    "&service=payments&fault=bad_deploy&q=latency&since=2000-01-01",
                    "investigations, by channel": "/ui/investigations?channel=C0007",
                    "investigation timeline (12 hypotheses)": f"/ui/investigations/{iid}",
                    "live timeline fragment": f"/ui/investigations/{iid}/timeline",
                    "costs, 30 days": "/ui/costs?days=30",
                    "costs, 90 days": "/ui/costs?days=90",
                    "memory (200 of 500 causes)": "/ui/memory",
                }
                print(f"{'page':<42} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}  (runs={runs})")
                for name, path in pages.items():
                    ms = sorted(await timed(client, path, runs))
                    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
                    print(f"{name:<42} {statistics.median(ms):>10.1f} {p95:>8.1f} {ms[-1]:>8.1f}")
        finally:
            await pool.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(main(args.n, args.runs))
