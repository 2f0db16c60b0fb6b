"""The cost ledger: one row per LLM call; a summary by model and by phase for `/compass cost`.

An unknown price is stored as NULL and reported as `unpriced_calls`, never added as zero.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import asyncpg

from compass_worker.knowledge.database import Pool
from compass_worker.knowledge.records import CostBucket, CostSummary, LlmCall

_AGG = """
    count(*) AS calls, coalesce(sum(tokens_in), 0) AS tokens_in, coalesce(sum(tokens_out), 0) AS tokens_out,
    coalesce(sum(tokens_cached), 0) AS tokens_cached, coalesce(sum(usd), 0) AS usd,
    count(*) FILTER (WHERE usd IS NULL) AS unpriced_calls
"""


def _bucket(key: str, row: asyncpg.Record) -> CostBucket:
    return CostBucket(
        key=key,
        calls=row["calls"],
        tokens_in=row["tokens_in"],
        tokens_out=row["tokens_out"],
        tokens_cached=row["tokens_cached"],
        usd=Decimal(row["usd"]),
        unpriced_calls=row["unpriced_calls"],
    )


class CostLedger:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def record(self, call: LlmCall) -> int:
        value = await self._pool.fetchval(
            "INSERT INTO llm_calls (investigation_id, phase, provider, model, tokens_in, tokens_out,"
            " tokens_cached, usd, latency_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            call.investigation_id,
            call.phase,
            call.provider,
            call.model,
            call.tokens_in,
            call.tokens_out,
            call.tokens_cached,
            call.usd,
            call.latency_ms,
        )
        return int(value)

    async def summary(self, since: datetime) -> CostSummary:
        async with self._pool.acquire() as conn:
            total = await conn.fetchrow(f"SELECT {_AGG} FROM llm_calls WHERE created_at >= $1", since)
            models = await conn.fetch(
                f"SELECT model AS key, {_AGG} FROM llm_calls WHERE created_at >= $1"
                " GROUP BY model ORDER BY model",
                since,
            )
            phases = await conn.fetch(
                f"SELECT phase AS key, {_AGG} FROM llm_calls WHERE created_at >= $1"
                " GROUP BY phase ORDER BY phase",
                since,
            )
        assert total is not None  # an aggregate always returns one row
        return CostSummary(
            since=since,
            total=_bucket("total", total),
            by_model=tuple(_bucket(r["key"], r) for r in models),
            by_phase=tuple(_bucket(r["key"], r) for r in phases),
        )
