"""The edge's record of accepted work in PostgreSQL (when DATABASE_URL is set): Redis holds only what
can be rebuilt.

- `accept`: an investigation is claimed by inserting its row (`investigation_jobs`, state `queued`)
  before Slack gets its 200 — the claim survives a Redis restart, and a second delivery finds the row.
- `defer`: any other job the edge could not hand to Redis (it is down) goes to the outbox.
The workers' reconciler enqueues both when Redis is back (compass_worker/service/reconciler.py).

The pool is opened on first use, so the edge starts (and answers /healthz) while PostgreSQL is down.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sys
from typing import TYPE_CHECKING

from pydantic import BaseModel

if TYPE_CHECKING:
    import asyncpg


@functools.cache
def unavailable() -> tuple[type[BaseException], ...]:
    """asyncpg's "the server is not there" family, plus a connection that died under us. asyncpg is
    imported only by an edge that has a database (the edge stays light without one)."""
    import asyncpg

    return (
        OSError,
        TimeoutError,
        asyncpg.PostgresConnectionError,
        asyncpg.CannotConnectNowError,
        asyncpg.AdminShutdownError,
        asyncpg.InterfaceError,
    )


def is_unavailable(exc: BaseException) -> bool:
    return "asyncpg" in sys.modules and isinstance(exc, unavailable())


class Journal:
    def __init__(self, url: str) -> None:
        self._url = url
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()

    async def _get(self) -> asyncpg.Pool:
        async with self._lock:
            if self._pool is None:
                import asyncpg

                self._pool = await asyncpg.create_pool(self._url, min_size=0, max_size=5, timeout=2.0)
            return self._pool

    async def accept(self, key: str, payload: BaseModel) -> bool:
        """Record an accepted investigation; False when it already was (a duplicate delivery)."""
        pool = await self._get()
        inserted = await pool.fetchval(
            "INSERT INTO investigation_jobs (key, payload) VALUES ($1, $2::jsonb)"
            " ON CONFLICT (key) DO NOTHING RETURNING key",
            key,
            payload.model_dump_json(),
        )
        return inserted is not None

    async def update(self, key: str, payload: BaseModel) -> None:
        """The payload as finally enqueued (with the status message's ts), while nobody runs it yet."""
        pool = await self._get()
        await pool.execute(
            "UPDATE investigation_jobs SET payload = $2::jsonb WHERE key = $1 AND state = 'queued'",
            key,
            payload.model_dump_json(),
        )

    async def forget(self, key: str) -> None:
        """Processing the delivery failed before anything ran: let Slack's retry claim it again."""
        pool = await self._get()
        await pool.execute("DELETE FROM investigation_jobs WHERE key = $1 AND attempt = 0", key)

    async def knows(self, key: str) -> bool:
        pool = await self._get()
        return bool(await pool.fetchval("SELECT 1 FROM investigation_jobs WHERE key = $1", key))

    async def defer(self, arq_job_id: str, job_name: str, payload: BaseModel) -> None:
        pool = await self._get()
        await pool.execute(
            "INSERT INTO job_outbox (arq_job_id, job_name, payload) VALUES ($1, $2, $3::jsonb)"
            " ON CONFLICT (arq_job_id) DO NOTHING",
            arq_job_id,
            job_name,
            json.dumps(payload.model_dump(mode="json")),
        )

    async def ping(self) -> bool:
        try:
            pool = await self._get()
            async with asyncio.timeout(1.0):
                return bool(await pool.fetchval("SELECT 1"))
        except unavailable():
            return False

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
