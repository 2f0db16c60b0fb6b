"""`/compass cost`: what investigations cost in a period — LLM calls (tokens and $ by model and phase),
investigations, how many used an LLM, the most expensive, the calls avoided.

Scoped: a user sees their channel's team (the channel's mapped team, or the channel itself when it is
unmapped, as the investigation jobs file it), an admin (COMPASS_ADMIN_USERS) the whole organisation.
A thin read-only adapter over the store's pool.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg

from compass_worker.contracts import CostPeriod
from compass_worker.knowledge.store import KnowledgeStore
from compass_worker.slack.cost import CostLine, CostReportView

# The LLM calls of the period, with the team of the incident they served (NULL: not an investigation's).
_SCOPED = """
    WITH scoped AS (
        SELECT c.* FROM llm_calls c
        LEFT JOIN investigations v ON v.id = c.investigation_id
        LEFT JOIN incidents i ON i.id = v.incident_id
        WHERE c.created_at >= $1 AND ($2::text IS NULL OR i.team_id = $2)
    )
"""
_AGG = (
    "count(*) AS calls, coalesce(sum(tokens_in), 0) AS tokens_in, coalesce(sum(tokens_out), 0) AS tokens_out,"
    " coalesce(sum(usd), 0) AS usd, count(*) FILTER (WHERE usd IS NULL) AS unpriced_calls"
)
_INVESTIGATIONS = (
    "FROM investigations v JOIN incidents i ON i.id = v.incident_id"
    " WHERE v.started_at >= $1 AND ($2::text IS NULL OR i.team_id = $2)"
)


def period_start(period: CostPeriod, now: datetime | None = None) -> datetime:
    ref = now or datetime.now(tz=UTC)
    if period == "today":
        return ref.replace(hour=0, minute=0, second=0, microsecond=0)
    return ref - timedelta(days=7 if period == "7d" else 30)


def _line(key: str, r: asyncpg.Record) -> CostLine:
    return CostLine(
        key=key,
        calls=int(r["calls"]),
        tokens_in=int(r["tokens_in"]),
        tokens_out=int(r["tokens_out"]),
        usd=float(Decimal(r["usd"])),
        unpriced_calls=int(r["unpriced_calls"]),
    )


async def viewer_team(store: KnowledgeStore, channel: str) -> str:
    return await store.slack.team_for_channel(channel) or channel


async def cost_report(
    store: KnowledgeStore, period: CostPeriod, *, llm_configured: bool, team: str | None = None
) -> CostReportView:
    """The period's costs for `team` (None: the whole organisation — for admins only)."""
    since = period_start(period)
    async with store.pool.acquire() as conn:
        total = await conn.fetchrow(f"{_SCOPED} SELECT {_AGG} FROM scoped", since, team)
        models = await conn.fetch(
            f"{_SCOPED} SELECT model AS key, {_AGG} FROM scoped GROUP BY model ORDER BY model", since, team
        )
        phases = await conn.fetch(
            f"{_SCOPED} SELECT phase AS key, {_AGG} FROM scoped GROUP BY phase ORDER BY phase", since, team
        )
        investigations = await conn.fetchval(f"SELECT count(*) {_INVESTIGATIONS}", since, team)
        with_llm = await conn.fetchval(
            f"{_SCOPED} SELECT count(DISTINCT investigation_id) FROM scoped", since, team
        )
        top = await conn.fetch(
            f"{_SCOPED} SELECT i.title, sum(c.usd) AS usd FROM scoped c"
            " JOIN investigations v ON v.id = c.investigation_id JOIN incidents i ON i.id = v.incident_id"
            " WHERE c.usd IS NOT NULL GROUP BY v.id, i.title ORDER BY usd DESC LIMIT 5",
            since,
            team,
        )
        avoided = await conn.fetchval(
            "SELECT count(*) FROM llm_calls_avoided a"
            " LEFT JOIN investigations v ON v.id = a.investigation_id"
            " LEFT JOIN incidents i ON i.id = v.incident_id"
            " WHERE a.created_at >= $1 AND ($2::text IS NULL OR i.team_id = $2)",
            since,
            team,
        )
    assert total is not None  # an aggregate always returns one row
    return CostReportView(
        period=period if team is None else f"{period}, team {team}",
        llm_configured=llm_configured,
        total=_line("total", total),
        by_model=tuple(_line(r["key"], r) for r in models),
        by_phase=tuple(_line(r["key"], r) for r in phases),
        investigations=int(investigations or 0),
        with_llm=int(with_llm or 0),
        top=tuple((str(r["title"]), float(r["usd"])) for r in top),
        calls_avoided=int(avoided or 0),
    )
