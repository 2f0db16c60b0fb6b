"""The ARQ worker: WorkerSettings (the ARQ convention) and `build_worker()` for `compass worker` and tests.

Start-up builds the settings, the Redis pool (ARQ's), the database pool (the knowledge store) and the
Slack client once per process; MCP sessions are opened per investigation (the runner's job). `poll_delay`
is 0.05 s so that enqueue → start is tens of milliseconds rather than ARQ's default ~0.5 s.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

from arq import func
from arq.connections import RedisSettings
from arq.typing import StartupShutdown
from arq.worker import Function, Worker

from compass_worker.contracts import JobName
from compass_worker.knowledge.embedders.protocol import Embedder
from compass_worker.service.alert_jobs import (
    ALERT_TRIES,
    process_alert,
    record_api_feedback,
    refresh_alert_incident,
)
from compass_worker.service.context import CTX_KEY, ServiceContext
from compass_worker.service.jobs import (
    answer_follow_up,
    cost_report_job,
    investigate_mention,
    record_feedback,
    record_resolution,
)
from compass_worker.service.settings import WorkerConfig, load_worker_config
from compass_worker.telemetry.config import McpConfig

# Feedback jobs retry (Retry) while the investigation record does not exist yet; a few seconds is plenty.
FEEDBACK_TRIES = 10


def functions(config: WorkerConfig) -> list[Function]:
    s = config.service
    # Short jobs get at most 30 s, never more than the job timeout: ARQ holds a job as "in progress" for the
    # longest function timeout + 10 s, which is how long a job of a killed worker waits before its retry.
    short = min(30.0, s.job_timeout_s)
    return [
        func(investigate_mention, name=JobName.INVESTIGATE, timeout=s.job_timeout_s, max_tries=s.max_tries),
        func(answer_follow_up, name=JobName.FOLLOW_UP, timeout=s.job_timeout_s, max_tries=FEEDBACK_TRIES),
        func(record_feedback, name=JobName.FEEDBACK, timeout=short, max_tries=FEEDBACK_TRIES),
        func(record_resolution, name=JobName.RESOLUTION, timeout=short, max_tries=FEEDBACK_TRIES),
        func(cost_report_job, name=JobName.COST_REPORT, timeout=short, max_tries=2),
        *alert_functions(short),
    ]


def alert_functions(timeout_s: float) -> list[Function]:
    return [
        func(process_alert, name=JobName.PROCESS_ALERT, timeout=timeout_s, max_tries=ALERT_TRIES),
        func(refresh_alert_incident, name=JobName.REFRESH_ALERT_INCIDENT, timeout=timeout_s, max_tries=3),
        func(record_api_feedback, name=JobName.API_FEEDBACK, timeout=timeout_s, max_tries=3),
    ]


def _startup(
    config: WorkerConfig | None, mcp: McpConfig | None, embedder: Embedder | None
) -> StartupShutdown:
    async def startup(ctx: dict[Any, Any]) -> None:
        cfg = config or load_worker_config()
        ctx[CTX_KEY] = await ServiceContext.open(cfg, ctx["redis"], mcp=mcp, embedder=embedder)

    return startup


async def shutdown(ctx: dict[Any, Any]) -> None:
    svc = ctx.pop(CTX_KEY, None)
    if isinstance(svc, ServiceContext):
        await svc.close()


class WorkerSettings:
    """For `arq compass_worker.service.worker.WorkerSettings` (settings from the environment at start-up).

    `compass worker` builds the same worker with `build_worker()`.
    """

    functions: ClassVar[list[Function]] = [
        func(investigate_mention, name=JobName.INVESTIGATE, max_tries=3),
        func(answer_follow_up, name=JobName.FOLLOW_UP, max_tries=FEEDBACK_TRIES),
        func(record_feedback, name=JobName.FEEDBACK, max_tries=FEEDBACK_TRIES),
        func(record_resolution, name=JobName.RESOLUTION, max_tries=FEEDBACK_TRIES),
        func(cost_report_job, name=JobName.COST_REPORT, max_tries=2),
        *alert_functions(30.0),
    ]
    on_startup = _startup(None, None, None)
    on_shutdown = shutdown
    poll_delay = 0.05
    job_timeout = 180


def build_worker(
    config: WorkerConfig,
    *,
    mcp: McpConfig | None = None,
    embedder: Embedder | None = None,
    handle_signals: bool = True,
    burst: bool = False,
) -> Worker:
    """An ARQ worker for this config (call inside a running event loop; run with `await w.async_run()`)."""
    s = config.service
    return Worker(
        functions=functions(config),
        redis_settings=RedisSettings.from_dsn(s.redis_url),
        on_startup=_startup(config, mcp, embedder),
        on_shutdown=shutdown,
        poll_delay=s.poll_delay_s,
        max_jobs=s.max_jobs,
        job_timeout=s.job_timeout_s,
        max_tries=s.max_tries,
        keep_result=3600,
        handle_signals=handle_signals,
        burst=burst,
        health_check_interval=30,
    )


async def close_worker(worker: Worker) -> None:
    """Close the worker and its Redis pool. ARQ 0.28 closes the pool with redis-py's deprecated
    `close()`; that warning is ARQ's, not ours, so it is silenced here (and only here)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Call to deprecated close", category=DeprecationWarning)
        await worker.close()
