"""Persist first, then enqueue: the alerts table is the inbox and, where `enqueued_at` is NULL, the outbox.

`accept()` writes a whole webhook body in one transaction (no alert is ever half-written) and returns the
rows that need processing: new alerts, and known ones whose status changed (firing → resolved). A redelivery
of the same alert — same (fingerprint, startsAt), same status — changes nothing and is absorbed.

`enqueue()` hands those rows to the workers (deterministic ARQ job ids, so the request path and the outbox
drainer may both try) and marks them; when Redis is away the rows simply stay in the outbox, and
`drain()` — called periodically by the bot — sends them once Redis is back.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from arq.connections import ArqRedis
from redis.exceptions import RedisError

from compass_worker.contracts import AlertRef, JobName, job_id

from .models import AlertRow

if TYPE_CHECKING:
    import asyncpg

log = logging.getLogger(__name__)

DRAIN_BATCH = 500

_ACCEPT = """
INSERT INTO alerts (source, fingerprint, starts_at, ends_at, status, name, summary, labels, annotations,
                    group_key, generator_url)
SELECT t.source, t.fingerprint, t.starts_at, t.ends_at, t.status, t.name, t.summary, t.labels::jsonb,
       t.annotations::jsonb, t.group_key, t.generator_url
FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::text[], $7::text[],
            $8::text[], $9::text[], $10::text[], $11::text[])
     AS t(source, fingerprint, starts_at, ends_at, status, name, summary, labels, annotations, group_key,
          generator_url)
ON CONFLICT (fingerprint, starts_at) DO UPDATE
    SET status = EXCLUDED.status, ends_at = EXCLUDED.ends_at, updated_at = now(), enqueued_at = NULL
    WHERE alerts.status IS DISTINCT FROM EXCLUDED.status
RETURNING id, status
"""

_MARK = """
UPDATE alerts SET enqueued_at = now()
FROM unnest($1::bigint[], $2::text[]) AS t(id, status)
WHERE alerts.id = t.id AND alerts.status = t.status
"""


class AlertInbox:
    def __init__(self, pool: asyncpg.Pool[asyncpg.Record], redis: ArqRedis) -> None:
        self._pool = pool
        self._redis = redis

    async def accept(self, rows: list[AlertRow]) -> list[AlertRef]:
        columns: list[list[object]] = [[] for _ in range(11)]
        for r in rows:
            values: tuple[object, ...] = (
                r.source,
                r.fingerprint,
                r.starts_at,
                r.ends_at,
                r.status,
                r.name,
                r.summary,
                json.dumps(r.labels),
                json.dumps(r.annotations),
                r.group_key,
                r.generator_url,
            )
            for column, value in zip(columns, values, strict=True):
                column.append(value)
        async with self._pool.acquire() as conn, conn.transaction():
            changed = await conn.fetch(_ACCEPT, *columns)
        return [AlertRef(alert_id=int(r["id"]), status=r["status"]) for r in changed]

    async def enqueue(self, refs: list[AlertRef]) -> int:
        """Send `refs` to the workers; returns how many are now in Redis (0 when Redis is away)."""
        if not refs:
            return 0
        try:
            for ref in refs:
                await self._redis.enqueue_job(
                    JobName.PROCESS_ALERT,
                    ref.model_dump(mode="json"),
                    _job_id=job_id(JobName.PROCESS_ALERT, ref.key),
                )
        except (RedisError, OSError, ConnectionError) as exc:
            log.warning(
                "Redis unavailable; %d alert(s) wait in the outbox: %s", len(refs), type(exc).__name__
            )
            return 0
        await self._pool.execute(_MARK, [r.alert_id for r in refs], [r.status for r in refs])
        return len(refs)

    async def drain(self) -> int:
        """One pass over the outbox (bounded); returns how many alerts were enqueued."""
        pending = await self._pool.fetch(
            "SELECT id, status FROM alerts WHERE enqueued_at IS NULL ORDER BY id LIMIT $1", DRAIN_BATCH
        )
        return await self.enqueue([AlertRef(alert_id=int(r["id"]), status=r["status"]) for r in pending])

    async def pending(self) -> int:
        return int(await self._pool.fetchval("SELECT count(*) FROM alerts WHERE enqueued_at IS NULL") or 0)
