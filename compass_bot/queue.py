"""The edge's state in Redis and its one way of handing work on: ARQ jobs by name.

- Delivery dedupe: Slack retries an event (X-Slack-Retry-Num) when the ack was slow or lost; the event id
  is remembered with an expiry so a retry is acknowledged and dropped.
- Threads: a thread COMPASS investigates is claimed atomically (SET NX), so two deliveries of one mention
  never start two investigations; replies in claimed threads are read as corrections or follow-ups.
- Jobs carry a deterministic ARQ job id, so even a lost dedupe key cannot enqueue the same work twice.
- With a `Journal` (PostgreSQL), accepted work survives Redis: an investigation is claimed by its row,
  and a job Redis cannot take goes to the outbox; the workers' reconciler enqueues both later. Redis
  errors then degrade to the journal instead of failing the request.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from arq.connections import ArqRedis
from arq.constants import default_queue_name, health_check_key_suffix, in_progress_key_prefix
from pydantic import BaseModel
from redis.exceptions import RedisError

from compass_bot.journal import Journal, unavailable
from compass_worker.contracts import InvestigateRequest, JobName, RedisKeys, SlackThread, job_id

REDIS_DOWN = (OSError, RedisError, TimeoutError)


@dataclass(frozen=True)
class QueueStatus:
    redis_ok: bool
    queued: int = 0
    running: int = 0
    worker_health: str | None = None  # ARQ's health-check line, None when no worker reported recently


class EdgeQueue:
    def __init__(
        self, redis: ArqRedis, *, dedupe_ttl_s: int, thread_ttl_s: int, journal: Journal | None = None
    ) -> None:
        self.redis = redis
        self.journal = journal
        self._dedupe_ttl_s = dedupe_ttl_s
        self._thread_ttl_s = thread_ttl_s

    async def first_delivery(self, event_id: str) -> bool:
        """True the first time an event id is seen (within the dedupe window). With Redis down and a
        journal, every delivery passes: the journal's claims and deterministic job ids dedupe the work."""
        try:
            return bool(await self.redis.set(RedisKeys.event(event_id), b"1", nx=True, ex=self._dedupe_ttl_s))
        except REDIS_DOWN:
            if self.journal is None:
                raise
            return True

    async def forget_delivery(self, event_id: str) -> None:
        """Processing failed: let Slack's retry through."""
        with contextlib.suppress(*REDIS_DOWN):
            await self.redis.delete(RedisKeys.event(event_id))

    async def claim_thread(self, thread: SlackThread) -> bool:
        """Mark the thread as investigated by COMPASS; False when it already was."""
        key = RedisKeys.thread(thread)
        return bool(await self.redis.set(key, thread.investigation_key, nx=True, ex=self._thread_ttl_s))

    async def accept_investigation(self, req: InvestigateRequest) -> bool:
        """Claim the thread for this investigation; False when a delivery already did. The journal's row
        decides when there is one (the Redis mark is then a rebuildable cache)."""
        if self.journal is None:
            return await self.claim_thread(req.thread)
        try:
            first = await self.journal.accept(req.thread.investigation_key, req)
        except unavailable():  # PostgreSQL down: Redis alone decides (the worker writes the row later)
            return await self.claim_thread(req.thread)
        with contextlib.suppress(*REDIS_DOWN):
            await self.claim_thread(req.thread)
        return first

    async def submit_investigation(self, req: InvestigateRequest) -> bool:
        """Hand the accepted investigation to the workers (via the journal when Redis is down)."""
        key = req.thread.investigation_key
        journaled = False
        if self.journal is not None:
            with contextlib.suppress(*unavailable()):
                await self.journal.update(key, req)
                journaled = True
        return await self.enqueue(JobName.INVESTIGATE, req, key, journaled=journaled)

    async def release_thread(self, thread: SlackThread) -> None:
        with contextlib.suppress(*REDIS_DOWN):
            await self.redis.delete(RedisKeys.thread(thread))
        if self.journal is not None:
            with contextlib.suppress(*unavailable()):
                await self.journal.forget(thread.investigation_key)

    async def is_investigated(self, thread: SlackThread) -> bool:
        try:
            return bool(await self.redis.exists(RedisKeys.thread(thread)))
        except REDIS_DOWN:
            if self.journal is None:
                raise
            return await self.journal.knows(thread.investigation_key)

    async def await_resolution(self, thread: SlackThread) -> None:
        """After a correction the next reply in the thread is its resolution (for a day at most)."""
        with contextlib.suppress(*REDIS_DOWN):  # lost with Redis: the next reply is read as a reply
            await self.redis.set(RedisKeys.awaiting_resolution(thread), b"1", ex=86400)

    async def take_awaiting_resolution(self, thread: SlackThread) -> bool:
        try:
            return bool(await self.redis.getdel(RedisKeys.awaiting_resolution(thread)))
        except REDIS_DOWN:
            return False

    async def enqueue(self, name: str, payload: BaseModel, key: str, *, journaled: bool = False) -> bool:
        """Enqueue `name(payload)`; False when the same job (name, key) was already enqueued. With Redis
        down and a journal, the job waits in the outbox (`journaled`: its row is its outbox entry)."""
        jid = job_id(name, key)
        try:
            job = await self.redis.enqueue_job(name, payload.model_dump(mode="json"), _job_id=jid)
        except REDIS_DOWN:
            if self.journal is None:
                raise
            if not journaled:
                await self.journal.defer(jid, name, payload)
            return True
        return job is not None

    async def status(self) -> QueueStatus:
        try:
            async with asyncio.timeout(2.0):  # the answer is part of a slash command's 3 s ack
                queued = await self.redis.zcard(default_queue_name)
                running = 0
                async for _ in self.redis.scan_iter(match=in_progress_key_prefix + "*", count=500):
                    running += 1
                health = await self.redis.get(default_queue_name + health_check_key_suffix)
        except (OSError, RedisError, TimeoutError):  # redis-py's ConnectionError is a RedisError
            return QueueStatus(redis_ok=False)
        return QueueStatus(
            redis_ok=True,
            queued=int(queued),
            running=running,
            worker_health=health.decode() if isinstance(health, bytes) else None,
        )

    async def ping(self, timeout_s: float = 1.0) -> bool:
        try:
            async with asyncio.timeout(timeout_s):
                return bool(await self.redis.ping())
        except (OSError, RedisError, TimeoutError):
            return False
