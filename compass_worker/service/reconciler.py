"""The reconciler: on start and every few seconds, make Redis agree with PostgreSQL again.

- An investigation whose lease expired (its worker died) is re-enqueued under a fresh ARQ job id (the
  dead worker's job id is still "in progress" in Redis), and its status message says
  "worker lost — retrying (attempt N)" at once. After `max_tries` attempts it fails, and says so.
- An investigation queued in PostgreSQL that Redis does not hold as waiting (Redis restarted without AOF,
  the edge's enqueue failed while Redis was down, or a worker picked the job and died before taking the
  lease) is enqueued again.
- The outbox (other jobs the edge accepted while Redis was down) is drained.
- Thread marks ("this thread is COMPASS'") are rebuilt from PostgreSQL when Redis lost them.

Every worker runs one; the leases make a job enqueued twice harmless (only one worker can run it).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass

from arq.connections import ArqRedis
from arq.jobs import Job, JobStatus

from compass_worker.contracts import InvestigateRequest, JobName, RedisKeys, SlackThread, job_id
from compass_worker.service.leases import InvestigationJobs, OpenJob
from compass_worker.service.outage import Outage, is_outage
from compass_worker.service.thread_notices import ThreadNotices

log = logging.getLogger("compass_worker.service")

WORKER_LOST = "worker lost"
# A worker that picked an investigation's job takes its lease within milliseconds; a queued row whose job
# has been "in progress" this long lost its worker before the lease (the reconciler re-enqueues it).
PICKED_GRACE_S = 5.0


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
        self._picked_grace_s = min(queued_grace_s, PICKED_GRACE_S)
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
        for job in await self._jobs.open_jobs(queued_grace_s=self._picked_grace_s):
            if job.expired and job.attempt >= self._max_tries:
                reason = f"the worker running it was lost {job.attempt} times"
                if await self._jobs.give_up(job.key, reason):
                    given_up += 1
                    await self._notices.failed(_thread(job), reason, _status_ts(job))
            elif job.expired:
                note = f"{WORKER_LOST} — retrying (attempt {job.attempt + 1})"
                if await self._requeue(job, WORKER_LOST, notice=note):
                    lost += 1
            elif await self._forgotten(job) and await self._requeue(job, None):
                forgotten += 1
        drained = await self._drain_outbox()
        if not self._marks_rebuilt:
            await self._rebuild_thread_marks()
            self._marks_rebuilt = True
        report = ReconcileReport(lost, forgotten, given_up, drained)
        if report != ReconcileReport():
            log.warning("reconciler: %s", report)
        return report

    async def _forgotten(self, job: OpenJob) -> bool:
        """Queued in PostgreSQL, but no worker will run it from Redis: Redis does not hold the job as
        waiting (queued or deferred by a retry), and either the grace period for the edge's enqueue is
        over, or a worker picked the job and died before taking the lease. ARQ would keep that job
        "in progress" until its timeout (job timeout + 10 s, over three minutes at defaults)."""
        if job.idle_s < self._picked_grace_s:
            return False
        ids = {job_id(JobName.INVESTIGATE, job.key), *([job.arq_job_id] if job.arq_job_id else [])}
        statuses = {await Job(jid, self._redis).status() for jid in ids}
        if statuses & {JobStatus.queued, JobStatus.deferred}:
            return False
        return JobStatus.in_progress in statuses or job.idle_s >= self._grace_s

    async def _requeue(self, job: OpenJob, error: str | None, *, notice: str | None = None) -> bool:
        # A fresh id every time: an earlier id of this investigation may be held "in progress" by a worker
        # that died before taking the lease, and ARQ refuses to enqueue an id it still holds.
        jid = job_id(JobName.INVESTIGATE, f"{job.key}#{job.attempt + 1}.{uuid.uuid4().hex[:8]}")
        if not await self._jobs.requeued(job.key, jid, error):
            return False
        if notice is not None:  # said before the enqueue: a fast retry must not be overwritten by it
            await self._notices.retrying(_thread(job), notice, _status_ts(job))
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
