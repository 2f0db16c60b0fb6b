"""The cost ledger: every LLM call (and every call avoided), in memory or in the knowledge store.

`MemoryLedger` serves the CLI without a database, tests and benchmarks. `StoreLedger` writes through
`store.costs.record()` (table `llm_calls`) and reads the same table back for reports and daily budgets.
Calls *avoided* go to table `llm_calls_avoided` (migrations/0002_llm_calls_avoided.sql).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from compass_worker.knowledge.records import LlmCall
from compass_worker.knowledge.store import KnowledgeStore

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RecordedCall(_Frozen):
    call: LlmCall
    at: datetime


class AvoidedCall(_Frozen):
    """A model call not made because the built-in engine or a known pattern already settled the question."""

    investigation_id: UUID | None
    phase: str
    reason: str
    at: datetime


class Spend(_Frozen):
    calls: int = 0
    tokens: int = 0  # input + output
    usd: Decimal = Decimal(0)  # over calls with a known price
    unpriced_calls: int = 0

    def plus(self, call: LlmCall) -> Spend:
        return Spend(
            calls=self.calls + 1,
            tokens=self.tokens + call.tokens_in + call.tokens_out,
            usd=self.usd + (call.usd or Decimal(0)),
            unpriced_calls=self.unpriced_calls + (call.usd is None),
        )


class CostLedger(Protocol):
    async def record(self, call: LlmCall) -> None: ...

    async def record_avoided(self, investigation_id: UUID | None, phase: str, reason: str) -> None: ...

    async def calls_since(self, since: datetime) -> list[RecordedCall]: ...

    async def avoided_since(self, since: datetime) -> list[AvoidedCall]: ...

    async def spend_since(self, since: datetime) -> Spend: ...


class MemoryLedger:
    """In-process ledger. `clock` lets tests place calls on chosen days."""

    def __init__(self, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._calls: list[RecordedCall] = []
        self._avoided: list[AvoidedCall] = []

    async def record(self, call: LlmCall) -> None:
        self._calls.append(RecordedCall(call=call, at=self._clock()))

    async def record_avoided(self, investigation_id: UUID | None, phase: str, reason: str) -> None:
        self._avoided.append(
            AvoidedCall(investigation_id=investigation_id, phase=phase, reason=reason, at=self._clock())
        )

    async def calls_since(self, since: datetime) -> list[RecordedCall]:
        return [c for c in self._calls if c.at >= since]

    async def avoided_since(self, since: datetime) -> list[AvoidedCall]:
        return [a for a in self._avoided if a.at >= since]

    async def spend_since(self, since: datetime) -> Spend:
        total = Spend()
        for c in await self.calls_since(since):
            total = total.plus(c.call)
        return total


_AVOIDED_TABLE = "llm_calls_avoided"


class StoreLedger:
    """The ledger on PostgreSQL, through the knowledge store (shared by every worker and the bot)."""

    def __init__(self, store: KnowledgeStore) -> None:
        self._store = store

    async def record(self, call: LlmCall) -> None:
        await self._store.costs.record(call)

    async def record_avoided(self, investigation_id: UUID | None, phase: str, reason: str) -> None:
        await self._store.pool.execute(
            f"INSERT INTO {_AVOIDED_TABLE} (investigation_id, phase, reason) VALUES ($1, $2, $3)",
            investigation_id,
            phase,
            reason,
        )

    async def calls_since(self, since: datetime) -> list[RecordedCall]:
        rows = await self._store.pool.fetch(
            "SELECT investigation_id, phase, provider, model, tokens_in, tokens_out, tokens_cached, usd,"
            " latency_ms, created_at FROM llm_calls WHERE created_at >= $1 ORDER BY created_at",
            since,
        )
        return [
            RecordedCall(
                call=LlmCall(
                    investigation_id=r["investigation_id"],
                    phase=r["phase"],
                    provider=r["provider"],
                    model=r["model"],
                    tokens_in=r["tokens_in"],
                    tokens_out=r["tokens_out"],
                    tokens_cached=r["tokens_cached"],
                    usd=r["usd"],
                    latency_ms=r["latency_ms"],
                ),
                at=r["created_at"],
            )
            for r in rows
        ]

    async def avoided_since(self, since: datetime) -> list[AvoidedCall]:
        rows = await self._store.pool.fetch(
            f"SELECT investigation_id, phase, reason, created_at FROM {_AVOIDED_TABLE}"
            " WHERE created_at >= $1 ORDER BY created_at",
            since,
        )
        return [
            AvoidedCall(
                investigation_id=r["investigation_id"],
                phase=r["phase"],
                reason=r["reason"],
                at=r["created_at"],
            )
            for r in rows
        ]

    async def spend_since(self, since: datetime) -> Spend:
        row = await self._store.pool.fetchrow(
            "SELECT count(*) AS calls, coalesce(sum(tokens_in + tokens_out), 0) AS tokens,"
            " coalesce(sum(usd), 0) AS usd, count(*) FILTER (WHERE usd IS NULL) AS unpriced"
            " FROM llm_calls WHERE created_at >= $1",
            since,
        )
        assert row is not None  # an aggregate always returns one row
        return Spend(
            calls=row["calls"], tokens=row["tokens"], usd=Decimal(row["usd"]), unpriced_calls=row["unpriced"]
        )
