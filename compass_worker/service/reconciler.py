"""The reconciler: on start and every few seconds, make Redis agree with PostgreSQL again.

- An investigation whose lease expired (its worker died) is re-enqueued under a fresh ARQ job id (the
  dead worker's job id is still "in progress" in Redis), and its status message says
  "worker lost — retrying (attempt N)" at once. After `max_tries` attempts it fails, and says so.
- An investigation queued in PostgreSQL that Redis does not know (Redis restarted without AOF, or the
  edge's enqueue failed while Redis was down) is enqueued.
- The outbox (other jobs the edge accepted while Redis was down) is drained.
- Thread marks ("this thread is COMPASS'") are rebuilt from PostgreSQL when Redis lost them.

Every worker runs one; the leases make a job enqueued twice harmless (only one worker can run it).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from arq.connections import ArqRedis
from arq.jobs import Job, JobStatus

from compass_worker.contracts import InvestigateRequest, JobName, RedisKeys, SlackThread, job_id
from compass_worker.service.leases import InvestigationJobs, OpenJob
from compass_worker.service.outage import Outage, is_outage
from compass_worker.service.thread_notices import ThreadNotices

log = logging.getLogger("compass_worker.service")

WORKER_LOST = "worker lost"


@dataclass(frozen=True)
class ReconcileReport:
    requeued_lost: int = 0
    requeued_forgotten: int = 0
    given_up: int = 0
    outbox_drained: int = 0


class Reconciler:
    def __init__(
        self,
        jobs: InvestigationJobs,
        redis: ArqRedis,
        notices: ThreadNotices,
        *,
        max_tries: int,
        queued_grace_s: float,
        thread_ttl_s: int = 30 * 86400,
    ) -> None:
        self._jobs = jobs
        self._redis = redis
        self._notices = notices
        self._max_tries = max_tries
        self._grace_s = queued_grace_s
        self._thread_ttl_s = thread_ttl_s
        self._marks_rebuilt = False

    async def run(self, interval_s: float) -> None:
        """Forever (cancel to stop); an outage is logged once and retried, never raised."""
        outage = Outage("the reconciler's Redis or PostgreSQL")
        while True:
            try:
                await self.pass_once()
            except Exception as exc:
                if not is_outage(exc):
                    log.exception("reconciler pass failed")
                else:
                    self._marks_rebuilt = False  # Redis may come back empty
                    await asyncio.sleep(outage.failed(exc))
                    continue
            outage.recovered()
            await asyncio.sleep(interval_s)

    async def pass_once(self) -> ReconcileReport:
        lost = forgotten = given_up = 0
        for job in await self._jobs.open_jobs(queued_grace_s=self._grace_s):
            if job.expired and job.attempt >= self._max_tries:
                reason = f"the worker running it was lost {job.attempt} times"
                if await self._jobs.give_up(job.key, reason):
                    given_up += 1
                    await self._notices.failed(_thread(job), reason, _status_ts(job))
            elif job.expired:
                note = f"{WORKER_LOST} — retrying (attempt {job.attempt + 1})"
                if await self._requeue(job, WORKER_LOST, notice=note):
                    lost += 1
            elif not await self._known_to_redis(job) and await self._requeue(job, None):
                forgotten += 1
        drained = await self._drain_outbox()
        if not self._marks_rebuilt:
            await self._rebuild_thread_marks()
            self._marks_rebuilt = True
        report = ReconcileReport(lost, forgotten, given_up, drained)
        if report != ReconcileReport():
            log.warning("reconciler: %s", report)
        return report

    async def _known_to_redis(self, job: OpenJob) -> bool:
        ids = {job_id(JobName.INVESTIGATE, job.key), *([job.arq_job_id] if job.arq_job_id else [])}
        for jid in ids:
            if await Job(jid, self._redis).status() in (
                JobStatus.queued,
                JobStatus.deferred,
                JobStatus.in_progress,
            ):
                return True
        return False

    async def _requeue(self, job: OpenJob, error: str | None, *, notice: str | None = None) -> bool:
        jid = job_id(JobName.INVESTIGATE, f"{job.key}#{job.attempt + 1}")
        if not await self._jobs.requeued(job.key, jid, error):
            return False
        if notice is not None:  # said before the enqueue: a fast retry must not be overwritten by it
            await self._notices.retrying(_thread(job), notice, _status_ts(job))
        # A fresh id: the dead worker's job id may still be marked in progress (until ARQ's timeout).
        await self._redis.enqueue_job(JobName.INVESTIGATE, job.payload, _job_id=jid)
        return True

    async def _drain_outbox(self) -> int:
        drained = 0
        for jid, name, payload in await self._jobs.take_outbox():
            await self._redis.enqueue_job(name, payload, _job_id=jid)
            await self._jobs.drop_outbox(jid)
            drained += 1
        return drained

    async def _rebuild_thread_marks(self) -> None:
        keys = await self._jobs.open_thread_keys()
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                thread = SlackThread.from_key(key)
                pipe.set(RedisKeys.thread(thread), key, nx=True, ex=self._thread_ttl_s)
            await pipe.execute()


def _thread(job: OpenJob) -> SlackThread:
    return InvestigateRequest.model_validate(job.payload).thread


def _status_ts(job: OpenJob) -> str | None:
    return InvestigateRequest.model_validate(job.payload).status_ts
