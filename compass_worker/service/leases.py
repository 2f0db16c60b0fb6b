"""Investigation rows with a lease: who runs an investigation, until when, and at which attempt.

The edge inserts the row (state `queued`) before it answers Slack; a worker `acquire`s it (attempt + 1,
a lease of `lease_s`), extends the lease with `heartbeat` while it runs, and `finish`es it. A row whose
lease expired belongs to a dead worker: `expired()` hands it to the reconciler, which re-enqueues it.
Only one worker can hold a live lease, so a duplicate ARQ job of the same investigation is a no-op.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from compass_worker.knowledge.database import Pool

Final_ = Literal["done", "failed"]


@dataclass(frozen=True)
class Lease:
    key: str
    attempt: int
    last_error: str | None  # why the previous attempt ended ("worker lost"), None on the first


@dataclass(frozen=True)
class OpenJob:
    key: str
    payload: dict[str, object]
    state: str
    attempt: int
    arq_job_id: str | None
    expired: bool  # running, and the lease ran out
    idle_s: float = 0.0  # seconds since the row last changed (queued: since it was handed to Redis)


class InvestigationJobs:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def ensure(self, key: str, payload: dict[str, object], arq_job_id: str | None = None) -> None:
        """The row for a job the edge enqueued without writing one (an edge without a database)."""
        await self._pool.execute(
            "INSERT INTO investigation_jobs (key, payload, arq_job_id) VALUES ($1, $2::jsonb, $3)"
            " ON CONFLICT (key) DO NOTHING",
            key,
            json.dumps(payload),
            arq_job_id,
        )

    async def acquire(self, key: str, owner: str, lease_s: float) -> Lease | None:
        """Take the lease: the row is queued, or running under a lease that expired (or is ours already).
        None when another worker holds a live lease or the investigation is over."""
        row = await self._pool.fetchrow(
            "UPDATE investigation_jobs SET state = 'running', attempt = attempt + 1, lease_owner = $2,"
            " lease_until = now() + make_interval(secs => $3), updated_at = now()"
            " WHERE key = $1 AND (state = 'queued'"
            "   OR (state = 'running' AND (lease_until < now() OR lease_owner = $2)))"
            " RETURNING attempt, last_error",
            key,
            owner,
            lease_s,
        )
        if row is None:
            return None
        return Lease(key=key, attempt=int(row["attempt"]), last_error=row["last_error"])

    async def heartbeat(self, key: str, owner: str, lease_s: float) -> bool:
        """Extend our lease; False when it is no longer ours (it expired and another worker took it)."""
        result = await self._pool.execute(
            "UPDATE investigation_jobs SET lease_until = now() + make_interval(secs => $3)"
            " WHERE key = $1 AND lease_owner = $2 AND state = 'running'",
            key,
            owner,
            lease_s,
        )
        return result.endswith(" 1")

    async def finish(self, key: str, owner: str, state: Final_, error: str | None = None) -> None:
        await self._pool.execute(
            "UPDATE investigation_jobs SET state = $3, last_error = coalesce($4, last_error),"
            " lease_owner = NULL, lease_until = NULL, updated_at = now()"
            " WHERE key = $1 AND (lease_owner = $2 OR lease_owner IS NULL)",
            key,
            owner,
            state,
            error,
        )

    async def release(self, key: str, owner: str, error: str) -> None:
        """Give the lease back without finishing (a dependency is down: retry later, as attempt + 1)."""
        await self._pool.execute(
            "UPDATE investigation_jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL,"
            " last_error = $3, updated_at = now() WHERE key = $1 AND lease_owner = $2",
            key,
            owner,
            error,
        )

    async def open_jobs(self, *, queued_grace_s: float, limit: int = 200) -> list[OpenJob]:
        """Rows the reconciler may need to hand to Redis again: queued for longer than the grace period,
        or running under an expired lease."""
        rows = await self._pool.fetch(
            "SELECT key, payload, state, attempt, arq_job_id, (state = 'running') AS expired,"
            " extract(epoch FROM now() - updated_at)::float8 AS idle_s"
            " FROM investigation_jobs"
            " WHERE (state = 'queued' AND updated_at < now() - make_interval(secs => $1))"
            "  OR (state = 'running' AND lease_until < now())"
            " ORDER BY updated_at LIMIT $2",
            queued_grace_s,
            limit,
        )
        return [
            OpenJob(
                key=r["key"],
                payload=json.loads(r["payload"]),
                state=r["state"],
                attempt=int(r["attempt"]),
                arq_job_id=r["arq_job_id"],
                expired=bool(r["expired"]),
                idle_s=float(r["idle_s"]),
            )
            for r in rows
        ]

    async def requeued(self, key: str, arq_job_id: str, error: str | None) -> bool:
        """Record that the reconciler handed the row to Redis again (queued, under a new ARQ job id).
        False when the row changed meanwhile (another reconciler or a worker got there first)."""
        result = await self._pool.execute(
            "UPDATE investigation_jobs SET state = 'queued', arq_job_id = $2, lease_owner = NULL,"
            " lease_until = NULL, last_error = coalesce($3, last_error), updated_at = now()"
            " WHERE key = $1 AND ((state = 'queued') OR (state = 'running' AND lease_until < now()))",
            key,
            arq_job_id,
            error,
        )
        return result.endswith(" 1")

    async def give_up(self, key: str, error: str) -> bool:
        result = await self._pool.execute(
            "UPDATE investigation_jobs SET state = 'failed', last_error = $2, lease_owner = NULL,"
            " lease_until = NULL, updated_at = now()"
            " WHERE key = $1 AND state IN ('queued', 'running')",
            key,
            error,
        )
        return result.endswith(" 1")

    async def state(self, key: str) -> str | None:
        value = await self._pool.fetchval("SELECT state FROM investigation_jobs WHERE key = $1", key)
        return None if value is None else str(value)

    async def take_outbox(self, limit: int = 100) -> list[tuple[str, str, dict[str, object]]]:
        """Outbox rows (ARQ job id, job name, payload), oldest first."""
        rows = await self._pool.fetch(
            "SELECT arq_job_id, job_name, payload FROM job_outbox ORDER BY created_at LIMIT $1", limit
        )
        return [(r["arq_job_id"], r["job_name"], json.loads(r["payload"])) for r in rows]

    async def drop_outbox(self, arq_job_id: str) -> None:
        await self._pool.execute("DELETE FROM job_outbox WHERE arq_job_id = $1", arq_job_id)

    async def open_thread_keys(self, limit: int = 5000) -> list[str]:
        """Keys of investigations from the last 30 days (their threads are "ours" in Redis)."""
        rows = await self._pool.fetch(
            "SELECT key FROM investigation_jobs WHERE created_at > now() - interval '30 days'"
            " ORDER BY created_at DESC LIMIT $1",
            limit,
        )
        return [str(r["key"]) for r in rows]
