"""A copy of an investigation whose lease another worker took over stops: the heartbeat cancels the
block it guards and raises `LeaseLost` (two copies never run side by side); a cancellation that is
not the heartbeat's (ARQ's job timeout, shutdown) stays a cancellation."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

import pytest

from compass_worker.service.context import ServiceContext
from compass_worker.service.jobs import LeaseLost, heartbeat


class Jobs:
    def __init__(self, ours_for: int) -> None:
        self.beats = 0
        self.ours_for = ours_for  # how many heartbeats still find the lease ours

    async def heartbeat(self, key: str, owner: str, lease_s: float) -> bool:
        self.beats += 1
        return self.beats <= self.ours_for


def _svc(jobs: Jobs) -> ServiceContext:
    config = SimpleNamespace(service=SimpleNamespace(lease_s=0.15))
    return cast(ServiceContext, SimpleNamespace(config=config, jobs=jobs, owner="me:1:x"))


async def test_the_block_stops_when_the_lease_is_someone_elses() -> None:
    jobs = Jobs(ours_for=2)
    reached: list[str] = []

    async def investigation() -> None:
        async with heartbeat(_svc(jobs), "C1:1.0"):
            await asyncio.sleep(5.0)  # an investigation still going
            reached.append("end")

    with pytest.raises(LeaseLost):
        await investigation()
    assert reached == [] and jobs.beats == 3
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0  # the cancellation was ours and is used up


async def test_a_block_that_keeps_its_lease_runs_to_the_end() -> None:
    jobs = Jobs(ours_for=1000)
    async with heartbeat(_svc(jobs), "C1:1.0"):
        await asyncio.sleep(0.4)
    assert jobs.beats >= 2


async def test_another_cancellation_is_not_taken_for_a_lost_lease() -> None:
    jobs = Jobs(ours_for=1000)

    async def guarded() -> Any:
        async with heartbeat(_svc(jobs), "C1:1.0"):
            await asyncio.sleep(5.0)

    task = asyncio.create_task(guarded())
    await asyncio.sleep(0.1)
    task.cancel()  # e.g. ARQ's job timeout
    with pytest.raises(asyncio.CancelledError):
        await task
