"""An ARQ worker that never exits because Redis or PostgreSQL went away.

ARQ's poll loop lets a Redis error escape `async_run()`, which ends the process (issue 11: a 3.3 s Redis
restart killed the worker). Here a poll that fails on a dependency waits with back-off and polls again;
jobs already running carry on (their own writes retry or fail over to the lease, see `leases.py`), and
`run_forever` restarts a worker whose *start-up* failed (Redis or PostgreSQL down when it starts).
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable

from arq.worker import Worker
from redis.exceptions import RedisError

from compass_worker.service.outage import Backoff, Outage, is_outage

log = logging.getLogger("compass_worker.service")


class ResilientWorker(Worker):
    redis_outage: Outage | None = None

    async def _poll_iteration(self) -> None:
        outage = self.redis_outage or Outage("Redis")
        self.redis_outage = outage
        try:
            await super()._poll_iteration()
        except Exception as exc:
            if not is_outage(exc):
                raise
            self._drop_failed_tasks()
            await self._reset_capacity()
            await asyncio.sleep(outage.failed(exc))
        else:
            outage.recovered()

    async def _reset_capacity(self) -> None:
        """A Redis error inside ARQ's start_jobs can escape between its semaphore's acquire and release,
        leaking a permit each time: after enough outages the worker would stop taking jobs. The permits
        are rebuilt from what actually runs (ARQ's own sizing: max_jobs + 1)."""
        sem = asyncio.Semaphore(self.max_jobs + 1)
        running = [t for t in self.tasks.values() if not t.done()]
        for _ in running:
            await sem.acquire()
        self.sem = sem  # type: ignore[assignment]  # ARQ declares a BoundedSemaphore
        self.job_counter = len(running)

    def _drop_failed_tasks(self) -> None:
        """A job whose own bookkeeping write failed during the outage is done here; ARQ would re-raise its
        error from every later poll. The job is not lost: its lease expires and it is re-enqueued."""
        for job_id, task in list(self.tasks.items()):
            if task.done() and (task.cancelled() or task.exception() is not None):
                del self.tasks[job_id]

    async def close(self) -> None:
        """ARQ's close, tolerating a Redis that is down: the job context (PostgreSQL, Slack) and the pool
        are closed whatever happens, so nothing leaks."""
        for task in self.tasks.values():  # stopping: running jobs are cancelled (ARQ re-queues them)
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        self._drop_failed_tasks()
        with warnings.catch_warnings():  # ARQ 0.28 closes its pool with redis-py's deprecated close()
            warnings.filterwarnings(
                "ignore", message=r"Call to deprecated close", category=DeprecationWarning
            )
            try:
                await super().close()
                return
            except Exception as exc:
                if not is_outage(exc):
                    raise
        if self.on_shutdown:
            await self.on_shutdown(self.ctx)
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None


async def run_forever(
    make: Callable[[], Worker], close: Callable[[Worker], object], redis: str, postgres: str
) -> None:
    """Run workers until cancelled; a worker that fails on a dependency (at start-up or later) is closed
    and replaced after a back-off. Anything else (a bug) propagates. `redis` / `postgres` name the
    setting that points at each, for the one line an outage logs."""
    outages = {
        True: Outage(redis, Backoff(first_s=0.5, cap_s=10.0)),
        False: Outage(postgres, Backoff(first_s=0.5, cap_s=10.0)),
    }
    while True:
        worker = make()
        try:
            await worker.async_run()
            return  # burst mode, or stopped by a signal
        except Exception as exc:
            if not is_outage(exc):
                raise
            delay = outages[isinstance(exc, RedisError)].failed(exc)
        finally:
            result = close(worker)
            if asyncio.iscoroutine(result):
                try:
                    await result
                except Exception as exc:
                    if not is_outage(exc):
                        raise
        await asyncio.sleep(delay)
