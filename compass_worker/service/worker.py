"""The ARQ worker: WorkerSettings (the ARQ convention) and `build_worker()` for `compass worker` and tests.

Start-up builds the settings, the Redis pool (ARQ's), the database pool (the knowledge store) and the
Slack client once per process, and its MCP session pool (telemetry/shared.py: opened by the first
investigation, shared by the next ones, closed at shutdown). `poll_delay`
is 0.05 s so that enqueue → start is tens of milliseconds rather than ARQ's default ~0.5 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import warnings
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from arq import func
from arq.connections import RedisSettings
from arq.typing import StartupShutdown
from arq.worker import Function, Worker
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from compass_worker.contracts import JobName
from compass_worker.errors import ConfigError
from compass_worker.knowledge.embedders.protocol import Embedder
from compass_worker.service.alert_jobs import (
    ALERT_TRIES,
    process_alert,
    record_api_feedback,
    refresh_alert_incident,
)
from compass_worker.service.context import CTX_KEY, ServiceContext
from compass_worker.service.history_jobs import answer_history_question, write_postmortem
from compass_worker.service.jobs import (
    answer_follow_up,
    cost_report_job,
    investigate_mention,
    record_feedback,
    record_resolution,
)
from compass_worker.service.outage import Outage
from compass_worker.service.probes import Probes, ProbeServer, event_check, postgres_check, redis_check
from compass_worker.service.resilient import ResilientWorker, run_forever
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
        func(write_postmortem, name=JobName.POSTMORTEM, timeout=s.job_timeout_s, max_tries=2),
        func(answer_history_question, name=JobName.ASK, timeout=short, max_tries=2),
        *alert_functions(short),
    ]


def alert_functions(timeout_s: float) -> list[Function]:
    return [
        func(process_alert, name=JobName.PROCESS_ALERT, timeout=timeout_s, max_tries=ALERT_TRIES),
        func(refresh_alert_incident, name=JobName.REFRESH_ALERT_INCIDENT, timeout=timeout_s, max_tries=3),
        func(record_api_feedback, name=JobName.API_FEEDBACK, timeout=timeout_s, max_tries=3),
    ]


def _startup(
    config: WorkerConfig | None,
    mcp: McpConfig | None,
    embedder: Embedder | None,
    started: asyncio.Event | None = None,
) -> StartupShutdown:
    async def startup(ctx: dict[Any, Any]) -> None:
        cfg = config or load_worker_config()
        svc = await ServiceContext.open(cfg, ctx["redis"], mcp=mcp, embedder=embedder)
        ctx[CTX_KEY] = svc
        svc.start_reconciler()
        if started is not None:
            started.set()  # ARQ polls for jobs right after its on_startup

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
        func(write_postmortem, name=JobName.POSTMORTEM, max_tries=2),
        func(answer_history_question, name=JobName.ASK, max_tries=2),
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
    started: asyncio.Event | None = None,
) -> Worker:
    """An ARQ worker for this config (call inside a running event loop; run with `await w.async_run()`).
    `started` is set once its start-up is done and it takes jobs."""
    s = config.service
    worker = ResilientWorker(
        functions=functions(config),
        redis_settings=redis_settings(s.redis_url),
        on_startup=_startup(config, mcp, embedder, started),
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
    worker.redis_outage = Outage(describe_redis(s.redis_url))
    return worker


def redis_settings(url: str) -> RedisSettings:
    """ARQ's settings for `url`, retrying a command once on a fresh connection when Redis closed the
    pooled one (a restart): the poll loop then rides a restart without even noticing it."""
    settings = RedisSettings.from_dsn(url)
    settings.conn_retries = 0  # start-up retries are run_forever's: one log line, not five per attempt
    settings.retry = Retry(ExponentialBackoff(cap=0.5, base=0.05), 2)
    settings.retry_on_error = [RedisConnectionError]
    return settings


def describe_redis(url: str) -> str:
    """Which setting points where, for the one line an outage logs (a password is never shown)."""
    parts = urlsplit(url)
    if parts.password:
        parts = parts._replace(netloc=f"{parts.username or ''}:***@{parts.hostname}:{parts.port or 6379}")
    return f"Redis (REDIS_URL={urlunsplit(parts)})"


async def serve_forever(
    config: WorkerConfig, *, mcp: McpConfig | None = None, embedder: Embedder | None = None
) -> None:
    """`compass worker`: a worker that survives Redis and PostgreSQL outages, at start-up and later.

    SIGINT/SIGTERM cancel the whole loop (ARQ's own handlers would only stop a running worker, and none
    runs while Redis is down): running jobs are cancelled and re-queued, the pools closed."""
    started = asyncio.Event()  # /readyz: this process takes jobs (not while it is being rebuilt)
    probes = await start_probes(config, started)
    loop = asyncio.get_running_loop()
    me = asyncio.current_task()
    signals = (signal.SIGINT, signal.SIGTERM)
    if me is not None:
        for sig in signals:
            loop.add_signal_handler(sig, me.cancel)
    try:

        async def close(worker: Worker) -> None:
            started.clear()
            await close_worker(worker)

        await run_forever(
            lambda: build_worker(config, mcp=mcp, embedder=embedder, handle_signals=False, started=started),
            close,
            describe_redis(config.service.redis_url),
            "PostgreSQL (DATABASE_URL / COMPASS_DATABASE_URL)",
        )
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        if probes is not None:
            await probes.close()


async def start_probes(config: WorkerConfig, started: asyncio.Event | None = None) -> ProbeServer | None:
    """The /livez and /readyz server when COMPASS_WORKER_HEALTH_PORT is set (it outlives every rebuilt
    ARQ worker, so /readyz can say 503 while an outage keeps the worker from polling). With `started`,
    /readyz also waits for the worker's start-up (a rolling update then waits for a worker that takes
    jobs)."""
    s = config.service
    if not s.health_port:
        return None
    checks = {"redis unreachable": redis_check(s.redis_url)}
    if config.knowledge.database_url is not None:
        url = config.knowledge.database_url.get_secret_value()
        checks["postgresql unreachable"] = postgres_check(url)
    if started is not None:
        checks["worker starting"] = event_check(started)
    server = ProbeServer(Probes(checks), s.health_host, s.health_port)
    try:
        await server.start()
    except OSError as exc:
        raise ConfigError(
            f"invalid setting COMPASS_WORKER_HEALTH_PORT: cannot listen on {s.health_host}:{s.health_port}"
            f" ({exc.strerror or exc})"
        ) from None
    return server


async def stop_worker(worker: Worker, running: asyncio.Task[None], *, drain_s: float = 10.0) -> None:
    """Stop a worker started with `asyncio.create_task(worker.async_run())`, gracefully: it picks no new
    job, in-flight jobs get `drain_s` to finish, then polling stops and everything is closed.

    Cancelling the polling task (what the tests used to do) lands inside one of ARQ's Redis pipelines
    (start_jobs, or the shielded finish_job of a job) and `close()` then closes the pool under it: the
    pipeline's connection is garbage-collected unclosed — the flaky `PytestUnraisableExceptionWarning:
    Exception ignored in: <function AbstractConnection.__del__>` (or `Pipeline.__del__`).
    """
    worker.allow_pick_jobs = False
    # ARQ's own clean exit: in burst mode with no jobs left to start, main() waits for the running jobs
    # and returns after the current poll — no cancellation lands inside one of its Redis pipelines.
    worker.burst, worker.max_burst_jobs = True, 0
    done, _ = await asyncio.wait([running], timeout=drain_s)
    if not done:
        for task in worker.tasks.values():
            task.cancel()
        running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    await close_worker(worker)


async def close_worker(worker: Worker) -> None:
    """Close the worker, its job context and its Redis pool (even when Redis is down: ResilientWorker).
    ARQ 0.28 closes a plain worker's pool with redis-py's deprecated `close()`: ARQ's warning, not ours."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Call to deprecated close", category=DeprecationWarning)
        await worker.close()
