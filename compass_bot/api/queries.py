"""Read-only SQL behind the REST API. Filters are parameters, never interpolated; pages are LIMIT/OFFSET
over a stable order (newest first, then id)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TypeAlias
from uuid import UUID

import asyncpg

from compass_worker.contracts import FAULT_CATEGORIES

from .schemas import (
    AlertOut,
    CostBucketOut,
    CostsOut,
    EvidenceOut,
    FeedbackOut,
    HypothesisOut,
    IncidentDetail,
    IncidentOut,
    InvestigationDetail,
    InvestigationOut,
    PatternOut,
    TimelineEvent,
)

Pool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"  # generic only to the type checker

_INCIDENT = """
SELECT a.*, v.id AS investigation_id, d.fault AS verdict_fault
FROM alert_incidents a LEFT JOIN investigations v ON v.idempotency_key = a.investigation_key
     LEFT JOIN verdicts d ON d.investigation_id = v.id
"""


def _incident(r: asyncpg.Record) -> IncidentOut:
    return IncidentOut(
        id=r["id"],
        title=r["title"],
        component=r["component"],
        severity=r["severity"],
        category=r["category"],
        evidence_category=FAULT_CATEGORIES.get(r["verdict_fault"] or ""),
        verdict_fault=r["verdict_fault"],
        cause_component=r["cause_component"],
        status=r["status"],
        alert_count=r["alert_count"],
        channel=r["channel"],
        slack_thread_ts=r["root_ts"],
        investigation_id=r["investigation_id"],
        opened_at=r["opened_at"],
        last_alert_at=r["last_alert_at"],
        resolved_at=r["resolved_at"],
    )


def _where(filters: Mapping[str, object]) -> tuple[str, list[object]]:
    clauses, params = [], []
    for column, value in filters.items():
        if value is not None:
            params.append(value)
            clauses.append(f"{column} = ${len(params)}")
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


async def incidents(
    pool: Pool, filters: Mapping[str, object], limit: int, offset: int
) -> tuple[list[IncidentOut], bool]:
    where, params = _where(filters)
    rows = await pool.fetch(
        f"{_INCIDENT}{where} ORDER BY a.opened_at DESC, a.id LIMIT {limit + 1} OFFSET {offset}", *params
    )
    return [_incident(r) for r in rows[:limit]], len(rows) > limit


async def incident(pool: Pool, incident_id: UUID) -> IncidentDetail | None:
    row = await pool.fetchrow(_INCIDENT + " WHERE a.id = $1", incident_id)
    if row is None:
        return None
    alerts = await pool.fetch(
        "SELECT * FROM alerts WHERE incident_id = $1 ORDER BY starts_at, id", incident_id
    )
    return IncidentDetail(
        **_incident(row).model_dump(),
        alerts=[
            AlertOut(
                id=a["id"],
                source=a["source"],
                fingerprint=a["fingerprint"],
                name=a["name"],
                summary=a["summary"],
                status=a["status"],
                starts_at=a["starts_at"],
                ends_at=a["ends_at"],
                labels=json.loads(a["labels"]),
                received_at=a["received_at"],
                grouped_by=a["grouped_by"],
            )
            for a in alerts
        ],
    )


_INVESTIGATION = """
SELECT v.id, i.title, v.trigger, v.status, v.requested_by, v.started_at, v.finished_at,
       d.verdict, d.component, d.fault, d.confidence, d.verdict_json, d.created_at AS verdict_at
FROM investigations v JOIN incidents i ON i.id = v.incident_id
     LEFT JOIN verdicts d ON d.investigation_id = v.id
"""


def _investigation(r: asyncpg.Record) -> InvestigationOut:
    return InvestigationOut(
        id=r["id"],
        title=r["title"],
        trigger=r["trigger"],
        status=r["status"],
        requested_by=r["requested_by"],
        started_at=r["started_at"],
        finished_at=r["finished_at"],
        verdict=r["verdict"],
        component=r["component"],
        fault=r["fault"],
        confidence=r["confidence"],
    )


async def investigations(
    pool: Pool, filters: Mapping[str, object], limit: int, offset: int
) -> tuple[list[InvestigationOut], bool]:
    where, params = _where(filters)
    rows = await pool.fetch(
        f"{_INVESTIGATION}{where} ORDER BY v.started_at DESC, v.id LIMIT {limit + 1} OFFSET {offset}", *params
    )
    return [_investigation(r) for r in rows[:limit]], len(rows) > limit


async def investigation(pool: Pool, investigation_id: UUID) -> InvestigationDetail | None:
    row = await pool.fetchrow(_INVESTIGATION + " WHERE v.id = $1", investigation_id)
    if row is None:
        return None
    async with pool.acquire() as conn:
        hyps = await conn.fetch(
            "SELECT * FROM hypotheses WHERE investigation_id = $1 ORDER BY seq, key", investigation_id
        )
        checks = await conn.fetch(
            "SELECT * FROM checks WHERE investigation_id = $1 ORDER BY id", investigation_id
        )
        evidence = await conn.fetch(
            "SELECT * FROM evidence WHERE investigation_id = $1 ORDER BY id", investigation_id
        )
        feedback = await conn.fetch(
            "SELECT * FROM corrections WHERE investigation_id = $1 ORDER BY id", investigation_id
        )
    timeline = [TimelineEvent(at=row["started_at"], kind="started", text=row["title"])]
    timeline += [
        TimelineEvent(
            at=h["updated_at"], kind="hypothesis", text=f"{h['component']} · {h['fault']}: {h['status']}"
        )
        for h in hyps
    ]
    timeline += [TimelineEvent(at=c["created_at"], kind="check", text=c["description"]) for c in checks]
    timeline += [
        TimelineEvent(at=e["created_at"], kind="evidence", text=f"{e['stance']}: {e['observation']}")
        for e in evidence
    ]
    if row["verdict"] is not None:
        cause = f"{row['component']} · {row['fault']}" if row["component"] else "no root cause survived"
        timeline.append(
            TimelineEvent(at=row["verdict_at"], kind="verdict", text=f"{row['verdict']}: {cause}")
        )
    timeline += [
        TimelineEvent(at=f["created_at"], kind="feedback", text=f"{f['kind']} by {f['author']}")
        for f in feedback
    ]
    if row["finished_at"] is not None:
        timeline.append(TimelineEvent(at=row["finished_at"], kind="finished", text=row["status"]))
    timeline.sort(key=lambda e: e.at)
    return InvestigationDetail(
        **_investigation(row).model_dump(),
        timeline=timeline,
        hypotheses=[
            HypothesisOut(
                key=h["key"],
                component=h["component"],
                fault=h["fault"],
                status=h["status"],
                confidence=h["confidence"],
                score=h["score"],
                refuted_because=h["refuted_because"],
            )
            for h in hyps
        ],
        evidence=[
            EvidenceOut(
                hypothesis=e["hypothesis_key"],
                source=e["source"],
                query=e["query"],
                observation=e["observation"],
                link=e["link"],
                stance=e["stance"],
                at=e["created_at"],
            )
            for e in evidence
        ],
        feedback=[
            FeedbackOut(
                kind=f["kind"],
                component=f["component"],
                fault=f["fault"],
                author=f["author"],
                channel=f["channel"],
                note=f["note"],
                at=f["created_at"],
            )
            for f in feedback
        ],
        verdict_detail=json.loads(row["verdict_json"]) if row["verdict_json"] is not None else None,
    )


async def investigation_exists(pool: Pool, investigation_id: UUID) -> bool:
    return bool(await pool.fetchval("SELECT 1 FROM investigations WHERE id = $1", investigation_id))


_AGG = """count(*) AS calls, coalesce(sum(tokens_in), 0) AS tokens_in,
          coalesce(sum(tokens_out), 0) AS tokens_out,
          CASE WHEN bool_or(usd IS NULL) THEN NULL ELSE coalesce(sum(usd), 0) END AS usd"""


def _bucket(r: asyncpg.Record) -> CostBucketOut:
    usd = r["usd"]
    return CostBucketOut(
        key=r["key"],
        calls=r["calls"],
        tokens_in=r["tokens_in"],
        tokens_out=r["tokens_out"],
        usd=float(usd) if usd is not None else None,
    )


async def costs(pool: Pool, since: datetime) -> CostsOut:
    async with pool.acquire() as conn:
        total = await conn.fetchrow(f"SELECT {_AGG} FROM llm_calls WHERE created_at >= $1", since)
        by_model = await conn.fetch(
            f"SELECT model AS key, {_AGG} FROM llm_calls WHERE created_at >= $1 GROUP BY model ORDER BY 1",
            since,
        )
        by_phase = await conn.fetch(
            f"SELECT phase AS key, {_AGG} FROM llm_calls WHERE created_at >= $1 GROUP BY phase ORDER BY 1",
            since,
        )
        avoided = await conn.fetchval("SELECT count(*) FROM llm_calls_avoided WHERE created_at >= $1", since)
    assert total is not None
    usd = total["usd"]
    return CostsOut(
        since=since,
        calls=total["calls"],
        tokens_in=total["tokens_in"],
        tokens_out=total["tokens_out"],
        usd=float(usd) if usd is not None else None,
        by_model=[_bucket(r) for r in by_model],
        by_phase=[_bucket(r) for r in by_phase],
        calls_avoided=int(avoided or 0),
    )


async def patterns(pool: Pool, limit: int, offset: int) -> tuple[list[PatternOut], bool]:
    rows = await pool.fetch(
        f"SELECT * FROM learned_patterns ORDER BY created_at DESC, id LIMIT {limit + 1} OFFSET {offset}"
    )
    items = [
        PatternOut(
            id=r["id"],
            component=r["component"],
            fault=r["fault"],
            summary=r["summary"],
            scope=r["scope"],
            promoted_by=r["promoted_by"],
            created_at=r["created_at"],
        )
        for r in rows[:limit]
    ]
    return items, len(rows) > limit
